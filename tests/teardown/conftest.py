"""Fixtures of the teardown tests: the real kubernetes client on a fake API server, the real moto server,
a fake clock whose sleep can act like the cluster's controllers, and a fake Helm."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from kubernetes import client
from pytest_httpserver import HTTPServer

from eksctl_ml.adapters.aws.session import Boto3Aws
from eksctl_ml.adapters.helm.protocol import ReleaseStatus
from eksctl_ml.errors import HelmError
from tests.teardown.fake_kube import FakeKubeApi

REGION = "us-east-1"
_counter = itertools.count(1)


@pytest.fixture
def events() -> list[str]:
    """One log of what the fake API server and the fake Helm saw, in order."""
    return []


@pytest.fixture
def kube(httpserver: HTTPServer, events: list[str]) -> FakeKubeApi:
    """The fake API server's store, serving every path and method of the test's HTTP server."""
    fake = FakeKubeApi(events=events)
    httpserver.expect_request(re.compile(r"^/.*")).respond_with_handler(fake.handle)
    return fake


@pytest.fixture
def api_client(httpserver: HTTPServer, kube: FakeKubeApi) -> Iterator[Any]:
    """A real ``kubernetes.client.ApiClient`` pointed at the fake API server."""
    configuration = client.Configuration()
    configuration.host = httpserver.url_for("/").rstrip("/")
    api = client.ApiClient(configuration)
    try:
        yield api
    finally:
        api.close()


@pytest.fixture(scope="session")
def elb_aws(moto_endpoint: str) -> Boto3Aws:
    """The real boto3 adapter on the session's moto server (not reset: tests use unique names)."""
    return Boto3Aws(
        REGION,
        None,
        moto_endpoint,
        static_credentials={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
    )


@pytest.fixture
def uid() -> str:
    """A short prefix no other test of the session uses (load balancer names are unique per account)."""
    return f"td{next(_counter):03d}"


@pytest.fixture
def subnets(elb_aws: Boto3Aws) -> list[str]:
    """A fresh VPC with two subnets in two zones (what an ALB needs)."""
    ec2 = elb_aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    return [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=f"{REGION}{zone}")["Subnet"][
            "SubnetId"
        ]
        for i, zone in enumerate("ab")
    ]


@dataclass
class FakeClock:
    """``clock`` and ``sleep`` for the waits: sleeping moves time forward and may run ``on_sleep``.

    ``on_sleep(n)`` is called on the n-th sleep (1-based), i.e. after the n-th unsettled poll: that is
    where a test plays the part of the cluster's controllers.
    """

    now: float = 5000.0
    sleeps: list[float] = field(default_factory=list)
    on_sleep: Callable[[int], None] | None = None

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep(len(self.sleeps))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@dataclass
class FakeHelm:
    """A HelmClient that records uninstalls (into ``events`` too) and knows which releases exist."""

    installed: set[tuple[str, str]] = field(default_factory=set)
    failures: Mapping[str, HelmError] = field(default_factory=dict)
    calls: list[tuple[str, str, int]] = field(default_factory=list)
    events: list[str] | None = None

    def version(self) -> str:
        return "v3.17.3"

    def upgrade_install(self, *args: Any, **kwargs: Any) -> ReleaseStatus:
        raise AssertionError("teardown never installs")

    def uninstall(self, release: str, *, namespace: str, timeout_s: int) -> bool:
        self.calls.append((release, namespace, timeout_s))
        if self.events is not None:
            self.events.append(f"helm uninstall {namespace}/{release}")
        if release in self.failures:
            raise self.failures[release]
        if (release, namespace) not in self.installed:
            return False
        self.installed.discard((release, namespace))
        return True

    def status(self, release: str, *, namespace: str) -> ReleaseStatus | None:
        return None


@pytest.fixture
def helm(events: list[str]) -> FakeHelm:
    return FakeHelm(events=events)
