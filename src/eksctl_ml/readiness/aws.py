"""Readiness gates for AWS resources: each proves a thing is usable and, when it is not, says why.

Every gate returns a :class:`~eksctl_ml.engine.phase.CheckResult`. A resource that does not exist is an
expected answer (a not-ready result naming it); any other botocore failure (access denied, throttling
past the client's retries, no network) is raised as :class:`~eksctl_ml.errors.AwsError` with AWS's own
error code and message in ``detail``.

Gates of resources that take minutes to settle (EKS cluster and node groups, EFS mount targets, NAT
gateways) poll with :func:`~eksctl_ml.readiness.polling.poll_until`; ``clock``, ``sleep`` and
``cancelled`` are passed through so tests drive time and Ctrl-C stops a wait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from eksctl_ml.adapters.aws.protocol import AwsClients
from eksctl_ml.engine.phase import CheckResult
from eksctl_ml.errors import AwsError
from eksctl_ml.readiness.polling import Progress, format_duration, poll_until

__all__ = [
    "cluster_active",
    "efs_mount_targets_available",
    "iam_roles_exist",
    "kms_keys_enabled",
    "nat_gateways_available",
    "nodegroups_active",
    "s3_bucket_secure",
]

_T = TypeVar("_T")
Clock = Callable[[], float]
Sleep = Callable[[float], None]

# ------------------------------------------------------------------------------------------------
# calling AWS


@dataclass(frozen=True)
class _Missing:
    """An expected "not found" answer, with AWS's own words."""

    code: str
    message: str


_ACCESS_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess"}
_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "InvalidClientTokenId"}


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))


def _aws_error(what: str, exc: ClientError) -> AwsError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    message = str(error.get("Message", "")) or str(exc)
    request_id = exc.response.get("ResponseMetadata", {}).get("RequestId")
    detail = f"{code}: {message}" + (f" (request id {request_id})" if request_id else "")
    hint = None
    if code in _ACCESS_DENIED:
        hint = f"the AWS identity in use may not call {exc.operation_name}; grant it, or use a profile that can"
    elif code in _EXPIRED:
        hint = "the AWS credentials are invalid or expired: log in again (e.g. `aws sso login --profile NAME`)"
    return AwsError(f"{what} failed ({exc.operation_name}: {code})", detail=detail, hint=hint)


def _call(
    what: str, method: Callable[..., Any], *, not_found: Collection[str] = (), **params: Any
) -> dict[str, Any] | _Missing:
    """``method(**params)``; a ``not_found`` error code comes back as :class:`_Missing`, others raise."""
    try:
        response: dict[str, Any] = method(**params)
    except ClientError as exc:
        code = _error_code(exc)
        if code in not_found:
            return _Missing(code, str(exc.response.get("Error", {}).get("Message", "")))
        raise _aws_error(what, exc) from exc
    except BotoCoreError as exc:
        raise AwsError(
            f"{what} failed", detail=str(exc), hint="check network access to AWS (or the emulator endpoint)"
        ) from exc
    return response


def _paginate(
    what: str, client: Any, operation: str, key: str, *, not_found: Collection[str] = (), **params: Any
) -> list[dict[str, Any]] | _Missing:
    """Every item under ``key`` across the pages of ``operation``."""
    items: list[dict[str, Any]] = []
    try:
        for page in client.get_paginator(operation).paginate(**params):
            items.extend(page.get(key, []))
    except ClientError as exc:
        code = _error_code(exc)
        if code in not_found:
            return _Missing(code, str(exc.response.get("Error", {}).get("Message", "")))
        raise _aws_error(what, exc) from exc
    except BotoCoreError as exc:
        raise AwsError(
            f"{what} failed", detail=str(exc), hint="check network access to AWS (or the emulator endpoint)"
        ) from exc
    return items


def _found(response: _T | _Missing) -> _T:
    """The response of a call made without ``not_found`` codes (which never answers :class:`_Missing`)."""
    if isinstance(response, _Missing):  # pragma: no cover - unreachable without not_found codes
        raise AwsError(f"unexpected not-found answer: {response.code}", detail=response.message)
    return response


# ------------------------------------------------------------------------------------------------
# explaining EKS health issues

_ISSUE_FIXES: Mapping[str, str] = {
    "AsgInstanceLaunchFailures": (
        "the Auto Scaling group could not launch instances: usually no capacity for the instance type in "
        "these Availability Zones, or an EC2 vCPU quota (GPU: 'Running On-Demand G and VT instances'); "
        "check Service Quotas and the Auto Scaling group's activity history"
    ),
    "InsufficientFreeAddresses": (
        "the subnets have too few free IP addresses: use larger or more subnets, or enable VPC CNI prefix delegation"
    ),
    "Ec2SubnetInvalidConfiguration": (
        "a subnet neither auto-assigns public IPs nor routes through a NAT gateway: route private subnets "
        "through NAT (or enable MapPublicIpOnLaunch on public ones)"
    ),
    "NodeCreationFailure": (
        "instances launched but did not join the cluster: check the node role's policies "
        "(AmazonEKSWorkerNodePolicy, AmazonEKS_CNI_Policy, AmazonEC2ContainerRegistryReadOnly), the cluster "
        "access entries, and the nodes' outbound access to the EKS endpoint"
    ),
    "InstanceLimitExceeded": "an EC2 instance quota was reached: request an increase in Service Quotas",
    "Ec2SubnetNotFound": "a subnet was deleted outside mlplat: run `mlplat up` to recreate the network",
    "Ec2SecurityGroupNotFound": "a security group was deleted outside mlplat: run `mlplat up` again",
    "IamInstanceProfileNotFound": "the node instance profile was deleted outside mlplat: run `mlplat up` again",
    "IamNodeRoleNotFound": "the node IAM role was deleted outside mlplat: run `mlplat up` again",
    "SubnetNotFound": "a cluster subnet was deleted outside mlplat: run `mlplat up` to recreate the network",
    "SecurityGroupNotFound": "the cluster security group was deleted outside mlplat: run `mlplat up` again",
    "IamRoleNotFound": "the cluster IAM role was deleted outside mlplat: run `mlplat up` again",
    "EniLimitReached": "the account's network interface quota was reached: request an increase",
    "KmsKeyDisabled": "the cluster's secrets-encryption KMS key is disabled: enable it",
    "KmsKeyNotFound": "the cluster's secrets-encryption KMS key was deleted or scheduled for deletion",
    "KmsGrantRevoked": "EKS lost its grant on the secrets-encryption KMS key: recreate the cluster's KMS grant",
    "AccessDenied": "EKS may not use a resource it needs: check the trust policy and policies of its IAM role",
}


def _issue_lines(issues: Sequence[Mapping[str, Any]], indent: str = "  ") -> list[str]:
    lines = []
    for issue in issues:
        code = str(issue.get("code", "Unknown"))
        resources = issue.get("resourceIds") or []
        on = f" (resources: {', '.join(map(str, resources))})" if resources else ""
        lines.append(f"{indent}- {code}: {issue.get('message', '')}{on}")
        if code in _ISSUE_FIXES:
            lines.append(f"{indent}  fix: {_ISSUE_FIXES[code]}")
    return lines


def _health_issues(description: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    issues: list[Mapping[str, Any]] = (description.get("health") or {}).get("issues") or []
    return issues


# ------------------------------------------------------------------------------------------------
# EKS cluster

_CLUSTER_PENDING = {"CREATING", "UPDATING", "PENDING"}


def cluster_active(
    aws: AwsClients,
    name: str,
    *,
    timeout_s: float = 1200.0,
    interval_s: float = 10.0,
    progress: Progress | None = None,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
    cancelled: threading.Event | None = None,
) -> CheckResult:
    """The EKS cluster ``name`` is ACTIVE (waiting while it is CREATING or UPDATING)."""
    eks = aws.client("eks")
    last: dict[str, Any] | _Missing = {}

    def probe() -> tuple[bool, str]:
        nonlocal last
        response = _call(
            f"describing EKS cluster {name}", eks.describe_cluster, not_found={"ResourceNotFoundException"}, name=name
        )
        if isinstance(response, _Missing):
            last = response
            return True, f"cluster {name}: does not exist"
        cluster: dict[str, Any] = response["cluster"]
        last = cluster
        status = str(cluster.get("status", "UNKNOWN"))
        return status not in _CLUSTER_PENDING, f"cluster {name}: {status}"

    start = clock()
    settled, _summary = poll_until(
        probe,
        timeout_s=timeout_s,
        interval_s=interval_s,
        progress=progress,
        clock=clock,
        sleep=sleep,
        cancelled=cancelled,
    )
    elapsed = clock() - start

    if isinstance(last, _Missing):
        return CheckResult.not_ready(
            f"cluster {name} does not exist",
            f"EKS has no cluster {name!r} in {aws.region} ({last.message or last.code}); "
            "it was never created or has been deleted: run `mlplat up` to create it",
        )
    status = str(last.get("status", "UNKNOWN"))
    issues = _health_issues(last)
    if not settled:
        lines = [
            f"last status: {status} after {format_duration(elapsed)} (timeout {format_duration(timeout_s)})",
            *(["EKS reports:", *_issue_lines(issues)] if issues else []),
            "an EKS control plane usually takes 10-15 minutes; run `mlplat up` again to keep waiting",
        ]
        return CheckResult.not_ready(
            f"cluster {name} is not ACTIVE after {format_duration(elapsed)} (still {status})", "\n".join(lines)
        )
    if status == "ACTIVE":
        return CheckResult.ready(
            f"cluster {name}: ACTIVE, Kubernetes {last.get('version', '?')}, endpoint {last.get('endpoint', '?')}"
        )
    if issues:
        diagnosis = "\n".join([f"EKS reports cluster {name} as {status}:", *_issue_lines(issues)])
    elif status == "DELETING":
        diagnosis = f"cluster {name} is being deleted; wait for `mlplat down` to finish, then run `mlplat up`"
    else:
        diagnosis = (
            f"EKS reports cluster {name} as {status} without health issues; see the cluster in the EKS console "
            "and CloudTrail for the CreateCluster error, then `mlplat down` and `mlplat up` to recreate it"
        )
    return CheckResult.not_ready(f"cluster {name} is {status}", diagnosis)


# ------------------------------------------------------------------------------------------------
# EKS managed node groups

_NODEGROUP_PENDING = {"CREATING", "UPDATING"}


def nodegroups_active(
    aws: AwsClients,
    cluster: str,
    names: Sequence[str],
    *,
    timeout_s: float = 1800.0,
    interval_s: float = 15.0,
    progress: Progress | None = None,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
    cancelled: threading.Event | None = None,
) -> CheckResult:
    """Every node group in ``names`` of ``cluster`` is ACTIVE.

    Waits while a group is CREATING or UPDATING; stops as soon as one is missing or has failed
    (CREATE_FAILED, DEGRADED...): the gate cannot pass any more, so there is no point in waiting.
    """
    if not names:
        return CheckResult.ready(f"cluster {cluster}: no node groups to check")
    eks = aws.client("eks")
    last: dict[str, dict[str, Any] | _Missing] = {}

    def probe() -> tuple[bool, str]:
        for group in names:
            response = _call(
                f"describing node group {group} of EKS cluster {cluster}",
                eks.describe_nodegroup,
                not_found={"ResourceNotFoundException"},
                clusterName=cluster,
                nodegroupName=group,
            )
            last[group] = response if isinstance(response, _Missing) else response["nodegroup"]
        states = {group: _nodegroup_status(last[group]) for group in names}
        broken = any(s not in _NODEGROUP_PENDING and s != "ACTIVE" for s in states.values())
        pending = any(s in _NODEGROUP_PENDING for s in states.values())
        summary = f"node groups of {cluster}: " + ", ".join(f"{g} {s}" for g, s in states.items())
        return broken or not pending, summary

    start = clock()
    settled, _summary = poll_until(
        probe,
        timeout_s=timeout_s,
        interval_s=interval_s,
        progress=progress,
        clock=clock,
        sleep=sleep,
        cancelled=cancelled,
    )
    elapsed = clock() - start

    states = {group: _nodegroup_status(last[group]) for group in names}
    if all(s == "ACTIVE" for s in states.values()):
        sizes = ", ".join(f"{g} {_nodegroup_size(last[g])} nodes" for g in names)
        return CheckResult.ready(f"node groups of {cluster} ACTIVE: {sizes} (desired/max)")

    lines: list[str] = []
    if not settled:
        lines.append(f"still waiting after {format_duration(elapsed)} (timeout {format_duration(timeout_s)})")
    for group in names:
        description = last[group]
        if isinstance(description, _Missing):
            lines.append(f"node group {group}: does not exist ({description.message or description.code})")
            continue
        status = states[group]
        if status == "ACTIVE":
            lines.append(f"node group {group}: ACTIVE")
            continue
        lines.append(f"node group {group}: {status}")
        issues = _health_issues(description)
        lines.extend(_issue_lines(issues) if issues else ["  - EKS reports no health issues"])
    problems = [f"{g} {s}" for g, s in states.items() if s != "ACTIVE"]
    if not settled:
        headline = f"node groups of {cluster} not ACTIVE after {format_duration(elapsed)}: {', '.join(problems)}"
        lines.append("GPU node groups can take long to get capacity; run `mlplat up` again to keep waiting")
    else:
        headline = f"node groups of {cluster} not ready: {', '.join(problems)}"
    return CheckResult.not_ready(headline, "\n".join(lines))


def _nodegroup_status(description: dict[str, Any] | _Missing) -> str:
    if isinstance(description, _Missing):
        return "MISSING"
    return str(description.get("status", "UNKNOWN"))


def _nodegroup_size(description: dict[str, Any] | _Missing) -> str:
    scaling = {} if isinstance(description, _Missing) else description.get("scalingConfig") or {}
    return f"{scaling.get('desiredSize', '?')}/{scaling.get('maxSize', '?')}"


# ------------------------------------------------------------------------------------------------
# EFS file system and mount targets

_EFS_GONE = {"deleting", "deleted", "error"}


def efs_mount_targets_available(
    aws: AwsClients,
    file_system_id: str,
    expected_subnet_ids: Sequence[str],
    *,
    timeout_s: float = 600.0,
    interval_s: float = 5.0,
    progress: Progress | None = None,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
    cancelled: threading.Event | None = None,
) -> CheckResult:
    """The EFS file system is available and has an available mount target in every expected subnet.

    boto3 has no EFS waiter, so this polls: a subnet without a mount target yet, or one still
    ``creating``, is waited for; a file system or mount target that is deleting or in error is final.
    """
    efs = aws.client("efs")
    fs_state = ""
    missing_fs: _Missing | None = None
    by_subnet: dict[str, dict[str, Any]] = {}

    def probe() -> tuple[bool, str]:
        nonlocal fs_state, missing_fs, by_subnet
        response = _call(
            f"describing EFS file system {file_system_id}",
            efs.describe_file_systems,
            not_found={"FileSystemNotFound"},
            FileSystemId=file_system_id,
        )
        if isinstance(response, _Missing) or not response.get("FileSystems"):
            missing_fs = response if isinstance(response, _Missing) else _Missing("FileSystemNotFound", "")
            return True, f"EFS {file_system_id}: does not exist"
        fs_state = str(response["FileSystems"][0].get("LifeCycleState", "unknown"))
        if fs_state in _EFS_GONE:
            return True, f"EFS {file_system_id}: {fs_state}"
        if fs_state != "available":
            return False, f"EFS {file_system_id}: {fs_state}"
        targets = _paginate(
            f"describing mount targets of EFS file system {file_system_id}",
            efs,
            "describe_mount_targets",
            "MountTargets",
            not_found={"FileSystemNotFound"},
            FileSystemId=file_system_id,
        )
        if isinstance(targets, _Missing):
            missing_fs = targets
            return True, f"EFS {file_system_id}: does not exist"
        by_subnet = {str(t.get("SubnetId")): t for t in targets}
        states = [_mount_target_state(by_subnet, subnet) for subnet in expected_subnet_ids]
        ready = states.count("available")
        summary = f"EFS {file_system_id}: mount targets available in {ready}/{len(expected_subnet_ids)} subnets"
        waiting = _mount_target_problems(by_subnet, expected_subnet_ids)
        if waiting:
            summary += f" ({'; '.join(waiting)})"
        return any(s in _EFS_GONE for s in states) or ready == len(states), summary

    start = clock()
    settled, _summary = poll_until(
        probe,
        timeout_s=timeout_s,
        interval_s=interval_s,
        progress=progress,
        clock=clock,
        sleep=sleep,
        cancelled=cancelled,
    )
    elapsed = clock() - start

    if missing_fs is not None:
        return CheckResult.not_ready(
            f"EFS file system {file_system_id} does not exist",
            f"EFS has no file system {file_system_id} in {aws.region} ({missing_fs.message or missing_fs.code}); "
            "it was deleted outside mlplat or the recorded id is stale: run `mlplat up` to recreate it",
        )
    problems = _mount_target_problems(by_subnet, expected_subnet_ids) if fs_state == "available" else []
    if fs_state == "available" and not problems:
        return CheckResult.ready(
            f"EFS {file_system_id}: available, mount targets available in "
            f"{len(expected_subnet_ids)}/{len(expected_subnet_ids)} subnets"
        )
    lines = [f"file system {file_system_id}: {fs_state or 'unknown'}"]
    missing = [s for s in expected_subnet_ids if s not in by_subnet] if fs_state == "available" else []
    if fs_state == "available":
        if missing:
            lines.append(f"no mount target in subnets: {', '.join(missing)}")
        for subnet in expected_subnet_ids:
            target = by_subnet.get(subnet)
            if target is not None and target.get("LifeCycleState") != "available":
                lines.append(
                    f"mount target {target.get('MountTargetId', '?')} in {subnet}: {target.get('LifeCycleState')}"
                )
    if not settled:
        lines.insert(0, f"still waiting after {format_duration(elapsed)} (timeout {format_duration(timeout_s)})")
    if missing:
        lines.append(
            "pods in a subnet without a mount target cannot mount the volume: check that the storage stack "
            "creates one per private subnet of the network stack"
        )
    verb = "not ready after " + format_duration(elapsed) if not settled else "not ready"
    detail = "; ".join(problems) if problems else f"file system {fs_state}"
    return CheckResult.not_ready(f"EFS {file_system_id} {verb}: {detail}", "\n".join(lines))


def _mount_target_state(by_subnet: Mapping[str, Mapping[str, Any]], subnet: str) -> str:
    target = by_subnet.get(subnet)
    return "missing" if target is None else str(target.get("LifeCycleState", "unknown"))


def _mount_target_problems(by_subnet: Mapping[str, Mapping[str, Any]], subnets: Sequence[str]) -> list[str]:
    grouped: dict[str, list[str]] = {}
    for subnet in subnets:
        state = _mount_target_state(by_subnet, subnet)
        if state != "available":
            grouped.setdefault(state, []).append(subnet)
    return [f"{state}: {', '.join(group)}" for state, group in grouped.items()]


# ------------------------------------------------------------------------------------------------
# NAT gateways

_NAT_FIXES: Mapping[str, str] = {
    "Gateway.NotAttached": "the VPC has no internet gateway attached: the network stack must attach one first",
    "InsufficientFreeAddressesInSubnet": "the public subnet has no free IP address: use a larger subnet",
    "Resource.AlreadyAssociated": "the Elastic IP is already associated with another resource",
    "InvalidAllocationID.NotFound": "the Elastic IP allocation does not exist (released outside mlplat?)",
    "InternalError": "an AWS internal error: delete the failed NAT gateway and run `mlplat up` again",
}


def nat_gateways_available(
    aws: AwsClients,
    nat_gateway_ids: Sequence[str],
    *,
    timeout_s: float = 600.0,
    interval_s: float = 10.0,
    progress: Progress | None = None,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
    cancelled: threading.Event | None = None,
) -> CheckResult:
    """Every NAT gateway is ``available`` (waiting while ``pending``; ``failed`` reports AWS's reason)."""
    if not nat_gateway_ids:
        return CheckResult.ready("no NAT gateways to check")
    ec2 = aws.client("ec2")
    found: dict[str, dict[str, Any]] = {}

    def probe() -> tuple[bool, str]:
        nonlocal found
        gateways = _paginate(
            "describing NAT gateways",
            ec2,
            "describe_nat_gateways",
            "NatGateways",
            Filters=[{"Name": "nat-gateway-id", "Values": list(nat_gateway_ids)}],
        )
        found = {str(g.get("NatGatewayId")): g for g in _found(gateways)}  # a filter never says "not found"
        states = [_nat_state(found, gid) for gid in nat_gateway_ids]
        summary = "NAT gateways: " + ", ".join(f"{gid} {s}" for gid, s in zip(nat_gateway_ids, states, strict=True))
        broken = any(s not in ("pending", "available") for s in states)
        return broken or all(s == "available" for s in states), summary

    start = clock()
    settled, _summary = poll_until(
        probe,
        timeout_s=timeout_s,
        interval_s=interval_s,
        progress=progress,
        clock=clock,
        sleep=sleep,
        cancelled=cancelled,
    )
    elapsed = clock() - start

    states = {gid: _nat_state(found, gid) for gid in nat_gateway_ids}
    if all(s == "available" for s in states.values()):
        return CheckResult.ready(f"NAT gateways available: {len(states)}/{len(states)}")
    lines = []
    if not settled:
        lines.append(f"still waiting after {format_duration(elapsed)} (timeout {format_duration(timeout_s)})")
    for gid, state in states.items():
        if state == "available":
            continue
        gateway = found.get(gid)
        if gateway is None:
            lines.append(f"NAT gateway {gid}: does not exist in {aws.region} (deleted outside mlplat?)")
            continue
        where = f" (subnet {gateway['SubnetId']})" if gateway.get("SubnetId") else ""
        line = f"NAT gateway {gid}{where}: {state}"
        if gateway.get("FailureCode") or gateway.get("FailureMessage"):
            line += f": {gateway.get('FailureCode', '')}: {gateway.get('FailureMessage', '')}"
        lines.append(line)
        if gateway.get("FailureCode") in _NAT_FIXES:
            lines.append(f"  fix: {_NAT_FIXES[gateway['FailureCode']]}")
    problems = ", ".join(f"{gid} {s}" for gid, s in states.items() if s != "available")
    verb = f"not available after {format_duration(elapsed)}" if not settled else "not available"
    return CheckResult.not_ready(f"NAT gateways {verb}: {problems}", "\n".join(lines))


def _nat_state(found: Mapping[str, Mapping[str, Any]], gateway_id: str) -> str:
    gateway = found.get(gateway_id)
    return "missing" if gateway is None else str(gateway.get("State", "unknown"))


# ------------------------------------------------------------------------------------------------
# S3, IAM, KMS: quick checks, no waiting

_PUBLIC_ACCESS_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def s3_bucket_secure(aws: AwsClients, bucket: str) -> CheckResult:
    """Versioning Enabled, default encryption configured, and all four public access block settings on."""
    s3 = aws.client("s3")
    no_bucket = {"NoSuchBucket"}
    versioning = _call(
        f"reading versioning of S3 bucket {bucket}", s3.get_bucket_versioning, not_found=no_bucket, Bucket=bucket
    )
    if isinstance(versioning, _Missing):
        return CheckResult.not_ready(
            f"bucket {bucket} does not exist",
            f"S3 has no bucket {bucket!r} ({versioning.message or versioning.code}): run `mlplat up` to create it",
        )
    encryption = _call(
        f"reading default encryption of S3 bucket {bucket}",
        s3.get_bucket_encryption,
        not_found={"ServerSideEncryptionConfigurationNotFoundError", *no_bucket},
        Bucket=bucket,
    )
    public_access = _call(
        f"reading the public access block of S3 bucket {bucket}",
        s3.get_public_access_block,
        not_found={"NoSuchPublicAccessBlockConfiguration", *no_bucket},
        Bucket=bucket,
    )

    problems: list[tuple[str, str]] = []
    status = versioning.get("Status") or "never enabled"
    if status != "Enabled":
        problems.append((f"versioning {status}", "enable versioning so overwritten or deleted objects can be restored"))
    rules = (
        []
        if isinstance(encryption, _Missing)
        else encryption.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    )
    algorithms = sorted(
        {str(r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm")) for r in rules} - {"None"}
    )
    if not algorithms:
        problems.append(("no default encryption", "configure default encryption (SSE-KMS with the env's key)"))
    config = {} if isinstance(public_access, _Missing) else public_access.get("PublicAccessBlockConfiguration", {})
    off = [flag for flag in _PUBLIC_ACCESS_FLAGS if config.get(flag) is not True]
    if off:
        problems.append(
            (f"public access block off: {', '.join(off)}", "turn on all four S3 Block Public Access settings")
        )
    if not problems:
        return CheckResult.ready(
            f"bucket {bucket}: versioning Enabled, encryption {', '.join(algorithms)}, public access blocked"
        )
    return CheckResult.not_ready(
        f"bucket {bucket} is not secure: {'; '.join(what for what, _ in problems)}",
        "\n".join(f"- {what}: {fix}" for what, fix in problems),
    )


def iam_roles_exist(aws: AwsClients, role_arns: Sequence[str]) -> CheckResult:
    """Every IAM role exists (each item may be a role ARN, with or without a path, or a bare name)."""
    iam = aws.client("iam")
    problems: list[str] = []
    for arn in role_arns:
        name = arn.rsplit("/", 1)[-1]
        response = _call(f"reading IAM role {name}", iam.get_role, not_found={"NoSuchEntity"}, RoleName=name)
        if isinstance(response, _Missing):
            problems.append(f"- {arn}: does not exist")
            continue
        actual = str(response["Role"].get("Arn", ""))
        if arn.startswith("arn:") and actual != arn:
            problems.append(f"- {arn}: a role named {name} exists, but as {actual}")
    if not problems:
        return CheckResult.ready(f"IAM roles exist: {len(role_arns)}/{len(role_arns)}")
    return CheckResult.not_ready(
        f"IAM roles missing: {len(problems)}/{len(role_arns)}",
        "\n".join([*problems, "roles deleted outside mlplat are recreated by `mlplat up`"]),
    )


def kms_keys_enabled(aws: AwsClients, key_arns: Sequence[str]) -> CheckResult:
    """Every KMS key is Enabled and, if it is a symmetric encryption key, has automatic rotation on."""
    kms = aws.client("kms")
    problems: list[str] = []
    for key in key_arns:
        response = _call(f"describing KMS key {key}", kms.describe_key, not_found={"NotFoundException"}, KeyId=key)
        if isinstance(response, _Missing):
            problems.append(f"- {key}: does not exist")
            continue
        metadata = response["KeyMetadata"]
        state = str(metadata.get("KeyState", "Unknown"))
        if state != "Enabled":
            fix = {
                "Disabled": "enable it (aws kms enable-key)",
                "PendingDeletion": "cancel the deletion (aws kms cancel-key-deletion), then enable it",
            }.get(state, "")
            problems.append(f"- {key}: {state}" + (f": {fix}" if fix else ""))
            continue
        if metadata.get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT":
            continue  # AWS rotates only symmetric encryption keys
        rotation = _found(
            _call(f"reading rotation of KMS key {key}", kms.get_key_rotation_status, KeyId=metadata["KeyId"])
        )
        if rotation.get("KeyRotationEnabled") is not True:
            problems.append(f"- {key}: automatic rotation is off: turn it on (aws kms enable-key-rotation)")
    if not problems:
        return CheckResult.ready(f"KMS keys enabled with rotation: {len(key_arns)}/{len(key_arns)}")
    return CheckResult.not_ready(f"KMS keys not ready: {len(problems)}/{len(key_arns)}", "\n".join(problems))
