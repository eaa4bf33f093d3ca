"""Fixtures of the Terraform adapter tests: recorded events, fake binaries, real terraform + emulator."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eksctl_ml.adapters.terraform.cliconfig import find_provider_mirror
from eksctl_ml.errors import TerraformError

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
EVENTS = FIXTURES / "events"
REGION = "us-east-1"
FAKE_KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def recorded(name: str) -> list[str]:
    """The stdout lines of a real terraform run, recorded in fixtures/events/<name>.jsonl."""
    return (EVENTS / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()


def terraform_binary() -> str | None:
    return shutil.which("terraform")


def provider_mirror() -> Path | None:
    try:
        return find_provider_mirror()
    except TerraformError:
        return None


needs_terraform = pytest.mark.skipif(terraform_binary() is None, reason="terraform is not on PATH")
needs_aws_provider = pytest.mark.skipif(
    terraform_binary() is None or provider_mirror() is None,
    reason="terraform or an offline hashicorp/aws provider mirror is missing",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _moto_server() -> str | None:
    beside_python = Path(sys.executable).with_name("moto_server")
    return str(beside_python) if beside_python.exists() else shutil.which("moto_server")


@pytest.fixture(scope="session")
def tf_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real moto server (AWS API emulator) of its own for the Terraform tests; yields its URL."""
    binary = _moto_server()
    if binary is None:
        pytest.skip("moto_server is not installed (pip install 'moto[server]==5.2.5')")
    port = _free_port()
    log = tmp_path_factory.mktemp("tf-moto") / "moto.log"
    env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [binary, "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=subprocess.STDOUT, env=env
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()  # noqa: S310 - loopback
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"moto server did not start: {log.read_text(errors='replace')[-2000:]}")
                time.sleep(0.1)
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def boto_client(endpoint: str, service: Any) -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=FAKE_KEYS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_KEYS["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.fixture(scope="session")
def state_bucket(tf_emulator: str) -> str:
    """An S3 bucket in the emulator for the stacks' state."""
    name = f"tfstate-{uuid.uuid4().hex[:10]}"
    boto_client(tf_emulator, "s3").create_bucket(Bucket=name)
    return name


@pytest.fixture
def aws_env(tf_emulator: str) -> dict[str, str]:
    """What the runner adds to terraform's environment to reach the emulator."""
    return {"AWS_ENDPOINT_URL": tf_emulator, "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, **FAKE_KEYS}


@pytest.fixture
def stack_source(tmp_path: Path) -> Path:
    """A copy of fixtures/stack (init may create its dependency lock file; never in the repository)."""
    target = tmp_path / "stack-src"
    shutil.copytree(FIXTURES / "stack", target)
    return target


FAKE_TERRAFORM = r"""#!/bin/bash
# A stand-in for terraform whose "apply" runs until interrupted. It records every SIGINT in
# $FAKE_TF_MARKER and, depending on $FAKE_TF_ON_INT: "exit" (stop at once, like terraform), "ignore"
# (keep running: the runner must SIGKILL it), or "slow" (finish 1.5 s later, like saving state).
marker="${FAKE_TF_MARKER:?}"
echo "pid $$" >> "$marker"
on_int() {
  echo "SIGINT" >> "$marker"
  case "${FAKE_TF_ON_INT:-exit}" in
    ignore) return ;;
    slow) sleep 1.5 ;;
  esac
  [ -n "$child" ] && kill "$child" 2>/dev/null
  echo '{"@level":"info","@message":"Stopping operation...","type":"log"}'
  echo "exited" >> "$marker"
  exit 1
}
trap on_int INT
hook='"hook":{"resource":{"addr":"aws_vpc.this"},"action":"create"}'
echo '{"@level":"info","@message":"aws_vpc.this: Creating...",'"$hook"',"type":"apply_start"}'
while true; do
  sleep 30 & child=$!
  echo "child $child" >> "$marker"
  wait "$child"
done
"""


@pytest.fixture
def fake_terraform(tmp_path: Path) -> tuple[Path, Path]:
    """(binary, marker file) of the fake terraform above."""
    binary = tmp_path / "bin" / "terraform"
    binary.parent.mkdir()
    binary.write_text(FAKE_TERRAFORM)
    binary.chmod(0o755)
    return binary, tmp_path / "marker"
