"""The config models used directly: subnet layout, defaults, add-on pins, GPU counts."""

from __future__ import annotations

import ipaddress
import itertools

import pytest
from pydantic import ValidationError

from eksctl_ml.config import catalog
from eksctl_ml.config.loader import parse_env
from eksctl_ml.config.models import GPU_TAINT, ClusterConfig, NetworkConfig, NodeGroupsConfig
from eksctl_ml.errors import ConfigError


def _assert_layout(net: NetworkConfig) -> None:
    vpc = ipaddress.IPv4Network(net.vpc_cidr)
    private, public = net.subnet_cidrs()
    assert len(private) == len(public) == net.az_count
    nets = [ipaddress.IPv4Network(c, strict=True) for c in private + public]
    assert [n.prefixlen for n in nets] == [net.private_subnet_prefix] * net.az_count + [
        net.public_subnet_prefix
    ] * net.az_count
    for subnet in nets:
        assert subnet.subnet_of(vpc), f"{subnet} is outside {vpc}"
    for a, b in itertools.combinations(nets, 2):
        assert not a.overlaps(b), f"{a} overlaps {b}"


@pytest.mark.parametrize("az_count", range(2, 7))
@pytest.mark.parametrize(
    ("vpc_cidr", "private", "public"),
    [
        ("10.0.0.0/16", 19, 24),  # the defaults
        ("10.42.0.0/16", 20, 22),
        ("172.16.0.0/20", 23, 26),
        ("192.168.0.0/22", 26, 28),
    ],
)
def test_subnets_are_disjoint_and_inside_the_vpc(vpc_cidr: str, private: int, public: int, az_count: int) -> None:
    net = NetworkConfig(
        vpc_cidr=vpc_cidr, az_count=az_count, private_subnet_prefix=private, public_subnet_prefix=public
    )
    _assert_layout(net)


def test_default_network_layout() -> None:
    private, public = NetworkConfig().subnet_cidrs()
    assert private == ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"]
    assert public == ["10.0.96.0/24", "10.0.97.0/24", "10.0.98.0/24"]


def test_exactly_full_vpc_fits() -> None:
    # 2 x (/21 + /21) is exactly a /19: accepted, and the layout uses the whole VPC without overlap.
    net = NetworkConfig(vpc_cidr="10.0.0.0/19", az_count=2, private_subnet_prefix=21, public_subnet_prefix=21)
    _assert_layout(net)
    with pytest.raises(ValidationError, match="need"):
        NetworkConfig(vpc_cidr="10.0.0.0/19", az_count=3, private_subnet_prefix=21, public_subnet_prefix=21)


def test_whatever_the_validator_accepts_is_laid_out_correctly() -> None:
    """Exhaustive over small VPCs: every accepted combination yields a valid layout."""
    accepted = 0
    for vpc_prefix, private, public, az_count in itertools.product(
        range(18, 25), range(17, 29), range(17, 29), range(2, 7)
    ):
        try:
            net = NetworkConfig(
                vpc_cidr=f"10.0.0.0/{vpc_prefix}",
                az_count=az_count,
                private_subnet_prefix=private,
                public_subnet_prefix=public,
            )
        except ValidationError:
            continue
        _assert_layout(net)
        accepted += 1
    assert accepted > 500  # the loop really exercised the layout


def test_gpu_group_defaults_are_tainted_and_labelled() -> None:
    groups = NodeGroupsConfig()
    assert GPU_TAINT in groups.gpu.taints
    assert GPU_TAINT.key == "nvidia.com/gpu"
    assert GPU_TAINT.effect == "NoSchedule"
    assert groups.gpu.labels["mlplat.io/pool"] == "gpu"
    assert all(catalog.instance_family(t) in catalog.GPU_FAMILIES for t in groups.gpu.instance_types)
    # and the CPU pool is the opposite: no taint, no GPU types
    assert groups.cpu.taints == []
    assert groups.cpu.labels["mlplat.io/pool"] == "cpu"
    assert not any(catalog.instance_family(t) in catalog.GPU_FAMILIES for t in groups.cpu.instance_types)


def test_addon_versions_partial_override_keeps_other_pins() -> None:
    cluster = ClusterConfig(name="mlplat-test", addon_versions={"coredns": "v1.11.3-eksbuild.1"})
    assert cluster.addon_versions["coredns"] == "v1.11.3-eksbuild.1"
    others = {k: v for k, v in catalog.DEFAULT_ADDON_VERSIONS.items() if k != "coredns"}
    assert {k: cluster.addon_versions[k] for k in others} == others
    assert set(cluster.addon_versions) == set(catalog.DEFAULT_ADDON_VERSIONS)
    # the catalog default itself is not mutated by the override
    assert catalog.DEFAULT_ADDON_VERSIONS["coredns"] != "v1.11.3-eksbuild.1"


def test_addon_override_from_yaml_keeps_other_pins() -> None:
    config = parse_env(
        'aws: {region: us-west-2, account_id: "123456789012"}\n'
        "cluster:\n  name: mlplat-test\n  addon_versions: {vpc-cni: v1.20.0-eksbuild.1}\n"
        "model_repository: {s3_bucket: mlplat-test-models}\n",
        "inline.yaml",
    )
    assert config.cluster.addon_versions == {**catalog.DEFAULT_ADDON_VERSIONS, "vpc-cni": "v1.20.0-eksbuild.1"}


def test_ebs_csi_driver_pin_is_a_known_addon_and_overridable() -> None:
    config = parse_env(
        'aws: {region: us-west-2, account_id: "123456789012"}\n'
        "cluster:\n  name: mlplat-test\n  addon_versions: {aws-ebs-csi-driver: v1.45.0-eksbuild.1}\n"
        "model_repository: {s3_bucket: mlplat-test-models}\n",
        "inline.yaml",
    )
    assert config.cluster.addon_versions["aws-ebs-csi-driver"] == "v1.45.0-eksbuild.1"
    assert config.cluster.addon_versions["aws-efs-csi-driver"] == catalog.DEFAULT_ADDON_VERSIONS["aws-efs-csi-driver"]
    assert "aws-ebs-csi-driver" in ClusterConfig(name="mlplat-test").addon_versions


@pytest.mark.parametrize(
    ("instance_type", "gpus"),
    [
        ("g5.xlarge", 1),
        ("g5.12xlarge", 4),
        ("g5.48xlarge", 8),
        ("g4dn.12xlarge", 4),
        ("p4d.24xlarge", 8),
        ("p5.48xlarge", 8),
        ("m5.large", None),
        ("g5.huge", None),
        ("garbage", None),
    ],
)
def test_gpus_per_instance(instance_type: str, gpus: int | None) -> None:
    assert catalog.gpus_per_instance(instance_type) == gpus


def test_default_kubernetes_version_is_supported() -> None:
    assert catalog.DEFAULT_KUBERNETES_VERSION in catalog.SUPPORTED_KUBERNETES_VERSIONS
    assert ClusterConfig(name="x").kubernetes_version == catalog.DEFAULT_KUBERNETES_VERSION


def test_parse_env_collects_issues_with_paths() -> None:
    with pytest.raises(ConfigError) as info:
        parse_env(
            'aws: {region: us-west-2, account_id: "123456789012"}\n'
            "cluster: {name: mlplat-test, kubernetes_version: '1.22'}\n"
            "model_repository: {s3_bucket: Models}\n"
            "nodegroups: {}\n",
            "inline.yaml",
        )
    issues = {issue.path: issue for issue in info.value.issues}
    assert set(issues) == {"cluster.kubernetes_version", "model_repository.s3_bucket", "nodegroups"}
    assert issues["nodegroups"].fix == "did you mean 'node_groups'?"
    assert issues["cluster.kubernetes_version"].file == "inline.yaml:2"
    assert issues["model_repository.s3_bucket"].value == "Models"
    assert info.value.exit_code == 2
