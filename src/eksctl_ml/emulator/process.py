"""Run the embedded emulator as a detached background process tracked by a state file.

:class:`EmbeddedEmulator` owns one emulator per state directory (``.mlplat/local/``):

* ``emulator.json``: :class:`EmulatorInfo` of the running emulator, written atomically;
* ``emulator.log``: the emulator's stdout and stderr (appended across runs);
* ``emulator.lock``: an ``flock`` serializing start/status/stop between mlplat processes.

The emulator runs in its own session (it survives the CLI that started it, so several
``mlplat`` commands share one emulator) and listens on a free loopback port.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .compat import ensure_supported_moto
from .errors import EmulatorError
from .server import HEALTH_PATH, SERVICE_NAME

STATE_FILE = "emulator.json"
LOG_FILE = "emulator.log"
LOCK_FILE = "emulator.lock"

_HOST = "127.0.0.1"
_POLL_INTERVAL = 0.1
_START_ATTEMPTS = 3

# Popen objects of emulators this process started, by pid: kept so they are reaped (no zombie
# that still looks alive to kill(pid, 0)) and never garbage-collected while running.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}

# Loopback requests must never go through an HTTP(S)_PROXY from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class EmulatorInfo:
    """A running emulator, as recorded in ``emulator.json``.

    ``started_at`` is an ISO-8601 UTC timestamp; ``endpoint`` is ``http://127.0.0.1:<port>``.
    """

    pid: int
    port: int
    endpoint: str
    started_at: str
    moto_version: str

    @classmethod
    def from_dict(cls, data: Any) -> EmulatorInfo:
        """Parse a state-file document; ValueError when it is malformed."""
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        try:
            info = cls(
                pid=data["pid"],
                port=data["port"],
                endpoint=data["endpoint"],
                started_at=data["started_at"],
                moto_version=data["moto_version"],
            )
        except KeyError as exc:
            raise ValueError(f"missing field {exc}") from exc
        if not (isinstance(info.pid, int) and info.pid > 0 and isinstance(info.port, int)):
            raise ValueError("pid and port must be integers")
        if not all(isinstance(v, str) for v in (info.endpoint, info.started_at, info.moto_version)):
            raise ValueError("endpoint, started_at and moto_version must be strings")
        return info

    def to_dict(self) -> dict[str, Any]:
        """The state-file document."""
        return asdict(self)

    def aws_env(self) -> dict[str, str]:
        """Environment variables pointing AWS SDKs, the AWS CLI and Terraform at this emulator."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",  # the emulator accepts any key
        }


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1].removeprefix("error: ") if lines else ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        return int(sock.getsockname()[1])


def _pid_alive(pid: int) -> bool:
    child = _CHILDREN.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError, IndexError):
        # "pid (comm) S ..." -- a zombie has exited already.
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def _is_emulator_process(pid: int) -> bool:
    """False when /proc shows ``pid`` is some other program (the recorded pid was reused)."""
    cmdline = Path(f"/proc/{pid}/cmdline")
    try:
        return b"eksctl_ml.emulator" in cmdline.read_bytes()
    except OSError:
        return True  # no /proc (macOS) or a race with exit: trust the pid


def _health(endpoint: str, timeout: float = 1.0) -> dict[str, Any] | None:
    """The emulator's health document, or None when nothing (or something else) answers."""
    try:
        with _OPENER.open(endpoint + HEALTH_PATH, timeout=timeout) as response:
            document = json.loads(response.read().decode())
    except (OSError, ValueError):
        return None
    if isinstance(document, dict) and document.get("service") == SERVICE_NAME:
        return document
    return None


def _signal_group(pid: int, signum: int) -> None:
    """Signal the emulator's process group (it leads its own session), else the pid alone."""
    with contextlib.suppress(ProcessLookupError):
        try:
            if os.getpgid(pid) == pid:
                os.killpg(pid, signum)
                return
        except ProcessLookupError:
            return
        os.kill(pid, signum)


class EmbeddedEmulator:
    """The embedded AWS emulator of one state directory (see the module docstring)."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)

    @property
    def state_file(self) -> Path:
        """``<state_dir>/emulator.json``."""
        return self.state_dir / STATE_FILE

    @property
    def log_file(self) -> Path:
        """``<state_dir>/emulator.log``."""
        return self.state_dir / LOG_FILE

    # -- public API ------------------------------------------------------------------------------

    def start(self, timeout: float = 30.0) -> str:
        """Start the emulator unless one is running and healthy; return its endpoint URL.

        Idempotent. Raises :class:`EmulatorError` when moto is not the pinned version, or the
        emulator exits or does not answer within ``timeout`` seconds (its log says why).
        """
        moto_version = ensure_supported_moto()
        deadline = time.monotonic() + timeout
        with self._locked():
            running = self._status_unlocked()
            if running is not None:
                if self._wait_healthy(running, deadline):
                    return running.endpoint
                raise EmulatorError(
                    f"the emulator (pid {running.pid}) recorded in {self.state_file} is running but does not "
                    f"answer on {running.endpoint}",
                    hint=f"stop it (kill {running.pid}) and start again; its log is {self.log_file}",
                )
            failure = ""
            for _attempt in range(_START_ATTEMPTS):
                port = _free_port()
                log_offset = self.log_file.stat().st_size if self.log_file.exists() else 0
                child = self._spawn(port)
                info = EmulatorInfo(
                    pid=child.pid,
                    port=port,
                    endpoint=f"http://{_HOST}:{port}",
                    started_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    moto_version=moto_version,
                )
                self._write_state(info)
                if self._wait_healthy(info, deadline):
                    return info.endpoint
                exited = child.poll() is not None
                if exited:
                    _CHILDREN.pop(child.pid, None)
                else:
                    self._terminate(child.pid, grace=2.0)
                self._remove_state()
                failure = self._log_since(log_offset)
                if not exited:
                    raise EmulatorError(
                        f"the emulator did not answer on {info.endpoint} within {timeout:g}s",
                        hint=f"see {self.log_file}",
                    )
                if "cannot listen on" not in failure or time.monotonic() >= deadline:
                    break
            raise EmulatorError(
                "the emulator exited during start-up" + (f": {_last_line(failure)}" if failure else ""),
                hint=f"see {self.log_file}",
            )

    def status(self) -> EmulatorInfo | None:
        """The running emulator, or None. A state file left by a dead (or reused) pid is removed."""
        if not self.state_file.exists():
            return None
        with self._locked():
            return self._status_unlocked()

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop the emulator: SIGTERM, then SIGKILL after ``timeout`` seconds.

        Returns True if an emulator was stopped, False if none was running (idempotent).
        """
        if not self.state_file.exists():
            return False
        with self._locked():
            info = self._status_unlocked()
            if info is None:
                return False
            self._terminate(info.pid, grace=timeout)
            self._remove_state()
            return True

    def is_healthy(self) -> bool:
        """True when an emulator is running and answers its health check."""
        info = self.status()
        return info is not None and _health(info.endpoint) is not None

    def reset(self) -> None:
        """Forget every emulated AWS resource (moto's ``POST /moto-api/reset``)."""
        info = self.status()
        if info is None:
            raise EmulatorError("the emulator is not running", hint="start it first")
        request = urllib.request.Request(info.endpoint + "/moto-api/reset", method="POST")  # noqa: S310
        try:
            with _OPENER.open(request, timeout=10) as response:
                response.read()
        except OSError as exc:
            raise EmulatorError(f"could not reset the emulator at {info.endpoint}: {exc}") from exc

    # -- internals -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with (self.state_dir / LOCK_FILE).open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _status_unlocked(self) -> EmulatorInfo | None:
        try:
            info = EmulatorInfo.from_dict(json.loads(self.state_file.read_text()))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            self._remove_state()  # unreadable or malformed: nothing can be stopped through it
            return None
        if not _pid_alive(info.pid) or not _is_emulator_process(info.pid):
            self._remove_state()
            _CHILDREN.pop(info.pid, None)
            return None
        return info

    def _spawn(self, port: int) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        # The child must import this very package, even when it is not installed (a checkout).
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
        env["PYTHONUNBUFFERED"] = "1"
        env["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
        with self.log_file.open("ab") as log:
            child = subprocess.Popen(
                [sys.executable, "-m", "eksctl_ml.emulator", "--host", _HOST, "--port", str(port)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.state_dir,
                env=env,
                start_new_session=True,
                close_fds=True,
            )
        _CHILDREN[child.pid] = child
        return child

    def _wait_healthy(self, info: EmulatorInfo, deadline: float) -> bool:
        while True:
            document = _health(info.endpoint, timeout=1.0)
            if document is not None and document.get("pid") == info.pid:
                return True
            if not _pid_alive(info.pid) or time.monotonic() >= deadline:
                return False
            time.sleep(_POLL_INTERVAL)

    def _terminate(self, pid: int, grace: float) -> None:
        _signal_group(pid, signal.SIGTERM)
        if not self._wait_dead(pid, grace):
            _signal_group(pid, signal.SIGKILL)
            if not self._wait_dead(pid, 5.0):
                raise EmulatorError(f"the emulator (pid {pid}) survived SIGKILL")
        _CHILDREN.pop(pid, None)

    @staticmethod
    def _wait_dead(pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while _pid_alive(pid):
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL_INTERVAL / 2)
        return True

    def _write_state(self, info: EmulatorInfo) -> None:
        temporary = self.state_file.with_name(f".{STATE_FILE}.{os.getpid()}.tmp")
        with temporary.open("w") as handle:
            json.dump(info.to_dict(), handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(self.state_file)

    def _remove_state(self) -> None:
        self.state_file.unlink(missing_ok=True)

    def _log_since(self, offset: int) -> str:
        try:
            with self.log_file.open("rb") as log:
                log.seek(offset)
                return log.read().decode(errors="replace")[-4000:]
        except OSError:
            return ""
