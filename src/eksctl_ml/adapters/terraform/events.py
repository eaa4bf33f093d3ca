"""Terraform's machine-readable UI (``-json``): parse event lines, describe them, map errors.

``terraform plan|apply|init -json`` writes one JSON object per line (UI protocol 1.x). The shapes this
module relies on, as Terraform 1.10/1.11 prints them::

    {"type": "planned_change", "change": {"resource": {"addr": "aws_s3_bucket.data", ...}, "action": "create"}}
    {"type": "apply_start", "hook": {"resource": {"addr": ...}, "action": "create", "id_value": ...}}
    {"type": "apply_progress", "hook": {"resource": {...}, "action": "create", "elapsed_seconds": 10}}
    {"type": "apply_complete", "hook": {"resource": {...}, "action": "create", "elapsed_seconds": 1}}
    {"type": "apply_errored", "hook": {"resource": {...}, "action": "create", "elapsed_seconds": 0}}
    {"type": "change_summary", "changes": {"add": 2, "change": 0, "import": 0, "remove": 0, "operation": "plan"}}
    {"type": "diagnostic", "diagnostic": {"severity": "error", "summary": ..., "detail": ..., "address": ...,
                                          "range": {"filename": "main.tf", "start": {"line": 21, ...}}}}

Everything here is pure (no processes), so it is unit-tested against recorded lines.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eksctl_ml.adapters.terraform.protocol import ExistingResource, ResourceExistsError
from eksctl_ml.errors import LockHeldError, TerraformError

# --- events --------------------------------------------------------------------------------------


def parse_event(line: str) -> dict[str, Any] | None:
    """The event a stdout line carries, or None for a line that is not a JSON object (plain text)."""
    text = line.strip()
    if not text.startswith("{"):
        return None
    try:
        event = json.loads(text)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def _resource_addr(container: object) -> str:
    if not isinstance(container, dict):
        return "?"
    resource = container.get("resource")
    if isinstance(resource, dict) and isinstance(resource.get("addr"), str):
        return str(resource["addr"])
    return "?"


_PLANNED = {
    "create": "will be created",
    "update": "will be updated in-place",
    "delete": "will be destroyed",
    "replace": "must be replaced",
    "read": "will be read during apply",
    "move": "has moved",
    "import": "will be imported",
    "forget": "will be removed from state",
}
_STARTING = {"create": "creating", "update": "updating", "delete": "destroying", "read": "reading"}
_DONE = {"create": "created", "update": "updated", "delete": "destroyed", "read": "read"}
_FAILED = {"create": "create failed", "update": "update failed", "delete": "destroy failed", "read": "read failed"}


def _elapsed(hook: dict[str, Any]) -> str:
    seconds = hook.get("elapsed_seconds")
    return f"{seconds}s" if isinstance(seconds, int | float) else "?s"


def describe_event(event: dict[str, Any]) -> str | None:
    """One human line for a progress-worthy event (planned or applied resource change), else None.

    ``aws_vpc.this: will be created``, ``aws_vpc.this: creating…``, ``aws_vpc.this: still creating… (10s
    elapsed)``, ``aws_vpc.this: created (3s)``, ``aws_vpc.this: create failed (0s)``.
    """
    kind = event.get("type")
    if kind == "planned_change":
        change = event.get("change")
        if not isinstance(change, dict):
            return None
        action = str(change.get("action", ""))
        if action == "noop":
            return None
        return f"{_resource_addr(change)}: {_PLANNED.get(action, action)}"
    if kind not in ("apply_start", "apply_progress", "apply_complete", "apply_errored"):
        return None
    hook = event.get("hook")
    if not isinstance(hook, dict):
        return None
    addr = _resource_addr(hook)
    action = str(hook.get("action", ""))
    if kind == "apply_start":
        id_value = hook.get("id_value")
        suffix = f" [id={id_value}]" if id_value and action != "create" else ""
        return f"{addr}: {_STARTING.get(action, action + 'ing')}…{suffix}"
    if kind == "apply_progress":
        return f"{addr}: still {_STARTING.get(action, action + 'ing')}… ({_elapsed(hook)} elapsed)"
    if kind == "apply_complete":
        return f"{addr}: {_DONE.get(action, action + ' done')} ({_elapsed(hook)})"
    return f"{addr}: {_FAILED.get(action, action + ' failed')} ({_elapsed(hook)})"


def planned_change_line(event: dict[str, Any]) -> str | None:
    """``aws_vpc.this: create`` for a planned_change event (noop excluded), for PlanSummary.resource_changes."""
    change = event.get("change")
    if event.get("type") != "planned_change" or not isinstance(change, dict):
        return None
    action = str(change.get("action", ""))
    if not action or action == "noop":
        return None
    return f"{_resource_addr(change)}: {action}"


@dataclass(frozen=True)
class ChangeCounts:
    add: int = 0
    change: int = 0
    remove: int = 0
    import_: int = 0


def change_counts(event: dict[str, Any]) -> ChangeCounts | None:
    """The counts of a ``change_summary`` event."""
    changes = event.get("changes")
    if event.get("type") != "change_summary" or not isinstance(changes, dict):
        return None

    def count(key: str) -> int:
        value = changes.get(key, 0)
        return value if isinstance(value, int) else 0

    return ChangeCounts(add=count("add"), change=count("change"), remove=count("remove"), import_=count("import"))


# --- diagnostics ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Diagnostic:
    """One ``diagnostic`` of Terraform's JSON output."""

    severity: str
    summary: str
    detail: str = ""
    address: str = ""
    location: str = ""  # "main.tf:21" (the diagnostic's range), "" when it has none
    variables: tuple[str, ...] = ()  # traversals in the highlighted snippet, e.g. ("var.name",)

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> Diagnostic | None:
        diag = event.get("diagnostic")
        if event.get("type") != "diagnostic" or not isinstance(diag, dict):
            return None
        return cls.from_json(diag)

    @classmethod
    def from_json(cls, diag: dict[str, Any]) -> Diagnostic:
        location = ""
        rng = diag.get("range")
        if isinstance(rng, dict) and rng.get("filename"):
            start = rng.get("start")
            line = start.get("line") if isinstance(start, dict) else None
            location = f"{rng['filename']}:{line}" if line else str(rng["filename"])
        traversals: list[str] = []
        snippet = diag.get("snippet")
        if isinstance(snippet, dict) and isinstance(snippet.get("values"), list):
            for value in snippet["values"]:
                if isinstance(value, dict) and isinstance(value.get("traversal"), str):
                    traversals.append(value["traversal"])
        return cls(
            severity=str(diag.get("severity", "error")),
            summary=str(diag.get("summary", "")).strip(),
            detail=str(diag.get("detail", "") or "").strip(),
            address=str(diag.get("address", "") or ""),
            location=location,
            variables=tuple(traversals),
        )

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    @property
    def headline(self) -> str:
        """The first line of the summary (init diagnostics carry whole paragraphs in ``summary``)."""
        return self.summary.splitlines()[0].strip() if self.summary else "terraform reported an error"

    def best_address(self) -> str:
        """What the diagnostic points at: the resource address, else the variable, else file:line."""
        if self.address:
            return self.address
        if "variable" in self.summary.lower():
            for traversal in self.variables:
                if traversal.startswith("var."):
                    return traversal
        return self.location

    def render(self) -> str:
        lines = [f"{self.severity.capitalize()}: {self.summary}"]
        where = ", ".join(part for part in (self.address or self._variable(), self.location) if part)
        if where:
            lines.append(f"  at {where}")
        if self.detail:
            lines.extend(f"  {line}" if line else "" for line in self.detail.splitlines())
        return "\n".join(lines)

    def _variable(self) -> str:
        address = self.best_address()
        return address if address.startswith("var.") else ""


# --- state lock ----------------------------------------------------------------------------------

LOCK_SUMMARY = "Error acquiring the state lock"
_LOCK_FIELD = re.compile(r"^\s*(ID|Path|Operation|Who|Version|Created|Info):[ \t]*(.*)$", re.M)


@dataclass(frozen=True)
class StateLockInfo:
    """The ``Lock Info:`` block Terraform prints when another run holds the state lock."""

    id: str = ""
    path: str = ""
    operation: str = ""
    who: str = ""
    version: str = ""
    created: str = ""


def parse_lock_info(detail: str) -> StateLockInfo | None:
    """The lock holder described in a diagnostic's detail; None when it has no ``Lock Info:`` block."""
    marker = detail.find("Lock Info:")
    if marker < 0:
        return None
    fields = {key: value.strip() for key, value in _LOCK_FIELD.findall(detail[marker:])}
    return StateLockInfo(
        id=fields.get("ID", ""),
        path=fields.get("Path", ""),
        operation=fields.get("Operation", ""),
        who=fields.get("Who", ""),
        version=fields.get("Version", ""),
        created=fields.get("Created", ""),
    )


class StateLockHeldError(LockHeldError):
    """Another Terraform run holds the stack's state lock. ``lock`` says who; the hint how to release it."""

    def __init__(self, message: str, *, lock: StateLockInfo, stack: str, detail: str = "", hint: str | None = None):
        super().__init__(message, hint=hint)
        self.lock = lock
        self.stack = stack
        self.detail = detail


def force_unlock_command(
    binary: str, source: Path, data_dir: Path, lock_id: str, env: Mapping[str, str] | None = None
) -> str:
    """The exact shell command that releases a stuck state lock of the stack.

    ``env`` adds non-secret variables the command needs (e.g. ``AWS_ENDPOINT_URL`` of the emulator).
    """
    assignments = {**(env or {}), "TF_DATA_DIR": str(data_dir)}
    prefix = " ".join(f"{key}={shlex.quote(value)}" for key, value in assignments.items())
    return (
        f"{prefix} {shlex.quote(binary)} -chdir={shlex.quote(str(source))} "
        f"force-unlock -force {shlex.quote(lock_id or '<LOCK ID>')}"
    )


# --- names already taken ---------------------------------------------------------------------------

# The AWS provider's create errors read "creating <Kind> (<name>): <AWS error>".
_CREATING = re.compile(r"^creating [^(]+\((?P<name>[^)]+)\):")
# The AWS error codes meaning "that name is taken" (CloudWatch Logs, IAM, KMS, ECR, EC2, S3, EKS...).
_TAKEN = re.compile(
    r"\b(ResourceAlreadyExistsException|EntityAlreadyExists|AlreadyExistsException|"
    r"RepositoryAlreadyExistsException|InvalidGroup\.Duplicate|BucketAlreadyOwnedByYou|BucketAlreadyExists|"
    r"ResourceInUseException|ResourceExistsException)\b"
)
# A resource address's type: the part before the name of its last "<type>.<name>[index]" step.
_ADDRESS_TYPE = re.compile(r"(?:^|\.)(?P<type>[a-z0-9_]+)\.[A-Za-z0-9_-]+(?:\[[^\]]*\])?$")


def existing_resource(diagnostic: Diagnostic) -> ExistingResource | None:
    """The resource a create error says is already there; None for any other diagnostic."""
    if not diagnostic.is_error or not diagnostic.address:
        return None
    created = _CREATING.match(diagnostic.summary)
    if created is None or not _TAKEN.search(f"{diagnostic.summary}\n{diagnostic.detail}"):
        return None
    kind = _ADDRESS_TYPE.search(diagnostic.address)
    if kind is None:
        return None
    return ExistingResource(address=diagnostic.address, type=kind["type"], name=created["name"].strip())


# --- error mapping -------------------------------------------------------------------------------

_HINTS: tuple[tuple[str, str], ...] = (
    ("backend initialization required", "the stack's working directory is not initialised: run init again"),
    ("saved plan is stale", "the state changed since this plan was made: plan again, then apply the new plan"),
    (
        "inconsistent dependency lock file",
        "the stack's .terraform.lock.hcl does not match its required_providers: update it with "
        "`terraform providers lock` and commit it",
    ),
    (
        "provider dependency changes detected",
        "the stack's .terraform.lock.hcl does not match its required_providers: update it with "
        "`terraform providers lock` and commit it",
    ),
    (
        "failed to query available provider packages",
        "the provider is not in the mirror and direct downloads are off: check MLPLAT_TF_PROVIDER_MIRROR",
    ),
    ("no valid credential sources", "AWS credentials are missing: check AWS_PROFILE / AWS_ACCESS_KEY_ID"),
)


def _hint_for(diagnostic: Diagnostic) -> str | None:
    text = diagnostic.summary.lower()
    for needle, hint in _HINTS:
        if needle in text and hint:
            return hint
    return None


def lock_error(
    diagnostic: Diagnostic, *, stack: str, unlock_command: Callable[[str], str] | None = None
) -> StateLockHeldError | None:
    """A StateLockHeldError when ``diagnostic`` reports a state lock held by someone else.

    ``unlock_command`` maps the lock ID to the exact command that releases the lock (for the hint).
    """
    if LOCK_SUMMARY.lower() not in diagnostic.summary.lower():
        return None
    info = parse_lock_info(diagnostic.detail)
    if info is None:  # "Error acquiring the state lock" without a holder: access denied, network...
        return None
    holder = ", ".join(
        part
        for part in (
            f"{info.operation.removeprefix('OperationType').lower()}" if info.operation else "",
            f"by {info.who}" if info.who else "",
            f"since {info.created}" if info.created else "",
        )
        if part
    )
    message = f"the Terraform state of stack {stack!r} is locked by another run (lock ID {info.id or 'unknown'}"
    message += f"; {holder})" if holder else ")"
    hint = (
        "wait for that run to finish. If it is dead (its machine crashed or was killed), release the lock "
        "and run again:\n  " + unlock_command(info.id)
        if unlock_command is not None and info.id
        else "wait for that run to finish, or release the lock with `terraform force-unlock`"
    )
    return StateLockHeldError(message, lock=info, stack=stack, detail=diagnostic.detail, hint=hint)


def error_from_diagnostics(
    diagnostics: list[Diagnostic],
    *,
    command: str,
    stack: str,
    returncode: int,
    fallback_text: str = "",
    unlock_command: Callable[[str], str] | None = None,
) -> TerraformError | StateLockHeldError:
    """The one error a failed terraform command becomes.

    A held state lock becomes :class:`StateLockHeldError` (a LockHeldError) with the lock ID and the
    force-unlock command. Otherwise a TerraformError whose message is the first error diagnostic's
    summary, whose ``address`` is what it points at, and whose ``detail`` renders every error diagnostic.
    When every error says a name is already taken, the error is a :class:`ResourceExistsError` listing them.
    Without diagnostics (flag errors, crashes), ``fallback_text`` (stderr / plain stdout) is the detail.
    """
    errors = [diag for diag in diagnostics if diag.is_error]
    for diag in errors:
        locked = lock_error(diag, stack=stack, unlock_command=unlock_command)
        if locked is not None:
            return locked
    header = f"terraform {command} of stack {stack!r} failed (exit {returncode})"
    if not errors:
        text = fallback_text.strip()
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        first = first.removeprefix("Error:").strip() or header
        return TerraformError(first, detail=f"{header}\n{text}" if text else header)
    first_error = errors[0]
    rest = "" if first_error.summary == first_error.headline else first_error.summary
    detail = "\n\n".join([header, *(diag.render() for diag in errors)])
    if rest and rest not in detail:
        detail += "\n" + rest
    existing = [existing_resource(diag) for diag in errors]
    if all(existing):
        return ResourceExistsError(
            first_error.headline,
            existing=tuple(found for found in existing if found is not None),
            detail=detail,
            address=first_error.best_address(),
            hint="an interrupted run may have created them without recording them; resources tagged as this "
            "env's can be imported with `terraform import`, others must be deleted or renamed",
        )
    return TerraformError(
        first_error.headline,
        detail=detail,
        address=first_error.best_address(),
        hint=_hint_for(first_error),
    )


def is_missing_state_bucket(error: TerraformError) -> bool:
    """True when ``init`` failed because the S3 state bucket does not exist (so there is no state)."""
    text = f"{error.message}\n{error.detail}"
    return bool(re.search(r"S3 bucket \"[^\"]*\" does not exist", text)) or "NoSuchBucket" in text
