"""Helpers shared by the model repository tests."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from eksctl_ml.adapters import Adapters
from eksctl_ml.adapters.aws.session import Boto3Aws
from eksctl_ml.config.loader import Environment, parse_env
from eksctl_ml.services.deps import Dependencies, local_store
from tests.kubernetes.fixtures import api as api  # the fake Kubernetes API server, for test_env_triton

REPO = Path(__file__).resolve().parents[2]


def write_model(root: Path, name: str, config: str | None, files: Mapping[str, bytes] | None = None) -> Path:
    """Write ``root/name`` with ``config.pbtxt`` (None: none) and ``files`` (paths relative to the model)."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    if config is not None:
        (folder / "config.pbtxt").write_text(config)
    for relative, content in (files or {}).items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return folder


BUCKET = "mlplat-local-models"  # envs/local.yaml's model_repository.s3_bucket
PREFIX = "models/"

PY_MODEL_CONFIG = """\
name: "{name}"
backend: "python"
max_batch_size: 0
version_policy: {{ latest: {{ num_versions: 1 }} }}
input [ {{ name: "x" data_type: TYPE_FP32 dims: [ 1 ] }} ]
output [ {{ name: "version" data_type: TYPE_INT32 dims: [ 1 ] }}, {{ name: "y" data_type: TYPE_FP32 dims: [ 1 ] }} ]
"""


@pytest.fixture
def test_env(env_dir: Path) -> Environment:
    """envs/local.yaml as env 'test' (the root conftest's env_dir): emulator on, models [mlp_onnx]."""
    path = env_dir / "test.yaml"
    return Environment("test", path, parse_env(path.read_text(), str(path)))


@pytest.fixture
def model_bucket(aws: Boto3Aws) -> Any:
    """The env's model bucket in a fresh emulated account, versioned like the storage phase makes it."""
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return s3


@pytest.fixture
def deps(tmp_path: Path, aws: Boto3Aws) -> Dependencies:
    """Real boto3 against the emulator; the journal in a local store under tmp_path."""
    return Dependencies(
        adapters=lambda env, workdir: Adapters(aws_factory=lambda: aws),
        store=local_store,
        inventory=None,
        root=tmp_path / "state",
    )


def stored(s3: Any, bucket: str = BUCKET, prefix: str = PREFIX) -> dict[str, bytes]:
    """Every current object under the prefix: key -> content."""
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}
