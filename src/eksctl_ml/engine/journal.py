"""The per-environment journal: each phase's state, outputs and last error, plus the run history.

Stored as JSON by a :class:`~eksctl_ml.engine.store.StateStore`. A corrupt journal, or one written by a
newer mlplat (higher ``format_version``), is a JournalError: never silently reset, because the journal
is how `down` knows what `up` built.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from eksctl_ml.errors import JournalError

JOURNAL_FORMAT = 1
MAX_RUNS = 50


def utcnow() -> datetime:
    return datetime.now(UTC)


class PhaseState(StrEnum):
    PENDING = "pending"  # never applied (or journal lost)
    RUNNING = "running"  # apply or check in progress (or the process died mid-way)
    READY = "ready"  # applied and its readiness gate passed
    FAILED = "failed"  # apply or gate failed: see last_error
    INTERRUPTED = "interrupted"  # stopped by Ctrl-C/SIGTERM: `up` resumes here
    DESTROYING = "destroying"
    DESTROYED = "destroyed"
    SKIPPED = "skipped"  # not applicable to this env (feature off, no Kubernetes API...)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PhaseRecord(_Model):
    state: PhaseState = PhaseState.PENDING
    step: str | None = Field(default=None, description="apply | check | destroy while running")
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_s: float | None = None
    inputs_digest: str | None = None
    outputs: dict[str, Any] = Field(default_factory=dict)
    last_error: str | None = None
    message: str | None = Field(default=None, description="last gate summary or skip reason")


class RunRecord(_Model):
    id: str
    command: str
    started_at: datetime
    ended_at: datetime | None = None
    result: str = "running"  # running | succeeded | failed | interrupted
    user: str
    host: str
    pid: int
    phases: list[str] = Field(default_factory=list)
    error: str | None = None
    mlplat_version: str


class Journal(_Model):
    format_version: int = JOURNAL_FORMAT
    env: str
    phases: dict[str, PhaseRecord] = Field(default_factory=dict)
    runs: list[RunRecord] = Field(default_factory=list)

    def phase(self, name: str) -> PhaseRecord:
        """The record of ``name``, created as pending if absent."""
        return self.phases.setdefault(name, PhaseRecord())

    def outputs(self) -> dict[str, dict[str, Any]]:
        return {name: dict(rec.outputs) for name, rec in self.phases.items() if rec.outputs}

    def add_run(self, run: RunRecord) -> None:
        self.runs.append(run)
        del self.runs[:-MAX_RUNS]

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    @classmethod
    def from_json(cls, text: str, source: str) -> Journal:
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise JournalError(
                f"journal {source} is corrupt (not JSON: {exc.msg} at line {exc.lineno})",
                hint="restore it from the state bucket's previous version, or move it aside and "
                "run `mlplat down` to clean up from Terraform state",
            ) from exc
        version = raw.get("format_version") if isinstance(raw, dict) else None
        if not isinstance(version, int):
            raise JournalError(f"journal {source} is corrupt (no format_version)")
        if version > JOURNAL_FORMAT:
            raise JournalError(
                f"journal {source} has format {version}, newer than this mlplat understands ({JOURNAL_FORMAT})",
                hint="upgrade mlplat (pip install -U mlplat)",
            )
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise JournalError(
                f"journal {source} is corrupt: {exc.error_count()} invalid field(s), first at "
                f"{'.'.join(str(p) for p in exc.errors()[0]['loc'])}",
                hint="restore it from the state bucket's previous version",
            ) from exc
