"""Every lifecycle command and error path through Typer's CliRunner, with test phases and fake adapters."""

from __future__ import annotations

import json
import stat
from collections.abc import Sequence
from pathlib import Path

import pytest
from tests.fakes.adapters import FakeAws, fake_adapters
from tests.fakes.phases import ScriptedPhase, World
from typer.testing import CliRunner

from eksctl_ml.cli import app
from eksctl_ml.cli.commands import _common
from eksctl_ml.engine.journal import Journal, PhaseState
from eksctl_ml.engine.lock import LockInfo
from eksctl_ml.engine.phase import BasePhase, Phase
from eksctl_ml.services.deps import Dependencies, local_store


@pytest.fixture(autouse=True)
def _plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("MLPLAT_ENV", raising=False)


class Harness:
    def __init__(self, tmp_path: Path, env_dir: Path, phases: Sequence[Phase], aws: FakeAws | None = None) -> None:
        self.root = tmp_path / "state"
        self.env_dir = env_dir
        self.aws = aws or FakeAws()
        self.deps = Dependencies(
            phases=lambda env: phases,
            adapters=lambda env, wd: fake_adapters(self.aws),
            root=self.root,
            store=local_store,
            inventory=None,
        )

    def run(self, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        full = [*args, "--config-dir", str(self.env_dir)] if "--env" in args else list(args)
        return CliRunner().invoke(app, full, obj=self.deps, input=input)

    def journal(self) -> Journal:
        path = self.root / "test" / "journal.json"
        return Journal.from_json(path.read_text(), str(path))


def phases(world: World, **kw: object) -> list[ScriptedPhase]:
    return [ScriptedPhase("network", world), ScriptedPhase("cluster", world, needs="network", **kw)]  # type: ignore[arg-type]


def test_help_teaches_every_command() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("up", "down", "plan", "status", "unlock", "doctor", "config"):
        assert command in result.output
    assert "Exit codes" in result.output
    for command in (["up"], ["down"], ["plan"], ["status"], ["unlock"], ["doctor"], ["config", "validate"]):
        sub = CliRunner().invoke(app, [*command, "--help"])
        assert sub.exit_code == 0 and "--env" in sub.output, command


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("mlplat ")


def test_up_refuses_to_prompt_without_a_terminal(tmp_path: Path, env_dir: Path) -> None:
    world = World()
    h = Harness(tmp_path, env_dir, phases(world))
    result = h.run("up", "--env", "test")
    assert result.exit_code == 2
    assert "stdin is not a terminal" in result.output and "--yes" in result.output
    assert world.log == []


def test_up_asks_and_cancel_changes_nothing(tmp_path: Path, env_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_common, "stdin_is_tty", lambda: True)
    world = World()
    h = Harness(tmp_path, env_dir, phases(world))
    result = h.run("up", "--env", "test", input="n\n")
    assert result.exit_code == 0 and "cancelled" in result.output
    assert world.log == []
    result = h.run("up", "--env", "test", input="y\n")
    assert result.exit_code == 0, result.output
    assert world.built == {"network", "cluster"}


def test_up_shows_plan_progress_and_summary(tmp_path: Path, env_dir: Path) -> None:
    world = World()
    h = Harness(tmp_path, env_dir, phases(world))
    result = h.run("up", "--env", "test", "--yes")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "mlplat up · env test" in out  # the ordered plan
    assert out.index("network") < out.index("cluster")
    assert "✓ network ready" in out and "cluster: working" in out
    assert "up succeeded" in out  # summary table title
    assert h.journal().phases["cluster"].state == PhaseState.READY
    logs = list((h.root / "test" / "logs").glob("*-up.log"))
    assert len(logs) == 1 and '"event": "phase_finished"' in logs[0].read_text()


def test_failing_gate_exits_1_with_diagnosis_and_resume(tmp_path: Path, env_dir: Path) -> None:
    world = World()
    h = Harness(tmp_path, env_dir, phases(world, fail_gate=5))
    result = h.run("up", "--env", "test", "--yes")
    assert result.exit_code == 1
    assert "phase 'cluster' failed: cluster not ready" in result.output
    assert "diagnosis: cluster pods Pending" in result.output
    assert f"mlplat up --env test --from cluster --config-dir {h.env_dir} --yes" in result.output


def test_json_output_is_one_object_per_line(tmp_path: Path, env_dir: Path) -> None:
    world = World()
    h = Harness(tmp_path, env_dir, phases(world, fail_gate=5))
    result = h.run("up", "--env", "test", "--yes", "--output", "json")
    assert result.exit_code == 1
    events = [json.loads(line) for line in result.stdout.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "run_started" and "phase_failed" in kinds and "run_finished" in kinds
    assert kinds[-1] == "error"
    assert events[-1]["exit_code"] == 1 and events[-1]["phase"] == "cluster"
    finished = next(e for e in events if e["event"] == "run_finished")
    assert finished["state"] == "failed" and finished["resume"].startswith("mlplat up --env test --from cluster")


def test_github_step_summary_is_appended(tmp_path: Path, env_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    h = Harness(tmp_path, env_dir, phases(World()))
    assert h.run("up", "--env", "test", "--yes").exit_code == 0
    text = summary.read_text()
    assert text.startswith("# earlier step\n")
    assert "`mlplat up` · env `test` · succeeded" in text
    assert "| network | ready |" in text and "| cluster | ready |" in text


def test_wrong_account_is_refused_before_any_phase(tmp_path: Path, env_dir: Path) -> None:
    world = World()
    h = Harness(tmp_path, env_dir, phases(world), aws=FakeAws(account="999999999999"))
    result = h.run("up", "--env", "test", "--yes")
    assert result.exit_code == 2
    assert "999999999999" in result.output and "expects 123456789012" in result.output
    assert world.log == []


def test_missing_credentials_is_a_clear_error(tmp_path: Path, env_dir: Path) -> None:
    h = Harness(tmp_path, env_dir, phases(World()), aws=FakeAws(fail=True))
    result = h.run("plan", "--env", "test")
    assert result.exit_code == 1
    assert "no AWS credentials found" in result.output and "hint: log in" in result.output


def test_plan_then_down_then_status(tmp_path: Path, env_dir: Path) -> None:
    world = World()
    h = Harness(tmp_path, env_dir, phases(world))
    plan = h.run("plan", "--env", "test")
    assert plan.exit_code == 0 and "create" in plan.output and world.built == set()
    assert h.run("up", "--env", "test", "--yes").exit_code == 0
    status = h.run("status", "--env", "test", "--output", "json")
    assert status.exit_code == 0
    document = json.loads(status.stdout)
    assert [(p["name"], p["state"], p["live"]) for p in document["phases"]] == [
        ("network", "ready", "ready"),
        ("cluster", "ready", "ready"),
    ]
    down = h.run("down", "--env", "test", "--yes")
    assert down.exit_code == 0, down.output
    assert down.output.index("destroy") < down.output.index("down succeeded")
    assert world.built == set()
    offline = h.run("status", "--env", "test", "--offline")
    assert offline.exit_code == 0 and "destroyed" in offline.output and "offline" in offline.output


def test_unlock(tmp_path: Path, env_dir: Path) -> None:
    h = Harness(tmp_path, env_dir, phases(World()))
    assert "is not locked" in h.run("unlock", "--env", "test").output
    holder = LockInfo(command="mlplat up --env test", host="laptop-7", pid=4242)
    (h.root / "test").mkdir(parents=True, exist_ok=True)
    (h.root / "test" / "lock.json").write_text(holder.to_json())
    locked = h.run("up", "--env", "test", "--yes")
    assert locked.exit_code == 3 and "laptop-7" in locked.output
    result = h.run("unlock", "--env", "test", "--yes")
    assert result.exit_code == 0 and "laptop-7" in result.output
    assert not (h.root / "test" / "lock.json").exists()
    assert h.run("up", "--env", "test", "--yes").exit_code == 0


def test_corrupt_journal_exits_2_and_is_kept(tmp_path: Path, env_dir: Path) -> None:
    h = Harness(tmp_path, env_dir, phases(World()))
    (h.root / "test").mkdir(parents=True)
    (h.root / "test" / "journal.json").write_text("{not json")
    for args in (("status", "--env", "test", "--offline"), ("up", "--env", "test", "--yes")):
        result = h.run(*args)
        assert result.exit_code == 2 and "corrupt" in result.output, args
    assert (h.root / "test" / "journal.json").read_text() == "{not json"


class Leaky(BasePhase):
    name = "leaky"
    description = "fails with a secret in its message"

    def apply(self, ctx):  # type: ignore[no-untyped-def]
        from eksctl_ml.errors import AwsError

        raise AwsError("CreateSecret failed", detail='{"password": "hunter2-s3cret", "token": "k8s-aws-v1.abcdef"}')

    def destroy(self, ctx):  # type: ignore[no-untyped-def]
        return None


def test_secrets_never_reach_output_or_logs(tmp_path: Path, env_dir: Path) -> None:
    h = Harness(tmp_path, env_dir, [Leaky()])
    for output in ("text", "json"):
        result = h.run("up", "--env", "test", "--yes", "--output", output)
        assert result.exit_code == 1
        assert "CreateSecret failed" in result.output
        assert "hunter2" not in result.output and "abcdef" not in result.output
    for log in (h.root / "test" / "logs").glob("*.log"):
        assert "hunter2" not in log.read_text()
    assert "hunter2" not in (h.root / "test" / "journal.json").read_text()


class Buggy(BasePhase):
    name = "buggy"
    description = "has a bug"

    def apply(self, ctx):  # type: ignore[no-untyped-def]
        raise RuntimeError("unexpected None")

    def destroy(self, ctx):  # type: ignore[no-untyped-def]
        return None


def test_internal_errors_hide_traceback_unless_debug(tmp_path: Path, env_dir: Path) -> None:
    h = Harness(tmp_path, env_dir, [Buggy()])
    result = h.run("up", "--env", "test", "--yes")
    assert result.exit_code == 1
    assert "internal error" in result.output and "--debug" in result.output
    assert "Traceback" not in result.output
    debug = h.run("--debug", "up", "--env", "test", "--yes")
    assert isinstance(debug.exception, RuntimeError)
    assert h.journal().phases["buggy"].state == PhaseState.FAILED


def test_unknown_phase_flag_is_a_usage_error(tmp_path: Path, env_dir: Path) -> None:
    h = Harness(tmp_path, env_dir, phases(World()))
    result = h.run("up", "--env", "test", "--yes", "--only", "nope")
    assert result.exit_code == 2 and "unknown phase 'nope'" in result.output and "network, cluster" in result.output


def _fake_tool(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\necho '{text}'\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_doctor_reports_each_check_with_a_fix(tmp_path: Path, env_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _fake_tool(bin_dir, "terraform", "Terraform v1.11.4")
    _fake_tool(bin_dir, "helm", "v3.9.0+g1234")
    monkeypatch.setenv("PATH", str(bin_dir))
    h = Harness(tmp_path, env_dir, [], aws=FakeAws(account="999999999999"))
    result = h.run("doctor", "--env", "test", "--output", "json")
    assert result.exit_code == 2
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["terraform"]["ok"] and "1.11.4" in checks["terraform"]["detail"]
    assert not checks["helm"]["ok"] and ">= 3.14" in checks["helm"]["fix"]
    assert not checks["aws account"]["ok"] and "aws.account_id" in checks["aws account"]["fix"]
    _fake_tool(bin_dir, "helm", "v3.17.3+ge4da497")
    h.aws.account = "123456789012"
    ok = h.run("doctor", "--env", "test")
    assert ok.exit_code == 0, ok.output
    assert "FAIL" not in ok.output


class LockedState(BasePhase):
    name = "locked"
    description = "its Terraform state is locked"

    def apply(self, ctx):  # type: ignore[no-untyped-def]
        from eksctl_ml.errors import LockHeldError

        raise LockHeldError("the Terraform state of stack 'x' is locked (lock ID abc)", hint="force-unlock abc")

    def destroy(self, ctx):  # type: ignore[no-untyped-def]
        return None


def test_held_terraform_state_lock_exits_3(tmp_path: Path, env_dir: Path) -> None:
    h = Harness(tmp_path, env_dir, [LockedState()])
    result = h.run("up", "--env", "test", "--yes")
    assert result.exit_code == 3
    assert "lock ID abc" in result.output and "force-unlock abc" in result.output


def test_closed_output_pipe_does_not_lose_the_journal(tmp_path: Path, env_dir: Path) -> None:
    from eksctl_ml.engine.events import Event, FanOut, Recorder

    class Broken:
        def emit(self, event: Event) -> None:
            raise BrokenPipeError("stdout closed")

    recorder = Recorder()
    fan = FanOut([Broken(), recorder])
    fan.emit(Event(kind="phase_progress", env="test", message="one"))
    fan.emit(Event(kind="phase_progress", env="test", message="two"))
    assert [e.message for e in recorder.events] == ["one", "two"]
