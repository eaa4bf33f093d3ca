"""poll_until: backoff, progress on change only, deadline, cancellation; all on a fake clock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from eksctl_ml.readiness.polling import format_duration, poll_until
from tests.readiness.doubles import FakeClock


def _script(*answers: tuple[bool, str]) -> tuple[Callable[[], tuple[bool, str]], list[int]]:
    """A probe returning ``answers`` in turn (the last one forever) and a call counter."""
    calls = [0]

    def probe() -> tuple[bool, str]:
        calls[0] += 1
        return answers[min(calls[0], len(answers)) - 1]

    return probe, calls


def test_settled_at_first_probe_never_sleeps(clock: FakeClock) -> None:
    probe, calls = _script((True, "ready"))
    messages: list[str] = []
    result = poll_until(probe, timeout_s=60, interval_s=5, progress=messages.append, clock=clock, sleep=clock.sleep)
    assert result == (True, "ready")
    assert calls == [1]
    assert clock.sleeps == []
    assert messages == []  # the settled summary is the caller's result, not progress


def test_progress_is_reported_once_per_change_with_elapsed_time(clock: FakeClock) -> None:
    probe, calls = _script(
        (False, "CREATING"), (False, "CREATING"), (False, "CREATING"), (False, "UPDATING"), (True, "ACTIVE")
    )
    messages: list[str] = []
    result = poll_until(probe, timeout_s=600, interval_s=10, progress=messages.append, clock=clock, sleep=clock.sleep)
    assert result == (True, "ACTIVE")
    assert calls == [5]
    assert messages == ["CREATING (0s)", "UPDATING (47s)"]


def test_interval_backs_off_to_the_cap(clock: FakeClock) -> None:
    probe, _calls = _script(*[(False, "pending")] * 7, (True, "done"))
    poll_until(probe, timeout_s=3600, interval_s=10, progress=None, clock=clock, sleep=clock.sleep, max_interval_s=30)
    assert clock.sleeps == [10, 15, 22.5, 30, 30, 30, 30]


def test_timeout_returns_the_last_summary_and_probes_at_the_deadline(clock: FakeClock) -> None:
    probe, calls = _script((False, "CREATING"), (False, "CREATING"), (False, "still CREATING"))
    started = time.perf_counter()
    result = poll_until(probe, timeout_s=60, interval_s=10, progress=None, clock=clock, sleep=clock.sleep)
    assert result == (False, "still CREATING")
    assert clock.sleeps == [10, 15, 22.5, 12.5]  # the last wait is cut to the deadline
    assert calls == [5]
    assert clock.slept == 60
    assert time.perf_counter() - started < 0.5  # nothing really slept


def test_zero_timeout_probes_once(clock: FakeClock) -> None:
    probe, calls = _script((False, "pending"))
    assert poll_until(probe, timeout_s=0, interval_s=1, progress=None, clock=clock, sleep=clock.sleep) == (
        False,
        "pending",
    )
    assert calls == [1]


def test_an_unchanged_summary_is_repeated_after_the_heartbeat(clock: FakeClock) -> None:
    probe, _calls = _script(*[(False, "CREATING")] * 6, (True, "ACTIVE"))
    messages: list[str] = []
    poll_until(
        probe, timeout_s=600, interval_s=30, progress=messages.append, clock=clock, sleep=clock.sleep, heartbeat_s=60
    )
    assert messages == ["CREATING (0s)", "CREATING (1m00s)", "CREATING (2m00s)"]


def test_a_set_event_stops_before_probing(clock: FakeClock) -> None:
    probe, calls = _script((False, "pending"))
    cancelled = threading.Event()
    cancelled.set()
    with pytest.raises(KeyboardInterrupt):
        poll_until(
            probe, timeout_s=60, interval_s=1, progress=None, clock=clock, sleep=clock.sleep, cancelled=cancelled
        )
    assert calls == [0]


def test_an_event_set_while_waiting_stops_the_next_probe(clock: FakeClock) -> None:
    probe, calls = _script((False, "pending"))
    cancelled = threading.Event()
    messages: list[str] = []

    def ctrl_c_after_second_report(message: str) -> None:
        messages.append(message)
        cancelled.set()

    with pytest.raises(KeyboardInterrupt):
        poll_until(
            probe,
            timeout_s=600,
            interval_s=1,
            progress=ctrl_c_after_second_report,
            clock=clock,
            sleep=clock.sleep,
            cancelled=cancelled,
        )
    assert calls == [1]
    assert len(clock.sleeps) == 1


def test_real_sleep_wakes_as_soon_as_the_event_is_set() -> None:
    probe, calls = _script((False, "pending"))
    cancelled = threading.Event()
    timer = threading.Timer(0.05, cancelled.set)
    timer.start()
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            poll_until(probe, timeout_s=600, interval_s=30, progress=None, cancelled=cancelled)
    finally:
        timer.cancel()
    assert time.monotonic() - started < 5  # not the 30 s interval
    assert calls == [1]


def test_probe_errors_propagate(clock: FakeClock) -> None:
    def probe() -> tuple[bool, str]:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        poll_until(probe, timeout_s=60, interval_s=1, progress=None, clock=clock, sleep=clock.sleep)


@pytest.mark.parametrize(
    ("timeout_s", "interval_s", "backoff"),
    [(-1, 1, 1.5), (10, 0, 1.5), (10, 1, 0.5)],
    ids=["timeout", "interval", "backoff"],
)
def test_nonsense_arguments_are_refused(timeout_s: float, interval_s: float, backoff: float) -> None:
    with pytest.raises(ValueError, match="poll_until needs"):
        poll_until(lambda: (True, ""), timeout_s=timeout_s, interval_s=interval_s, progress=None, backoff=backoff)


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0s"), (45.9, "45s"), (60, "1m00s"), (250, "4m10s"), (3720, "1h02m"), (-3, "0s")]
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
