"""Running the real Terraform offline in tests: provider mirror, CLI config, isolated data dirs.

Every command gets ``TF_CLI_CONFIG_FILE`` pointing at a CLI config written into a temporary
folder (providers only from the filesystem mirror found at runtime, nothing from the network),
``TF_DATA_DIR`` in a temporary folder, and ``CHECKPOINT_DISABLE`` / ``TF_IN_AUTOMATION`` /
``TF_INPUT=0``. The configuration itself is copied out of the repository first
(:func:`copy_terraform_tree`), so no ``.terraform.lock.hcl`` or state ever lands in the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from eksctl_ml.adapters.terraform.cliconfig import MIRROR_ENV, cli_config_text, find_provider_mirror

REPO = Path(__file__).resolve().parents[2]
TERRAFORM_ROOT = REPO / "terraform"


TIMINGS: list[tuple[str, float]] = []
"""(command, seconds) of every terraform command run by :func:`run_terraform`, in order."""


def terraform_binary() -> str | None:
    """The ``terraform`` on PATH, or None."""
    return shutil.which("terraform")


def provider_mirror() -> Path | None:
    """The offline provider mirror (``$MLPLAT_TF_PROVIDER_MIRROR`` or a well-known root), or None."""
    try:
        return find_provider_mirror()
    except Exception:  # a configured mirror that does not exist: treat as missing
        return None


needs_terraform = pytest.mark.skipif(
    terraform_binary() is None or provider_mirror() is None,
    reason=f"terraform or an offline hashicorp/aws provider mirror is missing (set {MIRROR_ENV})",
)


def copy_terraform_tree(dest: Path) -> Path:
    """Copy the repository's ``terraform/`` (HCL and tests only) under ``dest``; return the copy."""
    target = dest / "terraform"
    shutil.copytree(
        TERRAFORM_ROOT,
        target,
        ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*", "*.tfplan"),
    )
    return target


def terraform_env(workdir: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for terraform commands: offline CLI config, data dir and cache under ``workdir``."""
    mirror = provider_mirror()
    if mirror is None:
        pytest.skip("no offline hashicorp/aws provider mirror")
    workdir.mkdir(parents=True, exist_ok=True)
    cli_config = workdir / "terraform.rc"
    cli_config.write_text(cli_config_text(mirror), encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TF_", "AWS_")) or key == MIRROR_ENV}
    env.update(
        {
            "TF_CLI_CONFIG_FILE": str(cli_config),
            "TF_DATA_DIR": str(workdir / "data"),
            "CHECKPOINT_DISABLE": "1",
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
        }
    )
    env.update(extra or {})
    return env


def run_terraform(
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float = 300,
    ok_codes: Sequence[int] = (0,),
) -> subprocess.CompletedProcess[str]:
    """Run ``terraform ARGS`` in ``cwd``; fail the test with its output unless the exit code is in ``ok_codes``."""
    binary = terraform_binary()
    if binary is None:
        pytest.skip("terraform is not on PATH")
    started = time.monotonic()
    result = subprocess.run(
        [binary, *args, "-no-color"],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    TIMINGS.append((f"{cwd.name}: terraform {args[0]}", time.monotonic() - started))
    if result.returncode not in ok_codes:
        pytest.fail(
            f"terraform {' '.join(args)} exited {result.returncode} in {cwd}\n"
            f"--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-6000:]}",
            pytrace=False,
        )
    return result
