"""The real stack behind the live figures: Prometheus scraping a real Triton and a static DCGM exporter.

One stack per test session (starting Triton and Prometheus costs a few seconds):

* ``tritonserver`` 2.51 on CPU (``tests/support/tritonserver.py``) with the shared test models and
  ``sometimes_fails`` from this folder, latency summaries on (as mlplat's chart runs it);
* a stdlib HTTP server serving ``data/dcgm.prom``: the DCGM exporter's exposition for 2 nodes x 2 GPUs;
* ``prometheus`` 2.42 scraping both every second (job ``triton`` with the pod labels a ServiceMonitor
  gives; job ``dcgm-exporter`` with the target labels of the exporter chart's ServiceMonitor and its
  default ``honorLabels: false``, so the exporter's own ``pod``/``namespace`` become ``exported_*``)
  and evaluating ``RULES``: alerts that fire, fire twice, and stay pending.

Without the ``prometheus`` binary everything here skips; without Triton only the model tests skip.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pytest

from tests.metrics.promserver import PrometheusServer, prometheus_binary, start_prometheus, static_exporter
from tests.support.tritonserver import (
    NOT_INSTALLED,
    TritonServer,
    start_tritonserver,
    triton_install,
    write_test_models,
)

HERE = Path(__file__).resolve().parent
DCGM_FILE = HERE / "data" / "dcgm.prom"
OWN_MODELS = HERE / "triton_models"

HIT_MODEL = "mlp_onnx"
"""Gets a few hundred requests."""
FAILING_MODEL = "sometimes_fails"
"""Gets requests of which some fail in the model."""
IDLE_MODEL = "versioned"
"""Loaded, never called: 0 requests/s and no p99."""
TRITON_POD = {"namespace": "triton", "pod": "triton-0"}

RULES: list[dict[str, Any]] = [
    {
        "name": "mlplat-status-test",
        "rules": [
            {
                "alert": "MlplatTestAlwaysFiring",
                "expr": "vector(1)",
                "labels": {"severity": "warning"},
                "annotations": {"summary": "always fires, so alerts() has something real to return"},
            },
            {
                "alert": "TestGpuBusy",
                "expr": "DCGM_FI_DEV_GPU_UTIL > 80",
                "labels": {"severity": "critical"},
            },
            {
                "alert": "TestGpuQuiet",
                "expr": "DCGM_FI_DEV_GPU_UTIL < 50",
                "labels": {"severity": "info"},
            },
            {
                "alert": "TestAlwaysPending",
                "expr": "vector(1)",
                "for": "1h",
                "labels": {"severity": "critical"},
            },
        ],
    }
]

_LINE = re.compile(r"^(?P<name>[A-Za-z_:][A-Za-z0-9_:]*)\{(?P<labels>[^}]*)\}\s+(?P<value>\S+)$")
_LABEL = re.compile(r'(?P<key>[A-Za-z_][A-Za-z0-9_]*)="(?P<value>[^"]*)"')


def exposition(path: Path) -> dict[str, list[tuple[dict[str, str], float]]]:
    """The samples of a text exposition file, by metric name (enough of the format for our own files)."""
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for line in path.read_text().splitlines():
        match = _LINE.match(line.strip())
        if match:
            labels = {m["key"]: m["value"] for m in _LABEL.finditer(match["labels"])}
            samples.setdefault(match["name"], []).append((labels, float(match["value"])))
    return samples


@dataclass
class Traffic:
    """Requests sent to the real Triton, and how many of each kind."""

    triton: TritonServer
    prom: PrometheusServer
    sent: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)

    def send(self, requests: int = 300, failing: int = 20) -> None:
        """``requests`` inferences to HIT_MODEL; ``2 * failing`` to FAILING_MODEL, half of them failing."""
        import tritonclient.http as httpclient
        from tritonclient.utils import InferenceServerException

        client = httpclient.InferenceServerClient(urlsplit(self.triton.http_url).netloc)
        try:
            batch = np.random.default_rng(7).random((2, 4), dtype=np.float32)
            for _ in range(requests):
                tensor = httpclient.InferInput("INPUT0", [2, 4], "FP32")
                tensor.set_data_from_numpy(batch)
                result = client.infer(HIT_MODEL, [tensor])
                assert result.as_numpy("OUTPUT0").shape == (2, 3)
            for index in range(2 * failing):
                x = httpclient.InferInput("x", [1], "FP32")
                x.set_data_from_numpy(np.array([1.0 if index % 2 else -1.0], dtype=np.float32))
                try:
                    client.infer(FAILING_MODEL, [x])
                except InferenceServerException as exc:
                    assert "must not be negative" in str(exc)
                    self.failed[FAILING_MODEL] = self.failed.get(FAILING_MODEL, 0) + 1
                else:
                    self.sent[FAILING_MODEL] = self.sent.get(FAILING_MODEL, 0) + 1
        finally:
            client.close()
        self.sent[HIT_MODEL] = self.sent.get(HIT_MODEL, 0) + requests
        self.wait_scraped()

    def wait_scraped(self) -> None:
        """Until Prometheus has scraped Triton's counters with every request sent, plus two more scrapes."""
        promql = f'sum(nv_inference_request_success{{model="{HIT_MODEL}"}})'

        def counted() -> bool:
            result = self.prom.instant(promql, time.time())
            return bool(result) and float(result[0]["value"][1]) >= self.sent[HIT_MODEL]

        self.prom.wait_until(f"{promql} >= {self.sent[HIT_MODEL]}", counted)
        time.sleep(2.2)


@dataclass
class Stack:
    prom: PrometheusServer
    dcgm_target: str
    triton: TritonServer | None
    traffic: Traffic | None

    def need_triton(self) -> Traffic:
        if self.traffic is None:
            pytest.skip(NOT_INSTALLED)
        return self.traffic

    def settled_time(self) -> float:
        """An evaluation time whose samples are all ingested (scrapes start every 1 s and take ms)."""
        return time.time() - 1.0


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if prometheus_binary() is None:
        pytest.skip("prometheus is not on PATH (Debian package `prometheus`; scripts/setup.sh installs it)")
    workdir = tmp_path_factory.mktemp("metrics-stack")
    triton: TritonServer | None = None
    if triton_install() is not None:
        repository = workdir / "models"
        write_test_models(repository)
        shutil.copytree(OWN_MODELS / FAILING_MODEL, repository / FAILING_MODEL)
        triton = start_tritonserver(repository, workdir / "triton", models=[HIT_MODEL, IDLE_MODEL, FAILING_MODEL])
    try:
        with static_exporter(DCGM_FILE) as dcgm_target:
            jobs: list[dict[str, Any]] = [
                {
                    "job_name": "dcgm-exporter",
                    "honor_labels": False,
                    "static_configs": [
                        {
                            "targets": [dcgm_target],
                            "labels": {
                                "namespace": "observability",
                                "pod": "dcgm-exporter-7xk2p",
                                "service": "dcgm-exporter",
                                "endpoint": "metrics",
                            },
                        }
                    ],
                }
            ]
            if triton is not None:
                _wait_models_ready(triton)
                target = urlsplit(triton.metrics_url).netloc
                jobs.append({"job_name": "triton", "static_configs": [{"targets": [target], "labels": TRITON_POD}]})
            prom = start_prometheus(workdir / "prometheus", jobs, RULES)
            try:
                prom.wait_targets_up([job["job_name"] for job in jobs])
                traffic = None
                if triton is not None:
                    traffic = Traffic(triton, prom)
                    traffic.send()
                else:
                    time.sleep(2.2)  # a few scrapes and rule evaluations
                yield Stack(prom, dcgm_target, triton, traffic)
            finally:
                prom.stop()
    finally:
        if triton is not None:
            triton.stop()


def _wait_models_ready(triton: TritonServer, timeout_s: float = 60.0) -> None:
    import tritonclient.http as httpclient

    client = httpclient.InferenceServerClient(urlsplit(triton.http_url).netloc)
    deadline = time.monotonic() + timeout_s
    try:
        while not all(client.is_model_ready(m) for m in (HIT_MODEL, IDLE_MODEL, FAILING_MODEL)):
            if time.monotonic() > deadline:
                raise AssertionError(f"models not ready after {timeout_s:g}s:\n{triton.log()[-4000:]}")
            time.sleep(0.2)
    finally:
        client.close()
