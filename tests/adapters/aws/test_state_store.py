"""The S3 state store against the real AWS API emulator: journal round trip, conditional-write lock."""

from __future__ import annotations

from pathlib import Path

import pytest

from eksctl_ml.adapters.aws.session import Boto3Aws
from eksctl_ml.adapters.aws.state_store import S3Store
from eksctl_ml.engine.journal import Journal, PhaseState
from eksctl_ml.engine.lock import LockInfo
from eksctl_ml.engine.store import LocalStore
from eksctl_ml.errors import LockHeldError
from eksctl_ml.phases.bootstrap import ensure_state_bucket

BUCKET = "mlplat-state-test"


def store(aws: Boto3Aws, tmp_path: Path, name: str = "cache") -> S3Store:
    return S3Store("dev", aws, BUCKET, "mlplat", LocalStore("dev", tmp_path / name))


def test_journal_lives_in_the_bucket_and_is_cached_locally(aws: Boto3Aws, tmp_path: Path) -> None:
    ensure_state_bucket(aws, BUCKET, {})
    laptop = store(aws, tmp_path, "laptop")
    journal = Journal(env="dev")
    journal.phase("network").state = PhaseState.READY
    laptop.write_journal(journal)
    body = aws.client("s3").get_object(Bucket=BUCKET, Key="mlplat/dev/journal.json")["Body"].read()
    assert b'"network"' in body
    ci_runner = store(aws, tmp_path, "ci")  # a fresh machine sees what the laptop did
    seen = ci_runner.read_journal()
    assert seen is not None and seen.phases["network"].state == PhaseState.READY
    assert ci_runner.offline().read_journal() is not None  # cached for status --offline


def test_lock_by_conditional_write_exactly_one_holder(aws: Boto3Aws, tmp_path: Path) -> None:
    ensure_state_bucket(aws, BUCKET, {})
    first, second = store(aws, tmp_path, "a"), store(aws, tmp_path, "b")
    holder = LockInfo(command="mlplat up --env dev", host="laptop-1", pid=11)
    assert first.acquire_lock(holder) is None
    with pytest.raises(LockHeldError, match="laptop-1") as info:
        second.acquire_lock(LockInfo(command="mlplat down --env dev", host="ci", pid=22))
    assert "s3://mlplat-state-test/mlplat/dev" in str(info.value)
    assert second.read_lock() == holder
    first.release_lock(holder)
    assert second.read_lock() is None
    assert second.acquire_lock(LockInfo(command="mlplat down --env dev")) is None


def test_stale_lock_on_this_host_is_taken_over(aws: Boto3Aws, tmp_path: Path) -> None:
    import subprocess
    import sys

    ensure_state_bucket(aws, BUCKET, {})
    pid = int(
        subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
        ).stdout
    )
    dead = LockInfo(command="mlplat up --env dev", pid=pid)
    s = store(aws, tmp_path)
    aws.client("s3").put_object(Bucket=BUCKET, Key="mlplat/dev/lock.json", Body=dead.to_json().encode())
    assert s.acquire_lock(LockInfo(command="mlplat up --env dev")) == dead


def test_before_bootstrap_the_store_works_locally(aws: Boto3Aws, tmp_path: Path) -> None:
    s = store(aws, tmp_path)
    assert s.read_journal() is None
    mine = LockInfo(command="mlplat up --env dev")
    assert s.acquire_lock(mine) is None
    s.write_journal(Journal(env="dev"))
    assert (tmp_path / "cache" / "journal.json").exists()
    assert (tmp_path / "cache" / "lock.json").exists()
    s.release_lock(mine)
    assert not (tmp_path / "cache" / "lock.json").exists()


def test_break_lock_removes_a_foreign_lock(aws: Boto3Aws, tmp_path: Path) -> None:
    ensure_state_bucket(aws, BUCKET, {})
    s = store(aws, tmp_path)
    foreign = LockInfo(command="mlplat up --env dev", host="gh-runner", pid=5)
    s.acquire_lock(foreign)
    assert s.break_lock() == foreign
    assert s.read_lock() is None
