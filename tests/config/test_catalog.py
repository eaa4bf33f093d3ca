"""catalog.AWS_REGIONS must not rot: every region in it is one botocore knows."""

from __future__ import annotations

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
