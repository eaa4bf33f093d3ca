"""The resolved view of an environment: the file, every default, and the values mlplat derives."""

from __future__ import annotations

from typing import Any

from eksctl_ml.config.loader import Environment


def resolved_config(env: Environment) -> dict[str, Any]:
    cfg = env.config
    document: dict[str, Any] = {"env": env.name, "file": str(env.source)}
    document.update(cfg.model_dump(mode="json"))
    private, public = cfg.network.subnet_cidrs()
    document["derived"] = {
        "state_bucket": cfg.state_bucket(),
        "state_key_prefix": f"{cfg.state.key_prefix}/{env.name}",
        "private_subnets": private,
        "public_subnets": public,
        "tags": {**cfg.tags, "mlplat:env": env.name, "mlplat:cluster": cfg.cluster.name},
    }
    return document
