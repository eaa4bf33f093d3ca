"""Parsing edge cases of the Prometheus HTTP API, on documents shaped like the real server's answers."""

from __future__ import annotations

import json
import math
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from eksctl_ml.adapters.prometheus.client import (
    Answer,
    HttpTransport,
    PrometheusClient,
    api_data,
    format_time,
    parse_alerts,
    parse_instant,
    parse_targets,
)
from eksctl_ml.errors import MlplatError, PrometheusError, ToolError
from eksctl_ml.metrics.figures import known


def _answer(document: Any, status: int = 200) -> Answer:
    return Answer(status, json.dumps(document).encode())


def test_prometheus_error_is_a_tool_error() -> None:
    error = PrometheusError("boom", detail="why")
    assert isinstance(error, ToolError) and isinstance(error, MlplatError)
    assert error.system == "prometheus" and str(error) == "boom\nwhy"


def test_error_envelope_raises_with_prometheus_message() -> None:
    document = {"status": "error", "errorType": "bad_data", "error": '1:8: parse error: unexpected "}"'}
    with pytest.raises(PrometheusError) as caught:
        api_data(_answer(document, 400), "http://p/api/v1/query", "query 'up{'")
    assert caught.value.message == "Prometheus query 'up{' failed: bad_data: 1:8: parse error: unexpected \"}\""
    assert "HTTP 400" in caught.value.detail


def test_error_status_without_error_type_still_raises() -> None:
    with pytest.raises(PrometheusError, match="execution: query timed out"):
        api_data(_answer({"status": "error", "errorType": "execution", "error": "query timed out"}, 503), "u", "q")
    with pytest.raises(PrometheusError, match="HTTP 500"):
        api_data(_answer({"status": "success", "data": {}}, 500), "u", "q")


def test_non_json_answers_name_the_status() -> None:
    with pytest.raises(PrometheusError, match="HTTP 404 without an API document") as caught:
        api_data(Answer(404, b"404 page not found"), "http://p/api/v1/query", "query")
    assert caught.value.detail == "404 page not found"
    with pytest.raises(PrometheusError, match="unexpected answer"):
        api_data(_answer({"status": "weird"}), "u", "q")


def test_vector_values_including_nan_and_infinities() -> None:
    data = {
        "resultType": "vector",
        "result": [
            {"metric": {"model": "a"}, "value": [1700000000.5, "1.25"]},
            {"metric": {"model": "b"}, "value": [1700000000.5, "NaN"]},
            {"metric": {"model": "c"}, "value": [1700000000.5, "+Inf"]},
            {"metric": {"model": "d"}, "value": [1700000000.5, "-Inf"]},
            {"metric": {}, "value": [1700000000.5, "3e-05"]},
        ],
    }
    samples = parse_instant(data, "x")
    values = {s.labels.get("model", ""): s.value for s in samples}
    assert values["a"] == 1.25 and math.isnan(values["b"])
    assert values["c"] == math.inf and values["d"] == -math.inf and values[""] == 3e-05
    assert [known(v) for v in (values["a"], values["b"], values["c"], values["d"])] == [1.25, None, None, None]


def test_empty_vector_and_scalar() -> None:
    assert parse_instant({"resultType": "vector", "result": []}) == []
    assert parse_instant({"resultType": "vector", "result": None}) == []
    (scalar,) = parse_instant({"resultType": "scalar", "result": [1700000000, "NaN"]})
    assert dict(scalar.labels) == {} and math.isnan(scalar.value)


@pytest.mark.parametrize(
    "data",
    [
        {"resultType": "matrix", "result": [{"metric": {}, "values": [[1, "1"]]}]},
        {"resultType": "string", "result": [1, "text"]},
        {"resultType": "vector", "result": [{"metric": {}, "value": [1]}]},
        {"resultType": "vector", "result": [{"metric": {}, "value": [1, "one"]}]},
        ["not", "a", "dict"],
    ],
)
def test_shapes_that_are_not_instant_numbers_raise(data: Any) -> None:
    with pytest.raises(PrometheusError):
        parse_instant(data, "q")


def test_targets_parse_health_pool_and_errors() -> None:
    data = {
        "activeTargets": [
            {
                "discoveredLabels": {"__address__": "10.0.0.7:9400"},
                "labels": {"instance": "10.0.0.7:9400", "job": "dcgm-exporter", "namespace": "observability"},
                "scrapePool": "serviceMonitor/observability/dcgm-exporter/0",
                "scrapeUrl": "http://10.0.0.7:9400/metrics",
                "lastError": 'Get "http://10.0.0.7:9400/metrics": context deadline exceeded',
                "health": "down",
            },
            {"labels": {"job": "triton", "instance": "10.0.0.9:8002"}, "scrapePool": "triton", "health": "up"},
        ],
        "droppedTargets": [],
    }
    down, up = parse_targets(data)
    assert (down.job, down.instance, down.health, down.up) == ("dcgm-exporter", "10.0.0.7:9400", "down", False)
    assert down.scrape_pool == "serviceMonitor/observability/dcgm-exporter/0"
    assert "deadline exceeded" in down.last_error and down.labels["namespace"] == "observability"
    assert up.up and up.last_error == "" and up.scrape_url == ""
    assert parse_targets({"activeTargets": []}) == [] and parse_targets(None) == []


def test_alerts_parse_state_severity_and_nanosecond_timestamps() -> None:
    data = {
        "alerts": [
            {
                "labels": {"alertname": "TritonHighP99", "severity": "warning", "model": "mlp"},
                "annotations": {"runbook_url": "https://example"},
                "state": "firing",
                "activeAt": "2024-05-01T10:00:00.123456789Z",
                "value": "1.2e+05",
            },
            {"labels": {"alertname": "GpuIdle"}, "state": "pending", "activeAt": "2024-05-01T12:00:00+02:00"},
            {"labels": {"alertname": "Odd"}, "state": "firing", "activeAt": "yesterday"},
        ]
    }
    firing, pending, odd = parse_alerts(data)
    assert (firing.name, firing.state, firing.severity, firing.firing) == ("TritonHighP99", "firing", "warning", True)
    assert firing.active_at == datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)
    assert (pending.firing, pending.severity) == (False, "")
    assert pending.active_at == datetime(2024, 5, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    assert odd.active_at is None
    assert parse_alerts({"alerts": []}) == []


def test_evaluation_time_formats() -> None:
    assert format_time(1700000000.25) == "1700000000.250"
    assert format_time(datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)) == "1700000000.000"
    assert format_time(datetime(2023, 11, 14, 22, 13, 20)) == "1700000000.000"  # naive: UTC


# --- the HTTP transport against sockets that misbehave ------------------------------------------------


def test_connection_refused_is_a_prometheus_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connections are refused
        client = PrometheusClient(HttpTransport(f"http://127.0.0.1:{port}"), timeout_s=2)
        with pytest.raises(PrometheusError, match=f"127.0.0.1:{port} is not reachable") as caught:
            client.ready()
    assert "refused" in caught.value.detail.lower()


@pytest.fixture
def slow_server() -> Iterator[str]:
    """Answers every request after 5 s."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(5)
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_server_that_does_not_answer_in_time_is_a_prometheus_error(slow_server: str) -> None:
    client = PrometheusClient(HttpTransport(slow_server), timeout_s=0.5)
    started = time.monotonic()
    with pytest.raises(PrometheusError, match="not reachable") as caught:
        client.query("up")
    assert time.monotonic() - started < 3
    assert "timed out" in caught.value.detail
