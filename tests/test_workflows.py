"""The GitHub Actions deploy/destroy workflows: valid for actionlint and GitHub's schema, and they
run mlplat the way CI must (non-interactive, JSON events, one env at a time)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((REPO / "ci" / "github-actions").glob("*.yaml"))


def _tool(name: str) -> str:
    found = Path(sys.executable).with_name(name)
    path = str(found) if found.exists() else shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (pip install '.[dev]')")
    return path


def test_both_workflows_exist() -> None:
    assert [p.name for p in WORKFLOWS] == ["deploy-infra.yaml", "destroy-infra.yaml"]


def test_actionlint_passes() -> None:
    proc = subprocess.run([_tool("actionlint"), *map(str, WORKFLOWS)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_github_workflow_schema() -> None:
    proc = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(("name", "command"), [("deploy-infra.yaml", "up"), ("destroy-infra.yaml", "down")])
def test_workflow_runs_mlplat_non_interactively_one_env_at_a_time(name: str, command: str) -> None:
    workflow = yaml.safe_load((REPO / "ci" / "github-actions" / name).read_text())
    assert workflow["concurrency"]["cancel-in-progress"] is False
    assert workflow["permissions"]["id-token"] == "write"
    steps = next(iter(workflow["jobs"].values()))["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert f"{command} --env" in runs and "--yes" in runs and "--output json" in runs
    assert not any("aws-access-key-id" in str(step.get("with", {})) for step in steps)  # OIDC only
