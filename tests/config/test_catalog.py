"""catalog.AWS_REGIONS must not rot: every region in it is one botocore knows. The add-on pins match what
the Terraform modules install."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from eksctl_ml.config import catalog

botocore_session = pytest.importorskip("botocore.session")


@pytest.fixture(scope="module")
def botocore_regions() -> set[str]:
    session = botocore_session.Session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("ec2", partition_name=partition))
    return regions


def test_botocore_endpoint_data_is_usable(botocore_regions: set[str]) -> None:
    assert len(botocore_regions) > 20


def test_every_catalog_region_is_known_to_botocore(botocore_regions: set[str]) -> None:
    unknown = sorted(catalog.AWS_REGIONS - botocore_regions)
    assert unknown == [], f"not AWS regions according to botocore: {unknown}"


@pytest.mark.parametrize("region", ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1"])
def test_big_commercial_regions_are_present(region: str) -> None:
    assert region in catalog.AWS_REGIONS


@pytest.mark.parametrize("region", ["us-gov-west-1", "cn-north-1"])
def test_govcloud_and_china_are_present(region: str) -> None:
    assert region in catalog.AWS_REGIONS


# --- managed add-on pins ---------------------------------------------------------------------------

TERRAFORM = Path(__file__).resolve().parents[2] / "terraform" / "modules"
EKS_BUILD = re.compile(r"^v[0-9]+\.[0-9]+\.[0-9]+-eksbuild\.[0-9]+$")  # as the modules' validations


def _hcl_list(text: str, before: str) -> set[str]:
    """The string list literal that follows ``before`` in a .tf file (one line, as the modules write it)."""
    match = re.search(re.escape(before) + r"\s*\[([^\]]*)\]", text)
    assert match is not None, f"{before!r} not found: the module's addon_versions validation changed shape"
    return set(re.findall(r'"([^"]+)"', match.group(1)))


def test_every_addon_pin_is_an_exact_eks_build() -> None:
    bad = {name: v for name, v in catalog.DEFAULT_ADDON_VERSIONS.items() if not EKS_BUILD.fullmatch(v)}
    assert bad == {}


def test_the_ebs_csi_driver_is_pinned() -> None:
    # Without it, claims of EKS's gp2 class (migrated to ebs.csi.aws.com) and of mlplat's gp3 class stay Pending.
    assert catalog.DEFAULT_ADDON_VERSIONS["aws-ebs-csi-driver"] == "v1.44.0-eksbuild.1"


def test_the_pins_are_exactly_the_addons_the_terraform_modules_install() -> None:
    """The whole map goes to both stacks: modules/eks refuses names it does not know, modules/nodegroups
    requires its own, so a pin nobody installs (or an add-on without a pin) fails here, not at plan time."""
    eks = (TERRAFORM / "eks" / "variables.tf").read_text()
    nodegroups = (TERRAFORM / "nodegroups" / "variables.tf").read_text()
    allowed = _hcl_list(eks, "setsubtract(keys(var.addon_versions),")
    before_nodes = _hcl_list(eks, "setsubtract(")
    after_nodes = _hcl_list(nodegroups, "for name in")
    pins = set(catalog.DEFAULT_ADDON_VERSIONS)
    assert allowed == pins
    assert before_nodes | after_nodes == pins and not before_nodes & after_nodes
    assert "aws-ebs-csi-driver" in after_nodes  # a Deployment: installed after the node groups
