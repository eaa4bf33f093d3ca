"""Journal format safety and the local lock's semantics (stale holders, unlock, atomic writes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from eksctl_ml.engine.journal import JOURNAL_FORMAT, Journal, PhaseState, RunRecord, utcnow
from eksctl_ml.engine.lock import LockInfo
from eksctl_ml.engine.store import LocalStore
from eksctl_ml.errors import JournalError, LockHeldError


def test_journal_round_trip(tmp_path: Path) -> None:
    store = LocalStore("dev", tmp_path)
    journal = Journal(env="dev")
    journal.phase("network").state = PhaseState.READY
    journal.phase("network").outputs = {"vpc_id": "vpc-1"}
    store.write_journal(journal)
    again = store.read_journal()
    assert again is not None
    assert again.phases["network"].outputs == {"vpc_id": "vpc-1"}
    assert again.format_version == JOURNAL_FORMAT
    assert [p.name for p in tmp_path.iterdir()] == ["journal.json"]  # no temp files left behind


def test_corrupt_journal_is_an_error_not_a_reset(tmp_path: Path) -> None:
    (tmp_path / "journal.json").write_text('{"format_version": 1, "env": "dev", "phases": {')
    with pytest.raises(JournalError, match="corrupt") as info:
        LocalStore("dev", tmp_path).read_journal()
    assert info.value.exit_code == 2
    assert (tmp_path / "journal.json").read_text().endswith("{")  # untouched


def test_journal_with_invalid_field_is_corrupt(tmp_path: Path) -> None:
    (tmp_path / "journal.json").write_text(
        json.dumps({"format_version": 1, "env": "dev", "phases": {"x": {"state": "bogus"}}})
    )
    with pytest.raises(JournalError, match=r"phases\.x\.state"):
        LocalStore("dev", tmp_path).read_journal()


def test_newer_journal_format_is_refused(tmp_path: Path) -> None:
    (tmp_path / "journal.json").write_text(json.dumps({"format_version": JOURNAL_FORMAT + 1, "env": "dev"}))
    with pytest.raises(JournalError, match="newer than this mlplat") as info:
        LocalStore("dev", tmp_path).read_journal()
    assert "upgrade" in (info.value.hint or "")


def test_run_history_is_bounded() -> None:
    journal = Journal(env="dev")
    for index in range(80):
        journal.add_run(
            RunRecord(id=str(index), command="up", started_at=utcnow(), user="u", host="h", pid=1, mlplat_version="0")
        )
    assert len(journal.runs) == 50 and journal.runs[-1].id == "79"


def test_lock_held_names_the_holder(tmp_path: Path) -> None:
    store = LocalStore("dev", tmp_path)
    mine = LockInfo(command="mlplat up --env dev")
    assert store.acquire_lock(mine) is None
    with pytest.raises(LockHeldError) as info:
        store.acquire_lock(LockInfo(command="mlplat down --env dev"))
    message = str(info.value)
    assert mine.user in message and mine.host in message and f"pid {mine.pid}" in message
    assert info.value.exit_code == 3
    store.release_lock(LockInfo(command="other"))  # not the holder: no effect
    assert store.read_lock() == mine
    store.release_lock(mine)
    assert store.read_lock() is None


def test_stale_lock_of_dead_process_is_taken_over(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    stale = LockInfo(command="mlplat up --env dev", pid=int(dead.stdout))
    store = LocalStore("dev", tmp_path)
    (tmp_path / "lock.json").write_text(stale.to_json())
    assert stale.is_stale()
    replaced = store.acquire_lock(LockInfo(command="mlplat up --env dev"))
    assert replaced == stale


def test_lock_from_another_host_is_never_stale(tmp_path: Path) -> None:
    foreign = LockInfo(command="mlplat up --env dev", host="ci-runner-42", pid=999999)
    assert not foreign.is_stale()
    (tmp_path / "lock.json").write_text(foreign.to_json())
    with pytest.raises(LockHeldError, match="ci-runner-42"):
        LocalStore("dev", tmp_path).acquire_lock(LockInfo(command="x"))
    assert LocalStore("dev", tmp_path).break_lock() == foreign
    assert not (tmp_path / "lock.json").exists()
