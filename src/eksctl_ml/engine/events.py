"""Engine events: what happened, for renderers (Rich, JSON lines, GitHub summary, the run log)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

EventKind = Literal[
    "run_started",  # data: command, env, phases [{name, description, state, action}]
    "phase_started",  # action: apply | check | destroy | plan
    "phase_progress",  # message: one line of progress (a Terraform resource, a rollout...)
    "phase_finished",  # state: the phase's new state; message: summary
    "phase_skipped",  # message: why
    "phase_failed",  # message: error; data: diagnosis, hint
    "run_finished",  # state: succeeded | failed | interrupted; data: phases, resume
    "inventory",  # after a full `down`: state clean | leftovers; message: the listing
]


@dataclass(frozen=True)
class Event:
    """One thing that happened during a run. Serialises to one JSON object."""

    kind: EventKind
    env: str
    phase: str | None = None
    action: str | None = None
    state: str | None = None
    message: str = ""
    duration_s: float | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    ts: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"event": self.kind, "env": self.env, "ts": round(self.ts, 3)}
        for key in ("phase", "action", "state", "duration_s"):
            value = getattr(self, key)
            if value is not None:
                out[key] = round(value, 3) if isinstance(value, float) else value
        if self.message:
            out["message"] = self.message
        if self.data:
            out.update(self.data)
        return out


class EventSink(Protocol):
    """Receives every event. Must be cheap and thread-safe: progress arrives from worker threads."""

    def emit(self, event: Event) -> None: ...


class FanOut:
    """Sends each event to several sinks. A sink that cannot write (a closed pipe, a full disk) is
    dropped instead of failing the run: losing a display must never lose the journal."""

    def __init__(self, sinks: Sequence[EventSink]) -> None:
        self._sinks = list(sinks)

    def emit(self, event: Event) -> None:
        for sink in list(self._sinks):
            try:
                sink.emit(event)
            except OSError as exc:  # BrokenPipeError included
                self._sinks.remove(sink)
                logging.getLogger("eksctl_ml.events").warning("dropped output %r: %s", sink, exc)


class Recorder:
    """Keeps every event (tests, and the GitHub summary)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)
