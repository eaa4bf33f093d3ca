"""checkov over the plan JSON (``terraform show -json``) of the network, iam and storage stacks.

The plans are the first plans of the emulator lifecycle. No check may fail unless it is listed, with a
one-line justification, in terraform/.checkov-skips.yaml (shared with the eks/nodegroups stacks).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.terraform.checkov_scan import SKIP_FILE, Scan, load_skips

pytestmark = pytest.mark.slow


def test_skip_file_is_well_formed() -> None:
    skips = load_skips()
    assert skips, f"{SKIP_FILE} is empty"
    for check_id, justification in skips.items():
        assert check_id.startswith(("CKV_", "CKV2_")), check_id
        assert justification.strip() and "\n" not in justification.strip(), f"{check_id}: one line, please"
    assert SKIP_FILE.read_text(encoding="utf-8").count("- id:") == len(skips), "duplicate ids in the skip file"


def test_checkov_finds_nothing_outside_the_skip_file(checkov_scan: tuple[Scan, dict[str, Path]]) -> None:
    scan, plans = checkov_scan
    assert scan.error is None, scan.error
    assert set(plans) == {"network", "iam", "storage"}, f"plans scanned: {sorted(plans)}"
    assert scan.passed > 50, f"checkov passed only {scan.passed} checks: did it scan the plans?"
    skips = load_skips()
    unexpected = sorted({str(f) for f in scan.failed if f.check_id not in skips})
    assert not unexpected, "checkov findings (fix them, or justify a skip in the skip file):\n" + "\n".join(unexpected)
