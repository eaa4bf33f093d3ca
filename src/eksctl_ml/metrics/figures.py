"""The live figures of ``mlplat status``: GPUs per node, Triton models, alerts firing.

Every PromQL expression mlplat evaluates for them is a named constant here, so what ``status`` prints
is exactly what Prometheus computes for that expression (tests compare the two at one evaluation time).

Where the numbers come from:

* GPUs: the DCGM exporter (``DCGM_FI_DEV_*``, one series per GPU with labels ``gpu``, ``UUID``,
  ``device``, ``modelName``, ``Hostname``...). In Kubernetes the exporter sets ``Hostname`` from the
  ``NODE_NAME`` environment variable (``spec.nodeName``), so it is the node's name. Memory is in MiB;
  the total is used + free (the default counters have no ``FB_TOTAL``).
* Models: Triton's metrics port (``nv_inference_*``, labels ``model`` and ``version``). Rates are summed
  over pods and versions. Triton's latency summary (``--metrics-config summary_latencies=true``) is per
  pod; quantiles cannot be merged, so the figure is the slowest pod's p99.
* Alerts: Prometheus's own ``ALERTS`` series, evaluated at the same instant as the rest.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eksctl_ml.adapters.prometheus.protocol import PrometheusApi, Sample

# --- the PromQL (one place) --------------------------------------------------------------------

NODE_LABEL = "Hostname"
"""The DCGM exporter label that names the node (the exporter's ``NODE_NAME``, i.e. ``spec.nodeName``)."""

GPU_UTILIZATION = "max by (Hostname, gpu, UUID, modelName) (DCGM_FI_DEV_GPU_UTIL)"
"""Per GPU, percent busy. ``max by`` folds the extra series an exporter emits while pods share a GPU."""
GPU_MEMORY_USED = "max by (Hostname, gpu, UUID, modelName) (DCGM_FI_DEV_FB_USED)"
"""Per GPU, framebuffer MiB in use."""
GPU_MEMORY_TOTAL = "max by (Hostname, gpu, UUID, modelName) (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)"
"""Per GPU, framebuffer MiB in all (used + free)."""
MODEL_REQUESTS_PER_S = "sum by (model) (rate(nv_inference_request_success[1m]))"
"""Per model, successful inference requests per second over the last minute, all pods and versions."""
MODEL_FAILURES_PER_S = "sum by (model) (rate(nv_inference_request_failure[1m]))"
"""Per model, failed inference requests per second over the last minute (every ``reason``)."""
MODEL_P99_LATENCY_US = 'max by (model) (nv_inference_request_summary_us{quantile="0.99"})'
"""Per model, the slowest pod's p99 end-to-end request latency in µs (Triton's sliding-window summary)."""
ALERTS_FIRING = 'count by (alertname, severity) (ALERTS{alertstate="firing"})'
"""Alerts firing now, counted per name and severity."""

QUERIES: Mapping[str, str] = {
    "gpu_utilization": GPU_UTILIZATION,
    "gpu_memory_used": GPU_MEMORY_USED,
    "gpu_memory_total": GPU_MEMORY_TOTAL,
    "model_requests_per_s": MODEL_REQUESTS_PER_S,
    "model_failures_per_s": MODEL_FAILURES_PER_S,
    "model_p99_latency_us": MODEL_P99_LATENCY_US,
    "alerts_firing": ALERTS_FIRING,
}
"""Every expression :func:`live_figures` evaluates, by the figure it feeds."""

SEVERITY_ORDER = ("critical", "high", "warning", "medium", "low", "info", "none")

# --- the figures ---------------------------------------------------------------------------------


def known(value: float | None) -> float | None:
    """``value``, or None when Prometheus has no number for it (absent, NaN or ±Inf)."""
    return value if value is not None and math.isfinite(value) else None


@dataclass(frozen=True)
class GpuFigure:
    """One GPU. A figure is None when its series is absent or not a number."""

    node: str
    gpu: str
    """The exporter's GPU index on the node (``0``, ``1``...)."""
    uuid: str
    model_name: str
    utilization_pct: float | None
    memory_used_mib: float | None
    memory_total_mib: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "gpu": self.gpu,
            "uuid": self.uuid,
            "model_name": self.model_name,
            "utilization_pct": self.utilization_pct,
            "memory_used_mib": self.memory_used_mib,
            "memory_total_mib": self.memory_total_mib,
        }


@dataclass(frozen=True)
class GpuNode:
    """The GPUs of one node, in index order."""

    name: str
    gpus: tuple[GpuFigure, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.name, "gpus": [gpu.to_dict() for gpu in self.gpus]}


@dataclass(frozen=True)
class ModelFigure:
    """One Triton model, over every pod serving it."""

    model: str
    requests_per_s: float | None
    failures_per_s: float | None
    p99_latency_ms: float | None
    """None when no request finished in Triton's summary window (Triton reports NaN then)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "requests_per_s": self.requests_per_s,
            "failures_per_s": self.failures_per_s,
            "p99_latency_ms": self.p99_latency_ms,
        }


@dataclass(frozen=True)
class AlertFigure:
    """Alerts firing with one name and severity."""

    name: str
    severity: str
    count: int

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "severity": self.severity, "count": self.count}


@dataclass(frozen=True)
class LiveFigures:
    """Everything ``status`` shows from Prometheus, evaluated at one instant ``at``."""

    at: datetime
    source: str
    """Which Prometheus answered (``observability/kps-prometheus:9090``, a URL)."""
    gpu_nodes: tuple[GpuNode, ...]
    models: tuple[ModelFigure, ...]
    alerts_firing: tuple[AlertFigure, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "available": True,
            "at": self.at.isoformat(),
            "source": self.source,
            "gpu_nodes": [node.to_dict() for node in self.gpu_nodes],
            "models": [model.to_dict() for model in self.models],
            "alerts_firing": [alert.to_dict() for alert in self.alerts_firing],
        }


@dataclass(frozen=True)
class MetricsUnavailable:
    """Why there are no live figures (no Kubernetes API, Prometheus not installed, an error, --offline)."""

    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"available": False, "reason": self.reason}


# --- evaluation ------------------------------------------------------------------------------------


def live_figures(
    prom: PrometheusApi,
    *,
    at: datetime | None = None,
    source: str = "",
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> LiveFigures:
    """Evaluate every figure's PromQL at one instant (``at``, default now) and assemble the figures.

    Raises :class:`~eksctl_ml.errors.PrometheusError` when Prometheus cannot be reached or refuses a query.
    """
    when = at or clock()
    results = {name: prom.query(promql, at=when) for name, promql in QUERIES.items()}
    return LiveFigures(
        at=when,
        source=source,
        gpu_nodes=_gpu_nodes(results["gpu_utilization"], results["gpu_memory_used"], results["gpu_memory_total"]),
        models=_models(
            results["model_requests_per_s"], results["model_failures_per_s"], results["model_p99_latency_us"]
        ),
        alerts_firing=_alerts(results["alerts_firing"]),
    )


_GpuKey = tuple[str, str, str, str]  # node, gpu index, UUID, model name


def _gpu_key(sample: Sample) -> _GpuKey:
    labels = sample.labels
    return (labels.get(NODE_LABEL, ""), labels.get("gpu", ""), labels.get("UUID", ""), labels.get("modelName", ""))


def _by_key(samples: Iterable[Sample], key: Callable[[Sample], Any]) -> dict[Any, float]:
    return {key(sample): sample.value for sample in samples}


def _index_order(gpu: str) -> tuple[int, str]:
    return (int(gpu), "") if gpu.isdigit() else (1 << 30, gpu)


def _gpu_nodes(util: list[Sample], used: list[Sample], total: list[Sample]) -> tuple[GpuNode, ...]:
    by_util, by_used, by_total = (_by_key(s, _gpu_key) for s in (util, used, total))
    keys = sorted(set(by_util) | set(by_used) | set(by_total), key=lambda k: (k[0], _index_order(k[1]), k[2]))
    nodes: dict[str, list[GpuFigure]] = {}
    for key in keys:
        node, gpu, uuid, model_name = key
        nodes.setdefault(node, []).append(
            GpuFigure(
                node=node,
                gpu=gpu,
                uuid=uuid,
                model_name=model_name,
                utilization_pct=known(by_util.get(key)),
                memory_used_mib=known(by_used.get(key)),
                memory_total_mib=known(by_total.get(key)),
            )
        )
    return tuple(GpuNode(name, tuple(gpus)) for name, gpus in nodes.items())


def _models(requests: list[Sample], failures: list[Sample], p99_us: list[Sample]) -> tuple[ModelFigure, ...]:
    def model(sample: Sample) -> str:
        return sample.labels.get("model", "")

    by_requests, by_failures, by_p99 = (_by_key(s, model) for s in (requests, failures, p99_us))
    figures = []
    for name in sorted(set(by_requests) | set(by_failures) | set(by_p99)):
        p99 = known(by_p99.get(name))
        figures.append(
            ModelFigure(
                model=name,
                requests_per_s=known(by_requests.get(name)),
                failures_per_s=known(by_failures.get(name)),
                p99_latency_ms=None if p99 is None else p99 / 1000.0,
            )
        )
    return tuple(figures)


def _severity_rank(severity: str) -> int:
    return SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else len(SEVERITY_ORDER)


def _alerts(samples: list[Sample]) -> tuple[AlertFigure, ...]:
    figures = [
        AlertFigure(
            name=sample.labels.get("alertname", ""),
            severity=sample.labels.get("severity", ""),
            count=int(sample.value) if math.isfinite(sample.value) else 0,
        )
        for sample in samples
    ]
    return tuple(sorted(figures, key=lambda a: (_severity_rank(a.severity), a.name, a.severity)))
