"""The observability phase: Prometheus, Alertmanager, Grafana, Loki with a log shipper, the DCGM exporter,
prometheus-adapter and mlplat's own rules, routes and dashboards (charts/mlplat-observability).

``apply`` first copies the Grafana admin and Alertmanager receiver credentials from Secrets Manager into
Kubernetes Secrets (:mod:`eksctl_ml.services.secretsync`; values never reach logs, outputs or Helm
values), then installs the catalog's ``observability`` releases in order with the values mlplat computes
(retention, volume size, bucket, IRSA role, alert routing, a fresh log-probe run id).

The gate proves the stack works, through the API server's service proxy (no port-forward): the
workloads are rolled out; Prometheus is ready and scrapes the kubelet, the DCGM exporter (when GPU
nodes exist) and the platform's CNI monitors; Grafana's database is healthy; Alertmanager and Loki are
ready; and the line the log-probe Job printed is found in Loki (it went node -> shipper -> Loki -> S3
index). ``status`` runs the endpoint checks once, without waiting and without the log probe.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eksctl_ml.adapters.kubernetes.protocol import KubernetesApiError, KubernetesClient
from eksctl_ml.adapters.prometheus.client import parse_targets
from eksctl_ml.engine.phase import CheckResult, Phase, PhaseContext, PlanResult
from eksctl_ml.errors import PhaseError
from eksctl_ml.phases.kubernetes import HelmPart, _run_id
from eksctl_ml.readiness.polling import format_duration, poll_until
from eksctl_ml.releases.endpoints import (
    ALERTMANAGER,
    ALERTMANAGER_RECEIVERS_SECRET,
    GRAFANA,
    GRAFANA_ADMIN_SECRET,
    LOKI,
    OBSERVABILITY_NAMESPACE,
    PROMETHEUS,
    ServiceRef,
)
from eksctl_ml.services.secretsync import SecretSync, delete_synced, sync_secrets

NAME = "observability"
DESCRIPTION = (
    "Prometheus, Alertmanager, Grafana, Loki + Fluent Bit (or Fluentd), DCGM exporter, prometheus-adapter; "
    "alerts and dashboards"
)
NS = OBSERVABILITY_NAMESPACE

LOG_PROBE_MARKER = "MLPLAT_LOG_PROBE"
"""charts/mlplat-observability's Job ``log-probe-<runId>`` prints ``MLPLAT_LOG_PROBE <runId>``."""
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"

# Workloads the charts create, named by the fullnameOverride values in helm-values/ (the operator names
# the Prometheus and Alertmanager StatefulSets "<kind>-<custom resource>").
CORE_ROLLOUTS: tuple[tuple[str, str], ...] = (
    ("Deployment", "kps-operator"),
    ("StatefulSet", "prometheus-kps-prometheus"),
    ("StatefulSet", "alertmanager-kps-alertmanager"),
    ("Deployment", "grafana"),
    ("StatefulSet", "loki"),
    ("Deployment", "prometheus-adapter"),
)
SHIPPER_DAEMONSETS = {"fluent-bit": "fluent-bit", "fluentd": "fluentd"}
DCGM_DAEMONSET = "dcgm-exporter"


@dataclass(frozen=True)
class TargetGroup:
    """Scrape targets the gate requires: at least one active target whose ``job`` label is ``job``
    (or ends in ``/job`` or ``-job``: a PodMonitor's job is ``<namespace>/<name>``), every one of them up."""

    what: str
    job: str

    def matches(self, job: str) -> bool:
        return job == self.job or job.endswith((f"/{self.job}", f"-{self.job}"))


KUBELET_TARGETS = TargetGroup("kubelet", "kubelet")
DCGM_TARGETS = TargetGroup("DCGM exporter", "dcgm-exporter")
CNI_TARGETS = TargetGroup("CNI metrics helper (PodMonitor)", "cni-metrics-helper")


def _kubectl_targets() -> str:
    return (
        f"kubectl -n {NS} port-forward svc/{PROMETHEUS.name} {PROMETHEUS.port} and open "
        f"http://localhost:{PROMETHEUS.port}/targets"
    )


def judge_targets(document: Any, groups: Sequence[TargetGroup]) -> CheckResult:
    """The verdict on Prometheus' ``/api/v1/targets`` answer: every group has targets and all are up."""
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, dict) or document.get("status") != "success":
        return CheckResult.not_ready("Prometheus /api/v1/targets gave an unexpected answer", str(document)[:500])
    active = parse_targets(data)
    problems: list[str] = []
    found: list[str] = []
    for group in groups:
        mine = [t for t in active if group.matches(t.job)]
        if not mine:
            problems.append(
                f"no active scrape target for the {group.what} (job {group.job!r}): is its ServiceMonitor/PodMonitor "
                f"installed and selected? kubectl get servicemonitors,podmonitors -A"
            )
            continue
        down = [t for t in mine if not t.up]
        for target in down:
            error = target.last_error or "not scraped yet"
            where = target.scrape_url or target.instance or "?"
            problems.append(f"{group.what} target {target.job or '?'} {where} is {target.health}: {error}")
        if not down:
            found.append(f"{group.what} {len(mine)} up")
    if problems:
        names = [g.what for g in groups if any(g.what in p for p in problems)]
        return CheckResult.not_ready(
            f"Prometheus targets not up: {', '.join(names)}", "\n".join([*problems, f"look: {_kubectl_targets()}"])
        )
    return CheckResult.ready(f"Prometheus targets up: {', '.join(found)}")


def loki_query(run_id: str) -> str:
    """The LogQL query that finds the probe's line (namespace label set by the log shipper)."""
    return f'{{namespace="{NS}"}} |= "{LOG_PROBE_MARKER} {run_id}"'


def loki_has_line(document: Any, needle: str) -> bool:
    """Whether a Loki ``query_range`` answer (``resultType: streams``) holds a line containing ``needle``."""
    if not isinstance(document, dict) or document.get("status") != "success":
        return False
    data = document.get("data") or {}
    for stream in data.get("result") or []:
        for value in (stream or {}).get("values") or []:
            if isinstance(value, list | tuple) and len(value) >= 2 and needle in str(value[1]):
                return True
    return False


def _observability_secrets(ctx: PhaseContext) -> list[SecretSync]:
    alerting = ctx.env.config.observability.alerting
    arns = {key: ctx.output("iam", key) for key in ("grafana_admin_secret_arn", "alertmanager_secret_arn")}
    for key, arn in arns.items():
        if not arn:
            raise PhaseError(
                f"the iam phase recorded no {key}",
                phase=NAME,
                hint=f"run `mlplat up --env {ctx.env.name} --only iam` (it creates the Secrets Manager secrets)",
            )
    receivers = str(arns["alertmanager_secret_arn"])
    needed = (("slack_api_url",) if alerting.slack_channel else ()) + (
        ("pagerduty_routing_key",) if alerting.pagerduty else ()
    )
    return [
        SecretSync(
            arn=str(arns["grafana_admin_secret_arn"]),
            namespace=NS,
            name=GRAFANA_ADMIN_SECRET,
            required_keys=("admin-user", "admin-password"),
            non_empty_keys=("admin-user", "admin-password"),
            purpose="Grafana admin credentials",
        ),
        SecretSync(
            arn=receivers,
            namespace=NS,
            name=ALERTMANAGER_RECEIVERS_SECRET,
            required_keys=("slack_api_url", "pagerduty_routing_key"),
            non_empty_keys=needed,
            purpose="Alertmanager receiver credentials",
            fix=(
                "observability.alerting in the env file uses this receiver, but Terraform only wrote a placeholder: "
                f"aws secretsmanager put-secret-value --secret-id {receivers} --secret-string file://receivers.json "
                '(a JSON object {"slack_api_url": "https://hooks.slack.com/services/...", "pagerduty_routing_key": '
                '"..."}), or turn the receiver off in observability.alerting'
            ),
        ),
    ]


class ObservabilityPhase(HelmPart):
    """Installs and proves the observability stack (see the module docstring)."""

    release_phase = "observability"
    endpoint_timeout_s = 300.0
    """How long the gate waits for each endpoint (Prometheus' first scrapes, Grafana's migrations)."""
    log_probe_timeout_s = 300.0
    """How long the gate looks for the probe's line in Loki (shipper flush + ingestion)."""
    poll_interval_s = 5.0

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        super().__init__(NAME, DESCRIPTION)
        self.clock = clock
        self.sleep = sleep

    # -- values ----------------------------------------------------------------------------------------

    def computed_values(self, ctx: PhaseContext) -> dict[str, dict[str, Any]]:
        """Values that follow from the env and the Terraform outputs (no run id: inputs() digests them)."""
        cfg = ctx.env.config
        obs = cfg.observability
        storage = ctx.outputs.get("storage", {})
        bucket = storage.get("model_bucket_name") or cfg.model_repository.s3_bucket
        loki: dict[str, Any] = {
            "loki": {
                # one bucket, everything under the prefix the log-shipping IAM policy allows (loki/)
                "storage": {
                    "bucketNames": {"chunks": bucket, "ruler": bucket, "admin": bucket},
                    "object_store": {"s3": {"region": cfg.aws.region}},
                },
                "limits_config": {"retention_period": f"{obs.loki_retention_days * 24}h"},
            }
        }
        role = storage.get("log_shipping_role_arn")
        if role:
            loki["serviceAccount"] = {"annotations": {IRSA_ANNOTATION: role}}
        alerting = obs.alerting
        return {
            "kube-prometheus-stack": {
                "prometheus": {
                    "prometheusSpec": {
                        "retention": f"{obs.prometheus_retention_days}d",
                        # delete the oldest blocks before the volume fills (Prometheus' GB are GiB)
                        "retentionSize": f"{max(1, obs.prometheus_storage_gib * 85 // 100)}GB",
                        "externalLabels": {"cluster": cfg.cluster.name},
                        "storageSpec": {
                            "volumeClaimTemplate": {
                                "spec": {"resources": {"requests": {"storage": f"{obs.prometheus_storage_gib}Gi"}}}
                            }
                        },
                    }
                }
            },
            "loki": loki,
            "mlplat-observability": {
                "cluster": cfg.cluster.name,
                # TritonNoReadyModel fires for each model the env serves that is loaded nowhere
                "alerts": {"tritonNoReadyModel": {"expectedModels": list(cfg.triton.models)}},
                "alerting": {
                    "slackChannel": alerting.slack_channel or "",
                    "pagerduty": alerting.pagerduty,
                    "webhookUrl": alerting.webhook_url or "",
                },
            },
        }

    def inputs(self, ctx: PhaseContext) -> Mapping[str, Any]:
        iam = ctx.outputs.get("iam", {})
        secrets = {key: iam.get(key) for key in ("grafana_admin_secret_arn", "alertmanager_secret_arn")}
        return {**super().inputs(ctx), "secrets": secrets}

    def plan(self, ctx: PhaseContext) -> PlanResult:
        helm = super().plan(ctx)
        secrets = f"{GRAFANA_ADMIN_SECRET}, {ALERTMANAGER_RECEIVERS_SECRET}"
        return PlanResult(helm.action, f"sync Secrets {secrets} from Secrets Manager; {helm.summary}", helm.details)

    # -- apply / destroy -------------------------------------------------------------------------------

    def apply(self, ctx: PhaseContext) -> Mapping[str, Any]:
        from eksctl_ml.releases.catalog import load_catalog
        from eksctl_ml.releases.service import install_phase

        if not ctx.outputs.get("storage", {}).get("log_shipping_role_arn"):
            # Loki reaches S3 only through its IRSA role: installing it without one makes a Loki that cannot start
            raise PhaseError(
                "the storage phase recorded no log_shipping_role_arn (the IRSA role of Loki)",
                phase=self.name,
                hint=f"run `mlplat up --env {ctx.env.name} --only storage` first",
            )
        synced = sync_secrets(
            ctx.adapters.aws, ctx.adapters.kubernetes, _observability_secrets(ctx), progress=ctx.progress
        )
        computed = self.computed_values(ctx)
        run_id = _run_id()
        computed["mlplat-observability"]["logProbe"] = {"runId": run_id}
        statuses = install_phase(load_catalog(), self.release_phase, ctx.env, ctx.adapters.helm, computed)
        for status in statuses:
            ctx.progress(f"{status.name}: revision {status.revision} {status.status}")
        return {
            "releases": {s.name: s.revision for s in statuses},
            "log_probe_run_id": run_id,
            "synced_secrets": [f"{s.namespace}/{s.name}" for s in synced],
        }

    def destroy(self, ctx: PhaseContext) -> None:
        super().destroy(ctx)
        delete_synced(
            ctx.adapters.kubernetes,
            [(NS, GRAFANA_ADMIN_SECRET), (NS, ALERTMANAGER_RECEIVERS_SECRET)],
            progress=ctx.progress,
        )

    # -- the gate --------------------------------------------------------------------------------------

    def _shipper(self, ctx: PhaseContext) -> str:
        return SHIPPER_DAEMONSETS[ctx.env.config.observability.log_shipper]

    def _rollouts(self, ctx: PhaseContext, kube: KubernetesClient, gpu_nodes: bool) -> CheckResult:
        waits = [*CORE_ROLLOUTS, ("DaemonSet", self._shipper(ctx))]
        if gpu_nodes:
            waits.append(("DaemonSet", DCGM_DAEMONSET))
        return CheckResult.all_of(
            [
                kube.wait_for_rollout(
                    kind, NS, name, timeout_s=self.timeout_s, progress=ctx.progress, cancelled=ctx.cancelled
                )
                for kind, name in waits
            ]
        )

    def _probes(self, ctx: PhaseContext, gpu_nodes: bool) -> list[tuple[str, Callable[[], CheckResult]]]:
        kube = ctx.adapters.kubernetes
        groups = [KUBELET_TARGETS, CNI_TARGETS] + ([DCGM_TARGETS] if gpu_nodes else [])

        def http_ready(what: str, ref: ServiceRef, path: str, look: str) -> Callable[[], CheckResult]:
            def probe() -> CheckResult:
                answer = kube.service_get(ref, path)
                if answer.ok:
                    return CheckResult.ready(f"{what} ready")
                return CheckResult.not_ready(
                    f"{what} is not ready: {ref.name}:{ref.port}/{path} answered HTTP {answer.status}",
                    f"{answer.text().strip()[:300]}\nlook: {look}",
                )

            return probe

        def targets() -> CheckResult:
            answer = kube.service_get(PROMETHEUS, "api/v1/targets", {"state": "active"})
            if not answer.ok:
                return CheckResult.not_ready(
                    f"Prometheus /api/v1/targets answered HTTP {answer.status}", answer.text()[:300]
                )
            try:
                document = answer.json()
            except ValueError:
                return CheckResult.not_ready("Prometheus /api/v1/targets did not answer JSON", answer.text()[:300])
            return judge_targets(document, groups)

        def grafana() -> CheckResult:
            answer = kube.service_get(GRAFANA, "api/health")
            look = f"kubectl -n {NS} logs deploy/grafana -c grafana"
            try:
                document = answer.json()  # a failing database answers 503 with the same JSON
            except ValueError:
                document = {}
            database = document.get("database") if isinstance(document, dict) else None
            if answer.ok and database == "ok":
                return CheckResult.ready(f"Grafana healthy (version {document.get('version', '?')}, database ok)")
            return CheckResult.not_ready(
                f"Grafana is not healthy: /api/health answered HTTP {answer.status}, database {database or 'unknown'}",
                f"{answer.text().strip()[:300]}\nlook: {look}",
            )

        prometheus_look = f"kubectl -n {NS} logs statefulset/prometheus-kps-prometheus -c prometheus"
        return [
            ("Prometheus", http_ready("Prometheus", PROMETHEUS, "-/ready", prometheus_look)),
            ("Prometheus targets", targets),
            ("Grafana", grafana),
            (
                "Alertmanager",
                http_ready(
                    "Alertmanager",
                    ALERTMANAGER,
                    "-/ready",
                    f"kubectl -n {NS} logs statefulset/alertmanager-kps-alertmanager -c alertmanager",
                ),
            ),
            ("Loki", http_ready("Loki", LOKI, "ready", f"kubectl -n {NS} logs statefulset/loki -c loki")),
        ]

    def _once(self, what: str, probe: Callable[[], CheckResult]) -> CheckResult:
        try:
            return probe()
        except KubernetesApiError as exc:  # the API server refused the proxy: no endpoints, RBAC...
            detail = "\n".join(part for part in (exc.detail, exc.hint or "") if part)
            return CheckResult.not_ready(f"{what}: {exc.message}", detail)

    def _poll(self, ctx: PhaseContext, what: str, probe: Callable[[], CheckResult], timeout_s: float) -> CheckResult:
        last = [CheckResult.not_ready(f"{what} not probed")]

        def step() -> tuple[bool, str]:
            last[0] = self._once(what, probe)
            return last[0].ok, last[0].summary

        settled, _ = poll_until(
            step,
            timeout_s=timeout_s,
            interval_s=self.poll_interval_s,
            max_interval_s=max(self.poll_interval_s, 15.0),
            progress=ctx.progress,
            clock=self.clock,
            sleep=self.sleep,
            cancelled=ctx.cancelled,
        )
        if settled:
            return last[0]
        return CheckResult.not_ready(
            f"not ready after {format_duration(timeout_s)}: {last[0].summary}", last[0].diagnosis
        )

    def _log_probe(self, ctx: PhaseContext) -> CheckResult:
        kube = ctx.adapters.kubernetes
        run_id = ctx.outputs.get(self.name, {}).get("log_probe_run_id")
        if not run_id:
            return CheckResult.not_ready(
                "no log probe was started (no log_probe_run_id recorded by apply)",
                f"run `mlplat up --env {ctx.env.name} --only {self.name}`: apply starts the Job log-probe-<run id>",
            )
        job = f"log-probe-{run_id}"
        done = kube.wait_job_complete(NS, job, timeout_s=self.timeout_s, progress=ctx.progress, cancelled=ctx.cancelled)
        if not done.ok:
            return CheckResult.not_ready(f"log probe Job {NS}/{job} did not complete: {done.summary}", done.diagnosis)
        query = loki_query(str(run_id))
        needle = f"{LOG_PROBE_MARKER} {run_id}"

        def found() -> CheckResult:
            answer = kube.service_get(
                LOKI, "loki/api/v1/query_range", {"query": query, "limit": "10", "direction": "backward"}
            )
            if not answer.ok:
                return CheckResult.not_ready(f"Loki query_range answered HTTP {answer.status}", answer.text()[:300])
            try:
                document = answer.json()
            except ValueError:
                return CheckResult.not_ready("Loki query_range did not answer JSON", answer.text()[:300])
            if loki_has_line(document, needle):
                return CheckResult.ready(f"log line of Job {job} found in Loki")
            return CheckResult.not_ready(f"the log line of Job {job} is not in Loki yet")

        result = self._poll(ctx, "Loki log probe", found, self.log_probe_timeout_s)
        if result.ok:
            return result
        shipper = self._shipper(ctx)
        return CheckResult.not_ready(
            result.summary,
            "\n".join(
                part
                for part in (
                    result.diagnosis,
                    f"query: {query}",
                    f"look: kubectl -n {NS} logs job/{job} (the line was printed?); "
                    f"kubectl -n {NS} logs daemonset/{shipper} (shipping errors?); "
                    f"kubectl -n {NS} logs statefulset/loki -c loki (S3/IRSA errors?)",
                )
                if part
            ),
        )

    def check(self, ctx: PhaseContext) -> CheckResult:
        kube = ctx.adapters.kubernetes
        gpu_nodes = any(node.is_gpu_pool for node in kube.nodes_summary())
        rollouts = self._rollouts(ctx, kube, gpu_nodes)
        if not rollouts.ok:
            return rollouts  # the endpoints behind them cannot answer yet
        results = [rollouts]
        results += [
            self._poll(ctx, what, probe, self.endpoint_timeout_s) for what, probe in self._probes(ctx, gpu_nodes)
        ]
        loki_ready = results[-1].ok
        if loki_ready:
            results.append(self._log_probe(ctx))
        verdict = CheckResult.all_of(results)
        if verdict.ok and not gpu_nodes:
            return CheckResult.ready(f"{verdict.summary} (no GPU nodes: DCGM exporter not checked)")
        return verdict

    def status(self, ctx: PhaseContext) -> CheckResult:
        kube = ctx.adapters.kubernetes
        gpu_nodes = any(node.is_gpu_pool for node in kube.nodes_summary())
        return CheckResult.all_of([self._once(what, probe) for what, probe in self._probes(ctx, gpu_nodes)])


def observability_phase() -> Phase:
    """The observability phase for the provision order (after storage, before triton)."""
    return ObservabilityPhase()
