"""The README's claims that can rot: the config reference and the test command CI runs."""

from __future__ import annotations

from pathlib import Path

from eksctl_ml.config.reference import markdown

REPO = Path(__file__).resolve().parent.parent


def test_config_reference_matches_the_models() -> None:
    readme = (REPO / "README.md").read_text()
    start = readme.index("<!-- config-reference:start -->\n") + len("<!-- config-reference:start -->\n")
    end = readme.index("<!-- config-reference:end -->")
    assert readme[start:end] == markdown(), "regenerate with: python -m eksctl_ml.config.reference"


def test_ci_runs_the_readme_test_command() -> None:
    readme = (REPO / "README.md").read_text()
    assert "bash scripts/test.sh\n" in readme
    assert "bash scripts/test.sh" in (REPO / ".ci" / "run").read_text()


def test_every_command_in_the_readme_exists() -> None:
    from typer.testing import CliRunner

    from eksctl_ml.cli import app

    for command in (
        "up",
        "down",
        "plan",
        "status",
        "unlock",
        "doctor",
        "config",
        "local",
        "releases",
        "kubeconfig",
        "token",
        "gpu-check",
        "models",
        "smoke",
    ):
        assert f"`mlplat {command}" in (REPO / "README.md").read_text()
        assert CliRunner().invoke(app, [command, "--help"]).exit_code == 0, command
