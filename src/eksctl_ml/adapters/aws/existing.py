"""Find an AWS resource by the name Terraform gave it, with its import ID and its tags.

Used to adopt a resource an interrupted ``terraform apply`` created without recording it (see
:mod:`eksctl_ml.phases.orphans`). Only the types mlplat's stacks create under a fixed name are supported;
:data:`ADOPTABLE_TYPES` lists them. Each lookup returns every resource of that name it finds (security
group names are unique per VPC, not per account), an empty list when there is none, and raises AwsError
when AWS refuses the call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from eksctl_ml.adapters.aws.protocol import AwsClients
from eksctl_ml.adapters.aws.session import error_code
from eksctl_ml.adapters.aws.tags import tag_dict
from eksctl_ml.errors import AwsError


@dataclass(frozen=True)
class FoundResource:
    """An existing resource: the ID ``terraform import`` takes for it, and its tags."""

    import_id: str
    tags: Mapping[str, str] = field(default_factory=dict)


def _log_group(aws: AwsClients, name: str) -> list[FoundResource]:
    logs = aws.client("logs")
    groups = logs.describe_log_groups(logGroupNamePrefix=name).get("logGroups", [])
    if not any(group.get("logGroupName") == name for group in groups):
        return []
    tags = logs.list_tags_log_group(logGroupName=name).get("tags", {})
    return [FoundResource(name, tag_dict(tags))]


def _iam_role(aws: AwsClients, name: str) -> list[FoundResource]:
    iam = aws.client("iam")
    try:
        iam.get_role(RoleName=name)
    except Exception as exc:
        if error_code(exc) == "NoSuchEntity":
            return []
        raise
    # get_role's Tags are capped by AWS; list_role_tags returns them all.
    return [FoundResource(name, tag_dict(iam.list_role_tags(RoleName=name).get("Tags")))]


def _kms_alias(aws: AwsClients, name: str) -> list[FoundResource]:
    kms = aws.client("kms")
    for page in kms.get_paginator("list_aliases").paginate():
        for alias in page.get("Aliases", []):
            if alias.get("AliasName") == name:
                key = alias.get("TargetKeyId")
                # An alias has no tags of its own: it is as much ours as the key it points at.
                tags = tag_dict(kms.list_resource_tags(KeyId=key).get("Tags")) if key else {}
                return [FoundResource(name, tags)]
    return []


def _ecr_repository(aws: AwsClients, name: str) -> list[FoundResource]:
    ecr = aws.client("ecr")
    try:
        repos = ecr.describe_repositories(repositoryNames=[name]).get("repositories", [])
    except Exception as exc:
        if error_code(exc) == "RepositoryNotFoundException":
            return []
        raise
    found = []
    for repo in repos:
        tags = tag_dict(ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"]).get("tags"))
        found.append(FoundResource(name, tags))
    return found


def _security_group(aws: AwsClients, name: str) -> list[FoundResource]:
    groups = aws.client("ec2").describe_security_groups(Filters=[{"Name": "group-name", "Values": [name]}])
    return [FoundResource(group["GroupId"], tag_dict(group.get("Tags"))) for group in groups.get("SecurityGroups", [])]


def _s3_bucket(aws: AwsClients, name: str) -> list[FoundResource]:
    s3 = aws.client("s3")
    try:
        s3.head_bucket(Bucket=name)
    except Exception as exc:
        if error_code(exc) in ("404", "NoSuchBucket", "NotFound"):
            return []
        raise
    try:
        tags = tag_dict(s3.get_bucket_tagging(Bucket=name).get("TagSet"))
    except Exception as exc:
        if error_code(exc) != "NoSuchTagSet":
            raise
        tags = {}  # the provider tags a bucket in a second call, which the interruption may have cut off
    return [FoundResource(name, tags)]


def _eks_cluster(aws: AwsClients, name: str) -> list[FoundResource]:
    try:
        cluster = aws.client("eks").describe_cluster(name=name)["cluster"]
    except Exception as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return []
        raise
    return [FoundResource(name, tag_dict(cluster.get("tags")))]


_LOOKUPS: dict[str, tuple[str, Callable[[AwsClients, str], list[FoundResource]]]] = {
    "aws_cloudwatch_log_group": ("logs", _log_group),
    "aws_iam_role": ("iam", _iam_role),
    "aws_kms_alias": ("kms", _kms_alias),
    "aws_ecr_repository": ("ecr", _ecr_repository),
    "aws_security_group": ("ec2", _security_group),
    "aws_s3_bucket": ("s3", _s3_bucket),
    "aws_eks_cluster": ("eks", _eks_cluster),
}

ADOPTABLE_TYPES = frozenset(_LOOKUPS)


def find_existing(aws: AwsClients, resource_type: str, name: str) -> list[FoundResource]:
    """Every ``resource_type`` resource named ``name``; ValueError for a type not in ADOPTABLE_TYPES."""
    if resource_type not in _LOOKUPS:
        raise ValueError(f"no lookup for {resource_type}")
    service, lookup = _LOOKUPS[resource_type]
    try:
        return lookup(aws, name)
    except AwsError:
        raise
    except Exception as exc:
        raise AwsError(
            f"could not look up {resource_type} {name!r} ({service}): {error_code(exc) or type(exc).__name__}",
            detail=str(exc),
            hint="check the credentials' read permissions on that service",
        ) from exc
