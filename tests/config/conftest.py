"""Shared fixtures for the configuration tests: a CLI runner and a recording phase harness."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from eksctl_ml.adapters import Adapters
from eksctl_ml.adapters.aws.protocol import CallerIdentity
from eksctl_ml.cli import app
from eksctl_ml.config.loader import Environment
from eksctl_ml.engine.phase import BasePhase, CheckResult, PhaseContext, PlanResult
from eksctl_ml.services.deps import Dependencies, local_store

# Variables that would change what the CLI does if they leaked in from the developer's shell or CI.
_LEAKY_VARS = ("MLPLAT_ENV", "MLPLAT_CONFIG_DIR", "MLPLAT_STATE_DIR", "MLPLAT_DEBUG", "GITHUB_STEP_SUMMARY")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _LEAKY_VARS:
        monkeypatch.delenv(name, raising=False)
    # Rich wraps stderr at the terminal width (80 under CliRunner): widen it so a long tmp path and
    # its message stay on one line.
    monkeypatch.setenv("COLUMNS", "400")


@dataclass(frozen=True)
class CliRun:
    result: Result
    text: str  # stdout and stderr together

    @property
    def exit_code(self) -> int:
        return self.result.exit_code

    @property
    def flat(self) -> str:
        """The combined output with all whitespace runs collapsed (for fragments Rich may wrap)."""
        return " ".join(self.text.split())


def _combined(result: Result) -> str:
    text = result.output  # click >= 8.2: stdout and stderr interleaved
    try:
        err = result.stderr
    except ValueError:  # older click without separate stderr capture
        err = ""
    if err and err not in text:
        text += err
    return text


@pytest.fixture
def cli() -> Callable[..., CliRun]:
    runner = CliRunner()

    def invoke(*args: str, obj: Any = None) -> CliRun:
        result = runner.invoke(app, list(args), obj=obj, catch_exceptions=False)
        return CliRun(result, _combined(result))

    return invoke


@dataclass
class Recorder:
    calls: list[tuple[str, str]] = field(default_factory=list)


class RecordingPhase(BasePhase):
    """A phase that changes nothing and records every call the engine makes on it."""

    name = "recording"
    description = "records the calls it receives"

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def _record(self, what: str, ctx: PhaseContext) -> None:
        self.recorder.calls.append((what, ctx.env.name))

    def skip_reason(self, ctx: PhaseContext) -> str | None:
        self._record("skip_reason", ctx)
        return None

    def plan(self, ctx: PhaseContext) -> PlanResult:
        self._record("plan", ctx)
        return PlanResult("create", "would record")

    def apply(self, ctx: PhaseContext) -> Mapping[str, Any]:
        self._record("apply", ctx)
        return {"applied": True}

    def check(self, ctx: PhaseContext) -> CheckResult:
        self._record("check", ctx)
        return CheckResult.ready("recorded")

    def destroy(self, ctx: PhaseContext) -> None:
        self._record("destroy", ctx)


class FakeAws:
    """Answers the account guard with the account the env file names; anything else is an error."""

    def __init__(self, account: str) -> None:
        self.account = account

    def caller_identity(self) -> CallerIdentity:
        return CallerIdentity(account=self.account, arn=f"arn:aws:iam::{self.account}:role/test", user_id="TEST")

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected AWS call {name!r} in a config test")


@dataclass
class Harness:
    """Dependencies for the CLI whose only phase records what it is asked to do."""

    recorder: Recorder
    state_root: Path
    deps: Dependencies

    def journals(self) -> list[Path]:
        return sorted(self.state_root.rglob("journal.json")) if self.state_root.exists() else []


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    recorder = Recorder()
    state_root = tmp_path / "state"

    def phases(env: Environment) -> list[RecordingPhase]:
        return [RecordingPhase(recorder)]

    def adapters(env: Environment, workdir: Path) -> Adapters:
        return Adapters(aws_factory=lambda: FakeAws(env.config.aws.account_id))

    deps = Dependencies(phases=phases, adapters=adapters, store=local_store, inventory=None, root=state_root)
    return Harness(recorder, state_root, deps)
