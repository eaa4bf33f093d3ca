"""boto3 implementation of :class:`~eksctl_ml.adapters.aws.protocol.AwsClients` (imported lazily)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from eksctl_ml.adapters.aws.protocol import CallerIdentity
from eksctl_ml.errors import AwsError


def error_code(exc: Exception) -> str:
    """The AWS error code of a botocore ClientError ('' for anything else)."""
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


class Boto3Aws:
    """One boto3 session per env; clients are cached and safe to share across threads."""

    def __init__(
        self,
        region: str,
        profile: str | None = None,
        endpoint_url: str | None = None,
        static_credentials: Mapping[str, str] | None = None,
    ) -> None:
        self.region = region
        self.profile = profile
        self.endpoint_url = endpoint_url
        self._static = dict(static_credentials or {})
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._session: Any = None

    def _boto_session(self) -> Any:
        import boto3
        import botocore.exceptions

        if self._session is None:
            try:
                self._session = boto3.session.Session(
                    profile_name=self.profile,
                    region_name=self.region,
                    aws_access_key_id=self._static.get("AWS_ACCESS_KEY_ID"),
                    aws_secret_access_key=self._static.get("AWS_SECRET_ACCESS_KEY"),
                )
            except botocore.exceptions.ProfileNotFound as exc:
                raise AwsError(
                    f"AWS profile {self.profile!r} not found", hint="check aws.profile in the env file"
                ) from exc
        return self._session

    def client(self, service: str) -> Any:
        from botocore.config import Config

        with self._lock:
            if service not in self._clients:
                config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=60)
                self._clients[service] = self._boto_session().client(
                    service, endpoint_url=self.endpoint_url, config=config
                )
            return self._clients[service]

    def caller_identity(self) -> CallerIdentity:
        import botocore.exceptions

        try:
            ident = self.client("sts").get_caller_identity()
        except botocore.exceptions.NoCredentialsError as exc:
            raise AwsError(
                "no AWS credentials found",
                hint="run `aws sso login --profile NAME` and set aws.profile, or export AWS_* variables",
            ) from exc
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise AwsError("AWS credentials could not be verified (STS GetCallerIdentity)", detail=str(exc)) from exc
        return CallerIdentity(account=ident["Account"], arn=ident["Arn"], user_id=ident["UserId"])
