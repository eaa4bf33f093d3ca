"""Upload a validated model repository to the env's S3 prefix, and read back what is stored there.

Contract:

* :func:`push_repository` uploads every file of the given model folders to
  ``s3://<bucket>/<prefix><model>/<path>``. An object whose content is already there is skipped: its
  ETag equals the file's MD5, or (SSE-KMS objects, whose ETag is not an MD5, and multipart uploads) its
  ``md5`` metadata does. Single-request uploads send ``Content-MD5`` so S3 rejects a corrupted body;
  larger files go as multipart uploads with per-part checksums. Objects under a pushed model's folder
  that are no longer on disk are deleted only with ``prune`` (the bucket is versioned: a delete leaves
  a delete marker and the history). Other models in the bucket are never touched.
* :func:`list_stored_models` summarises the models under the prefix (versions, files, bytes, newest
  modification).

Hidden files, ``__pycache__`` folders and ``*.pyc`` are never uploaded. boto3 errors become
:class:`~eksctl_ml.errors.AwsError` naming the bucket and key.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from eksctl_ml.errors import AwsError

MD5_METADATA = "md5"
"""User metadata key (``x-amz-meta-md5``) holding the hex MD5 of the uploaded content."""
MULTIPART_THRESHOLD = 64 * 1024 * 1024
_CHUNK = 1024 * 1024
_DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys

Action = Literal["upload", "unchanged", "delete"]


@dataclass(frozen=True)
class LocalFile:
    """A file of a model folder, with the key suffix it gets under the prefix (``mlp/1/model.onnx``)."""

    model: str
    relpath: str
    path: Path
    size: int
    md5: str


@dataclass(frozen=True)
class RemoteObject:
    key: str
    size: int
    etag: str
    last_modified: str
    """ISO 8601."""


@dataclass(frozen=True)
class PushProgress:
    """One step of a push: ``transferred`` grows to ``size`` while a large file uploads."""

    action: Action
    key: str
    size: int
    transferred: int
    index: int
    total: int


ProgressFn = Callable[[PushProgress], None]


@dataclass
class PushResult:
    """What a push did, object by object (keys are full S3 keys)."""

    bucket: str
    prefix: str
    models: list[str]
    uploaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    """Objects of pushed models no longer on disk, kept because prune was off."""
    bytes_uploaded: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "prefix": self.prefix,
            "models": self.models,
            "uploaded": self.uploaded,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "stale": self.stale,
            "bytes_uploaded": self.bytes_uploaded,
        }


@dataclass(frozen=True)
class StoredModel:
    """A model folder in the bucket."""

    name: str
    versions: tuple[int, ...]
    files: int
    size: int
    last_modified: str


def _skipped(part: str) -> bool:
    return part.startswith(".") or part == "__pycache__" or part.endswith(".pyc")


def md5_file(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def repository_files(root: Path, models: Iterable[str]) -> list[LocalFile]:
    """Every file to upload for ``models`` (folders under ``root``), sorted by key."""
    files: list[LocalFile] = []
    for model in models:
        folder = root / model
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder)
            if not path.is_file() or any(_skipped(part) for part in relative.parts):
                continue
            files.append(LocalFile(model, f"{model}/{relative.as_posix()}", path, path.stat().st_size, md5_file(path)))
    return files


def _aws_error(exc: Exception, action: str, bucket: str) -> AwsError:
    from eksctl_ml.adapters.aws.session import error_code

    code = error_code(exc)
    hint = None
    if code == "NoSuchBucket":
        hint = (
            f"the model bucket {bucket} does not exist: build the storage phase (mlplat up --env ENV --until "
            "storage) or correct model_repository.s3_bucket in the env file"
        )
    elif code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
        hint = "the credentials in use may not write this bucket: check aws.profile and the IAM policy"
    return AwsError(f"S3 {action} failed{f' ({code})' if code else ''}", detail=str(exc), hint=hint)


def _boto_errors() -> tuple[type[Exception], ...]:
    import botocore.exceptions

    return (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)


def list_objects(s3: Any, bucket: str, prefix: str) -> list[RemoteObject]:
    """Every current object under ``prefix`` (all pages)."""
    objects: list[RemoteObject] = []
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                modified = item.get("LastModified")
                objects.append(
                    RemoteObject(
                        key=str(item["Key"]),
                        size=int(item.get("Size", 0)),
                        etag=str(item.get("ETag", "")).strip('"'),
                        last_modified=modified.isoformat() if modified is not None else "",
                    )
                )
    except _boto_errors() as exc:
        raise _aws_error(exc, f"list s3://{bucket}/{prefix}", bucket) from exc
    return objects


def _unchanged(s3: Any, bucket: str, local: LocalFile, remote: RemoteObject | None) -> bool:
    if remote is None or remote.size != local.size:
        return False
    if remote.etag == local.md5:
        return True
    # SSE-KMS and multipart ETags are not the content's MD5: the metadata written at upload is.
    try:
        head = s3.head_object(Bucket=bucket, Key=remote.key)
    except _boto_errors() as exc:
        raise _aws_error(exc, f"head s3://{bucket}/{remote.key}", bucket) from exc
    return bool(head.get("Metadata", {}).get(MD5_METADATA) == local.md5)


def _upload(s3: Any, bucket: str, key: str, local: LocalFile, report: Callable[[int], None]) -> None:
    metadata = {MD5_METADATA: local.md5}
    try:
        if local.size < MULTIPART_THRESHOLD:
            content_md5 = base64.b64encode(bytes.fromhex(local.md5)).decode()
            with local.path.open("rb") as body:
                s3.put_object(Bucket=bucket, Key=key, Body=body, ContentMD5=content_md5, Metadata=metadata)
            report(local.size)
        else:
            done = [0]

            def advance(count: int) -> None:
                done[0] += count
                report(done[0])

            s3.upload_file(str(local.path), bucket, key, ExtraArgs={"Metadata": metadata}, Callback=advance)
    except _boto_errors() as exc:
        raise _aws_error(exc, f"upload of {local.path} to s3://{bucket}/{key}", bucket) from exc
    except OSError as exc:
        raise AwsError(f"cannot read {local.path} for upload", detail=str(exc)) from exc


def _batches(keys: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(keys), size):
        yield keys[start : start + size]


def _delete(s3: Any, bucket: str, keys: Sequence[str]) -> None:
    for batch in _batches(keys, _DELETE_BATCH):
        try:
            answer = s3.delete_objects(
                Bucket=bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
            )
        except _boto_errors() as exc:
            raise _aws_error(exc, f"delete in s3://{bucket}", bucket) from exc
        errors = answer.get("Errors") or []
        if errors:
            detail = "; ".join(f"{e.get('Key')}: {e.get('Code')} {e.get('Message', '')}".strip() for e in errors)
            raise AwsError(f"S3 refused to delete {len(errors)} object(s) in {bucket}", detail=detail)


def push_repository(
    s3: Any,
    bucket: str,
    prefix: str,
    root: Path,
    models: Sequence[str],
    *,
    prune: bool = False,
    progress: ProgressFn | None = None,
) -> PushResult:
    """Upload ``models`` (folders of ``root``) under ``prefix``; see the module contract. The caller
    validates the repository first."""
    result = PushResult(bucket=bucket, prefix=prefix, models=list(models))
    local = repository_files(root, models)
    wanted = {prefix + f.relpath for f in local}
    remote: dict[str, RemoteObject] = {}
    for model in models:
        remote.update({obj.key: obj for obj in list_objects(s3, bucket, f"{prefix}{model}/")})
    stale = sorted(key for key in remote if key not in wanted)
    total = len(local) + (len(stale) if prune else 0)
    emit = progress or (lambda _event: None)
    for index, file in enumerate(local, start=1):
        key = prefix + file.relpath
        if _unchanged(s3, bucket, file, remote.get(key)):
            result.unchanged.append(key)
            emit(PushProgress("unchanged", key, file.size, file.size, index, total))
            continue

        def report(done: int, key: str = key, file: LocalFile = file, index: int = index) -> None:
            emit(PushProgress("upload", key, file.size, done, index, total))

        report(0)
        _upload(s3, bucket, key, file, report)
        result.uploaded.append(key)
        result.bytes_uploaded += file.size
    if prune and stale:
        _delete(s3, bucket, stale)
        result.deleted.extend(stale)
        for offset, key in enumerate(stale, start=len(local) + 1):
            emit(PushProgress("delete", key, remote[key].size, remote[key].size, offset, total))
    else:
        result.stale.extend(stale)
    return result


REPOSITORY_MARKER = ".keep"
"""An empty object directly under the prefix: Triton refuses to start on an S3 path with nothing under it."""


def ensure_repository_marker(s3: Any, bucket: str, prefix: str) -> bool:
    """Put ``<prefix>.keep`` unless it exists; True when it was created. AwsError on failure."""
    key = f"{prefix}{REPOSITORY_MARKER}"
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return False
    except _boto_errors() as exc:
        from eksctl_ml.adapters.aws.session import error_code

        if error_code(exc) not in ("404", "NoSuchKey", "NotFound"):
            raise _aws_error(exc, f"read s3://{bucket}/{key}", bucket) from exc
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=b"")
    except _boto_errors() as exc:
        raise _aws_error(exc, f"write s3://{bucket}/{key}", bucket) from exc
    return True


def list_stored_models(s3: Any, bucket: str, prefix: str) -> list[StoredModel]:
    """The model folders under ``prefix``, by name. Keys directly under the prefix are not models."""
    grouped: dict[str, list[RemoteObject]] = {}
    for obj in list_objects(s3, bucket, prefix):
        parts = obj.key[len(prefix) :].split("/")
        if len(parts) >= 2 and parts[0]:
            grouped.setdefault(parts[0], []).append(obj)
    models = []
    for name, objects in sorted(grouped.items()):
        versions = {
            int(part)
            for obj in objects
            if len(parts := obj.key[len(prefix) :].split("/")) >= 3
            and (part := parts[1]).isdigit()
            and not part.startswith("0")
        }
        models.append(
            StoredModel(
                name=name,
                versions=tuple(sorted(versions)),
                files=len(objects),
                size=sum(obj.size for obj in objects),
                last_modified=max(obj.last_modified for obj in objects),
            )
        )
    return models
