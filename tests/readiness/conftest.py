"""Fixtures of the readiness gate tests: stubbed AWS, a fake clock, and a real moto server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from eksctl_ml.adapters.aws.protocol import CallerIdentity
from tests.readiness.doubles import REGION, FakeClock, StubbedAws


@pytest.fixture
def aws() -> Iterator[StubbedAws]:
    stubbed = StubbedAws()
    yield stubbed
    stubbed.close()  # every stubbed response was consumed: the gate made exactly the expected calls


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


class MotoAws:
    """An AwsClients pointing at the moto server."""

    region = REGION

    def __init__(self, endpoint_url: str) -> None:
        self.endpoint_url: str | None = endpoint_url
        self._session: Any = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._session.client(service, endpoint_url=self.endpoint_url)
        return self._clients[service]

    def caller_identity(self) -> CallerIdentity:
        ident = self.client("sts").get_caller_identity()
        return CallerIdentity(ident["Account"], ident["Arn"], ident["UserId"])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def moto_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoAws]:
    """A real moto server on a free port, for one session; killed at the end."""
    server = Path(sys.executable).with_name("moto_server")
    if not server.exists():
        pytest.skip("moto_server is not installed in this virtual environment")
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
    with log.open("wb") as out:
        proc = subprocess.Popen([str(server), "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=out, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=1):  # noqa: S310 - local URL
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"moto_server did not start:\n{log.read_text()}")
                time.sleep(0.05)
        yield MotoAws(url)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
