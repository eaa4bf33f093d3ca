"""The bootstrap phase against the real AWS API emulator."""

from __future__ import annotations

from eksctl_ml.adapters.aws.session import Boto3Aws
from eksctl_ml.phases.bootstrap import bucket_exists, ensure_state_bucket


def test_state_bucket_is_created_hardened_and_idempotent(aws: Boto3Aws) -> None:
    assert not bucket_exists(aws, "mlplat-state-x")
    assert ensure_state_bucket(aws, "mlplat-state-x", {"team": "ml"}) is True
    assert ensure_state_bucket(aws, "mlplat-state-x", {"team": "ml"}) is False
    s3 = aws.client("s3")
    assert s3.get_bucket_versioning(Bucket="mlplat-state-x")["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket="mlplat-state-x")["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    rules = s3.get_bucket_encryption(Bucket="mlplat-state-x")["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket="mlplat-state-x")["TagSet"]}
    assert tags == {"team": "ml", "mlplat:role": "state"}  # not mlplat:env: shared by envs, kept by down
