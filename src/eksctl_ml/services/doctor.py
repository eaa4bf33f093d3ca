"""`mlplat doctor`: are the tools and credentials this environment needs in place?"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from eksctl_ml.adapters.aws.protocol import AwsClients
from eksctl_ml.config.loader import Environment
from eksctl_ml.errors import MlplatError

MIN_TERRAFORM = (1, 10)
MIN_HELM = (3, 14)


@dataclass(frozen=True)
class DoctorCheck:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def _version_tuple(text: str) -> tuple[int, ...] | None:
    match = re.search(r"v?(\d+)\.(\d+)(?:\.(\d+))?", text)
    return tuple(int(part) for part in match.groups() if part is not None) if match else None


def _tool(name: str, args: list[str], minimum: tuple[int, int], install: str) -> DoctorCheck:
    path = shutil.which(name)
    if path is None:
        return DoctorCheck(name, False, "not found on PATH", install)
    try:
        proc = subprocess.run([path, *args], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return DoctorCheck(name, False, f"{path} did not run: {exc}", install)
    version = _version_tuple(proc.stdout + proc.stderr)
    if version is None:
        return DoctorCheck(name, False, f"cannot read the version of {path}", install)
    shown = ".".join(map(str, version))
    if version[:2] < minimum:
        return DoctorCheck(
            name, False, f"{shown} at {path} is too old", f"need >= {'.'.join(map(str, minimum))}; {install}"
        )
    return DoctorCheck(name, True, f"{shown} ({path})")


def run_doctor(env: Environment, aws: Callable[[], AwsClients]) -> list[DoctorCheck]:
    """Every check, each with a fix when it fails. Never raises for a failed check."""
    checks = [
        _tool(
            "terraform",
            ["version"],
            MIN_TERRAFORM,
            "install Terraform >= 1.10 (https://developer.hashicorp.com/terraform/install)",
        ),
        _tool(
            "helm",
            ["version", "--short"],
            MIN_HELM,
            "install Helm 3 >= 3.14 (https://helm.sh/docs/intro/install/)",
        ),
        DoctorCheck("region", True, env.config.aws.region),
    ]
    expected = env.config.aws.account_id
    try:
        identity = aws().caller_identity()
    except MlplatError as exc:
        checks.append(DoctorCheck("aws credentials", False, exc.message, exc.hint or ""))
        return checks
    checks.append(DoctorCheck("aws credentials", True, identity.arn))
    if identity.account == expected:
        checks.append(DoctorCheck("aws account", True, f"{identity.account} matches {env.source}"))
    else:
        checks.append(
            DoctorCheck(
                "aws account",
                False,
                f"credentials are for {identity.account}, {env.source} expects {expected}",
                "switch profile (aws.profile / AWS_PROFILE) or fix aws.account_id",
            )
        )
    return checks
