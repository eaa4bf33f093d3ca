"""Real processes: SIGINT/SIGTERM mid-phase, and two processes racing for the run lock."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from eksctl_ml.engine.journal import Journal, PhaseState

REPO = Path(__file__).resolve().parents[2]


def spawn(tmp_path: Path, env_dir: Path, slow: float, *args: str) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        "-m",
        "tests.support.slow_cli",
        str(tmp_path / "state"),
        str(tmp_path / "world.json"),
        str(tmp_path / "marker"),
        str(slow),
        "--",
        *args,
        "--env",
        "test",
        "--config-dir",
        str(env_dir),
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(path: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} never appeared")
        time.sleep(0.05)


def journal(tmp_path: Path) -> Journal:
    path = tmp_path / "state" / "test" / "journal.json"
    return Journal.from_json(path.read_text(), str(path))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_mid_phase_records_interrupted_and_rerun_resumes(
    tmp_path: Path, env_dir: Path, sig: signal.Signals
) -> None:
    proc = spawn(tmp_path, env_dir, 30.0, "up", "--yes")
    wait_for(tmp_path / "marker")  # the slow 'cluster' apply is running
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (out, err)
    assert "interrupted during cluster" in err
    assert "mlplat up --env test --from cluster" in err
    recorded = journal(tmp_path)
    assert recorded.phases["network"].state == PhaseState.READY
    assert recorded.phases["cluster"].state == PhaseState.INTERRUPTED
    assert recorded.phases["cluster"].last_error == "interrupted during apply"
    assert recorded.runs[-1].result == "interrupted"
    assert not (tmp_path / "state" / "test" / "lock.json").exists()

    rerun = spawn(tmp_path, env_dir, 0.0, "up", "--yes")
    out, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, (out, err)
    world = json.loads((tmp_path / "world.json").read_text())
    first_run_end = world["log"].index("apply:cluster")
    assert world["log"][first_run_end + 1 :] == [
        "check:network",
        "apply:cluster",
        "check:cluster",
        "apply:apps",
        "check:apps",
    ]
    assert {n: r.state for n, r in journal(tmp_path).phases.items()} == dict.fromkeys(
        ("network", "cluster", "apps"), PhaseState.READY
    )


def test_second_run_is_refused_while_first_holds_the_lock(tmp_path: Path, env_dir: Path) -> None:
    first = spawn(tmp_path, env_dir, 30.0, "up", "--yes")
    wait_for(tmp_path / "marker")
    second = spawn(tmp_path, env_dir, 0.0, "down", "--yes")
    out, err = second.communicate(timeout=30)
    first.send_signal(signal.SIGINT)
    first.communicate(timeout=30)
    assert second.returncode == 3, (out, err)
    assert "is locked by `mlplat up --env test`" in err
    assert f"pid {first.pid}" in err
    assert "mlplat unlock --env test" in err


def test_two_processes_racing_exactly_one_wins(tmp_path: Path, env_dir: Path) -> None:
    procs = [spawn(tmp_path, env_dir, 2.0, "up", "--yes") for _ in range(2)]
    results = [p.communicate(timeout=60) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 3], results
    world = json.loads((tmp_path / "world.json").read_text())
    assert world["log"].count("apply:cluster") == 1
