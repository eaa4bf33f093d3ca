"""The query module and the live figures against a real Prometheus scraping a real Triton and a DCGM file.

The claim of ``mlplat status``: the figures it prints are the ones Prometheus computes. Each test
evaluates the figures at a fixed time and asks Prometheus's HTTP API directly (no mlplat code) for the same
PromQL at the same time.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from eksctl_ml.adapters.prometheus.client import HttpTransport, PrometheusClient
from eksctl_ml.errors import PrometheusError
from eksctl_ml.metrics import figures
from eksctl_ml.metrics.figures import LiveFigures, live_figures
from tests.metrics.conftest import (
    DCGM_FILE,
    FAILING_MODEL,
    HIT_MODEL,
    IDLE_MODEL,
    RULES,
    TRITON_POD,
    Stack,
    exposition,
)


def _client(stack: Stack) -> PrometheusClient:
    return PrometheusClient(HttpTransport(stack.prom.url), timeout_s=10)


def _expected(stack: Stack, promql: str, at: float, *keys: str) -> dict[tuple[str, ...], float]:
    """Prometheus's own answer for ``promql`` at ``at``, keyed by the values of ``keys``."""
    return {
        tuple(item["metric"].get(k, "") for k in keys): float(item["value"][1])
        for item in stack.prom.instant(promql, at)
    }


def _same(ours: float | None, theirs: float | None) -> bool:
    """Equal, where None on our side stands for a missing or non-finite Prometheus value."""
    if theirs is None or not math.isfinite(theirs):
        return ours is None
    return ours is not None and math.isclose(ours, theirs, rel_tol=1e-12, abs_tol=0.0)


def _figures_at(stack: Stack) -> tuple[LiveFigures, float]:
    at = stack.settled_time()
    return live_figures(_client(stack), at=datetime.fromtimestamp(at, UTC), source=stack.prom.url), at


def test_ready_and_targets_report_the_real_scrape_jobs(stack: Stack) -> None:
    client = _client(stack)
    assert client.ready() is True
    targets = {t.job: t for t in client.targets()}
    dcgm = targets["dcgm-exporter"]
    assert dcgm.up and dcgm.health == "up" and dcgm.last_error == ""
    assert dcgm.instance == stack.dcgm_target and dcgm.scrape_pool == "dcgm-exporter"
    assert dcgm.scrape_url == f"http://{stack.dcgm_target}/metrics"
    assert dcgm.labels["pod"] == "dcgm-exporter-7xk2p"
    if stack.triton is not None:
        triton = targets["triton"]
        assert triton.up and triton.labels["namespace"] == TRITON_POD["namespace"]
        assert triton.scrape_url == stack.triton.metrics_url


def test_gpu_figures_are_what_prometheus_computes_and_what_the_exporter_said(stack: Stack) -> None:
    live, at = _figures_at(stack)
    ours = {(n.name, g.gpu): g for n in live.gpu_nodes for g in n.gpus}
    keys = ("Hostname", "gpu")
    util = _expected(stack, figures.GPU_UTILIZATION, at, *keys)
    used = _expected(stack, figures.GPU_MEMORY_USED, at, *keys)
    total = _expected(stack, figures.GPU_MEMORY_TOTAL, at, *keys)
    assert set(ours) == set(util) == set(used) == set(total)
    for key, gpu in ours.items():
        assert _same(gpu.utilization_pct, util[key]), key
        assert _same(gpu.memory_used_mib, used[key]), key
        assert _same(gpu.memory_total_mib, total[key]), key

    # ... and those are the exporter's numbers: 2 nodes x 2 GPUs, total = used + free
    exported = exposition(DCGM_FILE)

    def by_gpu(metric: str) -> dict[tuple[str, str], float]:
        return {(labels["Hostname"], labels["gpu"]): value for labels, value in exported[metric]}

    file_util, file_used, file_free = (
        by_gpu("DCGM_FI_DEV_GPU_UTIL"),
        by_gpu("DCGM_FI_DEV_FB_USED"),
        by_gpu("DCGM_FI_DEV_FB_FREE"),
    )
    assert [n.name for n in live.gpu_nodes] == sorted({node for node, _ in file_util})
    assert all(len(n.gpus) == 2 for n in live.gpu_nodes) and len(live.gpu_nodes) == 2
    for (node, index), gpu in ours.items():
        assert gpu.utilization_pct == file_util[(node, index)]
        assert gpu.memory_used_mib == file_used[(node, index)]
        assert gpu.memory_total_mib == file_used[(node, index)] + file_free[(node, index)]
        assert gpu.model_name == "NVIDIA A10G" and gpu.uuid.startswith("GPU-")
    # GPUs of a node come in index order; a GPU time-sliced between two pods (the exporter repeats its
    # series per pod) is still one GPU
    assert [g.gpu for g in live.gpu_nodes[0].gpus] == ["0", "1"]
    assert len(exported["DCGM_FI_DEV_GPU_UTIL"]) == 5 and len(ours) == 4


def test_model_figures_are_what_prometheus_computes_from_the_real_triton(stack: Stack) -> None:
    traffic = stack.need_triton()
    live, at = _figures_at(stack)
    ours = {m.model: m for m in live.models}
    requests = _expected(stack, figures.MODEL_REQUESTS_PER_S, at, "model")
    failures = _expected(stack, figures.MODEL_FAILURES_PER_S, at, "model")
    p99 = _expected(stack, figures.MODEL_P99_LATENCY_US, at, "model")
    assert set(ours) == {HIT_MODEL, IDLE_MODEL, FAILING_MODEL}
    assert {k[0] for k in requests} == set(ours)
    for name, model in ours.items():
        assert _same(model.requests_per_s, requests.get((name,))), name
        assert _same(model.failures_per_s, failures.get((name,))), name
        theirs = p99.get((name,))
        assert _same(model.p99_latency_ms, None if theirs is None else theirs / 1000.0), name

    hit, idle, failing = ours[HIT_MODEL], ours[IDLE_MODEL], ours[FAILING_MODEL]
    assert hit.requests_per_s is not None and hit.requests_per_s > 0
    assert hit.failures_per_s == 0
    assert hit.p99_latency_ms is not None and 0.01 < hit.p99_latency_ms < 2000, hit
    assert idle.requests_per_s == 0 and idle.failures_per_s == 0
    assert idle.p99_latency_ms is None  # Triton's summary says NaN without observations
    assert failing.requests_per_s is not None and failing.requests_per_s > 0
    assert failing.failures_per_s is not None and failing.failures_per_s > 0
    # the counters behind the rates count exactly what the test sent
    counted = _expected(stack, "sum by (model) (nv_inference_request_failure)", at, "model")
    assert counted[(FAILING_MODEL,)] == traffic.failed[FAILING_MODEL]
    succeeded = _expected(stack, "sum by (model) (nv_inference_request_success)", at, "model")
    assert succeeded[(HIT_MODEL,)] == traffic.sent[HIT_MODEL]


def test_alerts_firing_are_counted_by_name_and_severity(stack: Stack) -> None:
    live, at = _figures_at(stack)
    theirs = _expected(stack, figures.ALERTS_FIRING, at, "alertname", "severity")
    ours = {(a.name, a.severity): a.count for a in live.alerts_firing}
    assert ours == {key: int(value) for key, value in theirs.items()}

    util = [value for _labels, value in exposition(DCGM_FILE)["DCGM_FI_DEV_GPU_UTIL"]]
    assert ours == {
        ("MlplatTestAlwaysFiring", "warning"): 1,
        ("TestGpuBusy", "critical"): sum(v > 80 for v in util),
        ("TestGpuQuiet", "info"): sum(v < 50 for v in util),
    }
    assert [a.severity for a in live.alerts_firing] == ["critical", "warning", "info"]
    assert "TestAlwaysPending" not in {a.name for a in live.alerts_firing}


def test_alerts_api_returns_firing_and_pending_alerts(stack: Stack) -> None:
    alerts = _client(stack).alerts()
    states = Counter((a.name, a.state) for a in alerts)
    assert states[("MlplatTestAlwaysFiring", "firing")] == 1
    assert states[("TestAlwaysPending", "pending")] == 1
    always = next(a for a in alerts if a.name == "MlplatTestAlwaysFiring")
    assert always.firing and always.severity == "warning" and always.labels["alertname"] == "MlplatTestAlwaysFiring"
    assert always.active_at is not None and always.active_at.tzinfo is not None
    assert always.active_at <= datetime.now(UTC)
    rule_names = {rule["alert"] for group in RULES for rule in group["rules"]}
    assert {a.name for a in alerts} <= rule_names


@pytest.mark.parametrize(
    ("promql", "expected"),
    [
        ("1 + 1", [({}, 2.0)]),
        ("NaN", [({}, math.nan)]),
        ("vector(+Inf)", [({}, math.inf)]),
        ("-Inf", [({}, -math.inf)]),
        ('up{job="no-such-job"}', []),
    ],
)
def test_scalars_special_values_and_empty_vectors_from_the_real_server(
    stack: Stack, promql: str, expected: list[tuple[dict[str, Any], float]]
) -> None:
    samples = _client(stack).query(promql)
    assert len(samples) == len(expected)
    for sample, (labels, value) in zip(samples, expected, strict=True):
        assert dict(sample.labels) == labels
        assert (math.isnan(sample.value) and math.isnan(value)) or sample.value == value


def test_bad_promql_raises_with_prometheus_own_message(stack: Stack) -> None:
    with pytest.raises(PrometheusError) as caught:
        _client(stack).query("sum(rate(nv_inference_request_success[1m])")
    assert "bad_data" in caught.value.message and "parse error" in caught.value.message


def test_a_range_vector_is_not_an_instant_result(stack: Stack) -> None:
    with pytest.raises(PrometheusError, match="matrix"):
        _client(stack).query("up[1m]")


def test_a_wrong_path_prefix_names_the_status(stack: Stack) -> None:
    client = PrometheusClient(HttpTransport(stack.prom.url + "/not-prometheus"))
    with pytest.raises(PrometheusError, match="HTTP 404"):
        client.query("up")
    assert client.ready() is False
