"""`mlplat models validate|push|list` through Typer's CliRunner, JSON output parsed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from eksctl_ml.cli import app
from eksctl_ml.services.deps import Dependencies
from tests.models.conftest import PREFIX, REPO, stored


@pytest.fixture(autouse=True)
def _plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("MLPLAT_ENV", raising=False)


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A copy of examples/model-repository without its generated file."""
    root = tmp_path / "model-repository"
    shutil.copytree(REPO / "examples" / "model-repository", root, ignore=shutil.ignore_patterns("*.onnx"))
    return root


def generate(root: Path) -> None:
    from scripts.make_example_models import main

    assert main(["--repository", str(root)]) == 0


def run(*args: str, deps: Dependencies | None = None) -> Any:
    return CliRunner().invoke(app, ["models", *args], obj=deps)


def test_help_explains_the_commands_with_examples() -> None:
    top = run("--help")
    assert top.exit_code == 0
    for word in ("validate", "push", "list", "mlplat models push examples/model-repository --env dev"):
        assert word in top.output
    push_help = run("push", "--help")
    assert push_help.exit_code == 0
    for word in ("--prune", "--no-reload", "--triton-url", "versioned", "history", "--timeout"):
        assert word in push_help.output
    assert "models" in CliRunner().invoke(app, ["--help"]).output


def test_validate_json_on_the_generated_example(example: Path) -> None:
    generate(example)
    result = run("validate", str(example), "-o", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["ok"] is True and document["problems"] == []
    (model,) = document["models"]
    assert model["name"] == "mlp_onnx" and model["platform"] == "onnxruntime_onnx" and model["versions"] == [1]
    assert model["inputs"] == [{"name": "INPUT0", "data_type": "TYPE_FP32", "dims": [4]}]


def test_validate_names_the_missing_onnx_file_and_exits_2(example: Path) -> None:
    result = run("validate", str(example), "-o", "json")
    assert result.exit_code == 2
    document = json.loads(result.stdout)  # one document, nothing else on stdout
    assert document["ok"] is False
    (problem,) = document["problems"]
    assert problem["path"] == f"{example}/mlp_onnx/1/model.onnx" and problem["severity"] == "error"
    assert problem["fix"].startswith("put the model file at mlp_onnx/1/model.onnx")

    text = run("validate", str(example))
    assert text.exit_code == 2
    assert f"error {example}/mlp_onnx/1/model.onnx: missing: version 1 has no model.onnx" in text.output
    assert "fix: put the model file at mlp_onnx/1/model.onnx" in text.output
    assert "invalid: 1 model(s), 1 error(s), 0 warning(s)" in text.output


def test_validate_text_lists_warnings_without_failing(example: Path) -> None:
    generate(example)
    (example / "notes.txt").write_text("x")
    result = run("validate", str(example))
    assert result.exit_code == 0
    assert f"warning {example}/notes.txt: not a model folder" in result.output
    assert "INPUT0 FP32 [4]" in result.output and "valid: 1 model(s), 0 error(s), 1 warning(s)" in result.output


def test_validate_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    result = run("validate", str(tmp_path / "nope"))
    assert result.exit_code == 2 and "is not a folder" in result.output


def test_push_text_shows_progress_and_the_summary(
    example: Path, model_bucket: Any, deps: Dependencies, env_dir: Path
) -> None:
    generate(example)
    result = run("push", str(example), "--env", "test", "--config-dir", str(env_dir), deps=deps)
    assert result.exit_code == 0, result.output
    assert f"[1/2] uploading {PREFIX}mlp_onnx/1/model.onnx" in result.output
    assert f"pushed 1 model(s) to s3://mlplat-local-models/{PREFIX}" in result.output
    assert "2 uploaded" in result.output and "0 unchanged" in result.output
    assert "note: reload skipped: no Kubernetes API for env test; pass --triton-url URL" in result.output
    assert set(stored(model_bucket)) == {f"{PREFIX}mlp_onnx/1/model.onnx", f"{PREFIX}mlp_onnx/config.pbtxt"}

    listed = run("list", "--env", "test", "--config-dir", str(env_dir), deps=deps)
    assert listed.exit_code == 0
    assert "mlp_onnx" in listed.output and "note: no Kubernetes API for env test" in listed.output


def test_push_json_and_list_json(example: Path, model_bucket: Any, deps: Dependencies, env_dir: Path) -> None:
    generate(example)
    args = ("--env", "test", "--config-dir", str(env_dir), "-o", "json")
    result = run("push", str(example), *args, deps=deps)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["target"]["url"] == f"s3://mlplat-local-models/{PREFIX}"
    assert len(document["push"]["uploaded"]) == 2 and document["ok"] is True and document["reload"] == []

    listed = json.loads(run("list", *args, deps=deps).stdout)
    (row,) = listed["models"]
    assert (row["name"], row["versions"], row["files"], row["triton"]) == ("mlp_onnx", [1], 2, None)


def test_push_of_an_invalid_repository_exits_2_and_uploads_nothing(
    example: Path, model_bucket: Any, deps: Dependencies, env_dir: Path
) -> None:
    result = run("push", str(example), "--env", "test", "--config-dir", str(env_dir), deps=deps)
    assert result.exit_code == 2
    assert "has 1 error(s); nothing was uploaded" in result.output
    assert f"{example}/mlp_onnx/1/model.onnx: missing" in result.output
    assert stored(model_bucket) == {}

    as_json = run("push", str(example), "--env", "test", "--config-dir", str(env_dir), "-o", "json", deps=deps)
    assert as_json.exit_code == 2
    error = json.loads(as_json.stdout)
    assert error["error"] == "RepositoryInvalidError" and error["exit_code"] == 2
    assert error["issues"][0].startswith(f"{example}/mlp_onnx/1/model.onnx: mlp_onnx: missing")
