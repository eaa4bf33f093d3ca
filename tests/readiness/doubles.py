"""Test doubles for the readiness gates: stubbed boto3 clients and a fake clock that never sleeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.stub import Stubber

from eksctl_ml.adapters.aws.protocol import CallerIdentity

REGION = "us-east-1"


class StubbedAws:
    """An AwsClients whose clients are real boto3 clients behind a botocore Stubber (no network)."""

    region = REGION
    endpoint_url: str | None = None

    _session: Any = None  # shared: its loader caches the service models

    def __init__(self) -> None:
        if StubbedAws._session is None:
            StubbedAws._session = boto3.session.Session(
                aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
            )
        self.stubbers: dict[str, Stubber] = {}

    def stub(self, service: str) -> Stubber:
        if service not in self.stubbers:
            assert StubbedAws._session is not None
            stubber = Stubber(StubbedAws._session.client(service))
            stubber.activate()
            self.stubbers[service] = stubber
        return self.stubbers[service]

    def client(self, service: str) -> Any:
        return self.stub(service).client

    def caller_identity(self) -> CallerIdentity:
        return CallerIdentity("123456789012", "arn:aws:iam::123456789012:user/tester", "AIDATEST")

    def close(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()
            stubber.deactivate()


@dataclass
class FakeClock:
    """``clock`` and ``sleep`` for poll_until: sleeping only moves the clock forward."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.sleeps.append(seconds)
        self.now += seconds

    @property
    def slept(self) -> float:
        return sum(self.sleeps)
