"""The phase contract: what every step of the provision order implements.

A phase is one unit of the platform (network, cluster, observability...). The engine calls, for `up`:
``skip_reason`` -> ``inputs`` -> ``apply`` -> ``check`` (the readiness gate); for `down`: ``destroy``;
for `plan`: ``plan``; for `status`: ``status``. Contracts every implementation must keep:

- ``apply`` converges: calling it again on a built phase changes nothing. It returns the outputs later
  phases need (JSON-serialisable; secrets never: they stay in Secrets Manager).
- ``check`` proves the thing works (not "the tool said deployed") and explains what it saw when it
  does not: ``CheckResult.diagnosis`` is printed to the user as the reason for the failure.
- ``destroy`` is idempotent: "already gone" is success.
- ``plan`` and ``status`` change nothing.
- Long waits poll ``ctx.cancelled`` or let KeyboardInterrupt through, so Ctrl-C stops them safely.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    from eksctl_ml.adapters import Adapters
    from eksctl_ml.config.loader import Environment

PlanAction = Literal["create", "update", "destroy", "noop", "skip", "unknown"]


@dataclass(frozen=True)
class PlanResult:
    """What applying (or destroying) a phase would change."""

    action: PlanAction
    summary: str
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckResult:
    """The verdict of a readiness gate or a live status probe."""

    ok: bool
    summary: str
    diagnosis: str = ""

    @classmethod
    def ready(cls, summary: str) -> CheckResult:
        return cls(ok=True, summary=summary)

    @classmethod
    def not_ready(cls, summary: str, diagnosis: str = "") -> CheckResult:
        return cls(ok=False, summary=summary, diagnosis=diagnosis)

    @classmethod
    def all_of(cls, results: Sequence[CheckResult]) -> CheckResult:
        """Ready when every result is; otherwise the failures' summaries and diagnoses."""
        failed = [r for r in results if not r.ok]
        if failed:
            return cls.not_ready(
                "; ".join(r.summary for r in failed), "\n".join(r.diagnosis for r in failed if r.diagnosis)
            )
        return cls.ready("; ".join(r.summary for r in results))


@dataclass
class PhaseContext:
    """Everything a phase may use. Built by the engine per phase call."""

    env: Environment
    workdir: Path
    adapters: Adapters
    outputs: Mapping[str, Mapping[str, Any]]
    progress: Callable[[str], None] = lambda _message: None
    cancelled: threading.Event = field(default_factory=threading.Event)

    def output(self, phase: str, key: str) -> Any:
        """An output recorded by an earlier phase; a clear error if that phase has not run."""
        from eksctl_ml.errors import PhaseError

        try:
            return self.outputs[phase][key]
        except KeyError:
            raise PhaseError(
                f"output {key!r} of phase {phase!r} is not recorded",
                phase=phase,
                hint=f"run `mlplat up --env {self.env.name} --only {phase}` first",
            ) from None


@runtime_checkable
class Phase(Protocol):
    """One step of the provision order. See the module docstring for the contract."""

    name: str
    description: str

    def skip_reason(self, ctx: PhaseContext) -> str | None:
        """Why this phase does not apply to the environment (None: it does)."""
        ...

    def inputs(self, ctx: PhaseContext) -> Mapping[str, Any]:
        """Everything the phase's result depends on. A changed digest means `up` re-applies."""
        ...

    def plan(self, ctx: PhaseContext) -> PlanResult: ...

    def apply(self, ctx: PhaseContext) -> Mapping[str, Any]: ...

    def check(self, ctx: PhaseContext) -> CheckResult: ...

    def destroy(self, ctx: PhaseContext) -> None: ...

    def status(self, ctx: PhaseContext) -> CheckResult: ...


class BasePhase:
    """Sensible defaults: never skipped, no inputs, status is the readiness gate."""

    name: str = ""
    description: str = ""

    def skip_reason(self, ctx: PhaseContext) -> str | None:
        return None

    def inputs(self, ctx: PhaseContext) -> Mapping[str, Any]:
        return {}

    def plan(self, ctx: PhaseContext) -> PlanResult:
        return PlanResult("unknown", "no plan available")

    def check(self, ctx: PhaseContext) -> CheckResult:
        return CheckResult.ready("no readiness gate")

    def status(self, ctx: PhaseContext) -> CheckResult:
        return self.check(ctx)
