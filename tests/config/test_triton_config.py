"""Triton settings that would leave pods Pending or mis-scaled are refused before anything runs."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from eksctl_ml.config.models import EnvConfig, TritonConfig


def _env(triton: dict[str, Any], gpu: dict[str, Any] | None = None) -> dict[str, Any]:
    gpu_group = {
        "instance_types": ["g5.xlarge"],
        "min_size": 1,
        "desired_size": 1,
        "max_size": 2,
        "labels": {"mlplat.io/pool": "gpu"},
        "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}],
        **(gpu or {}),
    }
    return {
        "aws": {"region": "us-west-2", "account_id": "123456789012"},
        "cluster": {"name": "t"},
        "model_repository": {"s3_bucket": "t-models"},
        "node_groups": {"gpu": gpu_group},
        "triton": triton,
    }


def test_replicas_beyond_the_gpu_nodes_are_refused_with_the_arithmetic() -> None:
    with pytest.raises(ValidationError) as info:
        EnvConfig.model_validate(_env({"replicas": 2, "max_replicas": 2, "models": ["m"]}))
    text = str(info.value)
    assert "2 Triton replica(s) x 1 GPU(s) need 2 GPUs" in text
    assert "starts 1 node(s) with 1 GPU(s) each" in text


def test_multi_gpu_instances_count_all_their_gpus() -> None:
    env = _env({"replicas": 4, "max_replicas": 4, "models": ["m"]}, {"instance_types": ["g5.12xlarge"]})
    assert EnvConfig.model_validate(env).triton.replicas == 4  # 1 node x 4 GPUs


def test_the_smallest_instance_type_decides_capacity() -> None:
    env = _env({"replicas": 2, "max_replicas": 2, "models": ["m"]}, {"instance_types": ["g5.12xlarge", "g5.xlarge"]})
    with pytest.raises(ValidationError, match="need 2 GPUs"):
        EnvConfig.model_validate(env)


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"replicas": 3, "max_replicas": 2}, "max_replicas (2) is below replicas (3)"),
        ({"models": ["ok", "ok"]}, "listed twice"),
        ({"models": ["bad name"]}, "not a Triton model name"),
        ({"cpu": "four"}, "not a Kubernetes quantity"),
        ({"memory": "16GB"}, "not a Kubernetes quantity"),
        ({"image_tag": "latest"}, "must be pinned"),
    ],
)
def test_bad_triton_fields(fields: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        TritonConfig.model_validate(fields)


def test_defaults_fit_the_smallest_gpu_instances() -> None:
    triton = TritonConfig()
    assert (triton.cpu, triton.memory, triton.gpus_per_pod) == ("3", "12Gi", 1)
