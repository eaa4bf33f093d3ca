"""The service proxy helper against an HTTP server standing in for the API server's proxy route."""

from __future__ import annotations

import json

import pytest
from kubernetes import client as k8s_client
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from eksctl_ml.adapters.kubernetes.protocol import KubernetesApiError
from eksctl_ml.adapters.kubernetes.proxy import proxy_get, proxy_path, service_proxy_endpoint

PREFIX = "/api/v1/namespaces/observability/services/prometheus:9090/proxy"


def _api_client(httpserver: HTTPServer, token: str = "t0k3n") -> k8s_client.ApiClient:  # noqa: S107
    configuration = k8s_client.Configuration()
    configuration.host = httpserver.url_for("/").rstrip("/")
    configuration.api_key["BearerToken"] = token
    configuration.api_key_prefix["BearerToken"] = "Bearer"
    return k8s_client.ApiClient(configuration)


def test_path_quotes_names_and_ports() -> None:
    assert proxy_path("observability", "prometheus", 9090, "/api/v1/query") == PREFIX + "/api/v1/query"
    assert proxy_path("triton", "triton", "http") == "/api/v1/namespaces/triton/services/triton:http/proxy"


def test_get_sends_the_bearer_token_and_query_and_returns_the_body(httpserver: HTTPServer) -> None:
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        return Response(json.dumps({"status": "success", "data": {"result": []}}), content_type="application/json")

    httpserver.expect_request(PREFIX + "/api/v1/query").respond_with_handler(handler)
    answer = proxy_get(
        _api_client(httpserver), "observability", "prometheus", 9090, "api/v1/query", params={"query": "up"}
    )
    assert answer.ok and answer.json()["status"] == "success"
    assert seen[0].headers["Authorization"] == "Bearer t0k3n"
    assert seen[0].args["query"] == "up"


def test_a_service_error_is_an_answer_not_an_exception(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PREFIX + "/-/ready").respond_with_data("Service Unavailable", status=503)
    answer = proxy_get(_api_client(httpserver), "observability", "prometheus", 9090, "/-/ready")
    assert answer.status == 503 and not answer.ok
    assert answer.text() == "Service Unavailable"


def test_the_proxy_refusing_raises_with_a_hint(httpserver: HTTPServer) -> None:
    status = {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": 'no endpoints available for service "prometheus"',
        "reason": "ServiceUnavailable",
        "code": 503,
    }
    httpserver.expect_request(PREFIX + "/-/ready").respond_with_json(status, status=503)
    with pytest.raises(KubernetesApiError) as info:
        proxy_get(_api_client(httpserver), "observability", "prometheus", 9090, "/-/ready")
    assert info.value.status == 503
    assert "no ready endpoints" in (info.value.hint or "")
    assert "kubectl -n observability get endpoints prometheus" in (info.value.hint or "")


def test_forbidden_raises(httpserver: HTTPServer) -> None:
    body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "forbidden", "code": 403}
    httpserver.expect_request(PREFIX + "/-/ready").respond_with_json(body, status=403)
    with pytest.raises(KubernetesApiError) as info:
        proxy_get(_api_client(httpserver), "observability", "prometheus", 9090, "-/ready")
    assert info.value.status == 403


def test_unreachable_api_server_raises() -> None:
    configuration = k8s_client.Configuration()
    configuration.host = "http://127.0.0.1:9"
    configuration.retries = False
    with pytest.raises(KubernetesApiError, match="cannot be reached"):
        proxy_get(k8s_client.ApiClient(configuration), "observability", "prometheus", 9090, "-/ready", timeout_s=2)


def test_endpoint_carries_url_token_and_ca(httpserver: HTTPServer) -> None:
    api = _api_client(httpserver)
    api.configuration.ssl_ca_cert = "/tmp/ca.crt"
    endpoint = service_proxy_endpoint(api, "triton", "triton", "http")
    assert endpoint.url == httpserver.url_for("/").rstrip("/") + "/api/v1/namespaces/triton/services/triton:http/proxy"
    assert endpoint.headers == {"Authorization": "Bearer t0k3n"}
    assert endpoint.ca_file == "/tmp/ca.crt"
