"""Fixtures for cluster-access tests: clean AWS credential environments and an EKS cluster in moto."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import botocore.exceptions
import pytest

from eksctl_ml.adapters.aws.session import Boto3Aws

_AWS_VARS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "KUBECONFIG",
    "MLPLAT_ENV",
    "MLPLAT_CONFIG_DIR",
    "MLPLAT_STATE_DIR",
    "MLPLAT_AWS_ENDPOINT",
)


@pytest.fixture(autouse=True)
def _isolated_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials, profiles or endpoints leak in from the machine running the tests."""
    for name in _AWS_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")


@dataclass(frozen=True)
class EksCluster:
    name: str
    endpoint: str
    ca_data: str


def create_cluster(aws: Boto3Aws, name: str = "mlplat-local") -> EksCluster:
    """A VPC, two subnets and a cluster role in moto, then an EKS cluster using them."""
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.42.{i}.0/24", AvailabilityZone=f"{aws.region}{zone}")["Subnet"][
            "SubnetId"
        ]
        for i, zone in enumerate("ab")
    ]
    trust = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"eks.amazonaws.com"},'
        '"Action":"sts:AssumeRole"}]}'
    )
    role_name = f"{name}-{uuid.uuid4().hex[:8]}"
    role = aws.client("iam").create_role(RoleName=role_name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    cluster = aws.client("eks").create_cluster(
        name=name, roleArn=role, resourcesVpcConfig={"subnetIds": subnets}, version="1.32"
    )["cluster"]
    return EksCluster(name, cluster["endpoint"], cluster["certificateAuthority"]["data"])


@pytest.fixture(scope="session")
def cluster_aws(moto_endpoint: str) -> Boto3Aws:
    """The boto3 adapter on the shared moto server, *without* the per-test reset of ``aws``.

    Creating a cluster in a fresh moto costs seconds (EC2 and IAM load their defaults), so the access
    tests share one cluster and only read it; ``eks_cluster`` recreates it if another test reset moto.
    """
    return Boto3Aws(
        "us-east-1",
        None,
        moto_endpoint,
        static_credentials={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
    )


@pytest.fixture
def eks_cluster(cluster_aws: Boto3Aws) -> EksCluster:
    """The `local` env's cluster (mlplat-local) in moto (read-only for tests)."""
    name = "mlplat-local"
    try:
        cluster = cluster_aws.client("eks").describe_cluster(name=name)["cluster"]
    except botocore.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        return create_cluster(cluster_aws, name)
    return EksCluster(name, cluster["endpoint"], cluster["certificateAuthority"]["data"])
