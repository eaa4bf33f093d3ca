"""Contract of the Terraform adapter: one stack (root module) at a time, never prompting."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from eksctl_ml.errors import TerraformError


@dataclass(frozen=True)
class Stack:
    """A Terraform root module and where its working files and state live.

    ``source`` is the stack folder in the repository (never written to); ``workdir`` is a per-env
    folder under ``.mlplat/<env>/`` holding the data dir, plan files and the generated var file;
    ``backend_config`` is the partial S3 backend configuration passed to ``init``.
    """

    name: str
    source: Path
    workdir: Path
    backend_config: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PlanSummary:
    """Result of ``plan -detailed-exitcode``.

    ``has_changes`` is Terraform's verdict (exit code 2); it can be true with all counts 0 when only
    outputs change. ``resource_changes`` lists the planned resource actions, one
    ``"<address>: <action>"`` line each (``create``, ``update``, ``delete``, ``replace``, ``read``...).
    """

    has_changes: bool
    add: int = 0
    change: int = 0
    remove: int = 0
    plan_file: Path | None = None
    resource_changes: tuple[str, ...] = ()

    def describe(self) -> str:
        if not self.has_changes:
            return "no changes"
        return f"{self.add} to add, {self.change} to change, {self.remove} to destroy"


@dataclass(frozen=True)
class OutputValue:
    value: Any
    sensitive: bool = False


ProgressCallback = Callable[[str], None]


@dataclass(frozen=True)
class ExistingResource:
    """A resource Terraform tried to create whose name AWS says is taken.

    ``address`` is the resource address (``module.eks.aws_cloudwatch_log_group.this``), ``type`` its
    resource type (``aws_cloudwatch_log_group``), ``name`` the name in the provider's message
    (``/aws/eks/mlplat-dev/cluster``): for most types also the import ID.
    """

    address: str
    type: str
    name: str


class ResourceExistsError(TerraformError):
    """An apply failed only because resources it creates already exist (``existing`` lists them).

    The usual cause is an interrupted apply: Ctrl-C cancels a create call AWS has already carried out,
    so the resource exists but never reached the state. Callers may adopt such a resource (import it)
    once they have proved it is theirs.
    """

    def __init__(
        self,
        message: str,
        *,
        existing: tuple[ExistingResource, ...],
        detail: str = "",
        address: str = "",
        hint: str | None = None,
    ) -> None:
        super().__init__(message, detail=detail, address=address, hint=hint)
        self.existing = existing


class TerraformRunner(Protocol):
    """Drives ``terraform`` for one stack. Every failure is a TerraformError (summary, detail, address);
    a held state lock is a LockHeldError with the lock ID and the force-unlock hint; an apply that failed
    only on names already taken is a ResourceExistsError listing them."""

    def version(self) -> str:
        """The terraform version, e.g. ``1.11.4``."""
        ...

    def init(self, stack: Stack) -> None: ...

    def plan(
        self, stack: Stack, var_file: Path, *, destroy: bool = False, progress: ProgressCallback | None = None
    ) -> PlanSummary:
        """Plan into a saved plan file (``PlanSummary.plan_file``)."""
        ...

    def apply(self, stack: Stack, plan: PlanSummary, *, progress: ProgressCallback | None = None) -> None:
        """Apply a saved plan, reporting one line per resource event."""
        ...

    def output(self, stack: Stack) -> dict[str, OutputValue]: ...

    def import_resource(
        self, stack: Stack, var_file: Path, address: str, import_id: str, *, progress: ProgressCallback | None = None
    ) -> None:
        """Bring an existing resource under ``address`` into the stack's state (``terraform import``)."""
        ...

    def destroy(self, stack: Stack, var_file: Path, *, progress: ProgressCallback | None = None) -> None:
        """Destroy everything in the stack's state; an empty state is success."""
        ...
