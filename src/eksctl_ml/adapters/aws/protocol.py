"""Contract of the AWS adapter: configured boto3 clients and the caller's identity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class CallerIdentity:
    account: str
    arn: str
    user_id: str


class AwsClients(Protocol):
    """boto3 clients for one env (region, profile, emulator endpoint applied)."""

    @property
    def region(self) -> str: ...

    @property
    def endpoint_url(self) -> str | None:
        """The emulator's URL, or None for real AWS."""
        ...

    def client(self, service: str) -> Any:
        """A boto3 client; calls on it raise botocore errors, which callers wrap as AwsError."""
        ...

    def caller_identity(self) -> CallerIdentity:
        """STS GetCallerIdentity; AwsError with a fix when credentials do not resolve."""
        ...
