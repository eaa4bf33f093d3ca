"""mlplat-observability as a chart: metadata, documentation, schema, `helm lint --strict`, and every
rendered document validated for every Kubernetes version mlplat supports (built-in kinds strictly by
kubernetes-validate, the prometheus-operator custom resources by the structure the operator needs)."""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from eksctl_ml.config import catalog
from eksctl_ml.releases import endpoints
from tests.charts.chartlib import kube_versions, render_notes, restricted_violations, run_helm, template
from tests.charts.test_charts import _leaf_keys_without_comment, validate_strict
from tests.observability.obslib import (
    CHART,
    CI_VALUES,
    NAMESPACE,
    RELEASE,
    alerting_rules,
    render_docs,
    template_files,
)

KUBE_VERSIONS = kube_versions()
VALUE_SETS: dict[str, list[Path]] = {"defaults": [], **{path.stem: [path] for path in CI_VALUES}}
CUSTOM_KINDS = {("monitoring.coreos.com/v1", "PrometheusRule"), ("monitoring.coreos.com/v1", "PodMonitor")}


def test_there_are_ci_values_files() -> None:
    assert {path.name for path in CI_VALUES} >= {"lint-values.yaml", "all-options-values.yaml", "minimal-values.yaml"}


# --- metadata and documentation ---------------------------------------------------------------------


def test_chart_metadata() -> None:
    meta = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert meta["apiVersion"] == "v2"
    assert meta["name"] == "mlplat-observability"
    assert meta["version"] == "0.1.0"
    assert meta["type"] == "application"
    assert meta["appVersion"]
    oldest = min(catalog.SUPPORTED_KUBERNETES_VERSIONS, key=lambda v: tuple(int(p) for p in v.split(".")))
    assert meta["kubeVersion"] == f">={oldest}.0-0"


def test_chart_refuses_a_kubernetes_version_mlplat_does_not_support() -> None:
    result = template(CHART, kube_version="1.29", namespace=NAMESPACE)
    assert result.returncode != 0
    assert "kubeVersion" in result.output or "incompatible" in result.output, result.output


def test_chart_has_the_expected_files_and_documents_every_value() -> None:
    for name in ("values.yaml", "values.schema.json", "README.md", ".helmignore", "templates/_helpers.tpl"):
        assert (CHART / name).is_file(), name
    readme = (CHART / "README.md").read_text()
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    for key in defaults:
        assert f"`{key}" in readme, f"README.md does not document {key}"
    for key in defaults["alerting"]:
        assert f"`{key}`" in readme or key in readme, f"README.md does not document alerting.{key}"


def test_values_yaml_is_fully_commented() -> None:
    assert _leaf_keys_without_comment((CHART / "values.yaml").read_text()) == []


def test_shared_names_match_the_endpoints_module() -> None:
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    assert defaults["alerting"]["configSecretName"] == endpoints.ALERTMANAGER_CONFIG_SECRET
    assert defaults["alerting"]["receiversSecretName"] == endpoints.ALERTMANAGER_RECEIVERS_SECRET


# --- schema ---------------------------------------------------------------------------------------------


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((CHART / "values.schema.json").read_text())
    return schema


def test_schema_is_valid_and_accepts_the_defaults_and_every_ci_file() -> None:
    schema = _schema()
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.validate(yaml.safe_load((CHART / "values.yaml").read_text()), schema)
    for path in CI_VALUES:  # helm merges ci values over the defaults; each file alone must be valid too
        merged = _merge(yaml.safe_load((CHART / "values.yaml").read_text()), yaml.safe_load(path.read_text()))
        jsonschema.validate(merged, schema)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"alerts.gpuIdle.severity": "page"}, "severity"),
        ({"alerts.gpuUtilizationSaturated.for": "30 minutes"}, "for"),
        ({"alerts.gpuUtilizationSaturated.percent": 150}, "percent"),
        ({"alerts.tritonFailureRatioHigh.ratio": 5}, "ratio"),
        ({"alerts.tritonNoReadyModel.upSelector": "{job='triton'}"}, "upSelector"),
        ({"alerts.additionalLabels": {"severity": "critical"}}, "additionalLabels"),
        ({"alerts.gpuTypo": {}}, "gpuTypo"),
        ({"alerting.slackChannel": "mlplat-alerts"}, "slackChannel"),
        ({"alerting.webhookUrl": "hooks.example.com"}, "webhookUrl"),
        ({"alerting.slackApiUrl": "https://hooks.slack.com/services/x"}, "slackApiUrl"),
        ({"logProbe.runId": "Run_1"}, "runId"),
        ({"logProbe.image.tag": "latest"}, "tag"),
        ({"logProbe.securityContext.allowPrivilegeEscalation": True}, "allowPrivilegeEscalation"),
        ({"logProbe.podSecurityContext.runAsUser": 0}, "runAsUser"),
        ({"logProbe.backoffLimit": 10}, "backoffLimit"),
        ({"cluster": "my cluster"}, "cluster"),
    ],
)
def test_schema_refuses_bad_values(values: dict[str, Any], message: str) -> None:
    result = template(CHART, values, namespace=NAMESPACE)
    assert result.returncode != 0, f"rendered although {values} is invalid"
    assert "values don't meet the specifications of the schema" in result.stderr, result.stderr
    assert message in result.stderr, result.stderr


def test_critical_temperature_must_be_above_the_warning() -> None:
    result = template(CHART, {"alerts.gpuTemperatureHigh.criticalCelsius": 80}, namespace=NAMESPACE)
    assert result.returncode != 0
    assert "criticalCelsius (80) must be greater than warningCelsius (83)" in result.stderr, result.stderr


# --- helm lint ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_lint_strict_with_each_values_set(name: str) -> None:
    args = ["lint", "--strict", str(CHART), "--namespace", NAMESPACE]
    for path in VALUE_SETS[name]:
        args += ["-f", str(path)]
    result = run_helm(args)
    assert result.returncode == 0, result.output
    assert "[WARNING]" not in result.output and "[ERROR]" not in result.output, result.output


@pytest.mark.parametrize("version", KUBE_VERSIONS)
def test_lint_strict_for_each_kubernetes_version(version: str) -> None:
    lint_values = CHART / "ci" / "lint-values.yaml"
    result = run_helm(["lint", "--strict", str(CHART), "--kube-version", version, "-f", str(lint_values)])
    assert result.returncode == 0, result.output
    assert "[WARNING]" not in result.output and "[ERROR]" not in result.output, result.output


# --- render + validation ----------------------------------------------------------------------------------


def validate_document(doc: dict[str, Any], version: str) -> None:
    """Built-in kinds: strict kubernetes-validate. The operator's kinds have no schema there (the
    validator says so, which is asserted), so their required structure is checked by hand."""
    if (doc["apiVersion"], doc["kind"]) in CUSTOM_KINDS:
        with pytest.raises(kubernetes_validate.SchemaNotFoundError):
            kubernetes_validate.validate(doc, version, strict=True)
        check_custom_resource(doc)
    else:
        validate_strict(doc, version)


_DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")
_RULE_KEYS = {"alert", "record", "expr", "for", "labels", "annotations", "keep_firing_for"}
_ENDPOINT_KEYS = {
    "port",
    "portNumber",
    "targetPort",
    "path",
    "scheme",
    "params",
    "interval",
    "scrapeTimeout",
    "honorLabels",
    "honorTimestamps",
    "relabelings",
    "metricRelabelings",
    "bearerTokenSecret",
    "basicAuth",
    "authorization",
    "oauth2",
    "tlsConfig",
    "followRedirects",
    "enableHttp2",
    "filterRunning",
    "proxyUrl",
}
_RELABEL_KEYS = {"sourceLabels", "separator", "targetLabel", "regex", "modulus", "replacement", "action"}
_RELABEL_ACTIONS = {
    "replace",
    "keep",
    "drop",
    "hashmod",
    "labelmap",
    "labeldrop",
    "labelkeep",
    "lowercase",
    "uppercase",
    "keepequal",
    "dropequal",
}


def check_custom_resource(doc: dict[str, Any]) -> None:
    """The parts of the PrometheusRule / PodMonitor CRD schemas this chart uses, with the field names
    spelled as the CRDs spell them (a typo would be dropped silently by the API server)."""
    name = f"{doc['kind']}/{doc['metadata']['name']}"
    assert set(doc) == {"apiVersion", "kind", "metadata", "spec"}, name
    assert doc["metadata"]["namespace"], name
    spec = doc["spec"]
    if doc["kind"] == "PrometheusRule":
        assert set(spec) == {"groups"}, name
        assert spec["groups"], name
        for group in spec["groups"]:
            assert set(group) <= {"name", "interval", "rules", "limit", "partial_response_strategy"}, name
            assert group["name"] and group["rules"], name
            for rule in group["rules"]:
                assert set(rule) <= _RULE_KEYS, f"{name}: {sorted(set(rule) - _RULE_KEYS)}"
                assert isinstance(rule["expr"], str) and rule["expr"].strip(), name
                if "for" in rule:
                    assert _DURATION.match(rule["for"]), f"{name}: for {rule['for']!r}"
                assert all(isinstance(v, str) for v in rule.get("labels", {}).values()), name
                assert all(isinstance(v, str) for v in rule.get("annotations", {}).values()), name
    else:
        assert set(spec) <= {"jobLabel", "namespaceSelector", "selector", "podMetricsEndpoints", "podTargetLabels"}
        assert spec["selector"]["matchLabels"], name
        assert spec["namespaceSelector"]["matchNames"], name
        assert spec["podMetricsEndpoints"], name
        for endpoint in spec["podMetricsEndpoints"]:
            assert set(endpoint) <= _ENDPOINT_KEYS, f"{name}: {sorted(set(endpoint) - _ENDPOINT_KEYS)}"
            assert _DURATION.match(endpoint["interval"]), name
            for relabel in endpoint.get("relabelings", []):
                assert set(relabel) <= _RELABEL_KEYS, f"{name}: {sorted(set(relabel) - _RELABEL_KEYS)}"
                assert relabel["action"] in _RELABEL_ACTIONS, name


@pytest.mark.parametrize("version", KUBE_VERSIONS)
def test_rendered_for_each_kubernetes_version_is_valid(version: str) -> None:
    """`helm template --kube-version V` with a real run's values; every document valid for V."""
    docs = render_docs([CHART / "ci" / "lint-values.yaml"], kube_version=version)
    assert {doc["kind"] for doc in docs} == {"PrometheusRule", "Secret", "ConfigMap", "PodMonitor", "Job"}
    for doc in docs:
        validate_document(doc, version)


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_every_values_set_is_valid_for_every_kubernetes_version(name: str) -> None:
    # the templates do not depend on the Kubernetes version: one render, validated against each
    docs = render_docs(VALUE_SETS[name])
    assert docs
    for version in KUBE_VERSIONS:
        for doc in docs:
            validate_document(doc, version)


def test_validation_of_custom_resources_can_fail() -> None:
    # guards the hand-written checks above: a misspelt field must be caught
    docs = render_docs()
    rule = next(doc for doc in docs if doc["kind"] == "PrometheusRule")
    rule["spec"]["groups"][0]["rules"][0]["expresion"] = "up"
    with pytest.raises(AssertionError):
        check_custom_resource(rule)
    monitor = next(doc for doc in docs if doc["kind"] == "PodMonitor")
    monitor["spec"]["podMetricsEndpoints"][0]["intervall"] = "30s"
    with pytest.raises(AssertionError):
        check_custom_resource(monitor)


@pytest.mark.parametrize(
    ("name", "kinds"),
    [
        ("defaults", {"PrometheusRule": 4, "Secret": 1, "ConfigMap": 3, "PodMonitor": 2}),
        ("lint-values", {"PrometheusRule": 4, "Secret": 1, "ConfigMap": 3, "PodMonitor": 2, "Job": 1}),
        ("all-options-values", {"PrometheusRule": 4, "Secret": 1, "ConfigMap": 3, "PodMonitor": 2, "Job": 1}),
        ("minimal-values", {"PrometheusRule": 3}),
    ],
)
def test_what_each_values_set_renders(name: str, kinds: dict[str, int]) -> None:
    docs = render_docs(VALUE_SETS[name])
    counted: dict[str, int] = {}
    for doc in docs:
        counted[doc["kind"]] = counted.get(doc["kind"], 0) + 1
    assert counted == kinds


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_every_object_carries_the_standard_labels_and_namespace(name: str) -> None:
    app_version = yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]
    values = yaml.safe_load(VALUE_SETS[name][0].read_text()) if VALUE_SETS[name] else {}
    for doc in render_docs(VALUE_SETS[name]):
        labels = doc["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "mlplat-observability"
        assert labels["app.kubernetes.io/instance"] == RELEASE
        assert labels["app.kubernetes.io/version"] == app_version
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert labels["app.kubernetes.io/part-of"] == "mlplat"
        assert doc["metadata"]["namespace"] == (values.get("namespace") or NAMESPACE)
        for key, value in (values.get("commonLabels") or {}).items():
            assert labels[key] == value
        if doc["kind"] in {"PrometheusRule", "PodMonitor"}:
            for key, value in (values.get("prometheusSelectorLabels") or {}).items():
                assert labels[key] == value, f"{doc['kind']} lacks Prometheus's selector label {key}"


def test_the_same_manifest_for_every_kubernetes_version() -> None:
    lint_values = [CHART / "ci" / "lint-values.yaml"]
    rendered = {template_files(lint_values, kube_version=version) for version in KUBE_VERSIONS}
    assert len(rendered) == 1


# --- alert rules: structure from values ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_every_alert_has_a_severity_component_and_the_three_annotations(name: str) -> None:
    values = yaml.safe_load(VALUE_SETS[name][0].read_text()) if VALUE_SETS[name] else {}
    base = (values.get("runbookBaseUrl") or "https://github.com/mlplat/mlplat/blob/main/runbooks/alerts").rstrip("/")
    rules = alerting_rules(render_docs(VALUE_SETS[name]))
    assert rules
    for rule in rules:
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, rule["alert"]
        assert rule["labels"]["component"] in {"gpu", "triton", "kubernetes", "prometheus"}, rule["alert"]
        assert set(rule["annotations"]) == {"summary", "description", "runbook_url"}, rule["alert"]
        assert rule["annotations"]["summary"].strip() and rule["annotations"]["description"].strip()
        assert rule["annotations"]["runbook_url"] == f"{base}/{rule['alert']}.md"
        for key, value in ((values.get("alerts") or {}).get("additionalLabels") or {}).items():
            assert rule["labels"][key] == value


@pytest.mark.parametrize(
    ("values", "alert", "expected"),
    [
        (
            {"alerts.gpuUtilizationSaturated.percent": 90, "alerts.gpuUtilizationSaturated.for": "1h"},
            "GpuUtilizationSaturated",
            ("avg_over_time(DCGM_FI_DEV_GPU_UTIL[5m]) >= 90", "1h"),
        ),
        ({"alerts.gpuIdle.percent": 5, "alerts.gpuIdle.for": "6h"}, "GpuIdle", ("<= 5", "6h")),
        ({"alerts.gpuMemoryNearlyFull.percent": 90}, "GpuMemoryNearlyFull", ("* 100 > 90", "15m")),
        ({"alerts.tritonP99LatencyHigh.milliseconds": 250}, "TritonP99LatencyHigh", ("/ 1000 > 250", "10m")),
        (
            {"alerts.tritonQueueTimeHigh.window": "2m"},
            "TritonQueueTimeHigh",
            ("nv_inference_queue_duration_us[2m]", "10m"),
        ),
        ({"alerts.tritonFailureRatioHigh.ratio": 0.01}, "TritonFailureRatioHigh", ("> 0.01", "5m")),
        ({"alerts.nodeNotReady.for": "15m"}, "NodeNotReady", ("== 0", "15m")),
        ({"alerts.podCrashLooping.restarts": 5}, "PodCrashLooping", ("> 5", "15m")),
        ({"alerts.persistentVolumeNearlyFull.freePercent": 20}, "PersistentVolumeNearlyFull", ("< 20", "5m")),
        ({"alerts.prometheusTargetDown.for": "30m"}, "PrometheusTargetDown", ("up == 0", "30m")),
    ],
)
def test_thresholds_and_durations_come_from_values(
    values: dict[str, Any], alert: str, expected: tuple[str, str]
) -> None:
    (rule,) = [rule for rule in alerting_rules(render_docs(values=values)) if rule["alert"] == alert]
    text, duration = expected
    assert text in " ".join(rule["expr"].split()), rule["expr"]
    assert rule["for"] == duration


def test_severity_comes_from_values_and_alerts_can_be_switched_off() -> None:
    rules = alerting_rules(
        render_docs(values={"alerts.gpuIdle.severity": "info", "alerts.nodeNotReady.enabled": False})
    )
    assert {rule["labels"]["severity"] for rule in rules if rule["alert"] == "GpuIdle"} == {"info"}
    assert "NodeNotReady" not in {rule["alert"] for rule in rules}
    assert not alerting_rules(render_docs(values={"alerts.enabled": False}))


def test_temperature_and_xid_alerts_have_a_warning_and_a_critical_rule() -> None:
    rules = alerting_rules(render_docs(values={"alerts.gpuTemperatureHigh.warningCelsius": 80}))
    temperature = {rule["labels"]["severity"]: rule["expr"] for rule in rules if rule["alert"] == "GpuTemperatureHigh"}
    assert temperature == {"warning": "DCGM_FI_DEV_GPU_TEMP > 80", "critical": "DCGM_FI_DEV_GPU_TEMP > 90"}
    xid = {rule["labels"]["severity"]: rule["expr"] for rule in rules if rule["alert"] == "GpuXidError"}
    assert set(xid) == {"warning", "critical"}
    assert re.findall(r"== (\d+)", xid["critical"]) == ["48", "63", "64", "74", "79", "92", "94", "95"]


def test_expected_models_add_one_rule_each() -> None:
    rules = alerting_rules(render_docs(values={"alerts.tritonNoReadyModel.expectedModels": ["resnet50", "bert"]}))
    per_model = [rule for rule in rules if rule["alert"] == "TritonNoReadyModel" and "model" in rule["labels"]]
    assert [rule["labels"]["model"] for rule in per_model] == ["resnet50", "bert"]
    assert 'absent(nv_inference_count{model="bert"})' in per_model[1]["expr"]
    assert 'up{job="triton"}' in per_model[1]["expr"]


# --- log probe Job ------------------------------------------------------------------------------------------


def _log_probe(values: dict[str, Any]) -> dict[str, Any]:
    (job,) = [doc for doc in render_docs(values=values) if doc["kind"] == "Job"]
    return job


def test_no_log_probe_without_a_run_id() -> None:
    assert not [doc for doc in render_docs() if doc["kind"] == "Job"]


def test_log_probe_prints_exactly_one_line_and_is_restricted() -> None:
    job = _log_probe({"logProbe.runId": "20250101t120000z"})
    assert job["metadata"]["name"] == "log-probe-20250101t120000z"
    assert job["metadata"]["namespace"] == endpoints.OBSERVABILITY_NAMESPACE
    assert job["metadata"]["labels"]["mlplat.io/run-id"] == "20250101t120000z"
    spec = job["spec"]
    assert spec["backoffLimit"] <= 3
    assert spec["ttlSecondsAfterFinished"] > 0
    assert spec["activeDeadlineSeconds"] > 0
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["automountServiceAccountToken"] is False
    (container,) = pod["containers"]
    assert container["image"] == "public.ecr.aws/docker/library/busybox:1.36.1"
    # /bin/echo with one argument: exactly one line, no shell to add or interpret anything
    assert container["command"] == ["/bin/echo", "MLPLAT_LOG_PROBE 20250101t120000z"]
    assert "args" not in container
    assert container["resources"]["requests"] and container["resources"]["limits"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert restricted_violations(job) == []


def test_log_probe_image_digest_wins_over_the_tag() -> None:
    digest = "sha256:" + "ab" * 32
    job = _log_probe({"logProbe.runId": "r1", "logProbe.image.digest": digest})
    assert (
        job["spec"]["template"]["spec"]["containers"][0]["image"] == f"public.ecr.aws/docker/library/busybox@{digest}"
    )


# --- monitors -----------------------------------------------------------------------------------------------


def _monitor(suffix: str) -> dict[str, Any]:
    (monitor,) = [
        doc for doc in render_docs() if doc["kind"] == "PodMonitor" and doc["metadata"]["name"] == f"{RELEASE}-{suffix}"
    ]
    return monitor


def test_aws_node_pod_monitor_scrapes_port_61678_in_kube_system() -> None:
    spec = _monitor("aws-node")["spec"]
    assert spec["namespaceSelector"] == {"matchNames": ["kube-system"]}
    assert spec["selector"] == {"matchLabels": {"k8s-app": "aws-node"}}
    (endpoint,) = spec["podMetricsEndpoints"]
    assert endpoint["path"] == "/metrics"
    relabelings = endpoint["relabelings"]
    assert {
        "sourceLabels": ["__meta_kubernetes_pod_container_name"],
        "regex": "aws-node",
        "action": "keep",
    } in relabelings
    (address,) = [r for r in relabelings if r.get("targetLabel") == "__address__"]
    assert address["replacement"] == "${1}:61678"


def test_cni_metrics_helper_pod_monitor_scrapes_its_metrics_port() -> None:
    spec = _monitor("cni-metrics-helper")["spec"]
    assert spec["namespaceSelector"] == {"matchNames": ["kube-system"]}
    assert spec["selector"] == {"matchLabels": {"k8s-app": "cni-metrics-helper"}}
    assert spec["podMetricsEndpoints"][0]["port"] == "metrics"


def test_aws_node_relabelings_are_a_valid_prometheus_scrape_config(tmp_path: Path) -> None:
    """The PodMonitor's relabelings as Prometheus will run them (the operator only renames the keys to
    snake_case): `promtool check config` accepts the actions, regexes and replacement."""
    from tests.observability.obslib import run_tool

    (endpoint,) = _monitor("aws-node")["spec"]["podMetricsEndpoints"]
    snake = {"sourceLabels": "source_labels", "targetLabel": "target_label"}
    relabel_configs = [{snake.get(k, k): v for k, v in relabel.items()} for relabel in endpoint["relabelings"]]
    config = {
        "scrape_configs": [
            {
                "job_name": "aws-node",
                # Debian's Prometheus is built without Kubernetes discovery; relabeling is the same code
                "static_configs": [{"targets": ["10.0.1.23:61678"]}],
                "relabel_configs": relabel_configs,
            }
        ]
    }
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    result = run_tool("promtool", ["check", "config", str(path)])
    assert result.returncode == 0, result.output
    relabel_configs[0]["action"] = "keeep"
    path.write_text(yaml.safe_dump(config))
    assert run_tool("promtool", ["check", "config", str(path)]).returncode != 0


# --- dashboards as ConfigMaps --------------------------------------------------------------------------------


def test_dashboard_config_maps_carry_the_sidecar_label_and_the_json_files() -> None:
    maps = [doc for doc in render_docs([CHART / "ci" / "all-options-values.yaml"]) if doc["kind"] == "ConfigMap"]
    files = sorted((CHART / "files" / "dashboards").glob("*.json"))
    assert len(maps) == len(files) == 3
    for config_map, path in zip(sorted(maps, key=lambda m: m["metadata"]["name"]), files, strict=True):
        assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert config_map["metadata"]["annotations"] == {"grafana_folder": "mlplat"}
        assert config_map["metadata"]["name"] == f"{RELEASE}-dashboard-{path.stem}"
        assert list(config_map["data"]) == [path.name]
        assert json.loads(config_map["data"][path.name]) == json.loads(path.read_text())


# --- packaging ------------------------------------------------------------------------------------------------


def test_package_leaves_out_the_ci_values_and_keeps_the_dashboards(tmp_path: Path) -> None:
    result = run_helm(["package", str(CHART), "--destination", str(tmp_path)])
    assert result.returncode == 0, result.output
    (archive,) = tmp_path.glob("*.tgz")
    assert archive.name == "mlplat-observability-0.1.0.tgz"
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "mlplat-observability/values.schema.json" in names
    assert "mlplat-observability/files/dashboards/triton.json" in names
    assert not [name for name in names if "/ci/" in name]


def test_notes_tell_how_to_wait_for_the_log_probe(tmp_path: Path) -> None:
    values = {"logProbe.runId": "20250101t120000z", "alerting.slackChannel": "#mlplat-alerts"}
    notes = render_notes(CHART, values, tmp_path, namespace=NAMESPACE, release=RELEASE)
    assert f"-n {NAMESPACE} wait --for=condition=complete --timeout=300s job/log-probe-20250101t120000z" in notes
    assert '|= "MLPLAT_LOG_PROBE 20250101t120000z"' in notes
    assert "Receivers: slack (#mlplat-alerts)" in notes
    assert "log-probe" not in render_notes(CHART, {}, tmp_path / "bare", namespace=NAMESPACE, release=RELEASE)
