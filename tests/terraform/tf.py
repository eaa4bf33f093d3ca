"""Helpers for running the real Terraform CLI offline from the tests in this folder.

Everything here is plain functions; the pytest fixtures that wire them together live in
``conftest.py`` next to this file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
TERRAFORM_ROOT = REPO / "terraform"

MIRROR_ENV = "MLPLAT_TF_PROVIDER_MIRROR"
PROVIDER_PARTS = ("registry.terraform.io", "hashicorp", "aws")

# The configurations this folder's tests own (the eks/nodegroups ones are tested in test_eks*.py).
MODULES = (
    "modules/network",
    "modules/iam",
    "modules/security",
    "modules/security/modules/irsa-role",
    "modules/security/modules/generated-secret",
    "modules/storage",
)
STACKS = ("stacks/network", "stacks/iam", "stacks/storage")
# Modules with a tests/*.tftest.hcl suite (generated-secret holds an ephemeral resource, which
# Terraform 1.11's mock providers cannot serve; the emulator test applies it instead).
MODULES_WITH_TFTESTS = (
    "modules/network",
    "modules/iam",
    "modules/security",
    "modules/security/modules/irsa-role",
    "modules/storage",
)


def _candidate_roots(env: Mapping[str, str]) -> list[Path]:
    """Folders under which a provider mirror is commonly found, most specific first."""
    home = Path(env.get("HOME") or Path.home())
    data_home = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
    roots = [
        home / ".terraform.d" / "plugins",
        data_home / "terraform" / "plugins",
        Path("/usr/local/share/terraform/plugins"),
        Path("/usr/share/terraform/plugins"),
        Path("/opt"),
        Path("/usr/local/share"),
        Path("/usr/local/lib"),
    ]
    roots.extend(Path(p) / "terraform" / "plugins" for p in env.get("XDG_DATA_DIRS", "").split(":") if p)
    return roots


def _holds_aws_provider(mirror: Path) -> bool:
    provider = mirror.joinpath(*PROVIDER_PARTS)
    try:
        return any(provider.glob("*/*/terraform-provider-aws*")) or any(provider.glob("terraform-provider-aws*"))
    except OSError:
        return False


def _search(root: Path, max_depth: int) -> Path | None:
    """The first folder at most ``max_depth`` levels below ``root`` that holds ``registry.terraform.io``
    with the hashicorp/aws provider in it."""
    if not root.is_dir():
        return None
    frontier = [root]
    for _ in range(max_depth + 1):
        next_frontier: list[Path] = []
        for folder in frontier:
            if _holds_aws_provider(folder):
                return folder
            try:
                next_frontier.extend(
                    child for child in sorted(folder.iterdir()) if child.is_dir() and not child.is_symlink()
                )
            except OSError:
                continue
        frontier = next_frontier
    return None


def find_provider_mirror(env: Mapping[str, str] | None = None) -> Path | None:
    """The filesystem mirror holding hashicorp/aws: ``$MLPLAT_TF_PROVIDER_MIRROR`` if set (the folder that
    contains ``registry.terraform.io``, or that folder itself), else the first match below a short list of
    well-known roots. None when there is none."""
    env = os.environ if env is None else env
    configured = env.get(MIRROR_ENV, "").strip()
    if configured:
        path = Path(configured).expanduser()
        if path.name == "registry.terraform.io":
            path = path.parent
        return path if _holds_aws_provider(path) else None
    for root in _candidate_roots(env):
        found = _search(root, max_depth=2)
        if found is not None:
            return found
    return None


def cli_config_text(mirror: Path) -> str:
    """A Terraform CLI config that installs providers from ``mirror`` only, never from the network."""
    return (
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f'    path = "{mirror.as_posix()}"\n'
        "  }\n"
        "  direct {\n"
        '    exclude = ["*/*"]\n'
        "  }\n"
        "}\n"
    )


def base_env(cli_config: Path) -> dict[str, str]:
    """The process environment for terraform: offline CLI config, no stray TF_/AWS_ settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "AWS_"))}
    env.update(
        {
            "TF_CLI_CONFIG_FILE": str(cli_config),
            "CHECKPOINT_DISABLE": "1",
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
        }
    )
    return env


def copy_tree(dest: Path) -> Path:
    """A private copy of the repository's terraform/ (no data dirs, lock files, state or plans)."""
    target = dest / "terraform"
    shutil.copytree(
        TERRAFORM_ROOT,
        target,
        ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*", "*.tfplan", "*.tfvars*"),
    )
    return target


def terraform(
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    data_dir: Path | None = None,
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run ``terraform <args>`` in ``cwd``; never raises on a non-zero exit (callers assert on it)."""
    run_env = dict(env)
    if data_dir is not None:
        run_env["TF_DATA_DIR"] = str(data_dir)
    run_env.update(extra_env or {})
    return subprocess.run(
        ["terraform", *args],
        cwd=cwd,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def describe(result: subprocess.CompletedProcess[str], limit: int = 6000) -> str:
    """The command, its exit code and the tail of its output, for assertion messages."""
    args = " ".join(str(a) for a in result.args)
    out = (result.stdout or "") + (result.stderr or "")
    return f"$ {args}\n(exit {result.returncode})\n{out[-limit:]}"


def iter_statements(policy: Any) -> Iterable[dict[str, Any]]:
    """The statements of an IAM/KMS/S3 policy given as a JSON string or a decoded document."""
    import json

    if isinstance(policy, str):
        if not policy.strip():
            return []
        policy = json.loads(policy)
    if not isinstance(policy, dict):
        return []
    statements = policy.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass
class CheckResult:
    """A ``terraform test`` or ``init``+``validate`` run."""

    steps: list[subprocess.CompletedProcess[str]] = field(default_factory=list)
    failed_runs: list[str] = field(default_factory=list)
    run_count: int = 0

    @property
    def ok(self) -> bool:
        return all(s.returncode == 0 for s in self.steps) and not self.failed_runs
