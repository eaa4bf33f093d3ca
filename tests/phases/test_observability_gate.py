"""The observability gate through the real KubeClient and ``kubernetes`` client against the fake API
server (tests/kubernetes/fakeapi.py stands in for a Kubernetes API server, which cannot be obtained on
this machine). Prometheus, Grafana, Alertmanager and Loki answer through the service proxy route in
their real response formats; the gate's polling runs on a fake clock.

The helpers at the top are shared with test_observability_secrets.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.fakes.adapters import FakeHelm, fake_adapters
from tests.kubernetes import builders as b
from tests.kubernetes.fakeapi import FakeKubeApi
from werkzeug import Response

from eksctl_ml.adapters.helm.protocol import ReleaseStatus
from eksctl_ml.adapters.kubernetes.client import KubeClient
from eksctl_ml.config.loader import Environment, parse_env
from eksctl_ml.engine.phase import PhaseContext
from eksctl_ml.phases.observability import (
    ObservabilityPhase,
    TargetGroup,
    judge_targets,
    loki_has_line,
    loki_query,
    observability_phase,
)
from eksctl_ml.releases import endpoints

REPO = Path(__file__).resolve().parents[2]
NS = endpoints.OBSERVABILITY_NAMESPACE
RUN_ID = "r20250301120000"


def eks_env(**observability: Any) -> Environment:
    """envs/local.yaml with a kube context (so the Kubernetes phases apply) and observability overrides."""
    text = (REPO / "envs" / "local.yaml").read_text()
    text = text.replace('  kubernetes_version: "1.32"', '  kubernetes_version: "1.32"\n  kube_context: kind-mlplat')
    if observability:
        text += "observability:\n" + "".join(f"  {key}: {json.dumps(value)}\n" for key, value in observability.items())
    return Environment("local", REPO / "envs" / "local.yaml", parse_env(text, "local.yaml"))


class FakeClock:
    """``clock`` and ``sleep`` for the gate: sleeping advances the clock at once."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class RecordingHelm(FakeHelm):
    """FakeHelm that keeps the values of every install (to prove what did and did not reach Helm)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, Any] = {}

    def upgrade_install(self, release: str, chart: str, **kw: Any) -> ReleaseStatus:
        self.values[release] = kw["values"]
        return super().upgrade_install(release, chart, **kw)


def in_ns(model: Any, namespace: str = NS) -> Any:
    model.metadata.namespace = namespace
    return model


def put_ready_workloads(api: FakeKubeApi, *, shipper: str = "fluent-bit", gpu: bool = True) -> None:
    """The stack's workloads, rolled out, as their controllers would report them."""
    api.put(
        in_ns(b.deployment("kps-operator", replicas=1, updated=1, available=1)),
        in_ns(b.deployment("grafana", replicas=1, updated=1, available=1)),
        in_ns(b.deployment("prometheus-adapter", replicas=1, updated=1, available=1)),
        in_ns(b.statefulset("prometheus-kps-prometheus", replicas=1, ready=1, updated=1)),
        in_ns(b.statefulset("alertmanager-kps-alertmanager", replicas=1, ready=1, updated=1)),
        in_ns(b.statefulset("loki", replicas=1, ready=1, updated=1)),
        b.daemonset(shipper, desired=2, updated=2, available=2, namespace=NS),
        b.node("ip-10-42-1-10.ec2.internal"),
    )
    if gpu:
        api.put(
            b.daemonset("dcgm-exporter", desired=1, updated=1, available=1, namespace=NS),
            b.node("ip-10-42-2-20.ec2.internal", instance_type="g4dn.xlarge", gpu_pool=True, gpus=1),
        )


def put_probe_job(api: FakeKubeApi, run_id: str = RUN_ID, **kwargs: Any) -> None:
    kwargs = kwargs or {"complete": True, "active": 0, "succeeded": 1}
    api.put(in_ns(b.job(f"log-probe-{run_id}", **kwargs)))


# --- answers in the formats of the real services ---------------------------------------------------


def target(job: str, instance: str, *, health: str = "up", error: str = "", pool: str = "") -> dict[str, Any]:
    """One entry of Prometheus' /api/v1/targets activeTargets."""
    return {
        "discoveredLabels": {"__address__": instance, "__scheme__": "http", "job": job},
        "labels": {"instance": instance, "job": job},
        "scrapePool": pool or f"serviceMonitor/{NS}/{job}/0",
        "scrapeUrl": f"http://{instance}/metrics",
        "globalUrl": f"http://{instance}/metrics",
        "lastError": error,
        "lastScrape": "2025-03-01T12:00:00.000Z",
        "lastScrapeDuration": 0.012,
        "health": health,
        "scrapeInterval": "30s",
        "scrapeTimeout": "10s",
    }


def healthy_targets() -> list[dict[str, Any]]:
    return [
        target("kubelet", "10.42.1.10:10250"),
        target("kubelet", "10.42.2.20:10250"),
        target("dcgm-exporter", "10.42.2.31:9400"),
        target(
            "kube-system/cni-metrics-helper", "10.42.1.44:61681", pool="podMonitor/kube-system/cni-metrics-helper/0"
        ),
        target("node-exporter", "10.42.1.10:9100"),
    ]


def targets_document(active: list[dict[str, Any]]) -> dict[str, Any]:
    return {"status": "success", "data": {"activeTargets": active, "droppedTargets": [], "droppedTargetCounts": {}}}


def json_response(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/json")


def loki_streams(lines: list[str]) -> dict[str, Any]:
    """A Loki query_range answer (resultType streams) holding ``lines``."""
    stream = {
        "stream": {"job": "fluent-bit", "namespace": NS, "pod": f"log-probe-{RUN_ID}-x2k9d", "container": "probe"},
        "values": [[str(1740830400000000000 + i), line] for i, line in enumerate(lines)],
    }
    return {
        "status": "success",
        "data": {"resultType": "streams", "result": [stream] if lines else [], "stats": {}},
    }


class Services:
    """Proxy handlers standing in for Prometheus, Grafana, Alertmanager and Loki; tests change their state."""

    def __init__(self, api: FakeKubeApi, *, without: tuple[str, ...] = ()) -> None:
        self.prometheus_status = 200
        self.targets = healthy_targets()
        self.grafana_database = "ok"
        self.loki_lines: list[str] = [f'{{"log":"MLPLAT_LOG_PROBE {RUN_ID}"}}']
        self.loki_queries: list[dict[str, str]] = []
        handlers = {
            endpoints.PROMETHEUS: self.prometheus,
            endpoints.ALERTMANAGER: self.alertmanager,
            endpoints.GRAFANA: self.grafana,
            endpoints.LOKI: self.loki,
        }
        for ref, handler in handlers.items():
            if ref.name not in without:  # a Service without endpoints: the API server answers for it
                api.serve_proxy(ref.namespace, ref.name, ref.port, handler)

    def prometheus(self, path: str, query: dict[str, str]) -> Response:
        if path == "/-/ready":
            if self.prometheus_status != 200:
                return Response("Service Unavailable", status=self.prometheus_status)
            return Response("Prometheus Server is Ready.\n", status=200)
        if path == "/api/v1/targets":
            return json_response(targets_document(self.targets))
        return Response("404 page not found\n", status=404)

    def alertmanager(self, path: str, query: dict[str, str]) -> Response:
        return Response("OK", status=200) if path == "/-/ready" else Response("not found", status=404)

    def grafana(self, path: str, query: dict[str, str]) -> Response:
        if path != "/api/health":
            return Response("not found", status=404)
        ok = self.grafana_database == "ok"
        body = {"commit": "0a1b2c3", "database": self.grafana_database, "version": "13.2.0"}
        return json_response(body, 200 if ok else 503)

    def loki(self, path: str, query: dict[str, str]) -> Response:
        if path == "/ready":
            return Response("ready\n", status=200)
        if path == "/loki/api/v1/query_range":
            self.loki_queries.append(query)
            lines = self.loki_lines if RUN_ID in query.get("query", "") else []
            return json_response(loki_streams(lines))
        return Response("404 page not found\n", status=404)


# --- the gate ----------------------------------------------------------------------------------------


def gate(clock: FakeClock, *, timeout_s: float = 60.0) -> ObservabilityPhase:
    phase = ObservabilityPhase(clock=clock, sleep=clock.sleep)
    phase.timeout_s = 5
    phase.endpoint_timeout_s = timeout_s
    phase.log_probe_timeout_s = timeout_s
    return phase


def ctx(kube: KubeClient, env: Environment | None = None, *, run_id: str | None = RUN_ID) -> PhaseContext:
    outputs = {"observability": {"log_probe_run_id": run_id}} if run_id else {}
    return PhaseContext(
        env=env or eks_env(),
        workdir=REPO,
        outputs=outputs,
        adapters=fake_adapters(helm_factory=FakeHelm, kubernetes_factory=lambda: kube),
    )


def proxied(api: FakeKubeApi) -> list[str]:
    return [r.path for r in api.requests if "/proxy" in r.path]


def test_everything_up_is_ready(api: FakeKubeApi, kube: KubeClient) -> None:
    put_ready_workloads(api)
    put_probe_job(api)
    services = Services(api)
    clock = FakeClock()
    result = gate(clock).check(ctx(kube))
    assert result.ok, result
    for part in ("Prometheus ready", "kubelet 2 up", "DCGM exporter 1 up", "CNI metrics helper", "Grafana healthy"):
        assert part in result.summary
    assert f"log line of Job log-probe-{RUN_ID} found in Loki" in result.summary
    assert services.loki_queries[0]["query"] == f'{{namespace="{NS}"}} |= "MLPLAT_LOG_PROBE {RUN_ID}"'
    paths = proxied(api)
    for path in (
        "/api/v1/namespaces/observability/services/kps-prometheus:9090/proxy/-/ready",
        "/api/v1/namespaces/observability/services/kps-prometheus:9090/proxy/api/v1/targets",
        "/api/v1/namespaces/observability/services/grafana:80/proxy/api/health",
        "/api/v1/namespaces/observability/services/kps-alertmanager:9093/proxy/-/ready",
        "/api/v1/namespaces/observability/services/loki:3100/proxy/ready",
        "/api/v1/namespaces/observability/services/loki:3100/proxy/loki/api/v1/query_range",
    ):
        assert path in paths
    assert clock.slept == []  # nothing had to be waited for


def test_a_target_down_is_named_with_its_last_error(api: FakeKubeApi, kube: KubeClient) -> None:
    put_ready_workloads(api)
    put_probe_job(api)
    services = Services(api)
    services.targets = [
        t
        if t["labels"]["job"] != "dcgm-exporter"
        else target(
            "dcgm-exporter",
            "10.42.2.31:9400",
            health="down",
            error='Get "http://10.42.2.31:9400/metrics": dial tcp: connection refused',
        )
        for t in healthy_targets()
    ]
    clock = FakeClock()
    result = gate(clock, timeout_s=30).check(ctx(kube))
    assert not result.ok
    assert "Prometheus targets not up: DCGM exporter" in result.summary
    assert "not ready after 30s" in result.summary
    assert "http://10.42.2.31:9400/metrics is down" in result.diagnosis
    assert "connection refused" in result.diagnosis
    assert "kubectl -n observability port-forward svc/kps-prometheus 9090" in result.diagnosis
    assert sum(clock.slept) >= 30  # it waited (the first scrape may be late) before giving up


def test_a_missing_monitor_is_reported(api: FakeKubeApi, kube: KubeClient) -> None:
    put_ready_workloads(api)
    put_probe_job(api)
    services = Services(api)
    services.targets = [t for t in healthy_targets() if "cni-metrics-helper" not in t["labels"]["job"]]
    result = gate(FakeClock(), timeout_s=10).check(ctx(kube))
    assert not result.ok
    assert "no active scrape target for the CNI metrics helper (PodMonitor)" in result.diagnosis
    assert "kubectl get servicemonitors,podmonitors -A" in result.diagnosis


def test_a_target_that_comes_up_while_waiting_passes(api: FakeKubeApi, kube: KubeClient) -> None:
    put_ready_workloads(api)
    put_probe_job(api)
    services = Services(api)
    services.targets = [target("kubelet", "10.42.1.10:10250", health="unknown"), *healthy_targets()[2:]]
    clock = FakeClock()

    def sleep(seconds: float) -> None:  # the first scrape happens while the gate waits
        services.targets = healthy_targets()
        clock.sleep(seconds)

    phase = gate(clock)
    phase.sleep = sleep
    result = phase.check(ctx(kube))
    assert result.ok, result
    assert len(clock.slept) == 1


def test_loki_never_returning_the_line_times_out_with_the_query(api: FakeKubeApi, kube: KubeClient) -> None:
    put_ready_workloads(api)
    put_probe_job(api)
    services = Services(api)
    services.loki_lines = []
    clock = FakeClock()
    result = gate(clock, timeout_s=120).check(ctx(kube))
    assert not result.ok
    assert f"not ready after 2m00s: the log line of Job log-probe-{RUN_ID} is not in Loki yet" in result.summary
    assert f'query: {{namespace="observability"}} |= "MLPLAT_LOG_PROBE {RUN_ID}"' in result.diagnosis
    assert "kubectl -n observability logs daemonset/fluent-bit" in result.diagnosis
    assert sum(clock.slept) >= 120 and len(services.loki_queries) >= 3  # polled, with backoff, until the deadline
    assert "Prometheus ready" not in result.summary  # only the failure is summarised


def test_a_line_of_another_run_does_not_count(api: FakeKubeApi, kube: KubeClient) -> None:
    put_ready_workloads(api)
    put_probe_job(api, "r20250301115500")
    Services(api)  # Loki holds the line of RUN_ID only
    result = gate(FakeClock(), timeout_s=10).check(ctx(kube, run_id="r20250301115500"))
    assert not result.ok and "log-probe-r20250301115500 is not in Loki" in result.summary


def test_prometheus_503_is_not_ready(api: FakeKubeApi, kube: KubeClient) -> None:
    put_ready_workloads(api)
    put_probe_job(api)
    services = Services(api)
    services.prometheus_status = 503
    result = gate(FakeClock(), timeout_s=20).check(ctx(kube))
    assert not result.ok
    assert "Prometheus is not ready: kps-prometheus:9090/-/ready answered HTTP 503" in result.summary
    assert "kubectl -n observability logs statefulset/prometheus-kps-prometheus -c prometheus" in result.diagnosis


def test_unhealthy_grafana_and_a_service_without_endpoints(api: FakeKubeApi, kube: KubeClient) -> None:
    put_ready_workloads(api)
    put_probe_job(api)
    services = Services(api, without=("kps-alertmanager",))
    services.grafana_database = "failing"
    result = gate(FakeClock(), timeout_s=10).check(ctx(kube))
    assert not result.ok
    assert "Grafana is not healthy: /api/health answered HTTP 503, database failing" in result.summary
    assert "Alertmanager: Kubernetes API: GET kps-alertmanager.observability:9093/-/ready failed: 503" in result.summary
    assert "kubectl -n observability get endpoints kps-alertmanager" in result.diagnosis


def test_workloads_not_rolled_out_stop_the_gate_before_the_endpoints(api: FakeKubeApi, kube: KubeClient) -> None:
    put_ready_workloads(api)
    api.put(in_ns(b.statefulset("loki", replicas=1, ready=0, updated=0)))
    Services(api)
    phase = gate(FakeClock())
    phase.timeout_s = 1
    result = phase.check(ctx(kube))
    assert not result.ok
    assert "StatefulSet observability/loki" in result.summary
    assert proxied(api) == []


def test_without_gpu_nodes_the_dcgm_exporter_is_not_required(api: FakeKubeApi, kube: KubeClient) -> None:
    put_ready_workloads(api, gpu=False)
    put_probe_job(api)
    services = Services(api)
    services.targets = [t for t in healthy_targets() if t["labels"]["job"] != "dcgm-exporter"]
    result = gate(FakeClock()).check(ctx(kube))
    assert result.ok, result
    assert "no GPU nodes: DCGM exporter not checked" in result.summary
    assert not [r for r in api.requests if "dcgm-exporter" in r.query.get("fieldSelector", "")]


def test_with_fluentd_the_gate_waits_for_its_daemonset(api: FakeKubeApi, kube: KubeClient) -> None:
    put_ready_workloads(api, shipper="fluent-bit")  # the wrong shipper is running
    put_probe_job(api)
    Services(api)
    phase = gate(FakeClock())
    phase.timeout_s = 1
    result = phase.check(ctx(kube, eks_env(log_shipper="fluentd")))
    assert not result.ok and "DaemonSet observability/fluentd" in result.summary


def test_a_failed_probe_job_is_reported(api: FakeKubeApi, kube: KubeClient) -> None:
    put_ready_workloads(api)
    put_probe_job(
        api, failed=("DeadlineExceeded", "Job was active longer than specified deadline"), active=0, failures=1
    )
    Services(api)
    result = gate(FakeClock()).check(ctx(kube))
    assert not result.ok
    assert f"log probe Job observability/log-probe-{RUN_ID} did not complete" in result.summary
    assert "DeadlineExceeded" in result.summary


def test_without_a_recorded_run_id_the_probe_is_not_ready(api: FakeKubeApi, kube: KubeClient) -> None:
    put_ready_workloads(api)
    Services(api)
    result = gate(FakeClock()).check(ctx(kube, run_id=None))
    assert not result.ok and "no log probe was started" in result.summary
    assert "mlplat up --env local --only observability" in result.diagnosis


def test_status_probes_once_without_the_log_probe(api: FakeKubeApi, kube: KubeClient) -> None:
    services = Services(api)
    api.put(b.node("ip-10-42-1-10.ec2.internal"))
    clock = FakeClock()
    assert gate(clock).status(ctx(kube)).ok
    services.prometheus_status = 503
    result = gate(clock).status(ctx(kube))
    assert not result.ok and "HTTP 503" in result.summary
    assert clock.slept == [] and services.loki_queries == []
    assert not [r for r in api.requests if r.path.startswith("/apis/apps/")]  # no rollout waits


def test_judge_targets_reads_the_prometheus_format() -> None:
    groups = [TargetGroup("kubelet", "kubelet"), TargetGroup("CNI", "cni-metrics-helper")]
    assert judge_targets(targets_document(healthy_targets()), groups).ok
    assert not judge_targets({"status": "error", "error": "boom"}, groups).ok
    assert TargetGroup("CNI", "cni-metrics-helper").matches("kube-system/cni-metrics-helper")
    assert TargetGroup("CNI", "cni-metrics-helper").matches("kube-system/mlplat-observability-cni-metrics-helper")
    assert not TargetGroup("kubelet", "kubelet").matches("kubelet-extra")


def test_loki_has_line_reads_streams() -> None:
    assert loki_has_line(loki_streams(["a", "x MLPLAT_LOG_PROBE r1 y"]), "MLPLAT_LOG_PROBE r1")
    assert not loki_has_line(loki_streams(["MLPLAT_LOG_PROBE r2"]), "MLPLAT_LOG_PROBE r1")
    assert not loki_has_line({"status": "error"}, "x")
    assert loki_query("r1") == '{namespace="observability"} |= "MLPLAT_LOG_PROBE r1"'


def test_the_factory_builds_the_phase() -> None:
    phase = observability_phase()
    assert isinstance(phase, ObservabilityPhase) and phase.name == "observability"
    assert phase.release_phase == "observability"
