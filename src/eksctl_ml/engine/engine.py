"""The phase engine: runs the provision order forwards (`up`), backwards (`down`), dry (`plan`) or
as live probes (`status`), journaling every step so any run can be resumed.

Rules it keeps:
- `up` applies then gates each phase, stops at the first failure, and records where. A rerun re-checks
  phases that are ready with unchanged inputs instead of re-applying them.
- `down` is the same list reversed; every destroy is idempotent.
- Ctrl-C / SIGTERM stop the current step; the journal says ``interrupted`` and the next `up` resumes.
- Phase failures are reported in the returned :class:`RunReport`, not raised, so the caller decides the
  exit code and the message; only lock and usage problems raise.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eksctl_ml import __version__
from eksctl_ml.adapters import Adapters
from eksctl_ml.config.loader import Environment
from eksctl_ml.engine.events import Event, EventKind, EventSink
from eksctl_ml.engine.journal import Journal, PhaseRecord, PhaseState, RunRecord, utcnow
from eksctl_ml.engine.lock import LockInfo
from eksctl_ml.engine.phase import CheckResult, Phase, PhaseContext, PlanResult
from eksctl_ml.engine.signals import interrupts_raise_keyboard_interrupt
from eksctl_ml.engine.store import StateStore
from eksctl_ml.errors import ExitCode, MlplatError, UsageError
from eksctl_ml.redact import redact

BUILT_STATES = frozenset(
    {PhaseState.READY, PhaseState.FAILED, PhaseState.INTERRUPTED, PhaseState.RUNNING, PhaseState.DESTROYING}
)


@dataclass(frozen=True)
class Selection:
    """Which part of the provision order a command covers (names are validated by the engine)."""

    from_phase: str | None = None
    until: str | None = None
    only: str | None = None


@dataclass(frozen=True)
class PhaseIntent:
    """What a command will do to one phase, shown before confirmation."""

    name: str
    description: str
    state: str
    action: str  # apply | check | destroy | skip
    reason: str = ""


@dataclass
class PhaseOutcome:
    name: str
    state: str
    action: str
    duration_s: float | None = None
    message: str = ""


@dataclass
class RunReport:
    """The outcome of `up` or `down`."""

    command: str
    env: str
    result: str = "succeeded"  # succeeded | failed | interrupted
    phases: list[PhaseOutcome] = field(default_factory=list)
    failed_phase: str | None = None
    error: str = ""
    diagnosis: str = ""
    hint: str | None = None
    resume: str | None = None
    exit_code: int = ExitCode.PHASE_FAILED  # of the error that stopped the run
    duration_s: float = 0.0
    replaced_stale_lock: LockInfo | None = None

    @property
    def ok(self) -> bool:
        return self.result == "succeeded"


@dataclass(frozen=True)
class PlanRow:
    name: str
    description: str
    state: str
    plan: PlanResult


@dataclass(frozen=True)
class StatusRow:
    name: str
    description: str
    record: PhaseRecord
    live: CheckResult | None  # None when offline
    live_state: str  # ready | not ready | skipped | timeout | error | offline


ResumeFormatter = Callable[[str, str], str]  # (command, phase) -> shell command


def input_digest(inputs: Mapping[str, Any]) -> str:
    """Stable digest of a phase's inputs (key order does not matter)."""
    blob = json.dumps(inputs, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class Engine:
    """Runs an ordered tuple of phases for one environment."""

    def __init__(
        self,
        env: Environment,
        phases: Sequence[Phase],
        store: StateStore,
        adapters: Adapters,
        sink: EventSink,
        workdir: Path,
        resume_formatter: ResumeFormatter | None = None,
    ) -> None:
        names = [p.name for p in phases]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate phase names in the provision order: {names}")
        self.env = env
        self.phases = tuple(phases)
        self.store = store
        self.adapters = adapters
        self.sink = sink
        self.workdir = workdir
        self._resume = resume_formatter or (lambda cmd, phase: f"mlplat {cmd} --env {env.name} --from {phase}")
        self._cancel = threading.Event()

    # --- selection ---------------------------------------------------------------------------

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.phases]

    def select(self, selection: Selection) -> list[Phase]:
        """Phases covered by ``selection``, in provision order. UsageError for unknown names."""
        for flag, value in (
            ("--from", selection.from_phase),
            ("--until", selection.until),
            ("--only", selection.only),
        ):
            if value is not None and value not in self.names:
                raise UsageError(
                    f"unknown phase {value!r} for {flag}", hint=f"phases, in order: {', '.join(self.names)}"
                )
        if selection.only and (selection.from_phase or selection.until):
            raise UsageError("--only cannot be combined with --from or --until")
        if selection.only:
            return [p for p in self.phases if p.name == selection.only]
        start = self.names.index(selection.from_phase) if selection.from_phase else 0
        end = self.names.index(selection.until) if selection.until else len(self.phases) - 1
        if start > end:
            raise UsageError(f"--from {selection.from_phase} comes after --until {selection.until}")
        return list(self.phases[start : end + 1])

    # --- describe / plan ---------------------------------------------------------------------

    def describe(self, command: str, selection: Selection) -> list[PhaseIntent]:
        """What `up` or `down` would do to each selected phase, from the journal alone (cheap)."""
        journal = self._journal()
        ctx_outputs = journal.outputs()
        out: list[PhaseIntent] = []
        selected = self.select(selection)
        for phase in reversed(selected) if command == "down" else selected:
            rec = journal.phases.get(phase.name, PhaseRecord())
            ctx = self._ctx(phase, ctx_outputs)
            reason = _safe_skip_reason(phase, ctx)
            if command == "down":
                action = "skip" if reason and rec.state not in BUILT_STATES else "destroy"
            elif reason:
                action = "skip"
            elif rec.state == PhaseState.READY and rec.inputs_digest == _safe_digest(phase, ctx):
                action = "check"
            else:
                action = "apply"
            out.append(PhaseIntent(phase.name, phase.description, rec.state.value, action, reason or ""))
        return out

    def plan(self, selection: Selection) -> list[PlanRow]:
        """Each selected phase's plan. Changes nothing."""
        journal = self._journal()
        outputs = journal.outputs()
        rows: list[PlanRow] = []
        self._emit("run_started", data={"command": "plan", "phases": [p.name for p in self.select(selection)]})
        for phase in self.select(selection):
            rec = journal.phases.get(phase.name, PhaseRecord())
            ctx = self._ctx(phase, outputs)
            reason = _safe_skip_reason(phase, ctx)
            if reason:
                result = PlanResult("skip", reason)
            else:
                self._emit("phase_started", phase.name, action="plan")
                try:
                    result = phase.plan(ctx)
                except MlplatError as exc:
                    result = PlanResult("unknown", f"cannot plan: {exc.message}", (exc.hint or "",))
            self._emit("phase_finished", phase.name, action="plan", state=result.action, message=result.summary)
            rows.append(PlanRow(phase.name, phase.description, rec.state.value, result))
        self._emit("run_finished", state="succeeded", data={"command": "plan"})
        return rows

    # --- up / down ---------------------------------------------------------------------------

    def up(self, selection: Selection) -> RunReport:
        selected = self.select(selection)
        return self._run("up", selected, selection)

    def down(self, selection: Selection) -> RunReport:
        selected = list(reversed(self.select(selection)))
        return self._run("down", selected, selection)

    def _run(self, command: str, selected: list[Phase], selection: Selection) -> RunReport:
        lock = LockInfo(command=f"mlplat {command} --env {self.env.name}")
        replaced = self.store.acquire_lock(lock)
        report = RunReport(command=command, env=self.env.name, replaced_stale_lock=replaced)
        started = time.monotonic()
        try:
            journal = self._journal()
            self._check_order(command, journal, selected)
            run = RunRecord(
                id=uuid.uuid4().hex[:12],
                command=command,
                started_at=utcnow(),
                user=lock.user,
                host=lock.host,
                pid=os.getpid(),
                phases=[p.name for p in selected],
                mlplat_version=__version__,
            )
            journal.add_run(run)
            self.store.write_journal(journal)
            self._emit(
                "run_started",
                data={
                    "command": command,
                    "phases": [
                        {"name": i.name, "action": i.action, "state": i.state}
                        for i in self.describe(command, selection)
                    ],
                },
            )
            with interrupts_raise_keyboard_interrupt():
                for phase in selected:
                    step = self._up_phase if command == "up" else self._down_phase
                    outcome = step(phase, journal, report)
                    report.phases.append(outcome)
                    if report.result != "succeeded":
                        break
            run.result = report.result
            run.error = report.error or None
            run.ended_at = utcnow()
            self.store.write_journal(journal)
        finally:
            self.store.release_lock(lock)
            report.duration_s = time.monotonic() - started
        if report.failed_phase:
            report.resume = self._resume(command, report.failed_phase)
        self._emit(
            "run_finished",
            state=report.result,
            duration_s=report.duration_s,
            data={
                "command": command,
                "phases": [
                    {"name": o.name, "state": o.state, "duration_s": o.duration_s, "message": o.message}
                    for o in report.phases
                ],
                **({"resume": report.resume} if report.resume else {}),
            },
        )
        return report

    def _check_order(self, command: str, journal: Journal, selected: list[Phase]) -> None:
        """Refuse to build on missing foundations or to strand built phases."""
        if not selected:
            return
        first = selected[0].name
        index = self.names.index(first)
        if command == "up":
            missing = [
                n
                for n in self.names[:index]
                if journal.phases.get(n, PhaseRecord()).state not in (PhaseState.READY, PhaseState.SKIPPED)
            ]
            if missing:
                raise UsageError(
                    f"phase {first!r} needs earlier phase(s) {', '.join(missing)}, which are not ready",
                    hint=f"run `mlplat up --env {self.env.name}` (it resumes where the last run stopped)",
                )
        else:
            later = [n for n in self.names[index + 1 :] if journal.phases.get(n, PhaseRecord()).state in BUILT_STATES]
            if later:
                raise UsageError(
                    f"phase(s) {', '.join(later)} after {first!r} are still built; destroying {first!r} "
                    "first would strand them",
                    hint=f"run `mlplat down --env {self.env.name}` (all phases, in reverse)",
                )

    def _up_phase(self, phase: Phase, journal: Journal, report: RunReport) -> PhaseOutcome:
        rec = journal.phase(phase.name)
        ctx = self._ctx(phase, journal.outputs())
        with self._recording(phase, rec, journal, report, "apply") as outcome:
            reason = phase.skip_reason(ctx)
            if reason:
                self._set(rec, journal, state=PhaseState.SKIPPED, message=reason, step=None)
                self._emit("phase_skipped", phase.name, message=reason)
                outcome.state, outcome.action, outcome.message = "skipped", "skip", reason
                return outcome
            digest = input_digest(phase.inputs(ctx))
            if rec.state == PhaseState.READY and rec.inputs_digest == digest:
                self._emit("phase_started", phase.name, action="check")
                outcome.action = "check"
                result = phase.check(ctx)
                if result.ok:
                    self._set(rec, journal, message=result.summary)
                    outcome.state, outcome.message = "ready", f"unchanged; {result.summary}"
                    self._emit("phase_finished", phase.name, action="check", state="ready", message=outcome.message)
                    return outcome
                self._emit("phase_progress", phase.name, message=f"gate failed ({result.summary}); re-applying")
            elif rec.state == PhaseState.READY:
                self._emit("phase_progress", phase.name, message="inputs changed since the last apply; re-applying")
            outcome.action = "apply"
            began = time.monotonic()
            self._set(
                rec,
                journal,
                state=PhaseState.RUNNING,
                step="apply",
                started_at=utcnow(),
                ended_at=None,
                last_error=None,
            )
            self._emit("phase_started", phase.name, action="apply")
            outputs = _jsonable(phase.apply(ctx), phase.name)
            self._set(rec, journal, outputs=outputs, step="check")
            self._emit("phase_started", phase.name, action="check")
            result = phase.check(self._ctx(phase, journal.outputs()))  # the gate sees what apply recorded
            duration = time.monotonic() - began
            if not result.ok:
                raise _GateFailedError(result)
            self._set(
                rec,
                journal,
                state=PhaseState.READY,
                step=None,
                ended_at=utcnow(),
                duration_s=duration,
                inputs_digest=digest,
                message=result.summary,
            )
            outcome.state, outcome.duration_s, outcome.message = "ready", duration, result.summary
            self._emit(
                "phase_finished",
                phase.name,
                action="apply",
                state="ready",
                message=result.summary,
                duration_s=duration,
            )
        return outcome

    def _down_phase(self, phase: Phase, journal: Journal, report: RunReport) -> PhaseOutcome:
        rec = journal.phase(phase.name)
        ctx = self._ctx(phase, journal.outputs())
        with self._recording(phase, rec, journal, report, "destroy") as outcome:
            reason = phase.skip_reason(ctx)
            if reason and rec.state not in BUILT_STATES:
                self._set(rec, journal, state=PhaseState.SKIPPED, message=reason, step=None)
                self._emit("phase_skipped", phase.name, message=reason)
                outcome.state, outcome.action, outcome.message = "skipped", "skip", reason
                return outcome
            began = time.monotonic()
            self._set(
                rec,
                journal,
                state=PhaseState.DESTROYING,
                step="destroy",
                started_at=utcnow(),
                ended_at=None,
                last_error=None,
            )
            self._emit("phase_started", phase.name, action="destroy")
            phase.destroy(ctx)
            duration = time.monotonic() - began
            self._set(
                rec,
                journal,
                state=PhaseState.DESTROYED,
                step=None,
                ended_at=utcnow(),
                duration_s=duration,
                outputs={},
                inputs_digest=None,
                message="destroyed",
            )
            outcome.state, outcome.duration_s, outcome.message = "destroyed", duration, "destroyed"
            self._emit("phase_finished", phase.name, action="destroy", state="destroyed", duration_s=duration)
        return outcome

    @contextmanager
    def _recording(
        self, phase: Phase, rec: PhaseRecord, journal: Journal, report: RunReport, action: str
    ) -> Iterator[PhaseOutcome]:
        """Turn whatever stops a phase into a journal entry and a report, never a lost state."""
        outcome = PhaseOutcome(phase.name, rec.state.value, action)
        began = time.monotonic()
        try:
            yield outcome
        except _GateFailedError as failed:
            self._fail(
                phase,
                rec,
                journal,
                report,
                outcome,
                began,
                failed.result.summary,
                failed.result.diagnosis,
                None,
            )
        except MlplatError as exc:
            report.exit_code = exc.exit_code
            self._fail(phase, rec, journal, report, outcome, began, str(exc), getattr(exc, "diagnosis", ""), exc.hint)
        except KeyboardInterrupt:
            self._cancel.set()
            self._set(
                rec,
                journal,
                state=PhaseState.INTERRUPTED,
                ended_at=utcnow(),
                last_error=f"interrupted during {rec.step or action}",
            )
            report.result, report.failed_phase = "interrupted", phase.name
            report.error = f"interrupted during {phase.name} ({rec.step or action})"
            outcome.state = "interrupted"
            self._emit(
                "phase_failed",
                phase.name,
                action=rec.step or action,
                state="interrupted",
                message=report.error,
            )
        except SystemExit:  # something decided to end the process: still leave a true journal
            self._set(
                rec,
                journal,
                state=PhaseState.INTERRUPTED,
                ended_at=utcnow(),
                last_error=f"process exited during {rec.step or action}",
            )
            raise
        except Exception as exc:  # a bug: record it so the journal is not stuck "running", then re-raise
            self._set(
                rec,
                journal,
                state=PhaseState.FAILED,
                ended_at=utcnow(),
                last_error=f"internal error: {exc!r}",
            )
            raise

    def _fail(
        self,
        phase: Phase,
        rec: PhaseRecord,
        journal: Journal,
        report: RunReport,
        outcome: PhaseOutcome,
        began: float,
        error: str,
        diagnosis: str,
        hint: str | None,
    ) -> None:
        duration = time.monotonic() - began
        step = rec.step
        # The journal and events outlive the terminal: never let a secret in an error message reach them.
        error, diagnosis = redact(error), redact(diagnosis)
        self._set(
            rec,
            journal,
            state=PhaseState.FAILED,
            ended_at=utcnow(),
            duration_s=duration,
            last_error=error + (f"\n{diagnosis}" if diagnosis else ""),
        )
        report.result, report.failed_phase = "failed", phase.name
        report.error, report.diagnosis, report.hint = error, diagnosis, hint
        outcome.state, outcome.duration_s, outcome.message = "failed", duration, error
        self._emit(
            "phase_failed",
            phase.name,
            action=step,
            state="failed",
            message=error,
            duration_s=duration,
            data={"diagnosis": diagnosis, **({"hint": hint} if hint else {})},
        )

    # --- status ------------------------------------------------------------------------------

    def status(self, *, offline: bool, timeout_s: float = 20.0) -> list[StatusRow]:
        """Journal state of every phase plus, unless offline, live probes run concurrently."""
        journal = self._journal(offline)
        outputs = journal.outputs()
        records = {p.name: journal.phases.get(p.name, PhaseRecord()) for p in self.phases}
        if offline:
            return [StatusRow(p.name, p.description, records[p.name], None, "offline") for p in self.phases]
        results: dict[str, tuple[str, CheckResult]] = {}

        def probe(phase: Phase) -> None:
            ctx = self._ctx(phase, outputs)
            try:
                reason = phase.skip_reason(ctx)
                if reason:
                    results[phase.name] = ("skipped", CheckResult(True, reason))
                    return
                res = phase.status(ctx)
                results[phase.name] = ("ready" if res.ok else "not ready", res)
            except MlplatError as exc:
                results[phase.name] = ("error", CheckResult(False, exc.message, exc.hint or ""))
            except Exception as exc:  # a probe must never take the table down
                results[phase.name] = ("error", CheckResult(False, f"internal error: {exc!r}"))

        # Daemon threads, not an executor: a hung probe must not keep the process alive at exit.
        threads = [threading.Thread(target=probe, args=(p,), daemon=True, name=f"status-{p.name}") for p in self.phases]
        deadline = time.monotonic() + timeout_s
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        rows = []
        for phase in self.phases:
            live_state, live = results.get(
                phase.name, ("timeout", CheckResult(False, f"no answer within {timeout_s:g}s"))
            )
            rows.append(StatusRow(phase.name, phase.description, records[phase.name], live, live_state))
        return rows

    # --- helpers -----------------------------------------------------------------------------

    def _journal(self, offline: bool = False) -> Journal:
        store = self.store.offline() if offline else self.store
        return store.read_journal() or Journal(env=self.env.name)

    def _ctx(self, phase: Phase, outputs: Mapping[str, Mapping[str, Any]]) -> PhaseContext:
        return PhaseContext(
            env=self.env,
            workdir=self.workdir,
            adapters=self.adapters,
            outputs=outputs,
            progress=functools.partial(self._progress, phase.name),
            cancelled=self._cancel,
        )

    def _progress(self, phase: str, message: str) -> None:
        self._emit("phase_progress", phase, message=message)

    def _set(self, rec: PhaseRecord, journal: Journal, **changes: Any) -> None:
        for key, value in changes.items():
            setattr(rec, key, value)
        self.store.write_journal(journal)

    def _emit(
        self,
        kind: EventKind,
        phase: str | None = None,
        *,
        action: str | None = None,
        state: str | None = None,
        message: str = "",
        duration_s: float | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        self.sink.emit(
            Event(
                kind=kind,
                env=self.env.name,
                phase=phase,
                action=action,
                state=state,
                message=message,
                duration_s=duration_s,
                data=data or {},
            )
        )


class _GateFailedError(Exception):
    def __init__(self, result: CheckResult) -> None:
        super().__init__(result.summary)
        self.result = result


def _jsonable(outputs: Mapping[str, Any], phase: str) -> dict[str, Any]:
    try:
        return dict(json.loads(json.dumps(dict(outputs))))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"phase {phase!r} returned outputs that are not JSON: {exc}") from exc


def _safe_skip_reason(phase: Phase, ctx: PhaseContext) -> str | None:
    try:
        return phase.skip_reason(ctx)
    except MlplatError as exc:
        return f"cannot tell: {exc.message}"


def _safe_digest(phase: Phase, ctx: PhaseContext) -> str | None:
    try:
        return input_digest(phase.inputs(ctx))
    except MlplatError:
        return None
