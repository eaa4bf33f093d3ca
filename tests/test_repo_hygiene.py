"""Secrets, state and generated artifacts must never be committable."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

REQUIRED_PATTERNS = ["*.tfstate", "*.tfstate.*", "*.tfvars", "*.pem", "*.onnx", ".terraform/", ".mlplat/", ".venv/"]

MUST_BE_IGNORED = [
    "terraform/stacks/x/terraform.tfstate",
    "terraform/stacks/x/terraform.tfstate.backup",
    "terraform/stacks/x/.terraform/providers/registry.terraform.io/x",
    "a.tfvars",
    "terraform/stacks/x/prod.tfvars",
    "key.pem",
    "certs/ca.pem",
    "model.onnx",
    "benchmarks/models/densenet/1/model.onnx",
    ".mlplat/dev/journal.json",
    ".mlplat/local/logs/run.log",
    ".venv/bin/python",
]

MUST_NOT_BE_IGNORED = [
    "envs/dev.yaml",
    "src/eksctl_ml/config/models.py",
    "terraform/stacks/x/main.tf",
    "tests/config/bad_envs/duplicate_key.yaml",
]


def _gitignore_lines() -> set[str]:
    return {line.strip() for line in (REPO_ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()}


@pytest.mark.parametrize("pattern", REQUIRED_PATTERNS)
def test_gitignore_has_pattern(pattern: str) -> None:
    assert pattern in _gitignore_lines()


def _check_ignore(paths: list[str]) -> set[str]:
    """The subset of ``paths`` git ignores (``git check-ignore`` exits 1 when none is)."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    if not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    proc = subprocess.run(
        [git, "check-ignore", "--no-index", "--stdin"],
        cwd=REPO_ROOT,
        input="\n".join(paths) + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return set(proc.stdout.split())


def test_git_really_ignores_secrets_state_and_artifacts() -> None:
    ignored = _check_ignore(MUST_BE_IGNORED)
    assert sorted(set(MUST_BE_IGNORED) - ignored) == []


def test_git_does_not_ignore_sources() -> None:
    # guards against an over-broad pattern that would make the checks above pass trivially
    assert _check_ignore(MUST_NOT_BE_IGNORED) == set()
