"""Who holds an environment's run lock, and whether that holder is provably dead."""

from __future__ import annotations

import getpass
import json
import os
import socket
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime

from eksctl_ml.engine.journal import utcnow
from eksctl_ml.errors import JournalError, LockHeldError


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return str(os.getuid())


@dataclass(frozen=True)
class LockInfo:
    """The holder of a run lock."""

    command: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    user: str = field(default_factory=_user)
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    started_at: str = field(default_factory=lambda: utcnow().isoformat(timespec="seconds"))

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str, source: str) -> LockInfo:
        try:
            return cls(**json.loads(text))
        except (ValueError, TypeError) as exc:
            raise JournalError(
                f"lock file {source} is unreadable", hint="remove it with `mlplat unlock --env NAME`"
            ) from exc

    def describe(self) -> str:
        return f"`{self.command}` by {self.user}@{self.host} (pid {self.pid}) since {self.started_at}"

    def is_stale(self) -> bool:
        """True only when the holder ran on this host and its process is gone."""
        if self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def started(self) -> datetime:
        return datetime.fromisoformat(self.started_at)


def lock_held(env: str, holder: LockInfo, where: str) -> LockHeldError:
    return LockHeldError(
        f"environment {env!r} is locked by {holder.describe()} ({where})",
        hint=f"wait for that run to finish; if it is dead, run `mlplat unlock --env {env}`",
    )
