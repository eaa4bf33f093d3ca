"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from eksctl_ml.adapters.aws.session import Boto3Aws
from eksctl_ml.config.loader import Environment, parse_env

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def local_env() -> Environment:
    """The repository's envs/local.yaml, loaded as env 'local'."""
    path = REPO / "envs" / "local.yaml"
    return Environment("local", path, parse_env(path.read_text(), str(path)))


@pytest.fixture
def env_dir(tmp_path: Path) -> Path:
    """A config dir holding a copy of envs/local.yaml as env 'test'."""
    directory = tmp_path / "envs"
    directory.mkdir()
    (directory / "test.yaml").write_text((REPO / "envs" / "local.yaml").read_text())
    return directory


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real moto server for the session (reset it per test with ``aws``)."""
    from tests.support.moto import moto_server

    with moto_server(tmp_path_factory.mktemp("moto") / "moto.log") as endpoint:
        yield endpoint


@pytest.fixture
def aws(moto_endpoint: str) -> Boto3Aws:
    """A fresh emulated AWS account: the real boto3 adapter pointed at a reset moto server."""
    from tests.support.moto import reset

    reset(moto_endpoint)
    return Boto3Aws(
        "us-east-1",
        None,
        moto_endpoint,
        static_credentials={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
    )
