"""`models push` / `models list` against the real moto emulator: uploads, skips, prune, history, and
nothing uploaded when validation fails."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import pytest

from eksctl_ml.config.loader import Environment
from eksctl_ml.engine.journal import Journal
from eksctl_ml.engine.store import LocalStore
from eksctl_ml.errors import AwsError
from eksctl_ml.services import models
from eksctl_ml.services.deps import Dependencies
from eksctl_ml.serving import push as push_module
from eksctl_ml.serving.push import PushProgress, list_stored_models
from tests.models.conftest import BUCKET, PREFIX, PY_MODEL_CONFIG, REPO, stored, write_model


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """The example repository with its ONNX file generated, plus a python model with two versions."""
    from scripts.make_example_models import write_mlp

    root = tmp_path / "repo"
    shutil.copytree(REPO / "examples" / "model-repository", root, ignore=shutil.ignore_patterns("*.onnx"))
    write_mlp(root)
    write_model(
        root,
        "echo",
        PY_MODEL_CONFIG.format(name="echo"),
        {"1/model.py": b"# v1\n", "2/model.py": b"# v2\n", "2/__pycache__/model.cpython-311.pyc": b"\0"},
    )
    return root


def test_push_uploads_every_model_file_with_its_md5(
    repository: Path, model_bucket: Any, test_env: Environment, deps: Dependencies
) -> None:
    events: list[PushProgress] = []
    report = models.push(test_env, deps, repository, reload=False, progress=events.append)
    expected = {
        f"{PREFIX}echo/1/model.py",
        f"{PREFIX}echo/2/model.py",
        f"{PREFIX}echo/config.pbtxt",
        f"{PREFIX}mlp_onnx/1/model.onnx",
        f"{PREFIX}mlp_onnx/config.pbtxt",
    }
    objects = stored(model_bucket)
    # hidden files (.gitkeep), __pycache__ and the top-level README stay home
    assert set(objects) == expected
    assert objects[f"{PREFIX}mlp_onnx/1/model.onnx"] == (repository / "mlp_onnx/1/model.onnx").read_bytes()
    head = model_bucket.head_object(Bucket=BUCKET, Key=f"{PREFIX}echo/config.pbtxt")
    assert (
        head["Metadata"]["md5"]
        == hashlib.md5((repository / "echo/config.pbtxt").read_bytes(), usedforsecurity=False).hexdigest()
    )
    assert sorted(report.result.uploaded) == sorted(expected) and report.result.unchanged == []
    assert report.result.bytes_uploaded == sum(len(v) for v in objects.values())
    assert (report.target.bucket, report.target.prefix) == (BUCKET, PREFIX)
    assert report.target.source == "config: model_repository.s3_bucket"
    done = [e for e in events if e.action == "upload" and e.transferred == e.size]
    assert sorted(e.key for e in done) == sorted(expected) and {e.total for e in events} == {5}
    assert report.notes == [
        "not in triton.models of env test: echo (a restarted Triton will not load them; add them to the env file)",
        "reload skipped (--no-reload): Triton serves what it had loaded",
    ]


def test_a_second_push_skips_unchanged_files_and_a_change_keeps_history(
    repository: Path, model_bucket: Any, test_env: Environment, deps: Dependencies
) -> None:
    models.push(test_env, deps, repository, reload=False)
    again = models.push(test_env, deps, repository, reload=False)
    assert again.result.uploaded == [] and len(again.result.unchanged) == 5

    (repository / "echo" / "2" / "model.py").write_bytes(b"# v2, fixed\n")
    third = models.push(test_env, deps, repository, reload=False)
    key = f"{PREFIX}echo/2/model.py"
    assert third.result.uploaded == [key] and len(third.result.unchanged) == 4
    assert stored(model_bucket)[key] == b"# v2, fixed\n"
    versions = model_bucket.list_object_versions(Bucket=BUCKET, Prefix=key)["Versions"]
    assert len(versions) == 2  # the versioned bucket kept the overwritten content


def test_same_size_different_content_is_uploaded(
    repository: Path, model_bucket: Any, test_env: Environment, deps: Dependencies
) -> None:
    models.push(test_env, deps, repository, reload=False)
    (repository / "echo" / "1" / "model.py").write_bytes(b"# V1\n")  # same length, other bytes
    report = models.push(test_env, deps, repository, reload=False)
    assert report.result.uploaded == [f"{PREFIX}echo/1/model.py"]


def test_multipart_uploads_are_recognised_as_unchanged_by_their_md5_metadata(
    repository: Path, model_bucket: Any, test_env: Environment, deps: Dependencies, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(push_module, "MULTIPART_THRESHOLD", 1024 * 1024)
    big = repository / "echo" / "2" / "weights.bin"
    big.write_bytes(bytes(range(256)) * (9 * 4096))  # 9 MiB: above boto3's 8 MiB multipart threshold
    events: list[PushProgress] = []
    models.push(test_env, deps, repository, reload=False, progress=events.append)
    key = f"{PREFIX}echo/2/weights.bin"
    etag = model_bucket.head_object(Bucket=BUCKET, Key=key)["ETag"].strip('"')
    assert etag.endswith("-2")  # a multipart ETag is not the content's MD5...
    assert stored(model_bucket)[key] == big.read_bytes()
    partial = [e.transferred for e in events if e.key == key]
    assert partial[0] == 0 and partial[-1] == big.stat().st_size and len(partial) > 2
    again = models.push(test_env, deps, repository, reload=False)
    assert key in again.result.unchanged and again.result.uploaded == []  # ...the md5 metadata is


def test_removed_files_are_kept_unless_prune_and_other_models_are_never_touched(
    repository: Path, model_bucket: Any, test_env: Environment, deps: Dependencies
) -> None:
    model_bucket.put_object(Bucket=BUCKET, Key=f"{PREFIX}someone_else/1/model.onnx", Body=b"theirs")
    model_bucket.put_object(Bucket=BUCKET, Key=f"{PREFIX}.keep", Body=b"")
    models.push(test_env, deps, repository, reload=False)
    shutil.rmtree(repository / "echo" / "1")
    gone = f"{PREFIX}echo/1/model.py"

    kept = models.push(test_env, deps, repository, reload=False)
    assert kept.result.stale == [gone] and kept.result.deleted == []
    assert gone in stored(model_bucket)

    pruned = models.push(test_env, deps, repository, reload=False, prune=True)
    assert pruned.result.deleted == [gone] and pruned.result.stale == []
    objects = stored(model_bucket)
    assert gone not in objects
    assert objects[f"{PREFIX}someone_else/1/model.onnx"] == b"theirs"
    assert f"{PREFIX}.keep" in objects
    history = model_bucket.list_object_versions(Bucket=BUCKET, Prefix=gone)
    assert len(history["Versions"]) == 1 and len(history["DeleteMarkers"]) == 1  # recoverable


def test_a_failing_validation_uploads_nothing(
    repository: Path, model_bucket: Any, test_env: Environment, deps: Dependencies
) -> None:
    (repository / "mlp_onnx" / "1" / "model.onnx").unlink()
    with pytest.raises(models.RepositoryInvalidError) as caught:
        models.push(test_env, deps, repository, reload=False)
    assert stored(model_bucket) == {}
    assert caught.value.exit_code == 2
    assert f"{repository}/mlp_onnx/1/model.onnx: missing: version 1 has no model.onnx" in str(caught.value)
    assert [issue.file for issue in caught.value.issues] == [f"{repository}/mlp_onnx/1/model.onnx"]


def test_the_journal_s_storage_output_names_the_bucket(
    repository: Path, aws: Any, test_env: Environment, deps: Dependencies
) -> None:
    aws.client("s3").create_bucket(Bucket="built-by-terraform")
    journal = Journal(env="test")
    journal.phase("storage").outputs = {"model_bucket_name": "built-by-terraform"}
    LocalStore("test", deps.workdir(test_env)).write_journal(journal)
    report = models.push(test_env, deps, repository, reload=False)
    assert report.target.bucket == "built-by-terraform"
    assert report.target.source == "journal: storage output model_bucket_name"
    assert len(stored(aws.client("s3"), "built-by-terraform")) == 5


def test_a_missing_bucket_is_an_aws_error_with_the_fix(
    repository: Path, aws: Any, test_env: Environment, deps: Dependencies
) -> None:
    with pytest.raises(AwsError) as caught:
        models.push(test_env, deps, repository, reload=False)
    assert "NoSuchBucket" in caught.value.message
    assert caught.value.hint is not None and "mlplat up --env ENV --until storage" in caught.value.hint


def test_an_emulator_env_without_triton_url_skips_the_reload_with_a_note(
    repository: Path, model_bucket: Any, test_env: Environment, deps: Dependencies
) -> None:
    report = models.push(test_env, deps, repository)
    assert report.reloads == [] and report.triton_url == ""
    assert report.notes[-1] == (
        "reload skipped: no Kubernetes API for env test; pass --triton-url URL to reach a Triton directly"
    )
    assert len(report.result.uploaded) == 5  # the upload still happened


def test_list_shows_each_model_s_versions_files_and_size(
    repository: Path, model_bucket: Any, test_env: Environment, deps: Dependencies
) -> None:
    models.push(test_env, deps, repository, reload=False)
    model_bucket.put_object(Bucket=BUCKET, Key=f"{PREFIX}.keep", Body=b"")
    listing = models.list_models(test_env, deps)
    assert [(m.name, m.versions, m.files) for m in listing.stored] == [("echo", (1, 2), 3), ("mlp_onnx", (1,), 2)]
    onnx_size = (repository / "mlp_onnx/1/model.onnx").stat().st_size
    assert listing.stored[1].size == onnx_size + (repository / "mlp_onnx/config.pbtxt").stat().st_size
    assert listing.stored[0].last_modified  # ISO timestamp from S3
    assert listing.triton is None and "no Kubernetes API for env test" in listing.triton_note
    rows = listing.rows()
    assert [row["triton"] for row in rows] == [None, None]
    assert list_stored_models(model_bucket, BUCKET, "nothing/") == []
