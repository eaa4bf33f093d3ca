"""`mlplat smoke`: the smoke-inference gate on demand, against any Triton URL or an env's Triton.

* :func:`smoke_url` speaks to ``url`` directly (plus ``metrics_url`` when given); the models are the
  ones named, else every model the server's repository index lists.
* :func:`smoke_env` reaches the env's Triton Service through the Kubernetes API server's service proxy
  (``adapters.triton``, see :func:`in_cluster_triton`); the models are the ones named, else
  ``triton.models`` of the env file. An env without a Kubernetes API (the emulator) is a UsageError.

Both return the :class:`~eksctl_ml.serving.smoke.SmokeReport`; a failing server is a report with
``ok`` False, never an exception (connection errors included).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from eksctl_ml.adapters.triton.client import HttpTritonClient
from eksctl_ml.adapters.triton.protocol import TritonEndpoint
from eksctl_ml.errors import UsageError
from eksctl_ml.serving.smoke import Progress, SmokeReport, run_smoke

if TYPE_CHECKING:
    from eksctl_ml.config.loader import Environment
    from eksctl_ml.services.deps import Dependencies

DEFAULT_TIMEOUT_S = 120.0
REQUEST_TIMEOUT_S = 30.0


def url_endpoint(
    url: str,
    *,
    metrics_url: str | None = None,
    ca_file: str | None = None,
    verify_tls: bool = True,
    request_timeout_s: float = REQUEST_TIMEOUT_S,
) -> TritonEndpoint:
    """The endpoint for ``--url``: ``HOST:PORT`` means ``http://HOST:PORT``; anything but http(s) is refused."""
    full = url if "://" in url else f"http://{url}"
    parts = urlsplit(full)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"--url {url!r} is not a Triton HTTP endpoint",
            hint="give http(s)://HOST:PORT[/base-path] of Triton's HTTP port (8000 by default)",
        )
    if metrics_url is not None and urlsplit(metrics_url).scheme not in ("http", "https"):
        raise UsageError(f"--metrics-url {metrics_url!r} is not an http(s) URL", hint="e.g. http://HOST:8002/metrics")
    return TritonEndpoint(
        url=full.rstrip("/"),
        metrics_url=metrics_url,
        ca_file=ca_file,
        verify_tls=verify_tls,
        timeout_s=request_timeout_s,
    )


def smoke_url(
    endpoint: TritonEndpoint,
    models: Sequence[str] | None = None,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    progress: Progress | None = None,
) -> SmokeReport:
    """Smoke-test the Triton at ``endpoint``: ``models`` or every model its repository index lists."""
    with HttpTritonClient(endpoint) as client:
        return run_smoke(client, list(models) if models else None, timeout_s=timeout_s, progress=progress)


def in_cluster_endpoint(api_client: Any, *, request_timeout_s: float = REQUEST_TIMEOUT_S) -> TritonEndpoint:
    """The env's Triton Service (HTTP and metrics ports) through the API server of ``api_client``.

    ``api_client`` is a configured ``kubernetes.client.ApiClient``; its bearer token, CA bundle and TLS
    setting are reused. The token is read now: build the endpoint right before using it.
    """
    from eksctl_ml.adapters.kubernetes.proxy import service_proxy_endpoint
    from eksctl_ml.releases.endpoints import TRITON_HTTP, TRITON_METRICS

    http = service_proxy_endpoint(api_client, TRITON_HTTP.namespace, TRITON_HTTP.name, TRITON_HTTP.port)
    metrics = service_proxy_endpoint(api_client, TRITON_METRICS.namespace, TRITON_METRICS.name, TRITON_METRICS.port)
    return TritonEndpoint(
        url=http.url,
        headers=dict(http.headers),
        ca_file=http.ca_file,
        verify_tls=http.verify_tls,
        metrics_url=f"{metrics.url}/metrics",
        timeout_s=request_timeout_s,
    )


def in_cluster_triton(api_client: Any) -> HttpTritonClient:
    """The Triton adapter for an env: what ``Adapters.triton_factory`` builds for a cluster."""
    return HttpTritonClient(in_cluster_endpoint(api_client))


def smoke_env(
    env: Environment,
    deps: Dependencies,
    models: Sequence[str] | None = None,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    progress: Progress | None = None,
) -> SmokeReport:
    """Smoke-test the env's Triton: ``models``, else ``triton.models``, else the repository index."""
    from eksctl_ml.releases.service import no_kubernetes_api

    reason = no_kubernetes_api(env)
    if reason:
        raise UsageError(
            f"{reason}: `mlplat smoke --env` reaches Triton through the Kubernetes API server",
            hint="run Triton yourself and use `mlplat smoke --url http://HOST:8000`, "
            "or set cluster.kube_context in the env file to use a local cluster",
        )
    client = deps.build_adapters(env).triton
    names = list(models or env.config.triton.models) or None
    return run_smoke(client, names, timeout_s=timeout_s, progress=progress)
