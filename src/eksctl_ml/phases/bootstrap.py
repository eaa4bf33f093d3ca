"""Phase `bootstrap`: the S3 state bucket that holds Terraform state, the journal and the run lock.

Created with boto3 before any ``terraform init`` (Terraform cannot create its own backend). The bucket
is shared by every env of an account and region, so `down` keeps it: it costs cents, holds the record
that the env is gone, and deleting it would strand any other env's state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eksctl_ml.adapters.aws.protocol import AwsClients
from eksctl_ml.adapters.aws.session import error_code
from eksctl_ml.engine.phase import BasePhase, CheckResult, PhaseContext, PlanResult
from eksctl_ml.errors import AwsError
from eksctl_ml.readiness.aws import s3_bucket_secure

STATE_TAGS = {"mlplat:role": "state"}


def bucket_exists(aws: AwsClients, bucket: str) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        aws.client("s3").head_bucket(Bucket=bucket)
    except ClientError as exc:
        if error_code(exc) in {"404", "NoSuchBucket", "NotFound"}:
            return False
        raise AwsError(f"cannot inspect state bucket {bucket}", detail=str(exc)) from exc
    except BotoCoreError as exc:
        raise AwsError(f"cannot inspect state bucket {bucket}", detail=str(exc)) from exc
    return True


def ensure_state_bucket(aws: AwsClients, bucket: str, tags: Mapping[str, str]) -> bool:
    """Create (if missing) and harden the state bucket. Idempotent. Returns True if it was created."""
    from botocore.exceptions import BotoCoreError, ClientError

    s3 = aws.client("s3")
    created = False
    try:
        if not bucket_exists(aws, bucket):
            kwargs: dict[str, Any] = {"Bucket": bucket}
            if aws.region != "us-east-1":  # us-east-1 rejects an explicit LocationConstraint
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": aws.region}
            try:
                s3.create_bucket(**kwargs)
                created = True
            except ClientError as exc:
                if error_code(exc) != "BucketAlreadyOwnedByYou":
                    raise
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}]
            },
        )
        s3.put_bucket_tagging(
            Bucket=bucket,
            Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in sorted({**tags, **STATE_TAGS}.items())]},
        )
    except (ClientError, BotoCoreError) as exc:
        raise AwsError(
            f"cannot create or configure state bucket {bucket}",
            detail=str(exc),
            hint="S3 bucket names are global: set state.bucket in the env file if this name is taken",
        ) from exc
    return created


class BootstrapPhase(BasePhase):
    name = "bootstrap"
    description = "S3 state bucket for Terraform state, the journal and the run lock"

    def _bucket(self, ctx: PhaseContext) -> str:
        return ctx.env.config.state_bucket()

    def inputs(self, ctx: PhaseContext) -> Mapping[str, Any]:
        return {"bucket": self._bucket(ctx), "region": ctx.env.config.aws.region}

    def plan(self, ctx: PhaseContext) -> PlanResult:
        bucket = self._bucket(ctx)
        if bucket_exists(ctx.adapters.aws, bucket):
            return PlanResult("noop", f"state bucket {bucket} exists")
        return PlanResult("create", f"create state bucket {bucket}")

    def apply(self, ctx: PhaseContext) -> Mapping[str, Any]:
        bucket = self._bucket(ctx)
        created = ensure_state_bucket(ctx.adapters.aws, bucket, ctx.env.config.tags)
        ctx.progress(f"state bucket {bucket} {'created' if created else 'already exists'}")
        return {"state_bucket": bucket}

    def check(self, ctx: PhaseContext) -> CheckResult:
        return s3_bucket_secure(ctx.adapters.aws, self._bucket(ctx))

    def destroy(self, ctx: PhaseContext) -> None:
        ctx.progress(f"keeping shared state bucket {self._bucket(ctx)} (it records that this env is gone)")
