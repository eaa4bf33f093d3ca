"""EmbeddedEmulator: start/status/stop, idempotency, stale state, loopback-only, version pin."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from importlib import metadata
from pathlib import Path

import pytest

from eksctl_ml.emulator import (
    HEALTH_PATH,
    REQUIRED_MOTO_VERSION,
    EmbeddedEmulator,
    EmulatorError,
    EmulatorInfo,
    ensure_supported_moto,
    process,
)
from eksctl_ml.emulator.server import is_loopback, serve

SRC = Path(__file__).resolve().parents[2] / "src"


def _health(endpoint: str) -> dict[str, object]:
    with urllib.request.urlopen(endpoint + HEALTH_PATH, timeout=5) as response:  # noqa: S310 - loopback
        return dict(json.loads(response.read()))


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _write_state(state_dir: Path, pid: int, port: int = 1) -> Path:
    state_dir.mkdir(parents=True, exist_ok=True)
    info = EmulatorInfo(pid, port, f"http://127.0.0.1:{port}", "2026-01-01T00:00:00+00:00", REQUIRED_MOTO_VERSION)
    path = state_dir / "emulator.json"
    path.write_text(json.dumps(info.to_dict()))
    return path


@pytest.mark.slow
def test_start_status_stop_lifecycle(state_dir: Path) -> None:
    emulator = EmbeddedEmulator(state_dir)
    assert emulator.status() is None
    assert emulator.stop() is False

    endpoint = emulator.start(timeout=60)
    info = emulator.status()
    assert info is not None
    assert endpoint == info.endpoint == f"http://127.0.0.1:{info.port}"
    assert info.moto_version == REQUIRED_MOTO_VERSION
    assert json.loads((state_dir / "emulator.json").read_text()) == info.to_dict()
    health = _health(endpoint)
    assert health["pid"] == info.pid
    assert "eks-addons" in health["patches"]  # type: ignore[operator]
    assert emulator.is_healthy()

    # Idempotent, also from another launcher (another mlplat command) on the same state dir.
    assert emulator.start() == endpoint
    assert EmbeddedEmulator(state_dir).start() == endpoint
    assert emulator.status() == info

    # moto's own API is served too, and the emulator runs in its own session.
    urllib.request.urlopen(endpoint + "/moto-api/", timeout=5).close()  # noqa: S310 - loopback
    assert os.getsid(info.pid) == info.pid

    assert EmbeddedEmulator(state_dir).stop() is True
    assert emulator.status() is None
    assert not (state_dir / "emulator.json").exists()
    assert not process._pid_alive(info.pid)
    assert emulator.stop() is False
    assert "listening on " + endpoint in (state_dir / "emulator.log").read_text()


def test_stale_state_file_of_a_dead_pid_is_cleaned(state_dir: Path) -> None:
    path = _write_state(state_dir, _dead_pid())
    emulator = EmbeddedEmulator(state_dir)
    assert emulator.status() is None
    assert not path.exists()
    _write_state(state_dir, _dead_pid())
    assert emulator.stop() is False
    assert not path.exists()


def test_state_file_whose_pid_is_another_program_is_cleaned(state_dir: Path) -> None:
    path = _write_state(state_dir, os.getpid())  # alive, but this is pytest, not an emulator
    assert EmbeddedEmulator(state_dir).status() is None
    assert not path.exists()


def test_malformed_state_file_is_cleaned(state_dir: Path) -> None:
    state_dir.mkdir(parents=True)
    path = state_dir / "emulator.json"
    for garbage in ("{not json", json.dumps({"pid": "12", "port": 1}), "[]"):
        path.write_text(garbage)
        assert EmbeddedEmulator(state_dir).status() is None
        assert not path.exists()


def test_stop_kills_an_emulator_that_ignores_sigterm(state_dir: Path) -> None:
    stubborn = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print('ready', flush=True); time.sleep(60)",
            "eksctl_ml.emulator",
        ],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert stubborn.stdout is not None and stubborn.stdout.readline().strip() == b"ready"
        _write_state(state_dir, stubborn.pid)
        emulator = EmbeddedEmulator(state_dir)
        assert emulator.status() is not None
        started = time.monotonic()
        assert emulator.stop(timeout=0.5) is True
        assert time.monotonic() - started < 5
        assert stubborn.wait(timeout=5) == -signal.SIGKILL
        assert emulator.status() is None
    finally:
        if stubborn.poll() is None:
            stubborn.kill()
            stubborn.wait()


def test_start_failure_reports_why_and_leaves_no_state(state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setattr(process, "_free_port", lambda: port)
        with pytest.raises(EmulatorError, match="exited during start-up") as info:
            EmbeddedEmulator(state_dir).start(timeout=30)
    assert f"cannot listen on 127.0.0.1:{port}" in str(info.value)
    assert not (state_dir / "emulator.json").exists()
    assert EmbeddedEmulator(state_dir).status() is None


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.5", "::", "example.com", ""])  # noqa: S104 - refused
def test_non_loopback_hosts_are_refused(host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(EmulatorError, match="only loopback"):
        serve(host, 5000)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_hosts_are_accepted(host: str) -> None:
    assert is_loopback(host)


def test_module_entry_point_refuses_a_public_host() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(
        [sys.executable, "-m", "eksctl_ml.emulator", "--host", "0.0.0.0", "--port", "5999"],  # noqa: S104
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert result.returncode == 2
    assert "refusing to serve the emulator on '0.0.0.0'" in result.stderr


def test_other_moto_versions_are_refused(state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert ensure_supported_moto() == REQUIRED_MOTO_VERSION
    monkeypatch.setattr(metadata, "version", lambda name: "5.1.0")
    with pytest.raises(EmulatorError, match=r"supports moto 5\.2\.5 only, found moto 5\.1\.0"):
        ensure_supported_moto()
    with pytest.raises(EmulatorError, match=r"found moto 5\.1\.0"):
        EmbeddedEmulator(state_dir).start()
    assert not (state_dir / "emulator.json").exists()

    def missing(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    with pytest.raises(EmulatorError, match="not installed") as info:
        ensure_supported_moto()
    assert info.value.hint is not None and "moto[server]==5.2.5" in info.value.hint


def test_emulator_info_points_sdks_at_the_endpoint() -> None:
    info = EmulatorInfo(1, 4566, "http://127.0.0.1:4566", "2026-01-01T00:00:00+00:00", REQUIRED_MOTO_VERSION)
    assert info.aws_env()["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"
    assert EmulatorInfo.from_dict(info.to_dict()) == info
    with pytest.raises(ValueError, match="missing field"):
        EmulatorInfo.from_dict({"pid": 1})
