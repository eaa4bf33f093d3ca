"""The Prometheus HTTP API over a tiny transport: plain HTTP or the Kubernetes API server's service proxy.

Contract (see :mod:`eksctl_ml.adapters.prometheus.protocol`):

* A :class:`Transport` returns whatever status and body the server answered and raises
  :class:`~eksctl_ml.errors.PrometheusError` only when nothing answered (refused, timed out, no endpoints).
* :class:`PrometheusClient` turns the API's JSON into typed results. ``{"status": "error", "errorType",
  "error"}`` becomes a PrometheusError whose message carries Prometheus's own ``error`` text; any other
  non-success answer (an HTML 404 from something that is not Prometheus, a 5xx) names the path and status.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from eksctl_ml.adapters.prometheus.protocol import Alert, Sample, Target
from eksctl_ml.errors import PrometheusError
from eksctl_ml.releases.endpoints import PROMETHEUS, ServiceRef

DEFAULT_TIMEOUT_S = 10.0
_BODY_EXCERPT = 500


@dataclass(frozen=True)
class Answer:
    """What the server said: HTTP status and body."""

    status: int
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Transport(Protocol):
    """GET a path on one Prometheus server."""

    @property
    def where(self) -> str:
        """Where the server is, for messages (``http://127.0.0.1:9090``, ``observability/kps-prometheus:9090``)."""
        ...

    def get(self, path: str, params: Mapping[str, str], timeout_s: float) -> Answer:
        """The server's answer to ``GET path?params``; PrometheusError when nothing answered."""
        ...


@dataclass(frozen=True)
class HttpTransport:
    """Prometheus at ``base_url`` (``http://host:9090``, optionally with a path prefix), via urllib."""

    base_url: str
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return self.base_url.rstrip("/")

    def get(self, path: str, params: Mapping[str, str], timeout_s: float) -> Answer:
        url = f"{self.where}/{path.lstrip('/')}"
        if params:
            url += "?" + urllib.parse.urlencode(dict(params))
        request = urllib.request.Request(url, headers={"Accept": "application/json", **self.headers})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 (http(s) URL from config)
                return Answer(int(response.status), response.read())
        except urllib.error.HTTPError as exc:  # an answer, with an error status: the caller reads the body
            return Answer(int(exc.code), exc.read() or b"")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise PrometheusError(
                f"Prometheus at {self.where} is not reachable",
                detail=str(reason),
                hint="check the URL and that Prometheus is running",
            ) from exc


@dataclass(frozen=True)
class KubeProxyTransport:
    """Prometheus as a Service in the cluster, through the API server's service proxy."""

    api_client: Any
    """A configured ``kubernetes.client.ApiClient``."""
    service: ServiceRef = PROMETHEUS

    @property
    def where(self) -> str:
        return f"{self.service.namespace}/{self.service.name}:{self.service.port}"

    def get(self, path: str, params: Mapping[str, str], timeout_s: float) -> Answer:
        from eksctl_ml.adapters.kubernetes.protocol import KubernetesApiError, KubernetesNotFoundError
        from eksctl_ml.adapters.kubernetes.proxy import proxy_get

        ref = self.service
        try:
            answer = proxy_get(
                self.api_client, ref.namespace, ref.name, ref.port, path, params=params, timeout_s=timeout_s
            )
        except KubernetesApiError as exc:
            if isinstance(exc, KubernetesNotFoundError) or exc.status == 503:
                message = f"Prometheus is not installed or has no ready pod (Service {self.where})"
            else:
                message = f"Prometheus at {self.where} is not reachable through the Kubernetes API"
            raise PrometheusError(message, detail=exc.detail or exc.message, hint=exc.hint) from exc
        return Answer(answer.status, answer.body)


class PrometheusClient:
    """:class:`~eksctl_ml.adapters.prometheus.protocol.PrometheusApi` over a :class:`Transport`."""

    def __init__(self, transport: Transport, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.transport = transport
        self.timeout_s = timeout_s

    @property
    def where(self) -> str:
        return self.transport.where

    def ready(self) -> bool:
        answer = self.transport.get("/-/ready", {}, self.timeout_s)
        return answer.ok

    def query(self, promql: str, *, at: datetime | float | None = None) -> list[Sample]:
        params = {"query": promql, "timeout": f"{self.timeout_s:g}s"}
        if at is not None:
            params["time"] = format_time(at)
        data = self._data("/api/v1/query", params, f"query {promql!r}")
        return parse_instant(data, promql)

    def targets(self) -> list[Target]:
        data = self._data("/api/v1/targets", {"state": "active"}, "targets")
        return parse_targets(data)

    def alerts(self) -> list[Alert]:
        data = self._data("/api/v1/alerts", {}, "alerts")
        return parse_alerts(data)

    def _data(self, path: str, params: Mapping[str, str], what: str) -> Any:
        answer = self.transport.get(path, params, self.timeout_s)
        return api_data(answer, f"{self.where}{path}", what)


# --- parsing (module functions: unit-tested on their own) ------------------------------------------


def format_time(at: datetime | float) -> str:
    """Unix seconds for the API's ``time`` parameter; a naive datetime is taken as UTC."""
    if isinstance(at, datetime):
        at = (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()
    return f"{float(at):.3f}"


def api_data(answer: Answer, where: str, what: str) -> Any:
    """The ``data`` member of a success envelope; PrometheusError for everything else."""
    try:
        document = json.loads(answer.text())
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise PrometheusError(
            f"Prometheus {what} failed: {where} answered HTTP {answer.status} without an API document",
            detail=answer.text()[:_BODY_EXCERPT],
            hint="is this URL a Prometheus server (and its path prefix right)?",
        )
    if document.get("status") == "error" or not answer.ok:
        kind = str(document.get("errorType") or f"HTTP {answer.status}")
        error = str(document.get("error") or answer.text()[:_BODY_EXCERPT])
        raise PrometheusError(
            f"Prometheus {what} failed: {kind}: {error}", detail=f"{where} answered HTTP {answer.status}"
        )
    if document.get("status") != "success" or "data" not in document:
        raise PrometheusError(
            f"Prometheus {what} failed: unexpected answer from {where}", detail=answer.text()[:_BODY_EXCERPT]
        )
    return document["data"]


def number(raw: object) -> float:
    """A sample value as Prometheus writes it (a string: ``"1.5"``, ``"NaN"``, ``"+Inf"``, ``"-Inf"``)."""
    try:
        return float(str(raw))
    except ValueError as exc:
        raise PrometheusError(f"Prometheus returned a value that is not a number: {raw!r}") from exc


def _pair_value(pair: object, promql: str) -> float:
    if not isinstance(pair, list) or len(pair) != 2:
        raise PrometheusError(f"Prometheus returned a malformed sample for {promql!r}: {pair!r}")
    return number(pair[1])


def parse_instant(data: Any, promql: str = "") -> list[Sample]:
    """Samples from a ``/api/v1/query`` ``data`` member (result type ``vector`` or ``scalar``)."""
    if not isinstance(data, dict):
        raise PrometheusError(f"Prometheus returned malformed data for {promql!r}")
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar":
        return [Sample({}, _pair_value(result, promql))]
    if kind != "vector":
        raise PrometheusError(
            f"Prometheus returned a {kind} for {promql!r}, not an instant vector or scalar",
            hint="select an instant vector (no [range] at the outermost level)",
        )
    samples = []
    for item in result or []:
        labels = {str(k): str(v) for k, v in dict(item.get("metric") or {}).items()}
        samples.append(Sample(labels, _pair_value(item.get("value"), promql)))
    return samples


def parse_targets(data: Any) -> list[Target]:
    """Targets from a ``/api/v1/targets`` ``data`` member."""
    targets = []
    for item in dict(data or {}).get("activeTargets") or []:
        labels = {str(k): str(v) for k, v in dict(item.get("labels") or {}).items()}
        targets.append(
            Target(
                job=labels.get("job", ""),
                scrape_pool=str(item.get("scrapePool", "")),
                instance=labels.get("instance", ""),
                health=str(item.get("health", "unknown")),
                last_error=str(item.get("lastError") or ""),
                labels=labels,
                scrape_url=str(item.get("scrapeUrl", "")),
            )
        )
    return targets


def parse_alerts(data: Any) -> list[Alert]:
    """Alerts from a ``/api/v1/alerts`` ``data`` member."""
    alerts = []
    for item in dict(data or {}).get("alerts") or []:
        labels = {str(k): str(v) for k, v in dict(item.get("labels") or {}).items()}
        alerts.append(
            Alert(
                name=labels.get("alertname", ""),
                state=str(item.get("state", "")),
                severity=labels.get("severity", ""),
                labels=labels,
                active_at=parse_timestamp(item.get("activeAt")),
            )
        )
    return alerts


def parse_timestamp(raw: object) -> datetime | None:
    """An RFC 3339 timestamp (nanoseconds are cut to microseconds); None when absent or unreadable."""
    if not raw:
        return None
    try:
        return datetime.fromisoformat(str(raw))
    except ValueError:
        return None
