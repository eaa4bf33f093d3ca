"""How results look: Rich for people, JSON for machines, Markdown for GitHub step summaries.

Nothing here decides anything; it only renders engine events and service results.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.table import Table

from eksctl_ml.redact import redact

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from eksctl_ml.engine.engine import PhaseIntent, PlanRow, StatusRow
    from eksctl_ml.engine.events import Event
    from eksctl_ml.metrics.figures import LiveFigures, MetricsUnavailable


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


class _Console(Console):
    """Rich turns a closed pipe into SystemExit(1), which would cut a run short mid-phase. Raise the
    OSError instead: the engine's FanOut drops the sink and the run (and its journal) carries on."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError("output closed")


def stdout_console() -> Console:
    return _Console(highlight=False, soft_wrap=False)


def stderr_console() -> Console:
    return _Console(stderr=True, highlight=False)


STATE_STYLE = {
    "ready": "green",
    "destroyed": "dim",
    "skipped": "dim",
    "pending": "dim",
    "failed": "red",
    "interrupted": "yellow",
    "running": "cyan",
    "destroying": "cyan",
    "not ready": "red",
    "timeout": "yellow",
    "error": "red",
    "offline": "dim",
}
MARK = {"ready": "✓", "destroyed": "✓", "skipped": "-", "failed": "✗", "interrupted": "!"}


def _styled(state: str) -> str:
    return f"[{STATE_STYLE.get(state, 'white')}]{escape(state)}[/]"


def _seconds(value: float | None) -> str:
    if value is None:
        return ""
    minutes, seconds = divmod(value, 60)
    return f"{int(minutes)}m{seconds:04.1f}s" if minutes else f"{seconds:.1f}s"


class ConsoleSink:
    """Live progress for people: the phase list with the current step and elapsed time per phase.

    On a terminal it draws a Rich progress display; elsewhere (CI logs, pipes) it prints one plain line
    per event so logs stay readable. ``NO_COLOR`` is honoured by Rich itself.
    """

    def __init__(self, console: Console) -> None:
        self.console = console
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}

    def emit(self, event: Event) -> None:
        with self._lock:
            getattr(self, f"_on_{event.kind}")(event)

    def _start_progress(self) -> Progress:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        if self._progress is None:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._progress.start()
        return self._progress

    def _stop_progress(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._tasks.clear()

    def _on_run_started(self, event: Event) -> None:
        command = event.data.get("command", "")
        phases = event.data.get("phases", [])
        self.console.print(f"[bold]mlplat {command}[/] · env [bold]{escape(event.env)}[/] · {len(phases)} phase(s)")

    def _on_phase_started(self, event: Event) -> None:
        label = f"[bold]{escape(event.phase or '')}[/] {event.action}"
        if self.console.is_terminal:
            progress = self._start_progress()
            name = event.phase or ""
            if name in self._tasks:
                progress.update(self._tasks[name], description=label)
            else:
                self._tasks[name] = progress.add_task(label, total=None)
        else:
            self.console.print(f"→ {event.phase}: {event.action}")

    def _on_phase_progress(self, event: Event) -> None:
        line = redact(event.message)
        if self.console.is_terminal and event.phase in self._tasks and self._progress is not None:
            self._progress.update(
                self._tasks[event.phase], description=f"[bold]{escape(event.phase or '')}[/] {escape(line)}"
            )
        else:
            self.console.print(f"  {event.phase}: {escape(line)}")

    def _finish(self, event: Event, state: str, message: str) -> None:
        self._stop_progress()
        mark = MARK.get(state, "•")
        text = f"{mark} [bold]{escape(event.phase or '')}[/] {_styled(state)}"
        if event.duration_s is not None:
            text += f" ({_seconds(event.duration_s)})"
        if message:
            text += f" — {escape(redact(message))}"
        self.console.print(text)

    def _on_phase_finished(self, event: Event) -> None:
        if event.action == "plan":
            return
        self._finish(event, event.state or "", event.message)

    def _on_phase_skipped(self, event: Event) -> None:
        self._finish(event, "skipped", event.message)

    def _on_phase_failed(self, event: Event) -> None:
        self._finish(event, event.state or "failed", event.message)
        diagnosis = str(event.data.get("diagnosis") or "")
        if diagnosis:
            self.console.print(escape(redact(diagnosis)), style="red")

    def _on_inventory(self, event: Event) -> None:
        style = "green" if event.state == "clean" else "red"
        self.console.print(escape(event.message), style=style)

    def _on_run_finished(self, event: Event) -> None:
        self._stop_progress()
        phases: list[dict[str, Any]] = list(event.data.get("phases", []))
        if not phases:
            return
        table = Table(
            title=f"{event.data.get('command')} {event.state} in {_seconds(event.duration_s)}",
            title_justify="left",
        )
        table.add_column("phase")
        table.add_column("state")
        table.add_column("time", justify="right")
        table.add_column("detail", overflow="fold")
        for row in phases:
            table.add_row(
                row["name"],
                _styled(row["state"]),
                _seconds(row.get("duration_s")),
                escape(redact(row.get("message") or "")),
            )
        self.console.print(table)


class JsonLinesSink:
    """One JSON object per event on stdout (``--output json``)."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def emit(self, event: Event) -> None:
        line = redact(json.dumps(event.to_dict(), default=str))
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()


class GitHubSummarySink:
    """Appends a Markdown summary of the run to ``$GITHUB_STEP_SUMMARY`` when it is set."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def from_environment(cls) -> GitHubSummarySink | None:
        target = os.environ.get("GITHUB_STEP_SUMMARY")
        return cls(Path(target)) if target else None

    def emit(self, event: Event) -> None:
        if event.kind != "run_finished":
            return
        command = event.data.get("command", "")
        icon = {"succeeded": "✅", "failed": "❌", "interrupted": "⚠️"}.get(event.state or "", "")
        lines = [
            f"### {icon} `mlplat {command}` · env `{event.env}` · {event.state} in {_seconds(event.duration_s)}",
            "",
        ]
        phases = list(event.data.get("phases", []))
        if phases:
            lines += ["| phase | state | time | detail |", "|---|---|---|---|"]
            for row in phases:
                detail = redact(str(row.get("message") or "")).replace("|", "\\|").replace("\n", " ")
                lines.append(f"| {row['name']} | {row['state']} | {_seconds(row.get('duration_s'))} | {detail} |")
        if event.data.get("resume"):
            lines += ["", f"Resume with `{event.data['resume']}`"]
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n\n")


# --- tables for service results -----------------------------------------------------------------


def intents_table(command: str, env: str, intents: Sequence[PhaseIntent]) -> Table:
    table = Table(title=f"mlplat {command} · env {env}", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("phase")
    table.add_column("recorded")
    table.add_column("will")
    table.add_column("what")
    for index, item in enumerate(intents, 1):
        what = item.reason or item.description
        table.add_row(str(index), item.name, _styled(item.state), item.action, escape(what))
    return table


def plan_table(env: str, rows: Sequence[PlanRow]) -> Table:
    table = Table(title=f"mlplat plan · env {env}", title_justify="left")
    table.add_column("phase")
    table.add_column("recorded")
    table.add_column("action")
    table.add_column("summary", overflow="fold")
    for row in rows:
        style = {"noop": "green", "create": "cyan", "update": "yellow", "destroy": "red"}.get(row.plan.action, "dim")
        summary = row.plan.summary + "".join(f"\n  {d}" for d in row.plan.details if d)
        table.add_row(row.name, _styled(row.state), f"[{style}]{row.plan.action}[/]", escape(summary))
    return table


def status_table(env: str, rows: Sequence[StatusRow], location: str) -> Table:
    table = Table(title=f"mlplat status · env {env} · journal {location}", title_justify="left")
    table.add_column("phase")
    table.add_column("recorded")
    table.add_column("last change")
    table.add_column("live")
    table.add_column("detail", overflow="fold")
    for row in rows:
        rec = row.record
        when = rec.ended_at.strftime("%Y-%m-%d %H:%M:%SZ") if rec.ended_at else ""
        detail = row.live.summary if row.live else (rec.message or "")
        if row.live and row.live.diagnosis:
            detail += f"\n{row.live.diagnosis}"
        if rec.last_error and rec.state.value in ("failed", "interrupted"):
            detail += f"\nlast error: {rec.last_error}"
        table.add_row(row.name, _styled(rec.state.value), when, _styled(row.live_state), escape(redact(detail)))
    if not rows:
        table.add_row("(no phases registered)", "", "", "", "")
    return table


def _number(value: float | None, fmt: str, unit: str = "") -> str:
    return "—" if value is None else f"{value:{fmt}}{unit}"


def _memory(used_mib: float | None, total_mib: float | None) -> str:
    if used_mib is None and total_mib is None:
        return "—"
    used = _number(None if used_mib is None else used_mib / 1024, ".1f")
    total = _number(None if total_mib is None else total_mib / 1024, ".1f")
    return f"{used} / {total} GiB"


def metrics_section(metrics: LiveFigures | MetricsUnavailable) -> RenderableType:
    """The live figures under the phase table: GPUs, Models, Alerts firing; or one dim line saying why not."""
    from eksctl_ml.metrics.figures import MetricsUnavailable

    if isinstance(metrics, MetricsUnavailable):
        return f"[dim]live metrics: {escape(redact(metrics.reason))}[/]"
    parts: list[RenderableType] = [
        f"[dim]live metrics from {escape(metrics.source)} at {metrics.at.strftime('%H:%M:%SZ')}[/]"
    ]
    gpus = Table(title="GPUs", title_justify="left", box=None, pad_edge=False, header_style="bold dim")
    for column, justify in (("node", "left"), ("gpu", "right"), ("model", "left"), ("util", "right")):
        gpus.add_column(column, justify=justify)  # type: ignore[arg-type]
    gpus.add_column("memory used / total", justify="right")
    for node in metrics.gpu_nodes:
        for gpu in node.gpus:
            gpus.add_row(
                escape(node.name or "(no Hostname label)"),
                escape(gpu.gpu),
                escape(gpu.model_name),
                _number(gpu.utilization_pct, ".0f", "%"),
                _memory(gpu.memory_used_mib, gpu.memory_total_mib),
            )
    parts.append(gpus if metrics.gpu_nodes else "[dim]GPUs: no DCGM exporter series[/]")
    models = Table(title="Models", title_justify="left", box=None, pad_edge=False, header_style="bold dim")
    models.add_column("model")
    models.add_column("requests/s", justify="right")
    models.add_column("p99 latency", justify="right")
    models.add_column("failures/s", justify="right")
    for model in metrics.models:
        failures = _number(model.failures_per_s, ".2f")
        if model.failures_per_s:
            failures = f"[red]{failures}[/]"
        models.add_row(
            escape(model.model),
            _number(model.requests_per_s, ".2f"),
            _number(model.p99_latency_ms, ".2f", " ms"),
            failures,
        )
    parts.append(models if metrics.models else "[dim]Models: no Triton series[/]")
    if metrics.alerts_firing:
        alerts = Table(title="Alerts firing", title_justify="left", box=None, pad_edge=False, header_style="bold dim")
        alerts.add_column("alert")
        alerts.add_column("severity")
        alerts.add_column("count", justify="right")
        for alert in metrics.alerts_firing:
            style = {"critical": "red", "warning": "yellow"}.get(alert.severity, "white")
            alerts.add_row(escape(alert.name), f"[{style}]{escape(alert.severity or '-')}[/]", str(alert.count))
        parts.append(alerts)
    else:
        parts.append("[green]Alerts firing: none[/]")
    return Group(*parts)


def status_view(
    env: str, rows: Sequence[StatusRow], location: str, metrics: LiveFigures | MetricsUnavailable
) -> RenderableType:
    """The phase table with the live figures under it."""
    return Group(status_table(env, rows, location), metrics_section(metrics))


def status_document(
    env: str, rows: Sequence[StatusRow], location: str, metrics: LiveFigures | MetricsUnavailable | None = None
) -> dict[str, Any]:
    document = _status_phases(env, rows, location)
    if metrics is not None:
        document["metrics"] = metrics.to_dict()
    return document


def _status_phases(env: str, rows: Sequence[StatusRow], location: str) -> dict[str, Any]:
    return {
        "env": env,
        "journal": location,
        "phases": [
            {
                "name": row.name,
                "description": row.description,
                "state": row.record.state.value,
                "started_at": row.record.started_at.isoformat() if row.record.started_at else None,
                "ended_at": row.record.ended_at.isoformat() if row.record.ended_at else None,
                "duration_s": row.record.duration_s,
                "last_error": row.record.last_error,
                "live": row.live_state,
                "live_summary": row.live.summary if row.live else None,
                "live_diagnosis": (row.live.diagnosis or None) if row.live else None,
            }
            for row in rows
        ],
    }


def print_json(document: Any) -> None:
    sys.stdout.write(redact(json.dumps(document, indent=2, default=str)) + "\n")
