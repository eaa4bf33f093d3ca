"""Run checkov over ``terraform show -json`` plans and compare its failures with terraform/.checkov-skips.yaml."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.terraform.tf import TERRAFORM_ROOT

SKIP_FILE = TERRAFORM_ROOT / ".checkov-skips.yaml"
CHECKOV_ENV = "MLPLAT_CHECKOV"

# Which test scans the post-apply plan of each stack: every folder under terraform/stacks is in one of them.
SCANNED_HERE = ("network", "iam", "storage")  # tests/terraform/test_checkov.py (moto server lifecycle)
SCANNED_ON_EMULATOR = ("cluster", "nodegroups")  # tests/emulator/test_stacks_on_emulator.py (patched emulator)


def find_checkov() -> str | None:
    """``$MLPLAT_CHECKOV`` if it points at an executable, else ``checkov`` on PATH."""
    configured = os.environ.get(CHECKOV_ENV, "").strip()
    if configured:
        return configured if Path(configured).is_file() and os.access(configured, os.X_OK) else None
    return shutil.which("checkov")


def load_skips(path: Path = SKIP_FILE) -> dict[str, str]:
    """check id -> justification, from the shared skip file (a YAML list of {id, justification})."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(entries, list):
        raise ValueError(f"{path} must hold a YAML list of {{id, justification}} mappings")
    skips: dict[str, str] = {}
    for entry in entries:
        if not isinstance(entry, dict) or set(entry) != {"id", "justification"}:
            raise ValueError(f"{path}: every entry needs exactly the keys id and justification, got {entry!r}")
        skips[str(entry["id"])] = str(entry["justification"])
    return skips


@dataclass
class Finding:
    check_id: str
    check_name: str
    resource: str
    file: str

    def __str__(self) -> str:
        return f"{self.check_id} {self.resource} ({self.file}): {self.check_name}"


@dataclass
class Scan:
    returncode: int
    passed: int = 0
    failed: list[Finding] = field(default_factory=list)
    error: str | None = None


def run_checkov(binary: str, plans: list[Path], timeout: float = 420) -> Scan:
    """checkov on the plan JSON files (no network: BC_SKIP_MAPPING, no update check)."""
    env = {
        **os.environ,
        "BC_SKIP_MAPPING": "TRUE",
        "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
        "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
        "LOG_LEVEL": "WARNING",
    }
    args = [binary, "--framework", "terraform_plan", "--output", "json", "--compact"]
    for plan in plans:
        args += ["--file", str(plan)]
    try:
        result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        return Scan(124, error=f"checkov timed out after {timeout}s")
    # checkov exits 1 when a check fails; anything else non-zero is a crash.
    if result.returncode not in (0, 1):
        return Scan(result.returncode, error=(result.stdout + result.stderr)[-4000:])
    try:
        report: Any = json.loads(result.stdout or "{}")
    except json.JSONDecodeError:
        return Scan(result.returncode, error="checkov printed no JSON:\n" + (result.stdout + result.stderr)[-4000:])
    scan = Scan(result.returncode)
    for part in report if isinstance(report, list) else [report]:
        results = part.get("results", {}) if isinstance(part, dict) else {}
        scan.passed += len(results.get("passed_checks", []))
        scan.failed.extend(
            Finding(c["check_id"], c.get("check_name", ""), c.get("resource", ""), c.get("file_path", ""))
            for c in results.get("failed_checks", [])
        )
    return scan


def unexpected_findings(scan: Scan, skips: dict[str, str]) -> list[str]:
    """The failed checks not listed in the skip file, one line each, sorted."""
    return sorted({str(f) for f in scan.failed if f.check_id not in skips})
