"""Happy paths of every AWS gate against a real moto server: real requests, real response parsing."""

from __future__ import annotations

import json
import uuid

import pytest

from eksctl_ml.readiness.aws import (
    cluster_active,
    efs_mount_targets_available,
    iam_roles_exist,
    kms_keys_enabled,
    nat_gateways_available,
    nodegroups_active,
    s3_bucket_secure,
)
from tests.readiness.conftest import MotoAws

pytestmark = pytest.mark.slow

TRUST_EKS = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _network(aws: MotoAws, count: int = 2) -> tuple[str, list[str]]:
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=f"us-east-1{'abc'[i]}")["Subnet"][
            "SubnetId"
        ]
        for i in range(count)
    ]
    return vpc, subnets


def _role(aws: MotoAws, name: str, path: str = "/") -> str:
    arn: str = aws.client("iam").create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=TRUST_EKS)["Role"][
        "Arn"
    ]
    return arn


def _cluster(aws: MotoAws) -> str:
    _vpc, subnets = _network(aws)
    name = _unique("mlplat-dev")
    aws.client("eks").create_cluster(
        name=name,
        version="1.31",
        roleArn=_role(aws, _unique("cluster-role")),
        resourcesVpcConfig={"subnetIds": subnets},
    )
    return name


def test_cluster_active_on_moto(moto_aws: MotoAws) -> None:
    name = _cluster(moto_aws)
    result = cluster_active(moto_aws, name, timeout_s=5, interval_s=0.1)
    assert result.ok, result.diagnosis
    assert f"cluster {name}: ACTIVE" in result.summary
    assert "endpoint https://" in result.summary


def test_nodegroups_active_on_moto(moto_aws: MotoAws) -> None:
    name = _cluster(moto_aws)
    _vpc, subnets = _network(moto_aws)
    node_role = _role(moto_aws, _unique("node-role"))
    eks = moto_aws.client("eks")
    for group, size in (("cpu", 2), ("gpu", 1)):
        eks.create_nodegroup(
            clusterName=name,
            nodegroupName=group,
            nodeRole=node_role,
            subnets=subnets,
            scalingConfig={"minSize": size, "maxSize": size, "desiredSize": size},
        )
    result = nodegroups_active(moto_aws, name, ["cpu", "gpu"], timeout_s=5, interval_s=0.1)
    assert result.ok, result.diagnosis
    assert "cpu 2/2 nodes, gpu 1/1 nodes" in result.summary


def test_efs_mount_targets_available_on_moto(moto_aws: MotoAws) -> None:
    _vpc, subnets = _network(moto_aws, 3)
    efs = moto_aws.client("efs")
    fs_id = efs.create_file_system(CreationToken=_unique("mlplat"), Encrypted=True)["FileSystemId"]
    for subnet in subnets:
        efs.create_mount_target(FileSystemId=fs_id, SubnetId=subnet)
    result = efs_mount_targets_available(moto_aws, fs_id, subnets, timeout_s=5, interval_s=0.1)
    assert result.ok, result.diagnosis
    assert result.summary == f"EFS {fs_id}: available, mount targets available in 3/3 subnets"


def test_nat_gateways_available_on_moto(moto_aws: MotoAws) -> None:
    _vpc, subnets = _network(moto_aws)
    ec2 = moto_aws.client("ec2")
    ids = [
        ec2.create_nat_gateway(SubnetId=subnet, AllocationId=ec2.allocate_address(Domain="vpc")["AllocationId"])[
            "NatGateway"
        ]["NatGatewayId"]
        for subnet in subnets
    ]
    result = nat_gateways_available(moto_aws, ids, timeout_s=5, interval_s=0.1)
    assert result.ok, result.diagnosis
    assert result.summary == "NAT gateways available: 2/2"


def test_s3_bucket_secure_on_moto(moto_aws: MotoAws) -> None:
    s3 = moto_aws.client("s3")
    bucket = _unique("mlplat-models")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
        },
    )
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    result = s3_bucket_secure(moto_aws, bucket)
    assert result.ok, result.diagnosis
    assert result.summary == f"bucket {bucket}: versioning Enabled, encryption aws:kms, public access blocked"


def test_iam_roles_exist_on_moto(moto_aws: MotoAws) -> None:
    arns = [_role(moto_aws, _unique("cluster")), _role(moto_aws, _unique("nodes"), path="/mlplat/")]
    result = iam_roles_exist(moto_aws, arns)
    assert result.ok, result.diagnosis
    assert result.summary == "IAM roles exist: 2/2"


def test_kms_keys_enabled_on_moto(moto_aws: MotoAws) -> None:
    kms = moto_aws.client("kms")
    arn = kms.create_key(Description="mlplat test")["KeyMetadata"]["Arn"]
    kms.enable_key_rotation(KeyId=arn)
    result = kms_keys_enabled(moto_aws, [arn])
    assert result.ok, result.diagnosis
    assert result.summary == "KMS keys enabled with rotation: 1/1"


def test_s3_bucket_insecure_on_moto_lists_what_is_missing(moto_aws: MotoAws) -> None:
    s3 = moto_aws.client("s3")
    bucket = _unique("mlplat-plain")
    s3.create_bucket(Bucket=bucket)
    result = s3_bucket_secure(moto_aws, bucket)
    assert not result.ok
    assert "versioning never enabled" in result.summary
    assert "public access block off: BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets" in (
        result.summary
    )


def test_missing_resources_are_not_ready_on_moto(moto_aws: MotoAws) -> None:
    """The real not-found error codes are answers, not AwsErrors."""
    cluster = _cluster(moto_aws)
    checks = {
        "cluster": cluster_active(moto_aws, "no-such-cluster", timeout_s=1, interval_s=0.1),
        "nodegroup": nodegroups_active(moto_aws, cluster, ["no-such-group"], timeout_s=1, interval_s=0.1),
        "efs": efs_mount_targets_available(moto_aws, "fs-0123456789abcdef0", [], timeout_s=1, interval_s=0.1),
        "nat": nat_gateways_available(moto_aws, ["nat-0123456789abcdef0"], timeout_s=1, interval_s=0.1),
        "s3": s3_bucket_secure(moto_aws, _unique("no-such-bucket")),
        "iam": iam_roles_exist(moto_aws, ["arn:aws:iam::123456789012:role/no-such-role"]),
        "kms": kms_keys_enabled(moto_aws, ["arn:aws:kms:us-east-1:123456789012:key/" + str(uuid.uuid4())]),
    }
    for what, result in checks.items():
        assert not result.ok, what
        assert "does not exist" in result.summary + result.diagnosis, (what, result)
