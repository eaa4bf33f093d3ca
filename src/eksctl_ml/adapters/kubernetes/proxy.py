"""Reaching in-cluster HTTP services through the API server's service proxy.

``/api/v1/namespaces/<ns>/services/<name>:<port>/proxy/<path>`` forwards a request to a Service, with
the caller's Kubernetes credentials (RBAC verb ``get`` on ``services/proxy``). mlplat uses it for the
observability gate (Prometheus, Grafana, Alertmanager, Loki), the live figures in ``status`` and the
Triton smoke test, so none of them needs a LoadBalancer, an Ingress or a port-forward.

Contract:
* :func:`proxy_get` returns the service's own answer, whatever its HTTP status (a 503 from Prometheus is
  an answer: "not ready"). It raises :class:`KubernetesApiError` only when the API server itself could
  not be reached or refused the proxy (401/403, or a 503 "no endpoints available" from the proxy).
* :func:`service_proxy_endpoint` gives the base URL, headers and CA bundle for clients that make their
  own requests (tritonclient): the same credentials the ``ApiClient`` uses.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from eksctl_ml.adapters.kubernetes.protocol import KubernetesApiError, KubernetesNotFoundError

DEFAULT_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class ProxyResponse:
    """A service's answer through the proxy."""

    status: int
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The body parsed as JSON (``ValueError`` when it is not)."""
        return json.loads(self.body.decode("utf-8", "replace"))

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass(frozen=True)
class ServiceEndpoint:
    """How to call a service through the API server yourself."""

    url: str
    """``https://<api-server>/api/v1/namespaces/<ns>/services/<name>:<port>/proxy`` (no trailing slash)."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """``Authorization`` (bearer token), when the client authenticates with one."""
    ca_file: str | None = None
    verify_tls: bool = True


def proxy_path(namespace: str, service: str, port: str | int, path: str = "") -> str:
    """The API path that proxies to ``path`` on ``service``'s ``port`` (a port name or number)."""
    target = f"{quote(service, safe='')}:{quote(str(port), safe='')}"
    base = f"/api/v1/namespaces/{quote(namespace, safe='')}/services/{target}/proxy"
    return f"{base}/{path.lstrip('/')}" if path else base


def service_proxy_endpoint(api_client: Any, namespace: str, service: str, port: str | int) -> ServiceEndpoint:
    """Base URL and credentials for ``service``'s ``port`` through the API server of ``api_client``."""
    configuration = api_client.configuration
    headers: dict[str, str] = {}
    # runs the token refresh hook (EKS tokens last 15 min); kubeconfig loaders use "authorization"
    token = configuration.get_api_key_with_prefix("BearerToken", alias="authorization")
    if token:
        headers["Authorization"] = token
    host = str(configuration.host).rstrip("/")
    return ServiceEndpoint(
        url=host + proxy_path(namespace, service, port),
        headers=headers,
        ca_file=getattr(configuration, "ssl_ca_cert", None),
        verify_tls=bool(getattr(configuration, "verify_ssl", True)),
    )


def proxy_get(
    api_client: Any,
    namespace: str,
    service: str,
    port: str | int,
    path: str,
    *,
    params: Mapping[str, str] | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> ProxyResponse:
    """GET ``path`` on a Service through the API server; see the module contract for errors."""
    resource = proxy_path(namespace, service, port, path)
    action = f"GET {service}.{namespace}:{port}/{path.lstrip('/')}"
    try:
        method, url, headers, _body, _post = api_client.param_serialize(
            method="GET",
            resource_path=resource,
            query_params=list((params or {}).items()),
            header_params={"Accept": "application/json, text/plain, */*"},
            auth_settings=["BearerToken"],
        )
        response = api_client.call_api(method, url, header_params=headers, _request_timeout=timeout_s)
        answer = ProxyResponse(int(response.status), bytes(response.read() or b""))
    except ApiException as exc:
        answer = ProxyResponse(int(exc.status or 0), _bytes(exc.body))
    except HTTPError as exc:
        from eksctl_ml.adapters.kubernetes.client import api_error

        raise api_error(exc, action, host=str(api_client.configuration.host)) from exc
    if answer.status in (401, 403) or (not answer.ok and _is_proxy_status(answer.body)):
        raise _proxy_refused(answer, action, namespace, service)
    return answer


def _bytes(body: Any) -> bytes:
    return body if isinstance(body, bytes) else str(body or "").encode()


def _proxy_refused(answer: ProxyResponse, action: str, namespace: str, service: str) -> KubernetesApiError:
    """The API server's own refusal (auth, RBAC, no endpoints), as opposed to the service's answer."""
    reason, message = "", answer.text()[:500]
    if _is_proxy_status(answer.body):
        document = answer.json()
        reason, message = str(document.get("reason", "")), str(document.get("message", ""))
    hint = None
    if answer.status in (401, 403):
        hint = (
            "the identity may not proxy to services: it needs RBAC verb get on services/proxy in "
            f"namespace {namespace} (cluster admins have it)"
        )
    elif answer.status in (404, 503):
        hint = (
            f"the Service {namespace}/{service} has no ready endpoints (or does not exist): "
            f"kubectl -n {namespace} get endpoints {service}; kubectl -n {namespace} get pods"
        )
    error_class = KubernetesNotFoundError if answer.status == 404 else KubernetesApiError
    return error_class(
        f"Kubernetes API: {action} failed: {answer.status}",
        status=answer.status,
        reason=reason,
        detail=message,
        hint=hint,
    )


def _is_proxy_status(body: bytes) -> bool:
    """True when the body is the API server's own ``Status`` object (the proxy failed, not the service)."""
    try:
        document = json.loads(body.decode("utf-8", "replace"))
    except ValueError:
        return False
    return isinstance(document, dict) and document.get("kind") == "Status" and document.get("apiVersion") == "v1"
