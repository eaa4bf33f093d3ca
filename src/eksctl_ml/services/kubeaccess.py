"""Cluster access: kubeconfig files, kubectl exec-plugin tokens and Kubernetes API clients for an env.

Contract
--------
* :func:`cluster_endpoint` reads the API endpoint and CA bundle from EKS ``DescribeCluster``. A missing
  cluster is a :class:`~eksctl_ml.errors.PreflightError` (exit 2) telling the user to build it first;
  any other AWS failure is an :class:`~eksctl_ml.errors.AwsError`.
* :func:`write_kubeconfig` writes (or merges into) a kubeconfig whose user runs ``mlplat token --env
  NAME`` as an exec credential plugin. ``~/.kube/config`` is never touched unless it is the path asked
  for. The file is replaced atomically and is always mode 0600.
* :func:`token` returns the ExecCredential document ``mlplat token`` prints for kubectl.
* :func:`kubernetes_api_client` returns a ``kubernetes.client.ApiClient`` the caller owns (close it):
  from ``cluster.kube_context`` when set (a local cluster), else for the env's EKS cluster with
  bearer tokens signed by mlplat and re-signed before they expire.
"""

from __future__ import annotations

import base64
import binascii
import os
import shutil
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from eksctl_ml.adapters.kubernetes.auth import eks_token, exec_credential, kubeconfig_document
from eksctl_ml.errors import AwsError, ConfigError, KubernetesError, PreflightError

if TYPE_CHECKING:
    from eksctl_ml.adapters.aws.protocol import AwsClients
    from eksctl_ml.config.loader import Environment

KUBECONFIG_FILE = "kubeconfig"
CA_FILE = "cluster-ca.crt"
# Tokens are good for 15 minutes; the API client signs a new one once the current one is this old.
TOKEN_REFRESH_AFTER_S = 10 * 60
_ENTRY_SECTIONS = ("clusters", "users", "contexts")


def cluster_endpoint(aws: AwsClients, cluster_name: str, *, env_name: str | None = None) -> tuple[str, str]:
    """(API server URL, base64 PEM CA bundle) of an existing EKS cluster."""
    import botocore.exceptions

    build = f"run `mlplat up --env {env_name} --until cluster` first" if env_name else "build the cluster first"
    try:
        cluster = aws.client("eks").describe_cluster(name=cluster_name)["cluster"]
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            raise PreflightError(f"EKS cluster {cluster_name!r} does not exist in {aws.region}", hint=build) from exc
        raise AwsError(f"could not describe EKS cluster {cluster_name!r}", detail=str(exc)) from exc
    except botocore.exceptions.NoCredentialsError as exc:
        raise AwsError(
            "no AWS credentials found",
            hint="run `aws sso login --profile NAME` and set aws.profile, or export AWS_* variables",
        ) from exc
    except botocore.exceptions.BotoCoreError as exc:
        raise AwsError(f"could not describe EKS cluster {cluster_name!r}", detail=str(exc)) from exc
    endpoint = cluster.get("endpoint")
    ca_data = (cluster.get("certificateAuthority") or {}).get("data")
    if not endpoint or not ca_data:
        raise PreflightError(
            f"EKS cluster {cluster_name!r} has no API endpoint yet (status {cluster.get('status', 'unknown')})",
            hint=f"wait until it is ACTIVE, or {build}",
        )
    return str(endpoint), str(ca_data)


def mlplat_command() -> list[str]:
    """How kubectl should run this mlplat: the running ``mlplat`` executable, else ``python -m eksctl_ml``."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name == "mlplat" and argv0.is_file():
        return [str(argv0.resolve())]
    found = shutil.which("mlplat")
    if found:
        return [str(Path(found).resolve())]
    return [sys.executable, "-m", "eksctl_ml"]


def write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` atomically with ``data``, mode 0600 from the first byte (kubeconfigs hold access)."""
    from eksctl_ml.engine.store import atomic_write

    atomic_write(path, data, mode=0o600)


def default_kubeconfig_path(env: Environment, state_root: Path) -> Path:
    """``<state root>/<env>/kubeconfig`` (``.mlplat/<env>/kubeconfig`` by default)."""
    return state_root / env.name / KUBECONFIG_FILE


def _plugin_env(env: Environment, state_root: Path) -> dict[str, str]:
    # kubectl runs the plugin from whatever folder the user is in: pin where the env file and the
    # state live, so `mlplat token` finds the same env from anywhere.
    from eksctl_ml.config.loader import CONFIG_DIR_VAR
    from eksctl_ml.services.deps import STATE_DIR_VAR

    return {
        CONFIG_DIR_VAR: str(env.source.parent.absolute()),
        STATE_DIR_VAR: str(state_root.absolute()),
    }


def _read_existing(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read kubeconfig {path}: {exc}") from exc
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"{path} is not valid YAML, refusing to overwrite it",
            hint="fix or move the file, or pass another --path",
        ) from exc
    if document is None:
        return None  # an empty file: nothing to keep
    if not isinstance(document, dict) or document.get("kind", "Config") != "Config":
        raise ConfigError(
            f"{path} is not a kubeconfig (kind: Config), refusing to overwrite it", hint="pass another --path"
        )
    for section in _ENTRY_SECTIONS:
        if not isinstance(document.get(section) or [], list):
            raise ConfigError(f"{path}: {section!r} is not a list, refusing to overwrite it")
    return document


def merge_kubeconfig(existing: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    """``existing`` with our clusters/users/contexts replacing same-named entries; everything else kept.

    The current context is set to ours only when ``existing`` has none: writing a kubeconfig never
    silently points the user's kubectl at another cluster.
    """
    merged = dict(existing)
    merged.setdefault("apiVersion", "v1")
    merged.setdefault("kind", "Config")
    for section in _ENTRY_SECTIONS:
        mine = ours[section]
        names = {entry["name"] for entry in mine}
        kept = [
            entry
            for entry in existing.get(section) or []
            if not (isinstance(entry, dict) and entry.get("name") in names)
        ]
        merged[section] = kept + mine
    if not merged.get("current-context"):
        merged["current-context"] = ours["current-context"]
    return merged


def write_kubeconfig(
    env: Environment,
    aws: AwsClients,
    path: Path | None,
    *,
    state_root: Path,
    command: Sequence[str] | None = None,
) -> Path:
    """Write the env's kubeconfig and return its absolute path.

    ``path`` None: ``<state_root>/<env>/kubeconfig``. An existing kubeconfig at ``path`` is merged
    (entries named ``mlplat-<env>`` replaced, the rest kept); a symlink is followed, not replaced.
    """
    cfg = env.config
    endpoint, ca_data = cluster_endpoint(aws, cfg.cluster.name, env_name=env.name)
    target = (path.expanduser() if path is not None else default_kubeconfig_path(env, state_root)).absolute()
    if target.is_symlink():
        target = target.resolve()
    if target.is_dir():
        raise ConfigError(f"{target} is a directory", hint="pass a file path to --path")
    ours = kubeconfig_document(
        env_name=env.name,
        cluster_name=cfg.cluster.name,
        endpoint=endpoint,
        ca_data=ca_data,
        region=cfg.aws.region,
        mlplat_command=list(command) if command is not None else mlplat_command(),
        plugin_env=_plugin_env(env, state_root),
    )
    existing = _read_existing(target)
    document = merge_kubeconfig(existing, ours) if existing is not None else ours
    write_private(target, yaml.safe_dump(document, sort_keys=False, default_flow_style=False).encode())
    return target


def token(env: Environment, aws: AwsClients) -> dict[str, Any]:
    """The ExecCredential (with a fresh EKS token) that ``mlplat token`` prints for kubectl."""
    return exec_credential(eks_token(aws, env.config.cluster.name))


def kubernetes_api_client(env: Environment, aws: AwsClients, state_root: Path) -> Any:
    """A ``kubernetes.client.ApiClient`` for the env; the caller owns it (``close()`` when done).

    * ``cluster.kube_context`` set: that context of the default kubeconfig (``$KUBECONFIG``, read now,
      or ``~/.kube/config``), authenticated however the kubeconfig says. Nothing is written back.
    * otherwise: the EKS endpoint and CA from DescribeCluster (the CA is written to
      ``<state_root>/<env>/cluster-ca.crt``) and a bearer token from :func:`eks_token`, which a
      ``refresh_api_key_hook`` replaces once it is ``TOKEN_REFRESH_AFTER_S`` old (tokens last 15 min).

    Building the client contacts nothing but AWS (DescribeCluster); errors are AwsError,
    PreflightError (no cluster) or KubernetesError (bad kubeconfig/context).
    """
    from kubernetes import client as k8s_client

    context = env.config.cluster.kube_context
    if context:
        return _client_from_kube_context(context)

    endpoint, ca_data = cluster_endpoint(aws, env.config.cluster.name, env_name=env.name)
    ca_path = state_root / env.name / CA_FILE
    try:
        ca_pem = base64.b64decode(ca_data, validate=True)
    except binascii.Error as exc:
        raise AwsError(f"EKS returned an unreadable CA bundle for cluster {env.config.cluster.name!r}") from exc
    write_private(ca_path, ca_pem)

    configuration = k8s_client.Configuration()
    configuration.host = endpoint.rstrip("/")
    configuration.ssl_ca_cert = str(ca_path.absolute())
    configuration.verify_ssl = True
    configuration.api_key_prefix["BearerToken"] = "Bearer"
    refresher = _TokenRefresher(aws, env.config.cluster.name)
    refresher(configuration)  # sign the first token now: fail here, not in the middle of a call
    configuration.refresh_api_key_hook = refresher  # type: ignore[assignment]
    return k8s_client.ApiClient(configuration=configuration)


def _monotonic() -> float:
    return time.monotonic()


class _TokenRefresher:
    """``refresh_api_key_hook``: puts a fresh EKS token into the configuration when the current one is old."""

    def __init__(self, aws: AwsClients, cluster_name: str, *, max_age_s: float = TOKEN_REFRESH_AFTER_S) -> None:
        self._aws = aws
        self._cluster = cluster_name
        self._max_age_s = max_age_s
        self._signed_at: float | None = None
        self._lock = threading.Lock()

    def __call__(self, configuration: Any) -> None:
        with self._lock:
            now = _monotonic()
            if (
                self._signed_at is not None
                and now - self._signed_at < self._max_age_s
                and configuration.api_key.get("BearerToken")
            ):
                return
            configuration.api_key["BearerToken"] = eks_token(self._aws, self._cluster).token
            self._signed_at = now


def _client_from_kube_context(context: str) -> Any:
    from kubernetes import config as k8s_config

    # KUBE_CONFIG_DEFAULT_LOCATION is read when `kubernetes` is imported: read $KUBECONFIG ourselves.
    config_file = os.environ.get("KUBECONFIG") or str(Path("~/.kube/config").expanduser())
    try:
        return k8s_config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=config_file, context=context, persist_config=False
        )
    except (k8s_config.ConfigException, OSError, ValueError, TypeError) as exc:
        raise KubernetesError(
            f"cannot use kube context {context!r} from {config_file}",
            detail=str(exc),
            hint="check cluster.kube_context in the env file (`kubectl config get-contexts`) and $KUBECONFIG",
        ) from exc
