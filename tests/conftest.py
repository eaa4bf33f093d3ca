"""Fixtures shared by the whole suite."""

from __future__ import annotations

from pathlib import Path

import pytest

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
