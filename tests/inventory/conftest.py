"""The suite's shared moto server (tests/conftest.py), reset before each test, and an AwsClients double for it."""

from __future__ import annotations

import urllib.request
from typing import Any

import boto3
import pytest
from botocore.config import Config

from eksctl_ml.adapters.aws.protocol import CallerIdentity

REGION = "us-east-1"


class MotoAws:
    """AwsClients on the moto server. Services in ``broken`` get an endpoint moto answers 404 on,
    which is what an emulator without that API looks like; ``overrides`` replaces a client outright."""

    def __init__(self, endpoint_url: str, region: str = REGION, clients: dict[tuple[str, str], Any] | None = None):
        self.endpoint_url: str | None = endpoint_url
        self.region = region
        self.broken: set[str] = set()
        self.overrides: dict[str, Any] = {}
        self._session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
        )
        # Shared between tests: building a boto3 client costs more than most emulated calls.
        self._clients: dict[tuple[str, str], Any] = {} if clients is None else clients

    def client(self, service: str) -> Any:
        if service in self.overrides:
            return self.overrides[service]
        endpoint = f"{self.endpoint_url}/no-such-api" if service in self.broken else str(self.endpoint_url)
        return self.client_at(service, self.region, endpoint)

    def client_at(self, service: str, region: str, endpoint: str | None = None) -> Any:
        key = (service, f"{region} {endpoint or self.endpoint_url}")
        if key not in self._clients:
            self._clients[key] = self.new_client(service, region, endpoint)
        return self._clients[key]

    def new_client(self, service: str, region: str = REGION, endpoint: str | None = None) -> Any:
        """An unshared client (one a test may stub)."""
        make: Any = self._session.client  # untyped: the service name is a runtime string
        return make(
            service,
            region_name=region,
            endpoint_url=endpoint or self.endpoint_url,
            config=Config(retries={"mode": "standard", "max_attempts": 1}),
        )

    def caller_identity(self) -> CallerIdentity:
        ident = self.client("sts").get_caller_identity()
        return CallerIdentity(ident["Account"], ident["Arn"], ident["UserId"])


@pytest.fixture(scope="session")
def _client_cache() -> dict[tuple[str, str], Any]:
    return {}


@pytest.fixture
def aws(moto_endpoint: str, _client_cache: dict[tuple[str, str], Any]) -> MotoAws:
    """A fresh emulated account: ``POST /moto-api/reset`` first."""
    request = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")  # noqa: S310 - local URL
    with urllib.request.urlopen(request, timeout=30):  # noqa: S310 - local URL
        pass
    return MotoAws(moto_endpoint, clients=_client_cache)
