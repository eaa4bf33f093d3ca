"""A release's Helm values: files in ``helm-values/<release>/`` plus what mlplat computes.

Layers, later wins: ``values.yaml`` (production defaults), ``values-<env>.yaml`` (per-env overrides,
optional), then the computed values (cluster name, region, Terraform outputs). Mappings merge key by
key, recursively; anything else (lists included) is replaced whole, as Helm itself does.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from eksctl_ml.config.loader import Environment
from eksctl_ml.errors import ConfigError
from eksctl_ml.releases.catalog import Release, load_yaml


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``override``: nested mappings merged, every other value (lists too) replaced.
    Neither input is modified."""
    merged: dict[str, Any] = {key: _copy(value) for key, value in base.items()}
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = _copy(value)
    return merged


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_copy(item) for item in value]
    return value


def _values_file(path: Path, *, required: bool) -> dict[str, Any]:
    if not path.is_file():
        if required:
            raise ConfigError(
                f"values file {path} not found", hint="every release needs helm-values/<release>/values.yaml"
            )
        return {}
    data = load_yaml(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: Helm values must be a mapping at the top level")
    return data


def release_values(
    release: Release, env_name: str, computed: Mapping[str, Any], *, root: Path | None = None
) -> dict[str, Any]:
    """values.yaml, then values-<env_name>.yaml if present, then ``computed`` (which wins)."""
    folder = release.values_dir(root)
    merged = _values_file(folder / "values.yaml", required=True)
    merged = deep_merge(merged, _values_file(folder / f"values-{env_name}.yaml", required=False))
    return deep_merge(merged, computed)


def env_values(release: Release, env: Environment) -> dict[str, Any]:
    """Values that follow from the environment's config alone (the phase adds Terraform outputs).

    Keys are the charts' own: cni-metrics-helper reads ``image.region`` (the ECR region of its image)
    and ``env.AWS_CLUSTER_ID`` (the cluster dimension of its metrics).
    """
    cfg = env.config
    if release.chart == "cni-metrics-helper":
        return {"image": {"region": cfg.aws.region}, "env": {"AWS_CLUSTER_ID": cfg.cluster.name}}
    return {}
