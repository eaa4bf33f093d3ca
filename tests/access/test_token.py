"""EKS tokens: a real SigV4 presigned STS GetCallerIdentity URL, bound to the cluster, from any credential source."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from eksctl_ml.adapters.aws.session import Boto3Aws
from eksctl_ml.adapters.kubernetes.auth import EksToken, eks_token, exec_credential
from eksctl_ml.errors import AwsError

KEY = "AKIDEXAMPLE1234567890"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
CLUSTER = "mlplat-dev"


def decode(token: str) -> str:
    assert token.startswith("k8s-aws-v1.")
    body = token[len("k8s-aws-v1.") :]
    assert "=" not in body and "+" not in body and "/" not in body  # base64url without padding
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()


def query(url: str) -> dict[str, str]:
    parsed = parse_qs(urlsplit(url).query, keep_blank_values=True, strict_parsing=True)
    assert all(len(values) == 1 for values in parsed.values())
    return {key: values[0] for key, values in parsed.items()}


@pytest.fixture
def env_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)


@pytest.mark.usefixtures("env_credentials")
def test_token_is_a_presigned_regional_get_caller_identity_url() -> None:
    token = eks_token(Boto3Aws("eu-west-1"), CLUSTER)
    url = decode(token.token)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "sts.eu-west-1.amazonaws.com", "/")
    q = query(url)
    assert q["Action"] == "GetCallerIdentity"
    assert q["Version"] == "2011-06-15"
    assert q["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert q["X-Amz-Expires"] == "60"
    assert set(q["X-Amz-SignedHeaders"].split(";")) >= {"host", "x-k8s-aws-id"}
    assert q["X-Amz-Credential"].startswith(f"{KEY}/")
    assert q["X-Amz-Credential"].endswith("/eu-west-1/sts/aws4_request")
    assert re.fullmatch(r"\d{8}T\d{6}Z", q["X-Amz-Date"])
    assert re.fullmatch(r"[0-9a-f]{64}", q["X-Amz-Signature"])
    assert "X-Amz-Security-Token" not in q
    assert CLUSTER not in url  # the cluster is a signed header, not a parameter


@pytest.mark.usefixtures("env_credentials")
def test_expiration_is_fourteen_minutes_ahead_in_utc() -> None:
    before = datetime.now(UTC)
    token = eks_token(Boto3Aws("us-east-1"), CLUSTER)
    after = datetime.now(UTC)
    assert token.expiration.tzinfo is not None
    assert before + timedelta(minutes=14) <= token.expiration <= after + timedelta(minutes=14)
    assert token.token not in repr(token)  # a credential: never in logs or tracebacks


@pytest.mark.usefixtures("env_credentials")
def test_signature_is_real_sigv4_over_the_cluster_header() -> None:
    region = "ap-southeast-2"
    url = decode(eks_token(Boto3Aws(region), CLUSTER).token)
    q = query(url)
    signed_at = datetime.strptime(q["X-Amz-Date"], "%Y%m%dT%H%M%SZ")

    # 1. botocore's own query signer, same inputs, same instant -> the same signature.
    request = AWSRequest(
        method="GET",
        url=f"https://sts.{region}.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15",
        headers={"x-k8s-aws-id": CLUSTER},
    )
    with mock.patch("botocore.auth.get_current_datetime", return_value=signed_at):
        SigV4QueryAuth(Credentials(KEY, SECRET), "sts", region, expires=60).add_auth(request)
    assert query(request.url)["X-Amz-Signature"] == q["X-Amz-Signature"]
    # ... and a token for another cluster would carry another signature.
    other = AWSRequest(method="GET", url=request.url.split("&X-Amz-Algorithm")[0], headers={"x-k8s-aws-id": "other"})
    with mock.patch("botocore.auth.get_current_datetime", return_value=signed_at):
        SigV4QueryAuth(Credentials(KEY, SECRET), "sts", region, expires=60).add_auth(other)
    assert query(other.url)["X-Amz-Signature"] != q["X-Amz-Signature"]

    # 2. The SigV4 specification by hand: GET, host + x-k8s-aws-id signed, empty payload.
    def enc(value: str) -> str:
        return quote(value, safe="-_.~")

    canonical_query = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(q.items()) if k != "X-Amz-Signature")
    canonical_request = "\n".join(
        [
            "GET",
            "/",
            canonical_query,
            f"host:sts.{region}.amazonaws.com\nx-k8s-aws-id:{CLUSTER}\n",
            "host;x-k8s-aws-id",
            hashlib.sha256(b"").hexdigest(),
        ]
    )
    day = q["X-Amz-Date"][:8]
    scope = f"{day}/{region}/sts/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", q["X-Amz-Date"], scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = f"AWS4{SECRET}".encode()
    for part in (day, region, "sts", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    assert hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest() == q["X-Amz-Signature"]
    assert q["X-Amz-Credential"] == f"{KEY}/{scope}"


def test_session_token_is_carried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ASIAEXAMPLESESSION01")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", "IQoJb3JpZ2luX2VjEXAMPLE//session+token=")
    q = query(decode(eks_token(Boto3Aws("us-east-1"), CLUSTER).token))
    assert q["X-Amz-Security-Token"] == "IQoJb3JpZ2luX2VjEXAMPLE//session+token="
    assert q["X-Amz-Credential"].startswith("ASIAEXAMPLESESSION01/")


def _write_profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: str, credentials: str) -> None:
    (tmp_path / "aws-config").write_text(config)
    (tmp_path / "aws-credentials").write_text(credentials)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))


def test_named_profile_credentials_are_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_profiles(
        tmp_path,
        monkeypatch,
        "[profile ml]\nregion = eu-central-1\n",
        f"[default]\naws_access_key_id = AKIADEFAULTNOTUSED00\naws_secret_access_key = x\n"
        f"[ml]\naws_access_key_id = AKIAPROFILEML0000001\naws_secret_access_key = {SECRET}\n",
    )
    q = query(decode(eks_token(Boto3Aws("us-west-2", "ml"), CLUSTER).token))
    assert q["X-Amz-Credential"].startswith("AKIAPROFILEML0000001/")
    assert "/us-west-2/sts/aws4_request" in q["X-Amz-Credential"]  # the env's region, not the profile's


def test_assumed_role_profile_goes_through_sts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moto_endpoint: str
) -> None:
    """role_arn + source_profile: botocore calls AssumeRole (on moto) and signs with the temporary keys."""
    _write_profiles(
        tmp_path,
        monkeypatch,
        "[profile deployer]\nrole_arn = arn:aws:iam::123456789012:role/mlplat-deployer\nsource_profile = base\n",
        "[base]\naws_access_key_id = AKIABASE000000000001\naws_secret_access_key = testing\n",
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", moto_endpoint)  # AssumeRole goes to the emulator
    aws = Boto3Aws("us-east-1", "deployer")
    url = decode(eks_token(aws, CLUSTER).token)
    q = query(url)
    assert urlsplit(url).netloc == "sts.us-east-1.amazonaws.com"  # never the emulator's address
    assert q["X-Amz-Security-Token"]
    assert not q["X-Amz-Credential"].startswith("AKIABASE")
    assert aws.caller_identity().arn.startswith("arn:aws:sts::123456789012:assumed-role/mlplat-deployer/")


def test_emulator_env_still_gets_the_regional_host_and_the_client_is_unharmed(aws: Boto3Aws) -> None:
    assert aws.endpoint_url
    first = eks_token(aws, "mlplat-local")
    second = eks_token(aws, "mlplat-local")  # hooks registered once; repeat calls work
    for token in (first, second):
        url = decode(token.token)
        assert urlsplit(url).netloc == "sts.us-east-1.amazonaws.com"
        assert query(url)["X-Amz-Credential"].startswith("testing/")
    # the shared STS client still talks to the emulator, without the cluster header
    assert aws.caller_identity().account == "123456789012"


def test_china_regions_use_the_china_partition_host(env_credentials: None) -> None:
    url = decode(eks_token(Boto3Aws("cn-north-1"), CLUSTER).token)
    assert urlsplit(url).netloc == "sts.cn-north-1.amazonaws.com.cn"


def test_no_credentials_is_an_aws_error_with_a_hint() -> None:
    with pytest.raises(AwsError) as caught:
        eks_token(Boto3Aws("us-east-1"), CLUSTER)
    assert "credentials" in caught.value.message
    assert caught.value.hint


def test_exec_credential_document() -> None:
    expiration = datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    document = exec_credential(EksToken("k8s-aws-v1.abc", expiration))
    assert document == {
        "kind": "ExecCredential",
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "spec": {},
        "status": {"expirationTimestamp": "2030-01-02T03:04:05Z", "token": "k8s-aws-v1.abc"},
    }
