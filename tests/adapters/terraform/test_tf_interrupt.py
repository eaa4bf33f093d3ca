"""The Ctrl-C / timeout contract, with a fake terraform that records the signals it gets."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from eksctl_ml.adapters.terraform.protocol import PlanSummary, Stack
from eksctl_ml.adapters.terraform.runner import CliTerraformRunner
from eksctl_ml.errors import TerraformError


def _stack(tmp_path: Path) -> tuple[Stack, PlanSummary]:
    source = tmp_path / "src"
    source.mkdir()
    stack = Stack(name="demo", source=source, workdir=tmp_path / "work")
    plan_file = tmp_path / "work" / "demo.tfplan"
    plan_file.parent.mkdir()
    plan_file.write_text("not a real plan")
    return stack, PlanSummary(has_changes=True, add=1, plan_file=plan_file)


def _marker(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def interrupt_me() -> Iterator[list[threading.Timer]]:
    """Timers that send SIGINT to this process (as a terminal Ctrl-C would), cancelled at teardown."""
    timers: list[threading.Timer] = []
    yield timers
    for timer in timers:
        timer.cancel()


def _ctrl_c_after(timers: list[threading.Timer], delay: float) -> None:
    timer = threading.Timer(delay, os.kill, args=(os.getpid(), signal.SIGINT))
    timer.daemon = True
    timers.append(timer)
    timer.start()


def test_ctrl_c_forwards_one_sigint_waits_and_reraises(
    tmp_path: Path, fake_terraform: tuple[Path, Path], interrupt_me: list[threading.Timer]
) -> None:
    binary, marker = fake_terraform
    stack, plan = _stack(tmp_path)
    runner = CliTerraformRunner(
        binary=str(binary), env={"FAKE_TF_MARKER": str(marker)}, discover_mirror=False, interrupt_grace_s=10
    )
    lines: list[str] = []

    def progress(line: str) -> None:
        lines.append(line)
        if line.endswith("creating…"):  # terraform is running: press Ctrl-C
            _ctrl_c_after(interrupt_me, 0.3)

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        runner.apply(stack, plan, progress=progress)
    assert time.monotonic() - started < 8
    record = _marker(marker)
    assert record.count("SIGINT") == 1
    assert record[-1] == "exited"  # it stopped on its own, nobody killed it
    assert lines[0] == "aws_vpc.this: creating…"
    assert any(line.startswith("interrupted: asking terraform to stop gracefully") for line in lines)
    assert plan.plan_file is not None and plan.plan_file.exists()  # not applied: kept


def test_a_second_ctrl_c_during_the_grace_period_is_not_forwarded(
    tmp_path: Path, fake_terraform: tuple[Path, Path], interrupt_me: list[threading.Timer]
) -> None:
    binary, marker = fake_terraform
    stack, plan = _stack(tmp_path)
    runner = CliTerraformRunner(
        binary=str(binary),
        env={"FAKE_TF_MARKER": str(marker), "FAKE_TF_ON_INT": "slow"},
        discover_mirror=False,
        interrupt_grace_s=10,
    )

    def progress(line: str) -> None:
        if line.endswith("creating…"):
            _ctrl_c_after(interrupt_me, 0.2)
            _ctrl_c_after(interrupt_me, 0.9)  # impatient user: terraform is still saving state

    with pytest.raises(KeyboardInterrupt):
        runner.apply(stack, plan, progress=progress)
    record = _marker(marker)
    assert record.count("SIGINT") == 1
    assert record[-1] == "exited"


def test_terraform_that_ignores_sigint_is_killed_after_the_grace_period(
    tmp_path: Path,
    fake_terraform: tuple[Path, Path],
    interrupt_me: list[threading.Timer],
    caplog: pytest.LogCaptureFixture,
) -> None:
    binary, marker = fake_terraform
    stack, plan = _stack(tmp_path)
    runner = CliTerraformRunner(
        binary=str(binary),
        env={"FAKE_TF_MARKER": str(marker), "FAKE_TF_ON_INT": "ignore"},
        discover_mirror=False,
        interrupt_grace_s=1,
    )

    def progress(line: str) -> None:
        if line.endswith("creating…"):
            _ctrl_c_after(interrupt_me, 0.2)

    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="eksctl_ml.terraform"), pytest.raises(KeyboardInterrupt):
        runner.apply(stack, plan, progress=progress)
    assert time.monotonic() - started < 6
    record = _marker(marker)
    assert "SIGINT" in record and "exited" not in record
    pids = [int(line.split()[1]) for line in record if line.startswith(("pid ", "child "))]
    deadline = time.monotonic() + 3
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in pids)  # terraform and its children: the whole group
    assert "did not stop within 1s; killing it" in caplog.text


def test_timeout_stops_terraform_and_raises(tmp_path: Path, fake_terraform: tuple[Path, Path]) -> None:
    binary, marker = fake_terraform
    stack, plan = _stack(tmp_path)
    runner = CliTerraformRunner(
        binary=str(binary), env={"FAKE_TF_MARKER": str(marker)}, discover_mirror=False, timeout_s=1
    )
    with pytest.raises(TerraformError, match="timed out after 1s"):
        runner.apply(stack, plan)
    assert _marker(marker).count("SIGINT") == 1


def test_missing_binary_is_a_terraform_error_with_an_install_hint(tmp_path: Path) -> None:
    runner = CliTerraformRunner(binary=str(tmp_path / "no-such-terraform"), discover_mirror=False)
    with pytest.raises(TerraformError) as caught:
        runner.version()
    assert "cannot run terraform" in caught.value.message
    assert caught.value.hint is not None and "Terraform >= 1.10" in caught.value.hint
    stack, plan = _stack(tmp_path)
    with pytest.raises(TerraformError, match="cannot run terraform"):
        runner.apply(stack, plan)


def test_argv_is_logged_without_environment_values(
    tmp_path: Path, fake_terraform: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    binary, marker = fake_terraform
    stack, plan = _stack(tmp_path)
    runner = CliTerraformRunner(
        binary=str(binary),
        env={"FAKE_TF_MARKER": str(marker), "AWS_SECRET_ACCESS_KEY": "very-secret-value"},
        discover_mirror=False,
        timeout_s=0.5,
    )
    with caplog.at_level(logging.DEBUG, logger="eksctl_ml.terraform"), pytest.raises(TerraformError):
        runner.apply(stack, plan)
    assert f"-chdir={stack.source}" in caplog.text
    assert '"type":"apply_start"' in caplog.text  # raw JSON lines at DEBUG
    assert "very-secret-value" not in caplog.text
