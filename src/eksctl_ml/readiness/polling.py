"""Wait for something to settle: poll a probe with backoff, report changes, honour a deadline and Ctrl-C.

Everything that touches time is injectable (``clock``, ``sleep``), so tests drive a fake clock and never
really sleep.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

Probe = Callable[[], tuple[bool, str]]
"""Returns ``(settled, summary)``: True when waiting is over (ready, or failed for good)."""

Progress = Callable[[str], None]


def format_duration(seconds: float) -> str:
    """``45s``, ``4m10s``, ``1h02m``: short enough for a progress line."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def poll_until(
    probe: Probe,
    *,
    timeout_s: float,
    interval_s: float,
    progress: Progress | None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    cancelled: threading.Event | None = None,
    max_interval_s: float = 30.0,
    backoff: float = 1.5,
    heartbeat_s: float | None = 60.0,
) -> tuple[bool, str]:
    """Call ``probe`` until it returns ``(True, summary)`` or ``timeout_s`` has passed.

    Returns ``(True, summary)`` when the probe settled, ``(False, last summary)`` on timeout. The probe
    is always called at least once, and once more at the deadline. Between calls the wait starts at
    ``interval_s`` and grows by ``backoff`` up to ``max_interval_s`` (never past the deadline).

    ``progress`` gets ``"<summary> (<elapsed>)"`` while waiting: when the summary changes, and, if it
    has not for ``heartbeat_s`` seconds, again as a sign of life (``None``: changes only). The settled
    summary is not reported: it is the caller's result.

    If ``cancelled`` is set (before a probe or during a wait) this raises :class:`KeyboardInterrupt`, as
    Ctrl-C would. With the real ``time.sleep`` the wait itself wakes as soon as the event is set.
    """
    if timeout_s < 0 or interval_s <= 0 or backoff < 1:
        raise ValueError("poll_until needs timeout_s >= 0, interval_s > 0 and backoff >= 1")
    if cancelled is not None and sleep is time.sleep:
        sleep = _interruptible_sleep(cancelled)
    cap = max(max_interval_s, interval_s)
    start = clock()
    interval = interval_s
    reported: str | None = None
    reported_at = start
    while True:
        _raise_if_cancelled(cancelled)
        settled, summary = probe()
        if settled:
            return True, summary
        now = clock()
        elapsed = now - start
        if progress is not None and (
            summary != reported or (heartbeat_s is not None and now - reported_at >= heartbeat_s)
        ):
            progress(f"{summary} ({format_duration(elapsed)})")
            reported, reported_at = summary, now
        remaining = timeout_s - elapsed
        if remaining <= 0:
            return False, summary
        sleep(min(interval, remaining))
        interval = min(interval * backoff, cap)


def _raise_if_cancelled(cancelled: threading.Event | None) -> None:
    if cancelled is not None and cancelled.is_set():
        raise KeyboardInterrupt("wait cancelled")


def _interruptible_sleep(cancelled: threading.Event) -> Callable[[float], None]:
    def wait(seconds: float) -> None:
        cancelled.wait(seconds)

    return wait
