"""EKS authentication without the aws CLI: bearer tokens, ExecCredential documents and kubeconfigs.

An EKS bearer token is a presigned STS ``GetCallerIdentity`` URL. The API server (through
aws-iam-authenticator) sends that URL to STS and maps the identity STS returns to Kubernetes RBAC.
The URL is signed by botocore's own SigV4 query signer through the env's STS client, so every
credential source of the standard chain works (env vars, named/SSO profiles, assumed roles,
instance/OIDC roles), and refreshable credentials are refreshed by botocore before signing.

What the token looks like::

    k8s-aws-v1.<base64url, no padding, of>
    https://sts.<region>.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15
        &X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=<key>/<date>/<region>/sts/aws4_request
        &X-Amz-Date=...&X-Amz-Expires=60&X-Amz-SignedHeaders=host;x-k8s-aws-id
        [&X-Amz-Security-Token=...]&X-Amz-Signature=<64 hex>

``x-k8s-aws-id: <cluster name>`` is a signed header, which binds the token to one cluster.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from eksctl_ml.errors import AwsError

if TYPE_CHECKING:
    from eksctl_ml.adapters.aws.protocol import AwsClients

TOKEN_PREFIX = "k8s-aws-v1."  # noqa: S105 - the token format, not a secret
CLUSTER_ID_HEADER = "x-k8s-aws-id"
EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"
# STS accepts the presigned URL for 60 s; EKS then honours the token for 15 minutes from signing.
# Report 14 so clients (kubectl, the Python client) fetch a new one before the server refuses it.
PRESIGN_EXPIRES_S = 60
TOKEN_LIFETIME = timedelta(minutes=14)

# Private keys that carry our request through botocore's event hooks (never sent to AWS).
_PARAM_KEY = "MlplatEksTokenFor"
_CONTEXT_KEY = "mlplat_eks_token"


@dataclass(frozen=True)
class EksToken:
    """A bearer token for one EKS cluster and the moment (UTC) clients should replace it."""

    token: str
    expiration: datetime

    def __repr__(self) -> str:  # the token is a credential: keep it out of logs and tracebacks
        return f"EksToken(token='{TOKEN_PREFIX}...', expiration={self.expiration.isoformat()})"


def sts_host(region: str) -> str:
    """The regional STS host EKS expects in a token (``sts.<region>.amazonaws.com``; ``.com.cn`` in China)."""
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"sts.{region}.{suffix}"


def _take_token_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> dict[str, Any] | None:
    """provide-client-params hook: move our private parameter out of the API params into the context."""
    request = params.pop(_PARAM_KEY, None)
    if request is None:
        return None
    context[_CONTEXT_KEY] = request
    return params


def _bind_to_cluster(request: Any, **_: Any) -> None:
    """before-sign hook: add the signed cluster header and sign for the regional STS host."""
    wanted = request.context.get(_CONTEXT_KEY)
    if wanted is None:
        return  # an ordinary STS call on the shared client: leave it alone
    request.headers[CLUSTER_ID_HEADER] = wanted["cluster"]
    # EKS sends the URL to STS in the env's region. Whatever endpoint the client talks to (the
    # emulator, a legacy global endpoint), the token names the regional host and is signed for it.
    parts = urlsplit(request.url)
    request.url = urlunsplit(("https", sts_host(wanted["region"]), "/", parts.query, ""))
    request.context.setdefault("signing", {})["region"] = wanted["region"]


def eks_token(aws: AwsClients, cluster_name: str, *, expires_s: int = PRESIGN_EXPIRES_S) -> EksToken:
    """A bearer token for ``cluster_name``, signed with the env's AWS credentials (no network call).

    Raises AwsError when no credentials resolve (or an SSO session expired).
    """
    import botocore.exceptions

    now = datetime.now(UTC)
    try:
        sts = aws.client("sts")
        events = sts.meta.events
        # unique_id makes registration idempotent on the shared (cached) client.
        events.register(
            "provide-client-params.sts.GetCallerIdentity", _take_token_params, unique_id="mlplat-eks-token-params"
        )
        events.register("before-sign.sts.GetCallerIdentity", _bind_to_cluster, unique_id="mlplat-eks-token-sign")
        url = sts.generate_presigned_url(
            "get_caller_identity",
            Params={_PARAM_KEY: {"cluster": cluster_name, "region": aws.region}},
            ExpiresIn=expires_s,
            HttpMethod="GET",
        )
    except botocore.exceptions.NoCredentialsError as exc:
        raise AwsError(
            "no AWS credentials found to sign an EKS token",
            hint="run `aws sso login --profile NAME` and set aws.profile, or export AWS_* variables",
        ) from exc
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        raise AwsError(
            f"could not sign an EKS token for cluster {cluster_name!r}",
            detail=str(exc),
            hint="check the AWS credentials of this env (an SSO session may have expired: `aws sso login`)",
        ) from exc
    encoded = base64.urlsafe_b64encode(str(url).encode()).decode().rstrip("=")
    return EksToken(token=TOKEN_PREFIX + encoded, expiration=now + TOKEN_LIFETIME)


def rfc3339(moment: datetime) -> str:
    """``2024-01-02T03:04:05Z`` (UTC, whole seconds), the form Kubernetes clients parse."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def exec_credential(token: EksToken) -> dict[str, Any]:
    """The ExecCredential an exec credential plugin prints for kubectl (client.authentication.k8s.io/v1beta1)."""
    return {
        "kind": "ExecCredential",
        "apiVersion": EXEC_API_VERSION,
        "spec": {},
        "status": {"expirationTimestamp": rfc3339(token.expiration), "token": token.token},
    }


def context_name(env_name: str) -> str:
    """The cluster, user and context name mlplat writes for ``env_name``."""
    return f"mlplat-{env_name}"


def kubeconfig_document(
    *,
    env_name: str,
    cluster_name: str,
    endpoint: str,
    ca_data: str,
    region: str,
    mlplat_command: Sequence[str],
    plugin_env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A kubeconfig with one cluster, user and context, all named ``mlplat-<env>``.

    The user runs ``<mlplat_command> token --env <env>`` as an exec credential plugin, so kubectl
    gets a fresh token from mlplat (same credentials as the env) whenever the last one expires.
    ``plugin_env`` adds environment variables for that command (e.g. where the env files live).
    """
    if not mlplat_command:
        raise ValueError("mlplat_command must name an executable")
    name = context_name(env_name)
    variables = {"AWS_REGION": region, **(plugin_env or {})}
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}],
        "users": [
            {
                "name": name,
                "user": {
                    "exec": {
                        "apiVersion": EXEC_API_VERSION,
                        "command": mlplat_command[0],
                        "args": [*mlplat_command[1:], "token", "--env", env_name],
                        "env": [{"name": key, "value": value} for key, value in variables.items()],
                        "interactiveMode": "Never",
                        "provideClusterInfo": False,
                    }
                },
            }
        ],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
    }
