"""find_existing against the real AWS API emulator: each adoptable type found with its tags, or not at all."""

from __future__ import annotations

import json

import pytest

from eksctl_ml.adapters.aws.existing import ADOPTABLE_TYPES, FoundResource, find_existing
from eksctl_ml.adapters.aws.session import Boto3Aws
from eksctl_ml.errors import AwsError

TAGS = {"mlplat:env": "dev", "mlplat:cluster": "c"}
ASSUME = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]})


def _tag_list(key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in TAGS.items()]


def test_each_adoptable_type_is_found_by_name_with_its_tags(aws: Boto3Aws) -> None:
    aws.client("logs").create_log_group(logGroupName="/aws/eks/c/cluster", tags=TAGS)
    aws.client("iam").create_role(RoleName="c-role", AssumeRolePolicyDocument=ASSUME, Tags=_tag_list())
    key = aws.client("kms").create_key(Tags=_tag_list("TagKey", "TagValue"))["KeyMetadata"]["KeyId"]
    aws.client("kms").create_alias(AliasName="alias/c-data", TargetKeyId=key)
    aws.client("ecr").create_repository(repositoryName="c/models", tags=_tag_list())
    vpc = aws.client("ec2").create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    group = aws.client("ec2").create_security_group(
        GroupName="c-node",
        Description="nodes",
        VpcId=vpc,
        TagSpecifications=[{"ResourceType": "security-group", "Tags": _tag_list()}],
    )["GroupId"]
    aws.client("s3").create_bucket(Bucket="c-models")
    aws.client("s3").put_bucket_tagging(Bucket="c-models", Tagging={"TagSet": _tag_list()})
    aws.client("eks").create_cluster(
        name="c", roleArn="arn:aws:iam::123456789012:role/c-role", resourcesVpcConfig={}, tags=TAGS
    )

    wanted = {
        "aws_cloudwatch_log_group": ("/aws/eks/c/cluster", "/aws/eks/c/cluster"),
        "aws_iam_role": ("c-role", "c-role"),
        "aws_kms_alias": ("alias/c-data", "alias/c-data"),
        "aws_ecr_repository": ("c/models", "c/models"),
        "aws_security_group": ("c-node", group),  # imported by ID, found by name
        "aws_s3_bucket": ("c-models", "c-models"),
        "aws_eks_cluster": ("c", "c"),
    }
    assert set(wanted) == ADOPTABLE_TYPES
    for resource_type, (name, import_id) in wanted.items():
        found = find_existing(aws, resource_type, name)
        assert found == [FoundResource(import_id, TAGS)], resource_type


def test_a_missing_name_is_an_empty_list_for_each_type(aws: Boto3Aws) -> None:
    for resource_type in sorted(ADOPTABLE_TYPES):
        assert find_existing(aws, resource_type, "missing-name") == [], resource_type


def test_an_untagged_bucket_is_found_with_no_tags(aws: Boto3Aws) -> None:
    aws.client("s3").create_bucket(Bucket="bare")
    assert find_existing(aws, "aws_s3_bucket", "bare") == [FoundResource("bare", {})]


def test_unknown_type_and_aws_refusals(aws: Boto3Aws) -> None:
    with pytest.raises(ValueError, match="no lookup for aws_vpc"):
        find_existing(aws, "aws_vpc", "x")
    # botocore refuses an empty role name before sending it: still an AwsError naming type and service
    with pytest.raises(AwsError, match=r"could not look up aws_iam_role '' \(iam\): ParamValidationError"):
        find_existing(aws, "aws_iam_role", "")
