"""`mlplat status` with live figures: the real Prometheus (directly, and through the Kubernetes service
proxy of the fake API server with the real ``kubernetes`` client), and every way it can be unavailable."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client as k8s
from typer.testing import CliRunner
from werkzeug import Response

from eksctl_ml.adapters.kubernetes.client import KubeClient
from eksctl_ml.adapters.prometheus.client import HttpTransport, PrometheusClient
from eksctl_ml.adapters.prometheus.protocol import PrometheusApi
from eksctl_ml.cli import app
from eksctl_ml.config.loader import Environment
from eksctl_ml.errors import PrometheusError
from eksctl_ml.metrics import figures
from eksctl_ml.releases.endpoints import PROMETHEUS
from eksctl_ml.services.deps import Dependencies, local_store
from tests.fakes.adapters import fake_adapters
from tests.fakes.phases import ScriptedPhase, World
from tests.kubernetes.fakeapi import FakeKubeApi
from tests.metrics.conftest import DCGM_FILE, HIT_MODEL, Stack, exposition

KUBE_ENV = "kube"
"""An env with a Kubernetes API (``cluster.kube_context``); ``test`` (envs/local.yaml) has none."""

PrometheusFactory = Callable[[Environment, Any, float], PrometheusApi]


@pytest.fixture(autouse=True)
def _plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("MLPLAT_ENV", raising=False)


@pytest.fixture
def envs(env_dir: Path) -> Path:
    """``test`` (the local env: no Kubernetes API) and ``kube`` (the same with a kube context)."""
    document = yaml.safe_load((env_dir / "test.yaml").read_text())
    document["cluster"]["kube_context"] = "kind-mlplat"
    (env_dir / f"{KUBE_ENV}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return env_dir


@pytest.fixture
def kube_api() -> Iterator[FakeKubeApi]:
    fake = FakeKubeApi().start()
    yield fake
    fake.stop()


def _forward_to(url: str) -> Callable[[str, dict[str, str]], Response]:
    """A service-proxy handler passing requests on to a real server (as the API server does)."""

    def handler(path: str, query: dict[str, str]) -> Response:
        target = url + path + ("?" + urllib.parse.urlencode(query) if query else "")
        try:
            with urllib.request.urlopen(target, timeout=10) as answer:  # noqa: S310 (loopback)
                return Response(answer.read(), status=answer.status, content_type=answer.headers["Content-Type"])
        except urllib.error.HTTPError as exc:
            return Response(exc.read(), status=exc.code, content_type=exc.headers.get("Content-Type"))

    return handler


class Cli:
    def __init__(self, tmp_path: Path, envs: Path, prometheus: PrometheusFactory | None = None, **adapters: Any):
        self.world = World()
        self.calls: list[str] = []
        kw: dict[str, Any] = {}
        if prometheus is not None:

            def counted(env: Environment, built: Any, timeout_s: float) -> PrometheusApi:
                self.calls.append(env.name)
                return prometheus(env, built, timeout_s)

            kw["prometheus"] = counted
        self.deps = Dependencies(
            phases=lambda env: [ScriptedPhase("network", self.world)],
            adapters=lambda env, wd: fake_adapters(**adapters),
            root=tmp_path / "state",
            store=local_store,
            inventory=None,
            **kw,
        )
        self.envs = envs

    def run(self, *args: str) -> Any:
        return CliRunner().invoke(app, [*args, "--config-dir", str(self.envs)], obj=self.deps)


def _direct(url: str) -> PrometheusFactory:
    return lambda env, adapters, timeout_s: PrometheusClient(HttpTransport(url), timeout_s=timeout_s)


def _line(output: str) -> str:
    (line,) = [text for text in output.splitlines() if text.startswith("live metrics:")]
    return line


# --- the real stack -----------------------------------------------------------------------------------


def test_json_carries_the_figures_prometheus_computes(tmp_path: Path, envs: Path, stack: Stack) -> None:
    if stack.traffic is not None:
        stack.traffic.send(requests=100, failing=2)  # recent traffic, whatever ran before
    cli = Cli(tmp_path, envs, _direct(stack.prom.url))
    result = cli.run("status", "--env", KUBE_ENV, "--output", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert [p["name"] for p in document["phases"]] == ["network"]
    metrics = document["metrics"]
    assert metrics["available"] is True and metrics["source"] == stack.prom.url
    at = datetime.fromisoformat(metrics["at"]).timestamp()
    time.sleep(max(0.0, at + 1.1 - time.time()))  # let any scrape at or before `at` land, then ask Prometheus

    gpus = {(n["node"], g["gpu"]): g for n in metrics["gpu_nodes"] for g in n["gpus"]}
    util = {
        (s["metric"]["Hostname"], s["metric"]["gpu"]): float(s["value"][1])
        for s in stack.prom.instant(figures.GPU_UTILIZATION, at)
    }
    assert {k: g["utilization_pct"] for k, g in gpus.items()} == util
    exported = {
        (labels["Hostname"], labels["gpu"]): value for labels, value in exposition(DCGM_FILE)["DCGM_FI_DEV_FB_USED"]
    }
    assert {k: g["memory_used_mib"] for k, g in gpus.items()} == exported

    firing = {(a["name"], a["severity"]): a["count"] for a in metrics["alerts_firing"]}
    assert firing[("MlplatTestAlwaysFiring", "warning")] == 1

    if stack.traffic is not None:
        models = {m["model"]: m for m in metrics["models"]}
        rates = {
            s["metric"]["model"]: float(s["value"][1]) for s in stack.prom.instant(figures.MODEL_REQUESTS_PER_S, at)
        }
        assert set(models) == set(rates)
        # `status` evaluates at its own "now": a Triton scrape that started just before and landed just after
        # its query is the one way the two can differ (by one scrape). test_figures_real pins `at` and
        # compares exactly; here a one-scrape tolerance keeps the test deterministic.
        for name, model in models.items():
            assert model["requests_per_s"] == pytest.approx(rates[name], rel=0.05), name
        assert models[HIT_MODEL]["requests_per_s"] > 0 and models[HIT_MODEL]["p99_latency_ms"] > 0
    assert cli.calls == [KUBE_ENV]


def test_text_shows_gpu_model_and_alert_rows_under_the_phase_table(tmp_path: Path, envs: Path, stack: Stack) -> None:
    cli = Cli(tmp_path, envs, _direct(stack.prom.url))
    result = cli.run("status", "--env", KUBE_ENV)
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.index("mlplat status") < out.index("GPUs") < out.index("Models") < out.index("Alerts firing")
    gpu_rows = [line for line in out.splitlines() if "NVIDIA A10G" in line]
    assert len(gpu_rows) == 4
    busy = next(line for line in gpu_rows if "87%" in line)
    assert "ip-10-42-11-20.ec2.internal" in busy and "18.4 / 21.8 GiB" in busy  # 18886 of 22298 MiB
    assert any("MlplatTestAlwaysFiring" in line and "warning" in line for line in out.splitlines())
    if stack.traffic is not None:
        (row,) = [line for line in out.splitlines() if line.strip().startswith(HIT_MODEL)]
        assert " ms" in row


def test_default_factory_reaches_prometheus_through_the_kubernetes_service_proxy(
    tmp_path: Path, envs: Path, stack: Stack, kube_api: FakeKubeApi
) -> None:
    """The production wiring: Dependencies' own prometheus factory, the real kubernetes client, the proxy path."""
    kube_api.serve_proxy(PROMETHEUS.namespace, PROMETHEUS.name, PROMETHEUS.port, _forward_to(stack.prom.url))
    api_client = k8s.ApiClient(k8s.Configuration(host=kube_api.url))
    try:
        cli = Cli(tmp_path, envs, kubernetes_factory=lambda: KubeClient(api_client))
        result = cli.run("status", "--env", KUBE_ENV, "--output", "json")
    finally:
        api_client.close()
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output)["metrics"]
    assert metrics["available"] is True, metrics
    assert metrics["source"] == "observability/kps-prometheus:9090"
    assert sum(len(n["gpus"]) for n in metrics["gpu_nodes"]) == 4
    proxied = [r.path for r in kube_api.requests if "/services/kps-prometheus:9090/proxy/" in r.path]
    assert any(path.endswith("/proxy/-/ready") for path in proxied)
    assert any(path.endswith("/proxy/api/v1/query") for path in proxied)


# --- unavailable: one line, exit 0 ---------------------------------------------------------------------


def test_prometheus_not_installed_in_the_cluster(tmp_path: Path, envs: Path, kube_api: FakeKubeApi) -> None:
    api_client = k8s.ApiClient(k8s.Configuration(host=kube_api.url))
    try:
        cli = Cli(tmp_path, envs, kubernetes_factory=lambda: KubeClient(api_client))
        result = cli.run("status", "--env", KUBE_ENV)
        as_json = cli.run("status", "--env", KUBE_ENV, "--output", "json")
    finally:
        api_client.close()
    assert result.exit_code == 0, result.output
    line = _line(result.output)
    assert "Prometheus is not installed or has no ready pod (Service observability/kps-prometheus:9090)" in line
    assert "GPUs" not in result.output
    assert as_json.exit_code == 0
    metrics = json.loads(as_json.output)["metrics"]
    assert metrics["available"] is False and "not installed" in metrics["reason"]


def test_prometheus_not_ready_yet(tmp_path: Path, envs: Path, kube_api: FakeKubeApi) -> None:
    kube_api.serve_proxy(
        PROMETHEUS.namespace,
        PROMETHEUS.name,
        PROMETHEUS.port,
        lambda path, query: Response("Service Unavailable", status=503, content_type="text/plain"),
    )
    api_client = k8s.ApiClient(k8s.Configuration(host=kube_api.url))
    try:
        result = Cli(tmp_path, envs, kubernetes_factory=lambda: KubeClient(api_client)).run("status", "--env", KUBE_ENV)
    finally:
        api_client.close()
    assert result.exit_code == 0, result.output
    assert _line(result.output) == "live metrics: Prometheus at observability/kps-prometheus:9090 is not ready yet"


def test_unreachable_prometheus_gives_one_line_and_exit_0(tmp_path: Path, envs: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        result = Cli(tmp_path, envs, _direct(url)).run("status", "--env", KUBE_ENV)
    assert result.exit_code == 0, result.output
    line = _line(result.output)
    assert line.startswith(f"live metrics: Prometheus at {url} is not reachable (") and "refused" in line.lower()
    assert "network" in result.output  # the phase table is still there


def test_env_without_a_kubernetes_api_never_asks_for_prometheus(tmp_path: Path, envs: Path) -> None:
    def refuse(env: Environment, adapters: Any, timeout_s: float) -> PrometheusApi:
        raise AssertionError("no Prometheus should be built for an env without a Kubernetes API")

    cli = Cli(tmp_path, envs, refuse)
    result = cli.run("status", "--env", "test")
    assert result.exit_code == 0, result.output
    assert _line(result.output) == "live metrics: no Kubernetes API for env test"
    assert cli.calls == []


def test_offline_skips_the_metrics(tmp_path: Path, envs: Path) -> None:
    cli = Cli(tmp_path, envs, _direct("http://127.0.0.1:9"))
    result = cli.run("status", "--env", KUBE_ENV, "--offline", "--output", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["metrics"] == {"available": False, "reason": "skipped (--offline)"}
    assert cli.calls == []


class _Hanging:
    """A Prometheus whose every call blocks far longer than the status timeout."""

    where = "http://hanging.invalid"

    def ready(self) -> bool:
        time.sleep(30)
        return True

    def query(self, promql: str, *, at: Any = None) -> list[Any]:
        raise AssertionError("not reached")

    def targets(self) -> list[Any]:
        raise AssertionError("not reached")

    def alerts(self) -> list[Any]:
        raise AssertionError("not reached")


def test_a_hanging_prometheus_is_bounded_by_the_status_timeout(tmp_path: Path, envs: Path) -> None:
    cli = Cli(tmp_path, envs, lambda env, adapters, timeout_s: _Hanging())
    started = time.monotonic()
    result = cli.run("status", "--env", KUBE_ENV, "--timeout", "1")
    assert time.monotonic() - started < 10
    assert result.exit_code == 0, result.output
    assert _line(result.output) == "live metrics: Prometheus did not answer within 1s"


def test_a_factory_error_becomes_the_reason(tmp_path: Path, envs: Path) -> None:
    def broken(env: Environment, adapters: Any, timeout_s: float) -> PrometheusApi:
        raise PrometheusError("Prometheus query failed: bad_data: parse error", detail="first line\nsecond line")

    result = Cli(tmp_path, envs, broken).run("status", "--env", KUBE_ENV)
    assert result.exit_code == 0, result.output
    assert _line(result.output) == "live metrics: Prometheus query failed: bad_data: parse error (first line)"
