"""EBS volumes the EBS CSI driver makes through mlplat's gp3 StorageClass, as the leftover inventory sees them.

The driver tags its volumes only with what says nothing about the environment (``CSIVolumeName``,
``ebs.csi.aws.com/cluster=true``, the claim's name and namespace). The gp3 class adds ``mlplat:env`` and
``mlplat:cluster`` through ``tagSpecification_N``; here the tags are taken from the chart as rendered by the
real helm, put on volumes of a real moto server, and the inventory must find exactly the env's volume.
"""

from __future__ import annotations

from typing import Any

import pytest

from eksctl_ml.inventory import find_leftovers, render_leftovers
from tests.charts.chartlib import STORAGE, by_kind, render, storage_values
from tests.inventory.conftest import MotoAws

pytestmark = pytest.mark.slow

ENV, CLUSTER = "dev", "mlplat-dev"


def gp3_class_tags(env: str, cluster: str) -> dict[str, str]:
    """The tags the rendered gp3 StorageClass asks the EBS CSI driver to put on every volume."""
    docs = render(STORAGE, storage_values(**{"ebsStorageClass.env": env, "ebsStorageClass.cluster": cluster}))
    (sc,) = (doc for doc in by_kind(docs, "StorageClass") if doc["provisioner"] == "ebs.csi.aws.com")
    specs = [value for key, value in sc["parameters"].items() if key.startswith("tagSpecification_")]
    assert specs, "the gp3 class asks for no volume tags"
    return dict(spec.split("=", 1) for spec in specs)


def driver_tags(pv: str, namespace: str, claim: str) -> dict[str, str]:
    """What the EBS CSI driver (and its provisioner's extra metadata) tags every volume with."""
    return {
        "CSIVolumeName": pv,
        "ebs.csi.aws.com/cluster": "true",
        "kubernetes.io/created-for/pv/name": pv,
        "kubernetes.io/created-for/pvc/name": claim,
        "kubernetes.io/created-for/pvc/namespace": namespace,
    }


def create_volume(aws: MotoAws, tags: dict[str, str]) -> str:
    spec: list[dict[str, Any]] = [{"ResourceType": "volume", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]
    volume = aws.client("ec2").create_volume(
        AvailabilityZone="us-east-1a", Size=8, VolumeType="gp3", Encrypted=True, TagSpecifications=spec
    )
    return str(volume["VolumeId"])


def test_the_gp3_class_tags_volumes_with_the_env_and_cluster() -> None:
    assert gp3_class_tags(ENV, CLUSTER) == {"mlplat:env": ENV, "mlplat:cluster": CLUSTER}


def test_a_gp3_volume_that_outlived_its_claim_is_found_and_attributed(aws: MotoAws) -> None:
    ours = create_volume(
        aws, {**driver_tags("pvc-1111", "observability", "prometheus-db-0"), **gp3_class_tags(ENV, CLUSTER)}
    )
    # Another env's gp3 volume in the same account, and a CSI volume of a class without mlplat tags (EKS's
    # gp2 default, say): the driver's own tags name no cluster, so the inventory cannot claim it.
    create_volume(aws, {**driver_tags("pvc-2222", "observability", "prometheus-db-0"), **gp3_class_tags("prod", "x")})
    create_volume(aws, driver_tags("pvc-3333", "default", "scratch"))

    result = find_leftovers(aws, ENV, CLUSTER)

    volumes = [item for item in result.leftovers if (item.service, item.kind) == ("ec2", "volume")]
    assert [item.id for item in volumes] == [ours]
    assert "PVC observability/prometheus-db-0" in volumes[0].note
    assert f"ec2/volume {ours}" in render_leftovers(result)
