"""State transitions of the AWS gates, on Stubber-backed boto3 clients and a fake clock.

The emulator never shows intermediate states (everything is ACTIVE at once), so CREATING, FAILED,
DEGRADED, pending mount targets and failed NAT gateways are scripted here response by response. The
``aws`` fixture asserts at teardown that every scripted response was consumed.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from eksctl_ml.errors import AwsError
from eksctl_ml.readiness.aws import (
    cluster_active,
    efs_mount_targets_available,
    iam_roles_exist,
    kms_keys_enabled,
    nat_gateways_available,
    nodegroups_active,
    s3_bucket_secure,
)
from tests.readiness.doubles import FakeClock, StubbedAws

CLUSTER = "mlplat-dev"
ENDPOINT = "https://ABCDEF0123456789.gr7.us-east-1.eks.amazonaws.com"


def _cluster(status: str, issues: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    cluster: dict[str, Any] = {"name": CLUSTER, "status": status, "version": "1.31"}
    if status == "ACTIVE":
        cluster["endpoint"] = ENDPOINT
    if issues is not None:
        cluster["health"] = {"issues": issues}
    return {"cluster": cluster}


def _expect_clusters(aws: StubbedAws, *statuses: str) -> None:
    for status in statuses:
        aws.stub("eks").add_response("describe_cluster", _cluster(status), {"name": CLUSTER})


# --- EKS cluster --------------------------------------------------------------------------------


def test_cluster_creating_then_active(aws: StubbedAws, clock: FakeClock) -> None:
    _expect_clusters(aws, "CREATING", "CREATING", "CREATING", "ACTIVE")
    messages: list[str] = []
    result = cluster_active(aws, CLUSTER, progress=messages.append, clock=clock, sleep=clock.sleep)
    assert result.ok
    assert result.summary == f"cluster {CLUSTER}: ACTIVE, Kubernetes 1.31, endpoint {ENDPOINT}"
    assert messages == [f"cluster {CLUSTER}: CREATING (0s)"]  # once per change, not once per poll
    assert clock.sleeps == [10, 15, 22.5]


def test_cluster_progress_reports_each_change(aws: StubbedAws, clock: FakeClock) -> None:
    _expect_clusters(aws, "CREATING", "CREATING", "UPDATING", "UPDATING", "ACTIVE")
    messages: list[str] = []
    assert cluster_active(aws, CLUSTER, progress=messages.append, clock=clock, sleep=clock.sleep).ok
    assert messages == [f"cluster {CLUSTER}: CREATING (0s)", f"cluster {CLUSTER}: UPDATING (25s)"]


def test_cluster_failed_lists_health_issues(aws: StubbedAws, clock: FakeClock) -> None:
    issues = [
        {"code": "SubnetNotFound", "message": "The subnet subnet-0aa was not found.", "resourceIds": ["subnet-0aa"]},
        {"code": "IamRoleNotFound", "message": "The role mlplat-dev-cluster was not found.", "resourceIds": []},
    ]
    aws.stub("eks").add_response("describe_cluster", _cluster("CREATING"), {"name": CLUSTER})
    aws.stub("eks").add_response("describe_cluster", _cluster("FAILED", issues), {"name": CLUSTER})
    result = cluster_active(aws, CLUSTER, clock=clock, sleep=clock.sleep)
    assert not result.ok
    assert result.summary == f"cluster {CLUSTER} is FAILED"
    assert "SubnetNotFound: The subnet subnet-0aa was not found. (resources: subnet-0aa)" in result.diagnosis
    assert "IamRoleNotFound: The role mlplat-dev-cluster was not found." in result.diagnosis
    assert "fix: a cluster subnet was deleted outside mlplat" in result.diagnosis


def test_cluster_failed_without_issues_still_says_where_to_look(aws: StubbedAws, clock: FakeClock) -> None:
    _expect_clusters(aws, "FAILED")
    result = cluster_active(aws, CLUSTER, clock=clock, sleep=clock.sleep)
    assert not result.ok
    assert "without health issues" in result.diagnosis
    assert "CloudTrail" in result.diagnosis


def test_cluster_timeout_says_elapsed_and_last_status(aws: StubbedAws, clock: FakeClock) -> None:
    # timeout 60 s, interval 10 s growing by 1.5: probes at 0, 10, 25, 47.5 and at the deadline
    _expect_clusters(aws, *["CREATING"] * 5)
    started = time.perf_counter()
    result = cluster_active(aws, CLUSTER, timeout_s=60, clock=clock, sleep=clock.sleep)
    assert time.perf_counter() - started < 1  # the fake clock: nothing really slept
    assert clock.slept == 60
    assert not result.ok
    assert result.summary == f"cluster {CLUSTER} is not ACTIVE after 1m00s (still CREATING)"
    assert "last status: CREATING after 1m00s (timeout 1m00s)" in result.diagnosis


def test_cluster_that_does_not_exist(aws: StubbedAws, clock: FakeClock) -> None:
    aws.stub("eks").add_client_error(
        "describe_cluster", "ResourceNotFoundException", f"No cluster found for name: {CLUSTER}.", 404
    )
    result = cluster_active(aws, CLUSTER, clock=clock, sleep=clock.sleep)
    assert not result.ok
    assert result.summary == f"cluster {CLUSTER} does not exist"
    assert "us-east-1" in result.diagnosis
    assert clock.sleeps == []


def test_access_denied_is_an_aws_error_with_code_and_message(aws: StubbedAws, clock: FakeClock) -> None:
    aws.stub("eks").add_client_error(
        "describe_cluster", "AccessDeniedException", "User: arn:aws:iam::1:user/x is not authorized", 403
    )
    with pytest.raises(AwsError) as caught:
        cluster_active(aws, CLUSTER, clock=clock, sleep=clock.sleep)
    assert "AccessDeniedException" in str(caught.value)
    assert "AccessDeniedException: User: arn:aws:iam::1:user/x is not authorized" in caught.value.detail
    assert caught.value.hint is not None
    assert "DescribeCluster" in caught.value.hint


def test_botocore_errors_are_aws_errors(clock: FakeClock) -> None:
    class Unreachable(StubbedAws):
        def client(self, service: str) -> Any:
            class Eks:
                def describe_cluster(self, **_params: Any) -> Any:
                    raise EndpointConnectionError(endpoint_url="https://eks.us-east-1.amazonaws.com")

            return Eks()

    with pytest.raises(AwsError, match=f"describing EKS cluster {CLUSTER} failed") as caught:
        cluster_active(Unreachable(), CLUSTER, clock=clock, sleep=clock.sleep)
    assert "Could not connect" in caught.value.detail


def test_cancelled_event_stops_polling(aws: StubbedAws, clock: FakeClock) -> None:
    _expect_clusters(aws, "CREATING")  # exactly one probe: the fixture fails if another was scripted
    cancelled = threading.Event()
    with pytest.raises(KeyboardInterrupt):
        cluster_active(
            aws, CLUSTER, progress=lambda _m: cancelled.set(), clock=clock, sleep=clock.sleep, cancelled=cancelled
        )
    assert len(clock.sleeps) == 1


# --- EKS node groups ----------------------------------------------------------------------------


def _nodegroup(name: str, status: str, size: int = 1, issues: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    group: dict[str, Any] = {
        "nodegroupName": name,
        "clusterName": CLUSTER,
        "status": status,
        "scalingConfig": {"minSize": size, "maxSize": size, "desiredSize": size},
    }
    if issues is not None:
        group["health"] = {"issues": issues}
    return {"nodegroup": group}


def _expect_nodegroup(aws: StubbedAws, name: str, status: str, size: int = 1, **kw: Any) -> None:
    aws.stub("eks").add_response(
        "describe_nodegroup", _nodegroup(name, status, size, **kw), {"clusterName": CLUSTER, "nodegroupName": name}
    )


def test_nodegroups_creating_then_all_active(aws: StubbedAws, clock: FakeClock) -> None:
    for cpu, gpu in (("ACTIVE", "CREATING"), ("ACTIVE", "CREATING"), ("ACTIVE", "ACTIVE")):
        _expect_nodegroup(aws, "cpu", cpu, 2)
        _expect_nodegroup(aws, "gpu", gpu, 1)
    messages: list[str] = []
    result = nodegroups_active(aws, CLUSTER, ["cpu", "gpu"], progress=messages.append, clock=clock, sleep=clock.sleep)
    assert result.ok
    assert result.summary == f"node groups of {CLUSTER} ACTIVE: cpu 2/2 nodes, gpu 1/1 nodes (desired/max)"
    assert messages == [f"node groups of {CLUSTER}: cpu ACTIVE, gpu CREATING (0s)"]


def test_nodegroups_mixed_active_and_degraded_lists_issues(aws: StubbedAws, clock: FakeClock) -> None:
    _expect_nodegroup(aws, "cpu", "ACTIVE", 2)
    _expect_nodegroup(aws, "gpu", "CREATING")
    _expect_nodegroup(aws, "cpu", "ACTIVE", 2)
    _expect_nodegroup(
        aws,
        "gpu",
        "DEGRADED",
        issues=[
            {
                "code": "AsgInstanceLaunchFailures",
                "message": "Could not launch On-Demand Instances. InsufficientInstanceCapacity",
                "resourceIds": ["eks-gpu-12c4"],
            }
        ],
    )
    result = nodegroups_active(aws, CLUSTER, ["cpu", "gpu"], clock=clock, sleep=clock.sleep)
    assert not result.ok
    assert result.summary == f"node groups of {CLUSTER} not ready: gpu DEGRADED"
    lines = result.diagnosis.splitlines()
    assert "node group cpu: ACTIVE" in lines
    assert "node group gpu: DEGRADED" in lines
    assert (
        "  - AsgInstanceLaunchFailures: Could not launch On-Demand Instances. InsufficientInstanceCapacity"
        " (resources: eks-gpu-12c4)" in lines
    )
    assert "vCPU quota" in result.diagnosis


def test_nodegroup_create_failed_stops_waiting_for_the_others(aws: StubbedAws, clock: FakeClock) -> None:
    _expect_nodegroup(aws, "cpu", "CREATING")
    _expect_nodegroup(
        aws,
        "gpu",
        "CREATE_FAILED",
        issues=[
            {"code": "InsufficientFreeAddresses", "message": "subnet-0bb has no free addresses", "resourceIds": []},
            {
                "code": "Ec2SubnetInvalidConfiguration",
                "message": "subnet-0cc does not assign public IPs",
                "resourceIds": ["subnet-0cc"],
            },
        ],
    )
    result = nodegroups_active(aws, CLUSTER, ["cpu", "gpu"], clock=clock, sleep=clock.sleep)
    assert not result.ok
    assert clock.sleeps == []  # one failed group: the gate cannot pass, so it does not wait for cpu
    assert result.summary == f"node groups of {CLUSTER} not ready: cpu CREATING, gpu CREATE_FAILED"
    assert "InsufficientFreeAddresses: subnet-0bb has no free addresses" in result.diagnosis
    assert "Ec2SubnetInvalidConfiguration: subnet-0cc does not assign public IPs (resources: subnet-0cc)" in (
        result.diagnosis
    )


def test_nodegroup_timeout_and_missing_group(aws: StubbedAws, clock: FakeClock) -> None:
    for _ in range(2):
        _expect_nodegroup(aws, "gpu", "CREATING")
    result = nodegroups_active(aws, CLUSTER, ["gpu"], timeout_s=10, clock=clock, sleep=clock.sleep)
    assert not result.ok
    assert result.summary == f"node groups of {CLUSTER} not ACTIVE after 10s: gpu CREATING"
    assert "still waiting after 10s (timeout 10s)" in result.diagnosis

    aws.stub("eks").add_client_error("describe_nodegroup", "ResourceNotFoundException", "No node group found", 404)
    missing = nodegroups_active(aws, CLUSTER, ["gpu"], clock=clock, sleep=clock.sleep)
    assert not missing.ok
    assert "node group gpu: does not exist (No node group found)" in missing.diagnosis


def test_no_nodegroups_is_trivially_ready(aws: StubbedAws) -> None:
    assert nodegroups_active(aws, CLUSTER, []).ok


# --- EFS ----------------------------------------------------------------------------------------

FS = "fs-0123456789abcdef0"
A, B, C = "subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2", "subnet-0ccccccccccccccc3"
SUBNETS = [A, B, C]


def _expect_fs(aws: StubbedAws, state: str) -> None:
    aws.stub("efs").add_response(
        "describe_file_systems",
        {
            "FileSystems": [
                {
                    "OwnerId": "123456789012",
                    "CreationToken": "mlplat",
                    "FileSystemId": FS,
                    "CreationTime": "2025-01-01T00:00:00Z",
                    "LifeCycleState": state,
                    "NumberOfMountTargets": 0,
                    "SizeInBytes": {"Value": 0},
                    "PerformanceMode": "generalPurpose",
                    "Tags": [],
                }
            ]
        },
        {"FileSystemId": FS},
    )


def _expect_mount_targets(aws: StubbedAws, states: dict[str, str]) -> None:
    targets = [
        {
            "MountTargetId": f"fsmt-000000000{subnet[-1]}",
            "FileSystemId": FS,
            "SubnetId": subnet,
            "LifeCycleState": state,
        }
        for subnet, state in states.items()
    ]
    aws.stub("efs").add_response("describe_mount_targets", {"MountTargets": targets}, {"FileSystemId": FS})


def test_efs_waits_for_a_missing_mount_target_then_is_ready(aws: StubbedAws, clock: FakeClock) -> None:
    _expect_fs(aws, "creating")
    _expect_fs(aws, "available")
    _expect_mount_targets(aws, {A: "available", C: "creating"})
    _expect_fs(aws, "available")
    _expect_mount_targets(aws, {A: "available", B: "creating", C: "available"})
    _expect_fs(aws, "available")
    _expect_mount_targets(aws, {A: "available", B: "available", C: "available"})
    messages: list[str] = []
    result = efs_mount_targets_available(aws, FS, SUBNETS, progress=messages.append, clock=clock, sleep=clock.sleep)
    assert result.ok, result.diagnosis
    assert result.summary == f"EFS {FS}: available, mount targets available in 3/3 subnets"
    assert messages == [
        f"EFS {FS}: creating (0s)",
        f"EFS {FS}: mount targets available in 1/3 subnets (missing: {B}; creating: {C}) (5s)",
        f"EFS {FS}: mount targets available in 2/3 subnets (creating: {B}) (12s)",
    ]


def test_efs_timeout_lists_missing_subnets_and_other_states(aws: StubbedAws, clock: FakeClock) -> None:
    for _ in range(2):
        _expect_fs(aws, "available")
        _expect_mount_targets(aws, {A: "available", C: "creating"})
    result = efs_mount_targets_available(aws, FS, SUBNETS, timeout_s=5, clock=clock, sleep=clock.sleep)
    assert not result.ok
    assert result.summary == f"EFS {FS} not ready after 5s: missing: {B}; creating: {C}"
    lines = result.diagnosis.splitlines()
    assert lines[0] == "still waiting after 5s (timeout 5s)"
    assert f"no mount target in subnets: {B}" in lines
    assert f"mount target fsmt-0000000003 in {C}: creating" in lines


def test_efs_mount_target_in_error_fails_at_once(aws: StubbedAws, clock: FakeClock) -> None:
    _expect_fs(aws, "available")
    _expect_mount_targets(aws, {A: "available", B: "error", C: "creating"})
    result = efs_mount_targets_available(aws, FS, SUBNETS, clock=clock, sleep=clock.sleep)
    assert not result.ok
    assert clock.sleeps == []
    assert f"mount target fsmt-0000000002 in {B}: error" in result.diagnosis


def test_efs_file_system_still_creating_at_the_deadline(aws: StubbedAws, clock: FakeClock) -> None:
    for _ in range(2):
        _expect_fs(aws, "creating")
    result = efs_mount_targets_available(aws, FS, SUBNETS, timeout_s=5, clock=clock, sleep=clock.sleep)
    assert not result.ok
    assert result.summary == f"EFS {FS} not ready after 5s: file system creating"
    assert result.diagnosis.splitlines() == ["still waiting after 5s (timeout 5s)", f"file system {FS}: creating"]


def test_efs_file_system_that_does_not_exist(aws: StubbedAws, clock: FakeClock) -> None:
    aws.stub("efs").add_client_error("describe_file_systems", "FileSystemNotFound", "File system not found", 404)
    result = efs_mount_targets_available(aws, FS, SUBNETS, clock=clock, sleep=clock.sleep)
    assert not result.ok
    assert result.summary == f"EFS file system {FS} does not exist"


# --- NAT gateways -------------------------------------------------------------------------------


def _expect_nats(aws: StubbedAws, *gateways: dict[str, Any]) -> None:
    aws.stub("ec2").add_response(
        "describe_nat_gateways",
        {"NatGateways": list(gateways)},
        {"Filters": [{"Name": "nat-gateway-id", "Values": ["nat-1", "nat-2"]}]},
    )


def test_nat_pending_then_failed_reports_failure_message(aws: StubbedAws, clock: FakeClock) -> None:
    _expect_nats(aws, {"NatGatewayId": "nat-1", "State": "pending"}, {"NatGatewayId": "nat-2", "State": "pending"})
    _expect_nats(
        aws,
        {"NatGatewayId": "nat-1", "State": "available"},
        {
            "NatGatewayId": "nat-2",
            "State": "failed",
            "SubnetId": "subnet-pub-b",
            "FailureCode": "Gateway.NotAttached",
            "FailureMessage": "Network vpc-0abc has no Internet gateway attached",
        },
    )
    messages: list[str] = []
    result = nat_gateways_available(aws, ["nat-1", "nat-2"], progress=messages.append, clock=clock, sleep=clock.sleep)
    assert not result.ok
    assert result.summary == "NAT gateways not available: nat-2 failed"
    assert (
        "NAT gateway nat-2 (subnet subnet-pub-b): failed: Gateway.NotAttached: "
        "Network vpc-0abc has no Internet gateway attached" in result.diagnosis
    )
    assert "internet gateway" in result.diagnosis
    assert messages == ["NAT gateways: nat-1 pending, nat-2 pending (0s)"]


def test_nat_pending_then_available(aws: StubbedAws, clock: FakeClock) -> None:
    _expect_nats(aws, {"NatGatewayId": "nat-1", "State": "available"}, {"NatGatewayId": "nat-2", "State": "pending"})
    _expect_nats(aws, {"NatGatewayId": "nat-1", "State": "available"}, {"NatGatewayId": "nat-2", "State": "available"})
    result = nat_gateways_available(aws, ["nat-1", "nat-2"], clock=clock, sleep=clock.sleep)
    assert result.ok
    assert result.summary == "NAT gateways available: 2/2"


def test_nat_gateway_that_does_not_exist(aws: StubbedAws, clock: FakeClock) -> None:
    _expect_nats(aws, {"NatGatewayId": "nat-1", "State": "available"})
    result = nat_gateways_available(aws, ["nat-1", "nat-2"], clock=clock, sleep=clock.sleep)
    assert not result.ok
    assert "NAT gateway nat-2: does not exist in us-east-1" in result.diagnosis


# --- S3, IAM, KMS -------------------------------------------------------------------------------

BUCKET = "mlplat-dev-models"


def test_s3_bucket_missing_every_protection(aws: StubbedAws) -> None:
    s3 = aws.stub("s3")
    s3.add_response("get_bucket_versioning", {"Status": "Suspended"}, {"Bucket": BUCKET})
    s3.add_client_error("get_bucket_encryption", "ServerSideEncryptionConfigurationNotFoundError", "not found", 404)
    s3.add_response(
        "get_public_access_block",
        {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "IgnorePublicAcls": False,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": False,
            }
        },
        {"Bucket": BUCKET},
    )
    result = s3_bucket_secure(aws, BUCKET)
    assert not result.ok
    assert result.summary == (
        f"bucket {BUCKET} is not secure: versioning Suspended; no default encryption; "
        "public access block off: IgnorePublicAcls, RestrictPublicBuckets"
    )
    assert len(result.diagnosis.splitlines()) == 3


def test_s3_bucket_secure_and_missing(aws: StubbedAws) -> None:
    s3 = aws.stub("s3")
    s3.add_response("get_bucket_versioning", {"Status": "Enabled"}, {"Bucket": BUCKET})
    s3.add_response(
        "get_bucket_encryption",
        {
            "ServerSideEncryptionConfiguration": {
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "k"}}]
            }
        },
        {"Bucket": BUCKET},
    )
    flags = dict.fromkeys(("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True)
    s3.add_response("get_public_access_block", {"PublicAccessBlockConfiguration": flags}, {"Bucket": BUCKET})
    assert s3_bucket_secure(aws, BUCKET).ok

    s3.add_client_error("get_bucket_versioning", "NoSuchBucket", "The specified bucket does not exist", 404)
    missing = s3_bucket_secure(aws, BUCKET)
    assert not missing.ok
    assert missing.summary == f"bucket {BUCKET} does not exist"


def test_iam_roles_missing_or_elsewhere(aws: StubbedAws) -> None:
    iam = aws.stub("iam")
    iam.add_response(
        "get_role",
        {
            "Role": {
                "Path": "/",
                "RoleName": "nodes",
                "RoleId": "AROAEXAMPLE0000000001",
                "Arn": "arn:aws:iam::123456789012:role/nodes",
                "CreateDate": "2025-01-01T00:00:00Z",
            }
        },
        {"RoleName": "nodes"},
    )
    iam.add_client_error("get_role", "NoSuchEntity", "The role with name cluster cannot be found.", 404)
    result = iam_roles_exist(
        aws, ["arn:aws:iam::123456789012:role/mlplat/nodes", "arn:aws:iam::123456789012:role/cluster"]
    )
    assert not result.ok
    assert result.summary == "IAM roles missing: 2/2"
    assert "a role named nodes exists, but as arn:aws:iam::123456789012:role/nodes" in result.diagnosis
    assert "arn:aws:iam::123456789012:role/cluster: does not exist" in result.diagnosis


def test_iam_access_denied_is_an_aws_error(aws: StubbedAws) -> None:
    aws.stub("iam").add_client_error("get_role", "AccessDenied", "not authorized to perform iam:GetRole", 403)
    with pytest.raises(AwsError) as caught:
        iam_roles_exist(aws, ["arn:aws:iam::123456789012:role/cluster"])
    assert "AccessDenied: not authorized to perform iam:GetRole" in caught.value.detail


def _key(key_id: str, state: str) -> dict[str, Any]:
    return {
        "KeyMetadata": {
            "KeyId": key_id,
            "Arn": f"arn:aws:kms:us-east-1:123456789012:key/{key_id}",
            "KeyState": state,
            "KeySpec": "SYMMETRIC_DEFAULT",
        }
    }


def test_kms_keys_disabled_rotation_off_and_missing(aws: StubbedAws) -> None:
    kms = aws.stub("kms")
    kms.add_response("describe_key", _key("k-ok", "Enabled"), {"KeyId": "k-ok"})
    kms.add_response("get_key_rotation_status", {"KeyRotationEnabled": True}, {"KeyId": "k-ok"})
    kms.add_response("describe_key", _key("k-norot", "Enabled"), {"KeyId": "k-norot"})
    kms.add_response("get_key_rotation_status", {"KeyRotationEnabled": False}, {"KeyId": "k-norot"})
    kms.add_response("describe_key", _key("k-off", "PendingDeletion"), {"KeyId": "k-off"})
    kms.add_client_error("describe_key", "NotFoundException", "Key 'k-gone' does not exist", 400)
    result = kms_keys_enabled(aws, ["k-ok", "k-norot", "k-off", "k-gone"])
    assert not result.ok
    assert result.summary == "KMS keys not ready: 3/4"
    assert result.diagnosis.splitlines() == [
        "- k-norot: automatic rotation is off: turn it on (aws kms enable-key-rotation)",
        "- k-off: PendingDeletion: cancel the deletion (aws kms cancel-key-deletion), then enable it",
        "- k-gone: does not exist",
    ]
