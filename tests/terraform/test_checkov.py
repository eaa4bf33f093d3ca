"""checkov over the plan JSON (``terraform show -json``) of every stack.

Here: the network, iam and storage stacks, whose plans are the second plans of the emulator lifecycle
(``lifecycle.py``: made after the apply, so every value is known). The cluster and nodegroups stacks need
the patched emulator: tests/emulator/test_stacks_on_emulator.py saves their post-apply second plans and
scans them the same way. No check may fail unless it is listed, with a one-line justification, in
terraform/.checkov-skips.yaml (one file shared by every stack).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.terraform.checkov_scan import (
    SCANNED_HERE,
    SCANNED_ON_EMULATOR,
    SKIP_FILE,
    Scan,
    load_skips,
    unexpected_findings,
)
from tests.terraform.tf import TERRAFORM_ROOT

pytestmark = pytest.mark.slow


def test_skip_file_is_well_formed() -> None:
    skips = load_skips()
    assert skips, f"{SKIP_FILE} is empty"
    for check_id, justification in skips.items():
        assert check_id.startswith(("CKV_", "CKV2_")), check_id
        assert justification.strip() and "\n" not in justification.strip(), f"{check_id}: one line, please"
    assert SKIP_FILE.read_text(encoding="utf-8").count("- id:") == len(skips), "duplicate ids in the skip file"


def test_every_stack_is_scanned() -> None:
    stacks = {p.name for p in (TERRAFORM_ROOT / "stacks").iterdir() if p.is_dir() and any(p.glob("*.tf"))}
    assert stacks == set(SCANNED_HERE) | set(SCANNED_ON_EMULATOR), "a stack that no checkov test scans"


def test_checkov_finds_nothing_outside_the_skip_file(checkov_scan: tuple[Scan, dict[str, Path]]) -> None:
    scan, plans = checkov_scan
    assert scan.error is None, scan.error
    assert set(plans) == set(SCANNED_HERE), f"plans scanned: {sorted(plans)}"
    assert scan.passed > 50, f"checkov passed only {scan.passed} checks: did it scan the plans?"
    unexpected = unexpected_findings(scan, load_skips())
    assert not unexpected, "checkov findings (fix them, or justify a skip in the skip file):\n" + "\n".join(unexpected)
