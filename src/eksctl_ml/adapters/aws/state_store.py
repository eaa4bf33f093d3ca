"""The journal and run lock in the S3 state bucket, beside the Terraform state.

``s3://<bucket>/<prefix>/<env>/journal.json`` and ``.../lock.json``. A CI runner and a laptop therefore
share one view of an environment; ``.mlplat/<env>/`` keeps a local cache that ``status --offline``
reads. The lock is taken with a conditional write (``If-None-Match: *``): of two writers exactly one
succeeds, the other gets 412 and is told who holds the lock.

Until the bootstrap phase has created the bucket, the store works on its local cache alone (there can
be no remote state without the bucket), and switches to the bucket as soon as it exists.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from eksctl_ml.adapters.aws.protocol import AwsClients
from eksctl_ml.adapters.aws.session import error_code
from eksctl_ml.engine.journal import Journal
from eksctl_ml.engine.lock import LockInfo, lock_held
from eksctl_ml.engine.store import LocalStore
from eksctl_ml.errors import AwsError, JournalError

log = logging.getLogger("eksctl_ml.state_store")

_MISSING_BUCKET = {"NoSuchBucket"}
_MISSING_KEY = {"NoSuchKey", "404", "NotFound"}
_PRECONDITION = {"PreconditionFailed", "412", "ConditionalRequestConflict"}


class S3Store:
    """:class:`~eksctl_ml.engine.store.StateStore` in an S3 bucket, with a local cache."""

    def __init__(self, env: str, aws: AwsClients, bucket: str, prefix: str, cache: LocalStore) -> None:
        self.env = env
        self.aws = aws
        self.bucket = bucket
        self.base = f"{prefix.strip('/')}/{env}"
        self.cache = cache
        self.location = f"s3://{bucket}/{self.base}"
        self._lock_remote = False

    @property
    def _s3(self) -> Any:
        return self.aws.client("s3")

    def _get(self, key: str) -> tuple[str, str] | None:
        """(body, etag) of ``key``, or None if it (or the bucket) does not exist."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            obj = self._s3.get_object(Bucket=self.bucket, Key=f"{self.base}/{key}")
        except ClientError as exc:
            if error_code(exc) in _MISSING_KEY | _MISSING_BUCKET:
                return None
            raise AwsError(f"cannot read {self.location}/{key}", detail=str(exc)) from exc
        except BotoCoreError as exc:
            raise AwsError(f"cannot read {self.location}/{key}", detail=str(exc)) from exc
        return obj["Body"].read().decode("utf-8"), str(obj.get("ETag", ""))

    def _put(self, key: str, body: str, **conditions: str) -> bool:
        """Write ``key``; False if the bucket does not exist. Other failures raise (412 included)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._s3.put_object(
                Bucket=self.bucket,
                Key=f"{self.base}/{key}",
                Body=body.encode("utf-8"),
                ContentType="application/json",
                ServerSideEncryption="AES256",
                **conditions,
            )
        except ClientError as exc:
            if error_code(exc) in _MISSING_BUCKET:
                return False
            raise
        except BotoCoreError as exc:
            raise AwsError(f"cannot write {self.location}/{key}", detail=str(exc)) from exc
        return True

    # --- journal -----------------------------------------------------------------------------

    def read_journal(self) -> Journal | None:
        found = self._get("journal.json")
        if found is None:
            return None
        journal = Journal.from_json(found[0], f"{self.location}/journal.json")
        self.cache.write_journal(journal)
        return journal

    def write_journal(self, journal: Journal) -> None:
        from botocore.exceptions import ClientError

        self.cache.write_journal(journal)
        try:
            if not self._put("journal.json", journal.to_json()):
                log.debug("state bucket %s does not exist yet: journal kept in the local cache", self.bucket)
        except ClientError as exc:
            raise AwsError(f"cannot write {self.location}/journal.json", detail=str(exc)) from exc

    # --- lock --------------------------------------------------------------------------------

    def acquire_lock(self, lock: LockInfo) -> LockInfo | None:
        from botocore.exceptions import ClientError

        replaced: LockInfo | None = None
        for _ in range(3):
            try:
                written = self._put("lock.json", lock.to_json(), IfNoneMatch="*")
            except ClientError as exc:
                if error_code(exc) not in _PRECONDITION:
                    raise AwsError(f"cannot take the lock at {self.location}", detail=str(exc)) from exc
                holder = self.read_lock()
                if holder is None:
                    continue
                if not holder.is_stale():
                    raise lock_held(self.env, holder, self.location) from None
                self._delete_lock()
                replaced = holder
                continue
            if not written:  # no bucket yet: nothing remote can exist, lock locally
                self._lock_remote = False
                return self.cache.acquire_lock(lock)
            self._lock_remote = True
            return replaced
        holder = self.read_lock()
        raise lock_held(self.env, holder or lock, self.location)

    def release_lock(self, lock: LockInfo) -> None:
        if not self._lock_remote:
            self.cache.release_lock(lock)
            return
        holder = self.read_lock()
        if holder is not None and holder.id == lock.id:
            self._delete_lock()
        self._lock_remote = False

    def read_lock(self) -> LockInfo | None:
        found = self._get("lock.json")
        if found is None:
            return self.cache.read_lock()
        return LockInfo.from_json(found[0], f"{self.location}/lock.json")

    def break_lock(self) -> LockInfo | None:
        holder = None
        with contextlib.suppress(JournalError):
            holder = self.read_lock()
        self._delete_lock()
        self.cache.break_lock()
        return holder

    def _delete_lock(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._s3.delete_object(Bucket=self.bucket, Key=f"{self.base}/lock.json")
        except ClientError as exc:
            if error_code(exc) not in _MISSING_BUCKET | _MISSING_KEY:
                raise AwsError(f"cannot remove the lock at {self.location}", detail=str(exc)) from exc
        except BotoCoreError as exc:
            raise AwsError(f"cannot remove the lock at {self.location}", detail=str(exc)) from exc

    def offline(self) -> LocalStore:
        """The local cache: what `status --offline` reads without touching AWS."""
        return self.cache
