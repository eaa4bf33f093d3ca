"""The observability releases: catalog entries, values files, the values the phase computes, the names
the gate relies on (eksctl_ml.releases.endpoints), and the prometheus-adapter rule (run by promtool).

Upstream charts cannot be pulled offline, so most checks are on our side of the contract: every key
path our values files set is one the pinned chart's values.yaml declares (UPSTREAM_KEYS, transcribed
from the chart sources at the pinned tags: kube-prometheus-stack-88.5.3, grafana-12.11.1, loki-18.11.0,
fluent-bit-0.58.1, fluentd-0.6.0, dcgm-exporter-4.8.2, prometheus-adapter-5.3.0). Where the charts
themselves are at hand (``MLPLAT_UPSTREAM_CHARTS``: a folder with each chart unpacked under its chart
name, dependencies in its charts/ folder), the real helm renders them with the merged values and the
rendered objects are checked too.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from eksctl_ml.config.loader import Environment
from eksctl_ml.engine.phase import PhaseContext
from eksctl_ml.phases.observability import CORE_ROLLOUTS, DCGM_DAEMONSET, IRSA_ANNOTATION, ObservabilityPhase
from eksctl_ml.releases import endpoints
from eksctl_ml.releases.catalog import Catalog, Release, load_catalog
from eksctl_ml.releases.service import install_phase
from eksctl_ml.releases.values import deep_merge, env_values, release_values
from tests.charts.chartlib import run_helm
from tests.fakes.adapters import FakeHelm, fake_adapters
from tests.helm.conftest import REPO, with_config

BUCKET = "mlplat-dev-models-123456789012"
ROLE = "arn:aws:iam::123456789012:role/mlplat-dev-log-shipping"
OUTPUTS = {"storage": {"model_bucket_name": BUCKET, "log_shipping_role_arn": ROLE}}
OBSERVABILITY = [
    "kube-prometheus-stack",
    "loki",
    "fluent-bit",
    "fluentd",
    "dcgm-exporter",
    "prometheus-adapter",
    "mlplat-observability",
]

# Key paths (dotted; a list counts as a leaf) the pinned upstream charts declare in their values.yaml,
# for every key our values files set. A key outside this list is a typo or a key of another chart
# version: helm would silently ignore it.
UPSTREAM_KEYS: dict[str, set[str]] = {
    "kube-prometheus-stack": {
        "fullnameOverride",
        "kubeControllerManager.enabled",
        "kubeScheduler.enabled",
        "kubeEtcd.enabled",
        "kubeProxy.enabled",
        "defaultRules.rules.etcd",
        "defaultRules.rules.kubeControllerManager",
        "defaultRules.rules.kubeSchedulerAlerting",
        "defaultRules.rules.kubeSchedulerRecording",
        "defaultRules.rules.kubeProxy",
        "defaultRules.rules.windows",
        "windowsMonitoring.enabled",
        "prometheusOperator.nodeSelector",
        "prometheusOperator.resources",
        "prometheusOperator.admissionWebhooks.patch.nodeSelector",
        "prometheusOperator.prometheusConfigReloader.resources",
        "prometheus.prometheusSpec.serviceMonitorSelectorNilUsesHelmValues",
        "prometheus.prometheusSpec.podMonitorSelectorNilUsesHelmValues",
        "prometheus.prometheusSpec.ruleSelectorNilUsesHelmValues",
        "prometheus.prometheusSpec.probeSelectorNilUsesHelmValues",
        "prometheus.prometheusSpec.scrapeConfigSelectorNilUsesHelmValues",
        "prometheus.prometheusSpec.retention",
        "prometheus.prometheusSpec.retentionSize",
        "prometheus.prometheusSpec.externalLabels",
        "prometheus.prometheusSpec.replicas",
        "prometheus.prometheusSpec.nodeSelector",
        "prometheus.prometheusSpec.resources",
        "prometheus.prometheusSpec.storageSpec",
        "alertmanager.alertmanagerSpec.useExistingSecret",
        "alertmanager.alertmanagerSpec.configSecret",
        "alertmanager.alertmanagerSpec.secrets",
        "alertmanager.alertmanagerSpec.replicas",
        "alertmanager.alertmanagerSpec.retention",
        "alertmanager.alertmanagerSpec.nodeSelector",
        "alertmanager.alertmanagerSpec.resources",
        "alertmanager.alertmanagerSpec.storage",
        # grafana.* is the grafana-community chart 12.11.1 (fullnameOverride is read by its helpers)
        "grafana.fullnameOverride",
        "grafana.admin.existingSecret",
        "grafana.admin.userKey",
        "grafana.admin.passwordKey",
        "grafana.persistence.enabled",
        "grafana.sidecar.dashboards.enabled",
        "grafana.sidecar.dashboards.label",
        "grafana.sidecar.dashboards.labelValue",
        "grafana.sidecar.dashboards.searchNamespace",
        "grafana.sidecar.datasources.enabled",
        "grafana.additionalDataSources",
        "grafana.testFramework.enabled",
        "grafana.nodeSelector",
        "grafana.resources",
        "kube-state-metrics.nodeSelector",
        "kube-state-metrics.resources",
        "prometheus-node-exporter.tolerations",
        "prometheus-node-exporter.resources",
    },
    "loki": {
        "fullnameOverride",
        "deploymentMode",
        "serviceAccount.create",
        "serviceAccount.name",
        "serviceAccount.annotations",
        "loki.auth_enabled",
        "loki.commonConfig.replication_factor",
        "loki.storage.type",
        "loki.storage.use_thanos_objstore",
        "loki.storage.object_store.type",
        "loki.storage.object_store.storage_prefix",
        "loki.storage.object_store.s3.region",
        "loki.storage.bucketNames.chunks",
        "loki.storage.bucketNames.ruler",
        "loki.storage.bucketNames.admin",
        "loki.schemaConfig.configs",
        "loki.limits_config.retention_period",
        "loki.limits_config.reject_old_samples",
        "loki.limits_config.reject_old_samples_max_age",
        "loki.limits_config.max_cache_freshness_per_query",
        "loki.limits_config.split_queries_by_interval",
        "loki.limits_config.query_timeout",
        "loki.limits_config.volume_enabled",
        "loki.compactor.retention_enabled",
        "loki.compactor.delete_request_store",
        "loki.compactor.working_directory",
        "loki.analytics.reporting_enabled",
        "singleBinary.replicas",
        "singleBinary.nodeSelector",
        "singleBinary.resources",
        "singleBinary.persistence.enabled",
        "singleBinary.persistence.storageClass",
        "singleBinary.persistence.size",
        "write.replicas",
        "read.replicas",
        "backend.replicas",
        "gateway.enabled",
        "chunksCache.enabled",
        "resultsCache.enabled",
        "lokiCanary.enabled",
        "test.enabled",
        "monitoring.serviceMonitor.enabled",
        "monitoring.selfMonitoring.enabled",
        "ruler.enabled",
        "sidecar.rules.enabled",
    },
    "fluent-bit": {
        "fullnameOverride",
        "kind",
        "tolerations",
        "priorityClassName",
        "securityContext",
        "podSecurityContext",
        "resources",
        "serviceMonitor.enabled",
        "testFramework.enabled",
        "daemonSetVolumes",
        "daemonSetVolumeMounts",
        "config.inputs",
        "config.filters",
        "config.outputs",
    },
    "fluentd": {
        "fullnameOverride",
        "kind",
        "image.repository",
        "image.tag",
        "variant",
        "variantVersion",
        "plugins",
        "tolerations",
        "priorityClassName",
        "securityContext",
        "podSecurityContext",
        "resources",
        "podSecurityPolicy.enabled",
        "mountVarLogDirectory",
        "mountDockerContainersDirectory",
        "metrics.serviceMonitor.enabled",
        "metrics.serviceMonitor.additionalLabels",
        "dashboards.enabled",
        "fileConfigs.04_outputs.conf",
    },
    "dcgm-exporter": {
        "fullnameOverride",
        "nodeSelector",
        "tolerations",
        "serviceMonitor.enabled",
        "serviceMonitor.interval",
        "resources",
    },
    "prometheus-adapter": {
        "fullnameOverride",
        "prometheus.url",
        "prometheus.port",
        "rules.default",
        "rules.custom",
        "nodeSelector",
        "resources",
    },
}
# Values whose content is a free-form mapping of the chart (resources, selectors, labels...): the
# check stops at these keys.
OPAQUE = re.compile(
    r"(^|\.)(resources|nodeSelector|externalLabels|storageSpec|alertmanagerSpec\.storage|annotations|securityContext|"
    r"podSecurityContext|additionalLabels)$"
)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _leaf_paths(data: dict[str, Any], prefix: str = "") -> set[str]:
    paths: set[str] = set()
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and not OPAQUE.search(path):
            paths |= _leaf_paths(value, f"{path}.")
        else:
            paths.add(path)
    return paths


def _ctx(env: Environment, outputs: dict[str, Any] | None = None) -> PhaseContext:
    return PhaseContext(
        env=env, workdir=REPO, adapters=fake_adapters(), outputs=outputs if outputs is not None else OUTPUTS
    )


def _merged(release: Release, env: Environment, outputs: dict[str, Any] | None = None) -> dict[str, Any]:
    """The values `apply` passes for ``release``: files, env values, computed values."""
    computed = ObservabilityPhase().computed_values(_ctx(env, outputs))
    extra = deep_merge(env_values(release, env), computed.get(release.name, {}))
    return release_values(release, env.name, extra)


# --- catalog ---------------------------------------------------------------------------------------


def test_observability_releases_in_install_order(catalog: Catalog, local_env: Environment) -> None:
    names = [r.name for r in catalog.ordered() if r.phase == "observability"]
    assert names == OBSERVABILITY  # CRDs (kube-prometheus-stack) first, mlplat's own chart last
    for release in catalog.releases:
        if release.phase == "observability":
            assert release.namespace == endpoints.OBSERVABILITY_NAMESPACE, release.name
            assert (release.values_dir() / "values.yaml").is_file(), release.name
    own = catalog.get("mlplat-observability")
    assert own.local and own.path == "charts/mlplat-observability" and own.version == "0.1.0"


def test_pinned_upstream_versions(catalog: Catalog) -> None:
    pins = {r.name: (r.repo, r.version) for r in catalog.releases if r.phase == "observability" and not r.local}
    assert pins == {
        "kube-prometheus-stack": ("https://prometheus-community.github.io/helm-charts", "88.5.3"),
        "loki": ("https://grafana-community.github.io/helm-charts", "18.11.0"),
        "fluent-bit": ("https://fluent.github.io/helm-charts", "0.58.1"),
        "fluentd": ("https://fluent.github.io/helm-charts", "0.6.0"),
        "dcgm-exporter": ("https://nvidia.github.io/dcgm-exporter/helm-charts", "4.8.2"),
        "prometheus-adapter": ("https://prometheus-community.github.io/helm-charts", "5.3.0"),
    }
    for name, (_repo, version) in pins.items():  # the values file names the version it was checked against
        head = (REPO / "helm-values" / name / "values.yaml").read_text().splitlines()[0]
        assert f"chart {name} {version}" in head, (name, head)


@pytest.mark.parametrize(("shipper", "installed"), [("fluent-bit", "fluent-bit"), ("fluentd", "fluentd")])
def test_the_log_shipper_switch_picks_one_release(
    catalog: Catalog, local_env: Environment, shipper: str, installed: str
) -> None:
    env = with_config(local_env, observability={"log_shipper": shipper})
    names = [r.name for r in catalog.for_phase("observability", env)]
    other = {"fluent-bit", "fluentd"} - {installed}
    assert installed in names and not other & set(names)
    assert names == [n for n in OBSERVABILITY if n not in other]
    helm = FakeHelm()
    install_phase(catalog, "observability", env, helm, ObservabilityPhase().computed_values(_ctx(env)))
    assert [name for op, name in helm.calls if op == "upgrade_install"] == names


# --- values files ----------------------------------------------------------------------------------


@pytest.mark.parametrize("release", sorted(UPSTREAM_KEYS))
def test_values_files_only_set_keys_the_pinned_chart_declares(release: str) -> None:
    data = yaml.safe_load((REPO / "helm-values" / release / "values.yaml").read_text())
    unknown = _leaf_paths(data) - UPSTREAM_KEYS[release]
    assert not unknown, f"helm-values/{release}/values.yaml sets keys the pinned chart does not declare: {unknown}"


def test_leaf_paths_catch_a_typo() -> None:
    # the check above must be able to fail: a misspelt key is reported
    assert _leaf_paths({"grafana": {"admin": {"existingSecrett": "x"}}}) - UPSTREAM_KEYS["kube-prometheus-stack"] == {
        "grafana.admin.existingSecrett"
    }


def test_names_agree_with_endpoints(catalog: Catalog, local_env: Environment) -> None:
    kps = _merged(catalog.get("kube-prometheus-stack"), local_env)
    # the chart names Services "<fullname>-prometheus" / "<fullname>-alertmanager" on ports 9090 / 9093
    assert f"{kps['fullnameOverride']}-prometheus" == endpoints.PROMETHEUS.name and endpoints.PROMETHEUS.port == 9090
    assert f"{kps['fullnameOverride']}-alertmanager" == endpoints.ALERTMANAGER.name
    assert endpoints.ALERTMANAGER.port == 9093
    assert kps["grafana"]["fullnameOverride"] == endpoints.GRAFANA.name and endpoints.GRAFANA.port == 80
    spec = kps["alertmanager"]["alertmanagerSpec"]
    assert spec["configSecret"] == endpoints.ALERTMANAGER_CONFIG_SECRET
    assert spec["secrets"] == [endpoints.ALERTMANAGER_RECEIVERS_SECRET]
    assert kps["grafana"]["admin"] == {
        "existingSecret": endpoints.GRAFANA_ADMIN_SECRET,
        "userKey": "admin-user",
        "passwordKey": "admin-password",
    }
    loki_source = kps["grafana"]["additionalDataSources"][0]
    assert loki_source["type"] == "loki"
    assert loki_source["url"] == f"http://{endpoints.LOKI.name}.{endpoints.LOKI.namespace}.svc:{endpoints.LOKI.port}"

    loki = _merged(catalog.get("loki"), local_env)
    assert loki["fullnameOverride"] == endpoints.LOKI.name and endpoints.LOKI.port == 3100
    assert ("StatefulSet", loki["fullnameOverride"]) in CORE_ROLLOUTS

    adapter = _merged(catalog.get("prometheus-adapter"), local_env)
    prom = endpoints.PROMETHEUS
    assert adapter["prometheus"] == {"url": f"http://{prom.name}.{prom.namespace}.svc", "port": prom.port}
    assert [rule["name"]["as"] for rule in adapter["rules"]["custom"]] == [endpoints.TRITON_QUEUE_METRIC]

    loki_host = f"{endpoints.LOKI.name}.{endpoints.LOKI.namespace}.svc.cluster.local"
    outputs = _merged(catalog.get("fluent-bit"), local_env)["config"]["outputs"]
    assert outputs.count(f"Host                   {loki_host}") == 2
    assert outputs.count(f"Port                   {endpoints.LOKI.port}") == 2
    fluentd = _merged(catalog.get("fluentd"), local_env)["fileConfigs"]["04_outputs.conf"]
    assert f'url "http://{loki_host}:{endpoints.LOKI.port}"' in fluentd

    dcgm = _merged(catalog.get("dcgm-exporter"), local_env)
    assert dcgm["fullnameOverride"] == DCGM_DAEMONSET


def test_loki_uses_the_irsa_service_account_and_the_policy_prefix(catalog: Catalog, local_env: Environment) -> None:
    loki = _merged(catalog.get("loki"), local_env)
    # terraform/stacks/storage: module log_shipping_irsa trusts service_accounts = ["observability:loki"]
    stack = (REPO / "terraform" / "stacks" / "storage" / "main.tf").read_text()
    assert f'"{endpoints.OBSERVABILITY_NAMESPACE}:{loki["serviceAccount"]["name"]}"' in stack
    assert loki["serviceAccount"]["annotations"] == {IRSA_ANNOTATION: ROLE}
    # the IAM policy allows <bucket>/<log_prefix>* with log_prefix = "loki/"; Thanos' prefix joins with "/"
    assert re.search(r'log_prefix\s*=\s*"loki/"', stack)
    store = loki["loki"]["storage"]
    assert store["use_thanos_objstore"] is True and store["object_store"]["storage_prefix"] + "/" == "loki/"
    assert store["bucketNames"] == {"chunks": BUCKET, "ruler": BUCKET, "admin": BUCKET}
    assert loki["loki"]["auth_enabled"] is False
    assert loki["lokiCanary"]["enabled"] is False and loki["test"]["enabled"] is False


def test_computed_values_follow_the_env(catalog: Catalog, local_env: Environment) -> None:
    env = with_config(
        local_env,
        observability={"prometheus_retention_days": 30, "prometheus_storage_gib": 200, "loki_retention_days": 7},
    )
    env = with_config(env, aws={"region": "eu-west-1"})
    kps = _merged(catalog.get("kube-prometheus-stack"), env)["prometheus"]["prometheusSpec"]
    assert kps["retention"] == "30d"
    assert kps["retentionSize"] == "170GB"
    claim = kps["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim["resources"]["requests"]["storage"] == "200Gi"
    assert claim["storageClassName"] == "gp3" and claim["accessModes"] == ["ReadWriteOnce"]  # from the file
    assert kps["externalLabels"] == {"cluster": env.config.cluster.name}
    loki = _merged(catalog.get("loki"), env)["loki"]
    assert loki["limits_config"]["retention_period"] == "168h"
    assert loki["limits_config"]["reject_old_samples"] is True  # merged, not replaced
    assert loki["storage"]["object_store"] == {"type": "s3", "storage_prefix": "loki", "s3": {"region": "eu-west-1"}}


def test_without_storage_outputs_the_bucket_comes_from_the_config(catalog: Catalog, local_env: Environment) -> None:
    loki = _merged(catalog.get("loki"), local_env, outputs={})
    assert loki["loki"]["storage"]["bucketNames"]["chunks"] == local_env.config.model_repository.s3_bucket
    assert "annotations" not in loki["serviceAccount"]  # no role recorded: apply refuses (tests/phases)


def test_alerting_settings_reach_the_project_chart(catalog: Catalog, local_env: Environment) -> None:
    quiet = _merged(catalog.get("mlplat-observability"), local_env)
    assert quiet["cluster"] == local_env.config.cluster.name
    assert quiet["alerting"] == {"slackChannel": "", "pagerduty": False, "webhookUrl": ""}
    cfg = local_env.config
    alerting = cfg.observability.alerting.model_copy(
        update={"slack_channel": "#ml-alerts", "pagerduty": True, "webhook_url": "https://bot.example.com/hook"}
    )
    loud = with_config(local_env, observability={"alerting": alerting})
    values = _merged(catalog.get("mlplat-observability"), loud)
    assert values["alerting"] == {
        "slackChannel": "#ml-alerts",
        "pagerduty": True,
        "webhookUrl": "https://bot.example.com/hook",
    }
    assert "logProbe" not in ObservabilityPhase().computed_values(_ctx(loud))["mlplat-observability"]  # apply's


def test_placement_and_tolerations(catalog: Catalog, local_env: Environment) -> None:
    cpu = {"mlplat.io/pool": "cpu"}
    kps = _merged(catalog.get("kube-prometheus-stack"), local_env)
    for section in (
        kps["prometheus"]["prometheusSpec"],
        kps["alertmanager"]["alertmanagerSpec"],
        kps["grafana"],
        kps["prometheusOperator"],
        kps["kube-state-metrics"],
    ):
        assert section["nodeSelector"] == cpu
        assert section["resources"]["requests"] and section["resources"]["limits"]["memory"]
    assert kps["prometheus-node-exporter"]["tolerations"] == [{"operator": "Exists"}]
    assert _merged(catalog.get("loki"), local_env)["singleBinary"]["nodeSelector"] == cpu
    assert _merged(catalog.get("prometheus-adapter"), local_env)["nodeSelector"] == cpu
    dcgm = _merged(catalog.get("dcgm-exporter"), local_env)
    assert dcgm["nodeSelector"] == {"mlplat.io/pool": "gpu"}
    assert dcgm["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert dcgm["serviceMonitor"]["enabled"] is True
    for shipper in ("fluent-bit", "fluentd"):
        values = _merged(catalog.get(shipper), local_env)
        assert values["tolerations"] == [{"operator": "Exists"}], shipper  # every taint, the GPU one included
        assert values["kind"] == "DaemonSet"


def test_shippers_label_streams_alike(catalog: Catalog, local_env: Environment) -> None:
    bit = _merged(catalog.get("fluent-bit"), local_env)["config"]
    labels = re.search(r"labels\s+(job=fluent-bit, namespace=.*)", bit["outputs"])
    assert labels is not None
    keys = {part.split("=")[0].strip() for part in labels.group(1).split(",")}
    assert keys == {"job", "namespace", "pod", "container", "node"}
    assert "$kubernetes['namespace_name']" in labels.group(1)
    assert "Name                 kubernetes" in bit["filters"]  # the metadata the labels read
    fluentd = _merged(catalog.get("fluentd"), local_env)
    conf = fluentd["fileConfigs"]["04_outputs.conf"]
    label_block = re.search(r"<label>\n(.*?)</label>", conf, re.S)
    assert label_block is not None
    assert {line.split()[0] for line in label_block.group(1).strip().splitlines()} == {
        "namespace",
        "pod",
        "container",
        "node",
    }
    assert 'extra_labels {"job":"fluentd"}' in conf
    # the Loki output plugin is not in any fluentd-kubernetes-daemonset image: installed, pinned, at start
    assert fluentd["plugins"] == ["fluent-plugin-grafana-loki -v 1.2.20"]
    assert fluentd["image"] == {
        "repository": "fluent/fluentd-kubernetes-daemonset",
        "tag": "v1.19.3-debian-forward-1.1",
    }


# --- the prometheus-adapter rule, computed by the real promtool ----------------------------------------


def _adapter_query() -> str:
    data = yaml.safe_load((REPO / "helm-values" / "prometheus-adapter" / "values.yaml").read_text())
    (rule,) = data["rules"]["custom"]
    assert rule["resources"]["overrides"] == {"namespace": {"resource": "namespace"}, "pod": {"resource": "pod"}}
    assert re.fullmatch(rule["name"]["matches"], "nv_inference_queue_duration_us")
    # what the adapter substitutes for one namespace's pods, grouped per pod
    return str(
        rule["metricsQuery"]
        .replace("<<.LabelMatchers>>", 'namespace="triton",pod=~"triton-a|triton-b"')
        .replace("<<.GroupBy>>", "pod")
    )


def test_adapter_query_is_average_queue_time_per_request(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian package prometheus; .ci/run installs it)")
    rules = {"groups": [{"name": "adapter", "rules": [{"record": "triton_queue_time_us", "expr": _adapter_query()}]}]}
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules))
    # pod a: +600 requests and +1.2e6 us queue time per minute -> 2000 us per request, two models summed;
    # pod b: no request at all in the window -> 0, not NaN
    series = [
        ('nv_inference_queue_duration_us{namespace="triton",pod="triton-a",model="m1"}', "0+600000x10"),
        ('nv_inference_queue_duration_us{namespace="triton",pod="triton-a",model="m2"}', "0+600000x10"),
        ('nv_inference_request_success{namespace="triton",pod="triton-a",model="m1"}', "0+300x10"),
        ('nv_inference_request_success{namespace="triton",pod="triton-a",model="m2"}', "0+300x10"),
        ('nv_inference_queue_duration_us{namespace="triton",pod="triton-b",model="m1"}', "5000x10"),
        ('nv_inference_request_success{namespace="triton",pod="triton-b",model="m1"}', "10x10"),
    ]
    tests = {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": s, "values": v} for s, v in series],
                "promql_expr_test": [
                    {
                        "expr": "triton_queue_time_us",
                        "eval_time": "5m",
                        "exp_samples": [
                            {"labels": 'triton_queue_time_us{pod="triton-a"}', "value": 2000},
                            {"labels": 'triton_queue_time_us{pod="triton-b"}', "value": 0},
                        ],
                    }
                ],
            }
        ],
    }
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(tests))
    proc = subprocess.run([promtool, "test", "rules", "tests.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # and the test can fail: a wrong expectation is reported by promtool
    tests["tests"][0]["promql_expr_test"][0]["exp_samples"][0]["value"] = 1000  # type: ignore[index]
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(tests))
    proc = subprocess.run([promtool, "test", "rules", "tests.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode != 0


# --- the real charts, when they are at hand ----------------------------------------------------------

UPSTREAM_DIR = os.environ.get("MLPLAT_UPSTREAM_CHARTS")
needs_charts = pytest.mark.skipif(
    not UPSTREAM_DIR, reason="set MLPLAT_UPSTREAM_CHARTS to a folder of the pinned upstream charts, unpacked"
)


def _render(release: Release, values: dict[str, Any], tmp_path: Path) -> list[dict[str, Any]]:
    assert UPSTREAM_DIR
    chart = Path(UPSTREAM_DIR) / release.chart
    if not chart.is_dir():
        pytest.skip(f"{chart} is not there")
    declared = yaml.safe_load((chart / "Chart.yaml").read_text())
    assert str(declared["version"]) == release.version, f"{chart} is not the pinned {release.version}"
    values_file = tmp_path / f"{release.name}.json"
    values_file.write_text(json.dumps(values))
    result = run_helm(
        [
            "template",
            release.name,
            str(chart),
            "--namespace",
            release.namespace,
            "--kube-version",
            "1.32.0",
            "-f",
            str(values_file),
            # the CRDs kube-prometheus-stack installs first: charts render their ServiceMonitors only then
            "--api-versions",
            "monitoring.coreos.com/v1",
        ]
    )
    assert result.returncode == 0, result.output
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def _named(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d.get("kind") == kind}


@needs_charts
def test_rendered_kube_prometheus_stack(catalog: Catalog, local_env: Environment, tmp_path: Path) -> None:
    release = catalog.get("kube-prometheus-stack")
    docs = _render(release, _merged(release, local_env), tmp_path)
    services = _named(docs, "Service")
    for ref in (endpoints.PROMETHEUS, endpoints.ALERTMANAGER, endpoints.GRAFANA):
        assert ref.name in services, sorted(services)
        assert ref.port in [p["port"] for p in services[ref.name]["spec"]["ports"]]
    assert set(_named(docs, "Deployment")) >= {"kps-operator", "grafana"}
    prometheus = _named(docs, "Prometheus")["kps-prometheus"]["spec"]  # -> StatefulSet prometheus-kps-prometheus
    assert prometheus["serviceMonitorSelector"] == {} and prometheus["podMonitorSelector"] == {}
    assert prometheus["ruleSelector"] == {}
    assert prometheus["retention"] == "15d" and prometheus["nodeSelector"] == {"mlplat.io/pool": "cpu"}
    alertmanager = _named(docs, "Alertmanager")["kps-alertmanager"]["spec"]
    assert alertmanager["configSecret"] == endpoints.ALERTMANAGER_CONFIG_SECRET
    assert alertmanager["secrets"] == [endpoints.ALERTMANAGER_RECEIVERS_SECRET]
    assert "alertmanager-kps-alertmanager" not in _named(docs, "Secret")  # useExistingSecret
    grafana = _named(docs, "Deployment")["grafana"]["spec"]["template"]["spec"]
    env = {e["name"]: e.get("valueFrom", {}) for c in grafana["containers"] for e in c.get("env", [])}
    assert env["GF_SECURITY_ADMIN_PASSWORD"]["secretKeyRef"] == {"name": "grafana-admin", "key": "admin-password"}
    datasources = "".join(d.get("data", {}).get("datasource.yaml", "") for d in docs if d.get("kind") == "ConfigMap")
    assert "url: http://loki.observability.svc:3100" in datasources
    monitors = _named(docs, "ServiceMonitor")
    assert "kps-kubelet" in monitors and "kps-kube-controller-manager" not in monitors


@needs_charts
def test_rendered_loki(catalog: Catalog, local_env: Environment, tmp_path: Path) -> None:
    release = catalog.get("loki")
    docs = _render(release, _merged(release, local_env), tmp_path)
    assert endpoints.LOKI.port in [p["port"] for p in _named(docs, "Service")["loki"]["spec"]["ports"]]
    assert set(_named(docs, "StatefulSet")) == {"loki"}
    assert not [d for d in docs if d.get("kind") in ("DaemonSet", "Deployment")]  # no canary, gateway, caches
    account = _named(docs, "ServiceAccount")["loki"]
    assert account["metadata"]["annotations"][IRSA_ANNOTATION] == ROLE
    config = yaml.safe_load(_named(docs, "ConfigMap")["loki"]["data"]["config.yaml"])
    store = config["common"]["storage"]["object_store"]
    assert store["s3"]["bucket_name"] == BUCKET and store["storage_prefix"] == "loki"
    assert config["limits_config"]["retention_period"] == "336h" and config["compactor"]["retention_enabled"]
    assert config["auth_enabled"] is False
    assert "ruler" not in config and "ruler_storage" not in config  # nothing outside the loki/ prefix
    pod = _named(docs, "StatefulSet")["loki"]["spec"]["template"]["spec"]
    assert [c["name"] for c in pod["containers"]] == ["loki"] and pod["serviceAccountName"] == "loki"


@needs_charts
@pytest.mark.parametrize("shipper", ["fluent-bit", "fluentd"])
def test_rendered_shippers(catalog: Catalog, local_env: Environment, tmp_path: Path, shipper: str) -> None:
    release = catalog.get(shipper)
    docs = _render(release, _merged(release, local_env), tmp_path)
    daemonset = _named(docs, "DaemonSet")[shipper]["spec"]["template"]["spec"]
    assert daemonset["tolerations"] == [{"operator": "Exists"}]
    assert shipper in _named(docs, "ServiceMonitor")


@needs_charts
def test_rendered_dcgm_exporter_and_adapter(catalog: Catalog, local_env: Environment, tmp_path: Path) -> None:
    release = catalog.get("dcgm-exporter")
    docs = _render(release, _merged(release, local_env), tmp_path)
    pod = _named(docs, "DaemonSet")[DCGM_DAEMONSET]["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"mlplat.io/pool": "gpu"}
    assert DCGM_DAEMONSET in _named(docs, "ServiceMonitor") and DCGM_DAEMONSET in _named(docs, "Service")
    release = catalog.get("prometheus-adapter")
    docs = _render(release, _merged(release, local_env), tmp_path)
    assert "prometheus-adapter" in _named(docs, "Deployment")
    args = _named(docs, "Deployment")["prometheus-adapter"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--prometheus-url=http://kps-prometheus.observability.svc:9090" in args
    config = yaml.safe_load(_named(docs, "ConfigMap")["prometheus-adapter"]["data"]["config.yaml"])
    assert [r["name"]["as"] for r in config["rules"]] == [endpoints.TRITON_QUEUE_METRIC]


def test_claims_use_the_block_storage_class_of_the_storage_phase(catalog: Catalog, local_env: Environment) -> None:
    chart = yaml.safe_load((REPO / "charts" / "mlplat-storage" / "values.yaml").read_text())
    ebs = chart.get("ebsStorageClass")
    if not ebs:
        pytest.skip("charts/mlplat-storage renders no EBS StorageClass yet")
    assert ebs["enabled"] is True
    kps = _merged(catalog.get("kube-prometheus-stack"), local_env)
    claims = [
        kps["prometheus"]["prometheusSpec"]["storageSpec"]["volumeClaimTemplate"]["spec"],
        kps["alertmanager"]["alertmanagerSpec"]["storage"]["volumeClaimTemplate"]["spec"],
    ]
    assert [claim["storageClassName"] for claim in claims] == [ebs["name"], ebs["name"]]
    assert _merged(catalog.get("loki"), local_env)["singleBinary"]["persistence"]["storageClass"] == ebs["name"]
    storage = catalog.get("mlplat-storage")
    assert catalog.ordered().index(storage) < catalog.ordered().index(catalog.get("kube-prometheus-stack"))
