"""Where an environment's journal and run lock live.

:class:`StateStore` is the contract; :class:`LocalStore` keeps both under ``.mlplat/<env>/``. The
Terraform layer adds a store in the S3 state bucket so a CI runner and a laptop share one view.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from pathlib import Path
from typing import Protocol

from eksctl_ml.engine.journal import Journal
from eksctl_ml.engine.lock import LockInfo, lock_held
from eksctl_ml.errors import JournalError


class StateStore(Protocol):
    """Journal and lock storage for one environment.

    - ``acquire_lock`` is atomic: of two racing callers exactly one wins; the loser gets LockHeldError
      naming the holder. A lock whose holder is provably dead (``LockInfo.is_stale``) is taken over.
    - ``release_lock`` removes the lock only if ``lock`` is the current holder.
    - ``write_journal`` is atomic: a reader sees the old or the new journal, never a torn one.
    """

    env: str
    location: str

    def read_journal(self) -> Journal | None: ...

    def write_journal(self, journal: Journal) -> None: ...

    def acquire_lock(self, lock: LockInfo) -> LockInfo | None:
        """Take the lock; returns the stale lock it replaced, if any."""
        ...

    def release_lock(self, lock: LockInfo) -> None: ...

    def read_lock(self) -> LockInfo | None: ...

    def break_lock(self) -> LockInfo | None:
        """Remove whatever lock is there (mlplat unlock); returns it."""
        ...

    def offline(self) -> StateStore:
        """A store that reads only local files (for `status --offline`)."""
        ...


def atomic_write(path: Path, data: str | bytes, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` via a temp file in the same folder and a rename; ``mode`` (e.g. 0o600
    for files that hold access) applies from the first byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            Path(tmp).unlink()
        raise


class LocalStore:
    """Journal and lock as files in ``root`` (``.mlplat/<env>/``)."""

    def __init__(self, env: str, root: Path) -> None:
        self.env = env
        self.root = root
        self.location = str(root)
        self.journal_path = root / "journal.json"
        self.lock_path = root / "lock.json"

    def read_journal(self) -> Journal | None:
        try:
            text = self.journal_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return Journal.from_json(text, str(self.journal_path))

    def write_journal(self, journal: Journal) -> None:
        atomic_write(self.journal_path, journal.to_json())

    def acquire_lock(self, lock: LockInfo) -> LockInfo | None:
        self.root.mkdir(parents=True, exist_ok=True)
        # Write the whole lock to a temp file, then hard-link it into place: link() is atomic and
        # fails if the lock exists, so no reader ever sees a half-written lock file.
        fd, tmp_name = tempfile.mkstemp(prefix=".lock.", dir=self.root)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(lock.to_json())
            return self._link_lock(tmp)
        finally:
            tmp.unlink(missing_ok=True)

    def _link_lock(self, tmp: Path) -> LockInfo | None:
        replaced: LockInfo | None = None
        for _ in range(5):
            try:
                os.link(tmp, self.lock_path)
            except FileExistsError:
                holder = self.read_lock()
                if holder is None:
                    continue  # released between our link and read: try again
                if not holder.is_stale():
                    raise lock_held(self.env, holder, self.location) from None
                if self._reap(holder):
                    replaced = holder
                continue
            return replaced
        holder = self.read_lock()
        if holder is None:
            raise JournalError(f"could not take the lock at {self.lock_path}")
        raise lock_held(self.env, holder, self.location)

    def _reap(self, stale: LockInfo) -> bool:
        """Remove ``stale`` if it is still the lock file's content. Serialised by flock so two
        processes reaping the same dead holder cannot delete a lock a third one just took."""
        with (self.root / ".lock.mutex").open("a") as mutex:
            fcntl.flock(mutex, fcntl.LOCK_EX)
            current = self.read_lock()
            if current is None or current.id != stale.id:
                return False
            self.lock_path.unlink()
            return True

    def release_lock(self, lock: LockInfo) -> None:
        holder = self.read_lock()
        if holder is not None and holder.id == lock.id:
            self.lock_path.unlink(missing_ok=True)

    def read_lock(self) -> LockInfo | None:
        try:
            text = self.lock_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return LockInfo.from_json(text, str(self.lock_path))

    def break_lock(self) -> LockInfo | None:
        holder = None
        with contextlib.suppress(JournalError):
            holder = self.read_lock()
        self.lock_path.unlink(missing_ok=True)
        return holder

    def offline(self) -> LocalStore:
        return self
