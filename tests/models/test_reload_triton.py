"""`models push` against the emulated S3 followed by a reload makes a new version serve, on a REAL Triton.

The tritonserver binary (2.51, from nvidia-pytriton) reads its model repository straight from the
emulator (``s3://HOST:PORT/BUCKET/PREFIX``, credentials from AWS_* variables), as the chart's Triton
reads the env's bucket. Skipped when scripts/setup.sh has not installed the server.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from eksctl_ml.adapters.triton.client import HttpTritonClient
from eksctl_ml.adapters.triton.protocol import Tensor, TritonEndpoint
from eksctl_ml.cli import app
from eksctl_ml.services.deps import Dependencies
from tests.models.conftest import BUCKET, PREFIX
from tests.support.tritonserver import (
    BROKEN_MESSAGE,
    NOT_INSTALLED,
    TritonServer,
    start_tritonserver,
    triton_install,
    write_test_models,
)

pytestmark = [pytest.mark.slow, pytest.mark.skipif(triton_install() is None, reason=NOT_INSTALLED)]


@pytest.fixture(autouse=True)
def _plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("MLPLAT_ENV", raising=False)
    # what Triton's S3 client signs with (the emulator takes any credentials)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")


@pytest.fixture
def test_models(tmp_path: Path) -> Path:
    source = tmp_path / "test-models"
    write_test_models(source)
    return source


class Cli:
    def __init__(self, deps: Dependencies, env_dir: Path) -> None:
        self.deps, self.env_dir = deps, env_dir

    def __call__(self, *args: str) -> Any:
        return CliRunner().invoke(
            app, ["models", *args, "--env", "test", "--config-dir", str(self.env_dir)], obj=self.deps
        )

    def json(self, *args: str, exit_code: int = 0) -> Any:
        result = self(*args, "-o", "json")
        assert result.exit_code == exit_code, result.output
        return json.loads(result.stdout)


@pytest.fixture
def cli(deps: Dependencies, env_dir: Path) -> Cli:
    return Cli(deps, env_dir)


@pytest.fixture
def triton(tmp_path: Path, moto_endpoint: str) -> Iterator[Any]:
    """Start a Triton on the env's model prefix in the emulator (once something is there: Triton refuses
    an S3 repository path with no object under it)."""
    servers: list[TritonServer] = []

    def start() -> TritonServer:
        host = moto_endpoint.removeprefix("http://")
        server = start_tritonserver(f"s3://{host}/{BUCKET}/{PREFIX.rstrip('/')}", tmp_path / "triton")  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def ask(server: TritonServer, x: float) -> tuple[int, float]:
    with HttpTritonClient(TritonEndpoint(server.http_url)) as client:
        version, y = client.infer(
            "versioned", [Tensor("x", "FP32", (1,), np.array([x], dtype=np.float32))], ["version", "y"]
        )
    return int(version.data[0]), float(y.data[0])


def test_push_then_reload_makes_the_new_version_serve(
    tmp_path: Path, test_models: Path, model_bucket: Any, cli: Cli, triton: Any
) -> None:
    repository = tmp_path / "repo"
    shutil.copytree(test_models / "versioned", repository / "versioned")
    shutil.rmtree(repository / "versioned" / "2")  # version 1 only, for now

    first = cli.json("push", str(repository), "--no-reload")
    assert sorted(first["push"]["uploaded"]) == [f"{PREFIX}versioned/1/model.py", f"{PREFIX}versioned/config.pbtxt"]
    server = triton()
    assert [m["name"] for m in cli.json("list", "--triton-url", server.http_url)["models"]] == ["versioned"]

    loaded = cli.json("push", str(repository), "--triton-url", server.http_url)
    assert loaded["push"]["uploaded"] == [] and len(loaded["push"]["unchanged"]) == 2
    assert [(r["model"], r["ready"], r["state"]) for r in loaded["reload"]] == [("versioned", True, "READY")]
    assert ask(server, 0.5) == (1, 1.5)

    shutil.copytree(test_models / "versioned" / "2", repository / "versioned" / "2")
    second = cli.json("push", str(repository), "--triton-url", server.http_url)
    assert second["push"]["uploaded"] == [f"{PREFIX}versioned/2/model.py"]
    assert [(r["model"], r["ready"]) for r in second["reload"]] == [("versioned", True)]
    assert ask(server, 0.5) == (2, 2.5)  # the new version answers

    listing = cli.json("list", "--triton-url", server.http_url)
    (row,) = listing["models"]
    assert row["versions"] == [1, 2] and row["files"] == 3
    assert {(s["version"], s["state"]) for s in row["triton"]} >= {("2", "READY")}
    assert ("1", "READY") not in {(s["version"], s["state"]) for s in row["triton"]}  # latest 1: v1 unloaded


def test_a_model_that_fails_to_load_exits_1_with_the_server_s_reason(
    tmp_path: Path, test_models: Path, model_bucket: Any, cli: Cli, triton: Any
) -> None:
    repository = tmp_path / "repo"
    for name in ("versioned", "broken_init"):
        shutil.copytree(test_models / name, repository / name)
    cli.json("push", str(repository), "--no-reload")
    server = triton()

    document = cli.json("push", str(repository), "--triton-url", server.http_url, exit_code=1)
    results = {r["model"]: r for r in document["reload"]}
    assert results["versioned"]["ready"] is True
    assert results["broken_init"]["ready"] is False and results["broken_init"]["state"] == "UNAVAILABLE"
    assert BROKEN_MESSAGE in results["broken_init"]["reason"]
    assert document["ok"] is False

    text = cli("push", str(repository), "--triton-url", server.http_url)
    assert text.exit_code == 1
    assert "not READY on Triton" in text.output and BROKEN_MESSAGE in text.output
    assert "broken_init" in text.output and "the upload itself succeeded" in text.output


def test_an_unreachable_triton_is_a_failed_reload_not_a_lost_upload(
    tmp_path: Path, test_models: Path, model_bucket: Any, cli: Cli
) -> None:
    from tests.support.tritonserver import free_port

    repository = tmp_path / "repo"
    shutil.copytree(test_models / "versioned", repository / "versioned")
    document = cli.json("push", str(repository), "--triton-url", f"http://127.0.0.1:{free_port()}", exit_code=1)
    assert len(document["push"]["uploaded"]) == 3
    (result,) = document["reload"]
    assert result["ready"] is False and result["state"] == "UNAVAILABLE"
    assert "127.0.0.1" in result["reason"]
