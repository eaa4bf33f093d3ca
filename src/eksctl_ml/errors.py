"""The one error hierarchy of mlplat.

Every failure a user can see is an :class:`MlplatError`. Adapters wrap library exceptions
(``raise TerraformError(...) from exc``) so that nothing else reaches a phase or the engine, and the
CLI turns these into a message and an exit code in exactly one place (``eksctl_ml.cli.errors``).

Exit codes (documented in the README):

==== ==============================================================
0    success
1    a phase failed (apply, readiness gate, destroy, leftover resources)
2    usage or configuration error; nothing was changed
3    the environment's run lock is held by another run
130  interrupted (Ctrl-C / SIGTERM); the next run resumes
==== ==============================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class ExitCode:
    """Process exit codes, one per kind of outcome."""

    OK = 0
    PHASE_FAILED = 1
    USAGE = 2
    LOCK_HELD = 3
    INTERRUPTED = 130


class MlplatError(Exception):
    """Root of every error mlplat reports. ``hint`` tells the user what to do next."""

    exit_code: int = ExitCode.PHASE_FAILED

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


# --- usage and configuration (exit 2: nothing was changed) -------------------------------------


class UsageError(MlplatError):
    """The command line asks for something impossible (unknown phase, missing --env...)."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in an environment file: where, what, and how to fix it."""

    file: str
    path: str
    message: str
    value: object = None
    fix: str = ""

    def render(self) -> str:
        value = "" if self.value is None else f" (got {self.value!r})"
        fix = f"\n    fix: {self.fix}" if self.fix else ""
        return f"{self.file}: {self.path or '<root>'}: {self.message}{value}{fix}"


class ConfigError(MlplatError):
    """An environment file is missing, unreadable or invalid. Carries every issue at once."""

    exit_code = ExitCode.USAGE

    def __init__(self, message: str, issues: Sequence[ConfigIssue] = (), *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.issues = tuple(issues)

    def __str__(self) -> str:
        if not self.issues:
            return self.message
        lines = [self.message] + [f"  - {issue.render()}" for issue in self.issues]
        return "\n".join(lines)


class PreflightError(MlplatError):
    """A precondition checked before any change failed (wrong AWS account, tool missing...)."""

    exit_code = ExitCode.USAGE


class JournalError(MlplatError):
    """The environment journal is corrupt or written by a newer mlplat. Never silently reset."""

    exit_code = ExitCode.USAGE


# --- locking and interruption ------------------------------------------------------------------


class LockHeldError(MlplatError):
    """Another run holds the environment's lock (the mlplat run lock or a Terraform state lock)."""

    exit_code = ExitCode.LOCK_HELD


class InterruptedRunError(MlplatError):
    """The run was stopped by Ctrl-C or SIGTERM; the journal says where, and `up` resumes there."""

    exit_code = ExitCode.INTERRUPTED


# --- phases and the systems they drive (exit 1) -------------------------------------------------


class PhaseError(MlplatError):
    """A phase's apply, check or destroy failed. ``diagnosis`` is what the readiness gate found."""

    def __init__(self, message: str, *, phase: str = "", diagnosis: str = "", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.phase = phase
        self.diagnosis = diagnosis


class ReadinessTimeoutError(PhaseError):
    """A readiness gate did not see the resource become ready in time."""


class LeftoverResourcesError(MlplatError):
    """`down` finished but resources tagged with the environment still exist."""


class ToolError(MlplatError):
    """An external system failed. Subclasses name the system; ``detail`` has its own words."""

    system = "tool"

    def __init__(self, message: str, *, detail: str = "", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.message}\n{self.detail}" if self.detail else self.message


class TerraformError(ToolError):
    """Terraform failed; ``address`` names the resource a diagnostic points at, when it does."""

    system = "terraform"

    def __init__(self, message: str, *, detail: str = "", address: str = "", hint: str | None = None) -> None:
        super().__init__(message, detail=detail, hint=hint)
        self.address = address


class HelmError(ToolError):
    system = "helm"


class KubernetesError(ToolError):
    system = "kubernetes"


class AwsError(ToolError):
    system = "aws"


class TritonError(ToolError):
    system = "triton"


class PrometheusError(ToolError):
    """A Prometheus server could not be reached, or refused a query (``detail`` has its own message)."""

    system = "prometheus"


class EmulatorError(ToolError):
    system = "emulator"
