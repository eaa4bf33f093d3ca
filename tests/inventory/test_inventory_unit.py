"""The inventory's pure parts and its error handling, without a server (botocore Stubber)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from eksctl_ml.adapters.aws.protocol import CallerIdentity
from eksctl_ml.errors import AwsError, LeftoverResourcesError
from eksctl_ml.inventory import (
    InventoryResult,
    Leftover,
    _reraise,
    _UnavailableError,
    find_leftovers,
    parse_arn,
    raise_if_leftovers,
    render_leftovers,
)


class StubbedAws:
    """AwsClients whose clients are stubbed (no network); a call nobody stubbed fails the test."""

    region = "eu-central-1"
    endpoint_url: str | None = None

    def __init__(self) -> None:
        self.stubbers: dict[str, Stubber] = {}
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            make: Any = boto3.client  # untyped: the service name is a runtime string
            client = make(
                service, region_name=self.region, aws_access_key_id="testing", aws_secret_access_key="testing"
            )
            self.stubbers[service] = Stubber(client)
            self.stubbers[service].activate()
            self._clients[service] = client
        return self._clients[service]

    def stub(self, service: str) -> Stubber:
        self.client(service)
        return self.stubbers[service]

    def caller_identity(self) -> CallerIdentity:
        return CallerIdentity("111122223333", "arn:aws:iam::111122223333:user/t", "AID")


def _client_error(code: str, status: int, message: str = "msg") -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "ListKeys")


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("AccessDeniedException", 400),
        ("AccessDenied", 403),
        ("UnauthorizedOperation", 403),
        ("ThrottlingException", 400),
        ("InternalFailure", 500),
        ("403", 403),
    ],
)
def test_real_failures_become_aws_errors_naming_service_and_api(code: str, status: int) -> None:
    with pytest.raises(AwsError) as caught:
        _reraise(_client_error(code, status, "no, sorry"), "kms", "ListKeys", ok=())
    assert str(caught.value).startswith(f"leftover inventory: kms ListKeys failed ({code})")
    assert "no, sorry" in str(caught.value)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("NotImplemented", 501),
        ("NotImplemented", 400),
        ("UnknownOperationException", 400),
        ("InvalidAction", 400),
        ("404", 404),
        ("500", 500),  # moto's HTML page for an action it does not implement
        ("ResourceNotFoundException", 404),
    ],
)
def test_missing_apis_are_unavailable(code: str, status: int) -> None:
    with pytest.raises(_UnavailableError, match=f"kms ListKeys not available \\(HTTP {status}, {code}\\)"):
        _reraise(_client_error(code, status), "kms", "ListKeys", ok=())


def test_expected_codes_are_swallowed() -> None:
    _reraise(_client_error("NoSuchTagSet", 404), "s3", "GetBucketTagging", ok={"NoSuchTagSet"})


def test_access_denied_stops_the_inventory_with_a_hint() -> None:
    aws = StubbedAws()
    aws.stub("resourcegroupstaggingapi").add_client_error(
        "get_resources", service_error_code="AccessDeniedException", service_message="not allowed", http_status_code=400
    )
    with pytest.raises(AwsError) as caught:
        find_leftovers(aws, "dev", "mlplat-dev")
    assert "resourcegroupstaggingapi GetResources failed (AccessDeniedException)" in str(caught.value)
    assert "not allowed" in str(caught.value)
    assert caught.value.hint is not None
    assert "read access (GetResources)" in caught.value.hint


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        ("arn:aws:ec2:us-east-1:1:vpc/vpc-1", ("ec2", "vpc", "vpc-1")),
        ("arn:aws:s3:::my-bucket", ("s3", "bucket", "my-bucket")),
        ("arn:aws:elasticloadbalancing:r:1:loadbalancer/app/lb/abc", ("elbv2", "loadbalancer", "app/lb/abc")),
        ("arn:aws:elasticloadbalancing:r:1:loadbalancer/net/lb/abc", ("elbv2", "loadbalancer", "net/lb/abc")),
        ("arn:aws:elasticloadbalancing:r:1:loadbalancer/classic1", ("elb", "loadbalancer", "classic1")),
        ("arn:aws:elasticloadbalancing:r:1:targetgroup/tg/abc", ("elbv2", "targetgroup", "tg/abc")),
        ("arn:aws:elasticfilesystem:r:1:file-system/fs-1", ("efs", "file-system", "fs-1")),
        ("arn:aws:secretsmanager:r:1:secret:name-AbCdEf", ("secretsmanager", "secret", "name-AbCdEf")),
        ("arn:aws:logs:r:1:log-group:/aws/eks/c/cluster", ("logs", "log-group", "/aws/eks/c/cluster")),
        ("arn:aws:eks:r:1:nodegroup/c/ng/uuid", ("eks", "nodegroup", "c/ng/uuid")),
        ("arn:aws-cn:kms:cn-north-1:1:key/k-1", ("kms", "key", "k-1")),
        ("not-an-arn", ("unknown", "resource", "not-an-arn")),
    ],
)
def test_parse_arn(arn: str, expected: tuple[str, str, str]) -> None:
    assert parse_arn(arn) == expected


def test_render_zero() -> None:
    assert render_leftovers(InventoryResult([], [])) == "0 resources remain"
    raise_if_leftovers(InventoryResult([], ["efs file systems: efs DescribeFileSystems not available"]), "dev")


def test_render_leftovers_and_unavailable_listings() -> None:
    result = InventoryResult(
        [
            Leftover("ec2", "vpc", "vpc-1", "arn:aws:ec2:r:1:vpc/vpc-1"),
            Leftover("ec2", "elastic-ip", "eipalloc-1", None, "public IP 1.2.3.4"),
        ],
        ["efs file systems: efs DescribeFileSystems not available (HTTP 404, 404)"],
    )
    assert render_leftovers(result).splitlines() == [
        "2 resources remain (1 listing unavailable):",
        "  ec2/vpc vpc-1  arn:aws:ec2:r:1:vpc/vpc-1",
        "  ec2/elastic-ip eipalloc-1  -  (public IP 1.2.3.4)",
        "  unavailable: efs file systems: efs DescribeFileSystems not available (HTTP 404, 404)",
    ]
    with pytest.raises(LeftoverResourcesError) as caught:
        raise_if_leftovers(result, "dev")
    assert "env 'dev'" in str(caught.value)
    assert "ec2/vpc vpc-1" in str(caught.value)
