"""Run one terraform process: stream its stdout line by line, stop it safely on Ctrl-C or timeout.

The interrupt contract (the reason this is not ``subprocess.run``):

- terraform starts in its own session (``start_new_session=True``), so a Ctrl-C typed in the terminal
  reaches only the Python process, never terraform directly. mlplat decides what terraform gets.
- When KeyboardInterrupt arrives in Python while the child runs (Ctrl-C, or SIGTERM turned into
  KeyboardInterrupt by ``eksctl_ml.engine.signals``), terraform gets **one** SIGINT. That is terraform's
  graceful stop: it cancels pending operations, waits for in-flight provider calls, writes the state
  and releases the state lock. We keep reading its output for up to ``interrupt_grace_s`` seconds;
  a second KeyboardInterrupt during that wait is logged and ignored (a second SIGINT would make
  terraform exit without saving state). If terraform is still running after the grace period, its
  whole process group (terraform and its provider plugins) gets SIGKILL.
- Then the original KeyboardInterrupt is re-raised, so the engine records the run as interrupted.
- A timeout (``timeout_s``) stops terraform the same way and raises TerraformError.

KeyboardInterrupt is delivered only to the main thread: call the runner from the main thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO

from eksctl_ml.errors import TerraformError
from eksctl_ml.redact import redact

logger = logging.getLogger("eksctl_ml.terraform")

INSTALL_HINT = (
    "install Terraform >= 1.10 (https://developer.hashicorp.com/terraform/install) and put it on PATH, "
    "or pass its path to CliTerraformRunner(binary=...)"
)
_POLL_S = 0.2
_DRAIN_AFTER_EXIT_S = 2.0  # a grandchild may keep our pipes open after terraform exited
_STDERR_KEEP = 400  # lines


@dataclass(frozen=True)
class ProcessResult:
    returncode: int
    stderr: str


def _pump(stream: IO[str], sink: queue.Queue[str | None]) -> None:
    try:
        for line in stream:
            sink.put(line)
    except (OSError, ValueError):  # closed under us after a kill
        pass
    finally:
        sink.put(None)


def _collect(stream: IO[str], lines: list[str], label: str) -> None:
    try:
        for line in stream:
            text = line.rstrip("\n")
            logger.debug("%s stderr: %s", label, redact(text))
            lines.append(text)
            if len(lines) > _STDERR_KEEP:
                del lines[0]
    except (OSError, ValueError):
        pass


class _Child:
    """A started terraform process and the threads that read its pipes."""

    def __init__(self, proc: subprocess.Popen[str], label: str, on_line: Callable[[str], None]) -> None:
        self.proc = proc
        self.label = label
        self.on_line = on_line
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stdout_done = False
        self.stderr_lines: list[str] = []
        if proc.stdout is None or proc.stderr is None:  # pragma: no cover - Popen was given PIPE
            raise TerraformError(f"terraform {label}: no pipes to read from")
        self._threads = [
            threading.Thread(target=_pump, args=(proc.stdout, self.lines), name=f"{label}-stdout", daemon=True),
            threading.Thread(
                target=_collect, args=(proc.stderr, self.stderr_lines, label), name=f"{label}-stderr", daemon=True
            ),
        ]
        for thread in self._threads:
            thread.start()

    def pump_once(self, timeout: float) -> None:
        """Hand at most one queued stdout line to ``on_line`` (waiting up to ``timeout`` for it)."""
        try:
            item = self.lines.get(timeout=timeout)
        except queue.Empty:
            return
        if item is None:
            self.stdout_done = True
        else:
            self.on_line(item.rstrip("\n"))

    def run_until_exit(self, deadline: float) -> bool:
        """Stream output until terraform exits; False when ``deadline`` (monotonic) passes first."""
        exited_at: float | None = None
        while True:
            now = time.monotonic()
            if self.proc.poll() is not None:
                exited_at = exited_at or now
                if self.stdout_done or now - exited_at > _DRAIN_AFTER_EXIT_S:
                    return True
            elif now >= deadline:
                return False
            if self.stdout_done:
                time.sleep(min(_POLL_S, max(0.0, deadline - now)))
            else:
                self.pump_once(min(_POLL_S, max(0.01, deadline - now)))

    def finish(self) -> ProcessResult:
        returncode = self.proc.wait()
        for thread in self._threads:
            thread.join(timeout=_DRAIN_AFTER_EXIT_S)
        while not self.lines.empty():  # lines read after the last pump
            item = self.lines.get_nowait()
            if item is not None:
                self.on_line(item.rstrip("\n"))
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        return ProcessResult(returncode=returncode, stderr="\n".join(self.stderr_lines))

    def stop(self, grace_s: float, *, reason: str) -> None:
        """SIGINT once, keep streaming up to ``grace_s``, then SIGKILL the process group."""
        if self.proc.poll() is not None:
            return
        logger.warning("%s: %s; sending SIGINT to terraform (pid %d)", self.label, reason, self.proc.pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGINT)
        deadline = time.monotonic() + grace_s
        while True:
            try:
                if self.run_until_exit(deadline):
                    self._kill_leftovers()
                    return
                break
            except KeyboardInterrupt:
                logger.warning(
                    "%s: interrupted again; still waiting up to %.0fs for terraform to save its state",
                    self.label,
                    max(0.0, deadline - time.monotonic()),
                )
        logger.warning("%s: terraform did not stop within %.0fs; killing it", self.label, grace_s)
        self._kill_leftovers()
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()

    def _kill_leftovers(self) -> None:
        """SIGKILL what is left of terraform's process group (providers, provisioner commands).

        terraform runs in its own session, so its pgid is its pid; Linux does not hand out a pid
        again while a process group of that id still has members, so this reaches only our group.
        """
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)


def run_process(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    on_line: Callable[[str], None],
    timeout_s: float,
    interrupt_grace_s: float,
    label: str,
    on_interrupt: Callable[[str], None] | None = None,
) -> ProcessResult:
    """Run ``argv`` (never through a shell), calling ``on_line`` for each stdout line as it arrives.

    Returns the exit code and stderr; never raises for a non-zero exit. Raises TerraformError when the
    binary cannot be started or the run exceeds ``timeout_s``; re-raises KeyboardInterrupt after
    stopping terraform as described in the module docstring. ``on_interrupt`` receives a human line
    when that stop begins (for progress output).
    """
    logger.debug("run: %s", redact(" ".join(argv)))
    started = time.monotonic()
    child: _Child | None = None
    try:
        try:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=dict(env),
                text=True,
                encoding="utf-8",
                errors="replace",
                bufsize=1,
                start_new_session=True,
            )
        except OSError as exc:
            raise TerraformError(
                f"cannot run terraform ({argv[0]}): {exc.strerror or exc}", detail=str(exc), hint=INSTALL_HINT
            ) from exc
        child = _Child(proc, label, on_line)
        if not child.run_until_exit(started + timeout_s):
            child.stop(interrupt_grace_s, reason=f"timed out after {timeout_s:.0f}s")
            result = child.finish()
            raise TerraformError(
                f"terraform {label} timed out after {timeout_s:.0f}s",
                detail=result.stderr,
                hint="raise the timeout, or look at the provider's progress lines above for the stuck resource",
            )
        result = child.finish()
    except KeyboardInterrupt:
        if child is not None and child.proc.poll() is None:
            if on_interrupt is not None:
                with contextlib.suppress(Exception):
                    on_interrupt(
                        f"interrupted: asking terraform to stop gracefully and save its state "
                        f"(waiting up to {interrupt_grace_s:.0f}s)"
                    )
            child.stop(interrupt_grace_s, reason="interrupted")
            with contextlib.suppress(KeyboardInterrupt):
                child.finish()
        raise
    except BaseException:
        # anything else (a progress callback raised...): never leave terraform running unattended
        if child is not None and child.proc.poll() is None:
            child.stop(interrupt_grace_s, reason="the caller failed")
            with contextlib.suppress(BaseException):
                child.finish()
        raise
    logger.debug("%s: exit %d after %.1fs", label, result.returncode, time.monotonic() - started)
    return result
