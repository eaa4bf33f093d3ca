"""Fixtures of the readiness gate tests: stubbed AWS, a fake clock, and a real moto server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from eksctl_ml.adapters.aws.protocol import CallerIdentity
from tests.readiness.doubles import REGION, FakeClock, StubbedAws


@pytest.fixture
def aws() -> Iterator[StubbedAws]:
    stubbed = StubbedAws()
    yield stubbed
    stubbed.close()  # every stubbed response was consumed: the gate made exactly the expected calls


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


class MotoAws:
    """An AwsClients pointing at the moto server."""

    region = REGION

    def __init__(self, endpoint_url: str) -> None:
        self.endpoint_url: str | None = endpoint_url
        self._session: Any = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._session.client(service, endpoint_url=self.endpoint_url)
        return self._clients[service]

    def caller_identity(self) -> CallerIdentity:
        ident = self.client("sts").get_caller_identity()
        return CallerIdentity(ident["Account"], ident["Arn"], ident["UserId"])


@pytest.fixture(scope="session")
def moto_aws(moto_endpoint: str) -> MotoAws:
    """The suite's shared moto server (tests/conftest.py); tests use unique names instead of resets."""
    return MotoAws(moto_endpoint)
