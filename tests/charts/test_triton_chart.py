"""charts/triton: rendered with the real helm for every ci/*.yaml and every env (with the values the triton
phase computes), validated strictly for every supported Kubernetes version, and the contracts other parts
of mlplat rely on (Service/port names, HPA metric, IRSA service account, Triton flags) checked. The chart's
Triton arguments are also run by the real tritonserver binary."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml

from eksctl_ml.adapters import Adapters
from eksctl_ml.adapters.helm.protocol import ReleaseStatus
from eksctl_ml.config import catalog as aws_catalog
from eksctl_ml.config.loader import Environment, parse_env
from eksctl_ml.engine.phase import PhaseContext
from eksctl_ml.phases.triton import TritonPhase
from eksctl_ml.releases import endpoints
from eksctl_ml.releases.catalog import Catalog, Release, load_catalog
from eksctl_ml.releases.service import install_phase
from eksctl_ml.releases.values import deep_merge
from tests.charts.chartlib import (
    CHARTS_DIR,
    REPO,
    by_kind,
    env_files,
    kube_versions,
    one,
    pod_spec,
    render,
    render_error,
    render_notes,
    restricted_violations,
    run_helm,
    template,
    values_args,
)
from tests.charts.test_charts import _leaf_keys_without_comment, validate_strict
from tests.fakes.adapters import FakeHelm

TRITON = CHARTS_DIR / "triton"
CI_FILES = sorted((TRITON / "ci").glob("*.yaml"))
KUBE_VERSIONS = kube_versions()
ENV_FILES = env_files()
NS = endpoints.TRITON_NAMESPACE
BUILT_IN_KINDS = {
    "Deployment",
    "Service",
    "ServiceAccount",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Namespace",
}


def ci_values(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


LINT = ci_values(TRITON / "ci" / "lint-values.yaml")


def lint_values(**overrides: Any) -> dict[str, Any]:
    """The representative s3 values (ci/lint-values.yaml), ``overrides`` merged in as helm merges values."""
    return deep_merge(LINT, overrides)


def deployment(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return one(docs, "Deployment")


def container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (main,) = pod_spec(deployment(docs))["containers"]
    assert isinstance(main, dict)
    return main


# --- the values a real run passes: computed by the triton phase, merged like install_phase does ----


def catalog_with_triton() -> Catalog:
    """The project's catalog; with the triton entry the lead wires in, or (until then) that entry added."""
    catalog = load_catalog()
    if any(release.name == "triton" for release in catalog.releases):
        return catalog
    entry = Release(
        name="triton",
        namespace=NS,
        path="charts/triton",
        chart="triton",
        version="0.1.0",
        phase="triton",
        timeout_s=1200,
    )
    return Catalog(releases=(*catalog.releases, entry))


def load_env(path: Path) -> Environment:
    return Environment(path.stem, path, parse_env(path.read_text(), str(path)))


def storage_outputs(env: Environment) -> dict[str, Any]:
    """What the storage stack records for ``env`` (names from terraform/stacks/storage/outputs.tf)."""
    cfg = env.config
    return {
        "model_bucket_name": cfg.model_repository.s3_bucket,
        "triton_role_arn": f"arn:aws:iam::{cfg.aws.account_id}:role/{cfg.cluster.name}-triton",
        "efs_file_system_id": "fs-0123456789abcdef0",
        "efs_access_point_id": "fsap-0123456789abcdef0",
    }


class RecordingHelm(FakeHelm):
    """Keeps the values each release was installed with."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, dict[str, Any]] = {}

    def upgrade_install(self, release: str, chart: str, **kwargs: Any) -> ReleaseStatus:
        self.values[release] = dict(kwargs["values"])
        return super().upgrade_install(release, chart, **kwargs)


def phase_context(env: Environment, outputs: dict[str, Any] | None = None) -> PhaseContext:
    return PhaseContext(
        env=env, workdir=REPO, adapters=Adapters(), outputs={"storage": outputs or storage_outputs(env)}
    )


def run_values(env: Environment, outputs: dict[str, Any] | None = None) -> dict[str, Any]:
    """The triton release's values as `mlplat up` passes them to helm for ``env``."""
    helm = RecordingHelm()
    ctx = phase_context(env, outputs)
    install_phase(catalog_with_triton(), "triton", env, helm, TritonPhase().computed_values(ctx))
    return helm.values["triton"]


# --- metadata and documentation -----------------------------------------------------------------


def test_chart_metadata() -> None:
    meta = yaml.safe_load((TRITON / "Chart.yaml").read_text())
    assert (meta["apiVersion"], meta["name"], meta["version"], meta["type"]) == ("v2", "triton", "0.1.0", "application")
    oldest = min(aws_catalog.SUPPORTED_KUBERNETES_VERSIONS, key=lambda v: tuple(int(p) for p in v.split(".")))
    assert meta["kubeVersion"] == f">={oldest}.0-0"
    defaults = yaml.safe_load((TRITON / "values.yaml").read_text())
    assert meta["appVersion"] == defaults["image"]["tag"]  # the version label names the image it runs


def test_refuses_a_kubernetes_version_mlplat_does_not_support() -> None:
    result = template(TRITON, lint_values(), kube_version="1.29", namespace=NS)
    assert result.returncode != 0 and "kubeVersion" in result.output, result.output


def test_files_and_readme_document_every_value() -> None:
    for name in ("values.yaml", "values.schema.json", "README.md", "templates/_helpers.tpl", "templates/NOTES.txt"):
        assert (TRITON / name).is_file(), name
    readme = (TRITON / "README.md").read_text()
    for key in yaml.safe_load((TRITON / "values.yaml").read_text()):
        assert f"`{key}" in readme, f"README.md does not document {key}"


def test_values_yaml_is_fully_commented() -> None:
    assert _leaf_keys_without_comment((TRITON / "values.yaml").read_text()) == []


def test_schema_is_valid_and_accepts_the_defaults_and_every_ci_file() -> None:
    schema = json.loads((TRITON / "values.schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    defaults = yaml.safe_load((TRITON / "values.yaml").read_text())
    jsonschema.validate(defaults, schema)
    for path in CI_FILES:
        jsonschema.validate(deep_merge(defaults, ci_values(path)), schema)


def test_ci_files_cover_both_model_sources_and_the_optional_branches() -> None:
    sources = {ci_values(path).get("modelSource", "s3") for path in CI_FILES}
    assert sources == {"s3", "efs"}
    assert any(ci_values(path).get("autoscaling", {}).get("enabled") is False for path in CI_FILES)


def test_notes_say_how_to_check_the_release(tmp_path: Path) -> None:
    notes = render_notes(TRITON, lint_values(), tmp_path, namespace=NS, release="triton")
    assert "kubectl -n triton rollout status deployment/triton" in notes
    assert "mlp_onnx from s3://mlplat-dev-models-111111111111/models" in notes
    assert "/api/v1/namespaces/triton/services/triton:http/proxy/v2/health/ready" in notes


def test_package_leaves_out_the_ci_values(tmp_path: Path) -> None:
    result = run_helm(["package", str(TRITON), "--destination", str(tmp_path)])
    assert result.returncode == 0, result.output
    (archive,) = tmp_path.glob("*.tgz")
    assert archive.name == "triton-0.1.0.tgz"
    import tarfile

    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "triton/values.schema.json" in names and not [n for n in names if "/ci/" in n]


# --- helm lint and strict validation, per ci file, env and Kubernetes version -------------------


def assert_service_monitor(doc: dict[str, Any], service: dict[str, Any]) -> None:
    """The ServiceMonitor's structure (kubernetes-validate has no schema for this custom resource)."""
    assert doc["apiVersion"] == "monitoring.coreos.com/v1"
    assert set(doc) == {"apiVersion", "kind", "metadata", "spec"}
    assert set(doc["spec"]) <= {"selector", "namespaceSelector", "endpoints", "jobLabel", "targetLabels"}
    assert doc["metadata"]["namespace"] == service["metadata"]["namespace"]
    selector = doc["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items(), "the monitor does not select the Service"
    assert doc["spec"]["namespaceSelector"] == {"matchNames": [service["metadata"]["namespace"]]}
    (endpoint,) = doc["spec"]["endpoints"]
    assert set(endpoint) <= {"port", "path", "scheme", "interval", "scrapeTimeout", "relabelings"}
    assert endpoint["port"] in {port["name"] for port in service["spec"]["ports"]}
    assert endpoint["path"] == "/metrics" and endpoint["scheme"] == "http"
    seconds = [int(re.fullmatch(r"(\d+)s", endpoint[key]).group(1)) for key in ("scrapeTimeout", "interval")]  # type: ignore[union-attr]
    assert seconds[0] < seconds[1], "scrapeTimeout must be shorter than the interval"


def assert_valid(docs: list[dict[str, Any]], version: str) -> None:
    assert docs
    for doc in docs:
        if doc["kind"] == "ServiceMonitor":
            assert_service_monitor(doc, one(docs, "Service"))
        else:
            assert doc["kind"] in BUILT_IN_KINDS, doc["kind"]
            validate_strict(doc, version)


@pytest.mark.parametrize("version", KUBE_VERSIONS)
@pytest.mark.parametrize("ci_file", CI_FILES, ids=[path.stem for path in CI_FILES])
def test_lint_strict_and_render_valid(ci_file: Path, version: str) -> None:
    result = run_helm(["lint", "--strict", str(TRITON), "--kube-version", version, "-f", str(ci_file)])
    assert result.returncode == 0 and "[WARNING]" not in result.output and "[ERROR]" not in result.output, result.output
    assert_valid(render(TRITON, ci_values(ci_file), kube_version=version, namespace=NS, release="triton"), version)


@pytest.mark.parametrize("version", KUBE_VERSIONS)
@pytest.mark.parametrize("env_file", ENV_FILES, ids=[path.stem for path in ENV_FILES])
def test_each_env_renders_valid_manifests(env_file: Path, version: str) -> None:
    env = load_env(env_file)
    docs = render(TRITON, run_values(env), kube_version=version, namespace=NS, release="triton")
    assert_valid(docs, version)
    cfg = env.config.triton
    main = container(docs)
    assert main["image"] == f"nvcr.io/nvidia/tritonserver:{cfg.image_tag}"
    assert [a for a in main["args"] if a.startswith("--load-model=")] == [f"--load-model={m}" for m in cfg.models]
    for kind in ("requests", "limits"):
        assert main["resources"][kind] == {
            "cpu": cfg.cpu,
            "memory": cfg.memory,
            "nvidia.com/gpu": str(cfg.gpus_per_pod),
        }
    hpa = one(docs, "HorizontalPodAutoscaler")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (cfg.replicas, cfg.max_replicas)
    assert hpa["spec"]["metrics"][0]["pods"]["target"]["averageValue"] == str(round(cfg.queue_time_target_ms * 1000))


@pytest.mark.parametrize("env_file", ENV_FILES, ids=[path.stem for path in ENV_FILES])
def test_each_env_schedules_on_its_gpu_pool(env_file: Path) -> None:
    """The pod tolerates every taint of the env's GPU node group and selects its labels."""
    env = load_env(env_file)
    spec = pod_spec(deployment(render(TRITON, run_values(env), namespace=NS, release="triton")))
    gpu = env.config.node_groups.gpu
    for taint in gpu.taints:
        assert any(tolerates(t, taint.key, taint.value, taint.effect) for t in spec["tolerations"]), taint
    assert spec["nodeSelector"].items() <= gpu.labels.items()
    # ... and nothing else: the CPU pool's labels are not selected
    assert not spec["nodeSelector"].items() <= env.config.node_groups.cpu.labels.items()


def tolerates(toleration: dict[str, Any], key: str, value: str, effect: str) -> bool:
    """Kubernetes' toleration matching (ToleratesTaint)."""
    if toleration.get("effect") and toleration["effect"] != effect:
        return False
    if toleration.get("key") and toleration["key"] != key:
        return False
    if toleration.get("operator", "Equal") == "Exists":
        return True
    return bool(toleration.get("key") == key and toleration.get("value", "") == value)


def test_toleration_matching_is_really_checked() -> None:
    assert tolerates(
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}, "nvidia.com/gpu", "x", "NoSchedule"
    )
    assert not tolerates(
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}, "other", "", "NoSchedule"
    )
    assert not tolerates({"key": "nvidia.com/gpu", "value": "true"}, "nvidia.com/gpu", "false", "NoSchedule")


# --- the contracts other parts of mlplat rely on ------------------------------------------------


@pytest.fixture(scope="module")
def dev_docs() -> list[dict[str, Any]]:
    return render(TRITON, run_values(load_env(REPO / "envs" / "dev.yaml")), namespace=NS, release="triton")


def test_service_matches_the_endpoints_module(dev_docs: list[dict[str, Any]]) -> None:
    service = one(dev_docs, "Service")
    for ref in (endpoints.TRITON_HTTP, endpoints.TRITON_METRICS):
        assert (service["metadata"]["namespace"], service["metadata"]["name"]) == (ref.namespace, ref.name)
    ports = {port["name"]: port for port in service["spec"]["ports"]}
    assert {name: port["port"] for name, port in ports.items()} == {"http": 8000, "grpc": 8001, "metrics": 8002}
    assert endpoints.TRITON_HTTP.port in ports and endpoints.TRITON_METRICS.port in ports
    assert ports["grpc"]["appProtocol"] == "grpc"
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["selector"].items() <= deployment(dev_docs)["spec"]["template"]["metadata"]["labels"].items()
    container_ports = {port["name"]: port["containerPort"] for port in container(dev_docs)["ports"]}
    assert container_ports == {name: port["port"] for name, port in ports.items()}
    assert {port["targetPort"] for port in ports.values()} == set(container_ports)


def test_service_monitor_scrapes_metrics_every_15s_and_job_is_triton(dev_docs: list[dict[str, Any]]) -> None:
    monitor = one(dev_docs, "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["interval"] == "15s"
    assert monitor["spec"]["endpoints"][0]["port"] == endpoints.TRITON_METRICS.port
    assert "jobLabel" not in monitor["spec"]  # job = Service name = "triton" (the alerts' upSelector)
    assert not by_kind(render(TRITON, lint_values(serviceMonitor={"enabled": False}), namespace=NS), "ServiceMonitor")


def test_hpa_scales_the_deployment_on_the_queue_metric(dev_docs: list[dict[str, Any]]) -> None:
    hpa = one(dev_docs, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "triton"}
    (metric,) = hpa["spec"]["metrics"]
    assert metric["type"] == "Pods"
    assert metric["pods"]["metric"]["name"] == endpoints.TRITON_QUEUE_METRIC
    assert metric["pods"]["target"] == {"type": "AverageValue", "averageValue": "50000"}  # 50 ms in µs
    assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300
    # the HPA owns the replica count: the Deployment leaves it unset, so an upgrade never resets it
    assert "replicas" not in deployment(dev_docs)["spec"]


@pytest.mark.parametrize(("target_ms", "expected"), [(12.5, "12500"), (0.0004, "1"), (250, "250000")])
def test_hpa_target_is_the_queue_time_in_microseconds(target_ms: float, expected: str) -> None:
    docs = render(TRITON, lint_values(autoscaling={"queueTimeTargetMs": target_ms}), namespace=NS)
    assert one(docs, "HorizontalPodAutoscaler")["spec"]["metrics"][0]["pods"]["target"]["averageValue"] == expected


def test_without_autoscaling_the_deployment_has_the_replicas() -> None:
    docs = render(TRITON, lint_values(replicas=3, autoscaling={"enabled": False}), namespace=NS)
    assert not by_kind(docs, "HorizontalPodAutoscaler")
    assert deployment(docs)["spec"]["replicas"] == 3


def test_irsa_service_account_is_the_one_the_storage_role_trusts(dev_docs: list[dict[str, Any]]) -> None:
    main_tf = (REPO / "terraform" / "stacks" / "storage" / "main.tf").read_text()
    block = main_tf[main_tf.index('module "triton_irsa"') :]
    trusted = re.search(r'service_accounts\s*=\s*\["([^"]+)"\]', block)
    assert trusted is not None
    account = one(dev_docs, "ServiceAccount")
    assert f"{account['metadata']['namespace']}:{account['metadata']['name']}" == trusted.group(1)
    env = load_env(REPO / "envs" / "dev.yaml")
    assert account["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": storage_outputs(env)["triton_role_arn"]}
    spec = pod_spec(deployment(dev_docs))
    assert spec["serviceAccountName"] == account["metadata"]["name"]
    # the IRSA token is the webhook's own projected volume: the API token stays out of the pod
    assert spec["automountServiceAccountToken"] is False and account["automountServiceAccountToken"] is False


def test_gpu_request_equals_limit_from_gpus_per_pod() -> None:
    main = container(render(TRITON, lint_values(gpusPerPod=4), namespace=NS))
    assert main["resources"]["requests"]["nvidia.com/gpu"] == "4" == main["resources"]["limits"]["nvidia.com/gpu"]


def test_gpu_toleration_and_node_selector(dev_docs: list[dict[str, Any]]) -> None:
    spec = pod_spec(deployment(dev_docs))
    assert spec["nodeSelector"] == {"mlplat.io/pool": "gpu"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in spec["tolerations"]
    extra = {"key": "spot", "operator": "Exists", "effect": "NoSchedule"}
    spec = pod_spec(deployment(render(TRITON, lint_values(extraTolerations=[extra]), namespace=NS)))
    assert spec["tolerations"][0]["key"] == "nvidia.com/gpu" and extra in spec["tolerations"]  # added, never replaced


def test_triton_args_explicit_models_strict_readiness_and_latency_summaries() -> None:
    args = container(render(TRITON, lint_values(models=["a", "b.v2", "c_3"]), namespace=NS))["args"]
    assert [a for a in args if a.startswith("--load-model")] == [
        "--load-model=a",
        "--load-model=b.v2",
        "--load-model=c_3",
    ]
    assert "--model-control-mode=explicit" in args
    assert "--strict-readiness=true" in args
    assert "--metrics-config=summary_latencies=true" in args  # the dashboards', alerts' and status' p99
    assert [a for a in args if "-port=" in a] == ["--http-port=8000", "--grpc-port=8001", "--metrics-port=8002"]


def test_s3_mode_reads_the_bucket_with_region_and_no_volume(dev_docs: list[dict[str, Any]]) -> None:
    main = container(dev_docs)
    env = load_env(REPO / "envs" / "dev.yaml")
    bucket, prefix = env.config.model_repository.s3_bucket, env.config.model_repository.prefix
    assert f"--model-repository=s3://{bucket}/{prefix.rstrip('/')}" in main["args"]
    variables = {item["name"]: item.get("value") for item in main["env"]}
    assert variables["AWS_REGION"] == variables["AWS_DEFAULT_REGION"] == env.config.aws.region
    assert not by_kind(dev_docs, "PersistentVolumeClaim") and not by_kind(dev_docs, "PersistentVolume")
    assert {v["name"] for v in pod_spec(deployment(dev_docs))["volumes"]} == {"tmp", "shm"}
    no_prefix = container(render(TRITON, lint_values(s3={"prefix": ""}), namespace=NS))
    assert "--model-repository=s3://mlplat-dev-models-111111111111" in no_prefix["args"]


def test_efs_mode_binds_its_own_claim_to_the_access_point() -> None:
    docs = render(TRITON, ci_values(TRITON / "ci" / "efs-values.yaml"), namespace=NS, release="triton")
    volume, claim = one(docs, "PersistentVolume"), one(docs, "PersistentVolumeClaim")
    assert volume["spec"]["csi"] == {
        "driver": "efs.csi.aws.com",
        "volumeHandle": "fs-0123456789abcdef0::fsap-0123456789abcdef0",
    }
    assert volume["spec"]["mountOptions"] == ["tls"]  # the storage phase's file system policy requires TLS
    assert volume["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert volume["spec"]["claimRef"] == {"namespace": NS, "name": claim["metadata"]["name"]}
    assert claim["spec"]["volumeName"] == volume["metadata"]["name"]
    assert claim["metadata"]["namespace"] == NS
    assert volume["spec"]["storageClassName"] == claim["spec"]["storageClassName"] == ""  # never provisioned
    spec = pod_spec(deployment(docs))
    (model_volume,) = [v for v in spec["volumes"] if v["name"] == "model-cache"]
    assert model_volume["persistentVolumeClaim"] == {"claimName": claim["metadata"]["name"], "readOnly": True}
    main = container(docs)
    assert {"name": "model-cache", "mountPath": "/models", "readOnly": True} in main["volumeMounts"]
    assert "--model-repository=/models/repository/current" in main["args"]
    assert not [e for e in main["env"] if e["name"].startswith("AWS_")]
    assert "annotations" not in one(docs, "ServiceAccount")["metadata"]  # no IRSA needed


def test_probes_use_the_v2_health_endpoints(dev_docs: list[dict[str, Any]]) -> None:
    main = container(dev_docs)
    assert main["readinessProbe"]["httpGet"] == {"path": "/v2/health/ready", "port": "http"}
    assert main["livenessProbe"]["httpGet"] == {"path": "/v2/health/live", "port": "http"}
    startup = main["startupProbe"]
    assert startup["httpGet"]["path"].startswith("/v2/health/")
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 600  # slow model loads from S3


def test_grace_period_outlasts_the_exit_timeout_and_pre_stop(dev_docs: list[dict[str, Any]]) -> None:
    spec = pod_spec(deployment(dev_docs))
    args = container(dev_docs)["args"]
    (exit_timeout,) = [int(a.split("=")[1]) for a in args if a.startswith("--exit-timeout-secs=")]
    pre_stop = container(dev_docs)["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert spec["terminationGracePeriodSeconds"] > exit_timeout + pre_stop
    docs = render(TRITON, lint_values(server={"exitTimeoutSecs": 300}, preStopSleepSeconds=20), namespace=NS)
    assert pod_spec(deployment(docs))["terminationGracePeriodSeconds"] > 320


def test_pod_is_restricted_with_a_read_only_root_and_writable_tmp_and_shm(dev_docs: list[dict[str, Any]]) -> None:
    dep = deployment(dev_docs)
    assert restricted_violations(dep) == []
    spec, main = pod_spec(dep), container(dev_docs)
    assert spec["securityContext"]["runAsUser"] == 1000  # triton-server in the NGC image
    assert main["securityContext"]["readOnlyRootFilesystem"] is True
    assert main["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["shm"]["emptyDir"] == {"medium": "Memory", "sizeLimit": "1Gi"}
    assert volumes["tmp"]["emptyDir"]["sizeLimit"]
    mounts = {m["mountPath"]: m["name"] for m in main["volumeMounts"]}
    assert mounts["/tmp"] == "tmp" and mounts["/dev/shm"] == "shm"
    assert main["terminationMessagePolicy"] == "FallbackToLogsOnError"


def test_pods_spread_across_zones_and_nodes(dev_docs: list[dict[str, Any]]) -> None:
    constraints = pod_spec(deployment(dev_docs))["topologySpreadConstraints"]
    assert {c["topologyKey"] for c in constraints} == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
    assert {c["whenUnsatisfiable"] for c in constraints} == {"ScheduleAnyway"}


def test_rolling_update_never_needs_a_spare_gpu(dev_docs: list[dict[str, Any]]) -> None:
    assert deployment(dev_docs)["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}
    assert "cannot both be 0" in render_error(TRITON, lint_values(rollingUpdate={"maxUnavailable": 0}), namespace=NS)


# --- the PodDisruptionBudget never blocks a node drain ---------------------------------------------


def allowed_disruptions(pdb: dict[str, Any], replicas: int, healthy: int) -> int:
    """What the disruption controller computes (policy/v1, integer values)."""
    spec = pdb["spec"]
    desired_healthy = int(spec["minAvailable"]) if "minAvailable" in spec else replicas - int(spec["maxUnavailable"])
    return max(0, healthy - max(desired_healthy, 0))


def test_one_replica_can_still_be_drained(dev_docs: list[dict[str, Any]]) -> None:
    pdb = one(dev_docs, "PodDisruptionBudget")
    assert (
        pdb["spec"]["selector"]["matchLabels"].items()
        <= deployment(dev_docs)["spec"]["template"]["metadata"]["labels"].items()
    )
    assert allowed_disruptions(pdb, replicas=1, healthy=1) == 1
    assert pdb["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"  # a broken pod never blocks a drain


def test_min_available_keeps_pods_up_but_must_leave_one_evictable() -> None:
    pdb = one(
        render(
            TRITON,
            lint_values(replicas=3, autoscaling={"maxReplicas": 3}, podDisruptionBudget={"minAvailable": 2}),
            namespace=NS,
        ),
        "PodDisruptionBudget",
    )
    assert "maxUnavailable" not in pdb["spec"]
    assert allowed_disruptions(pdb, replicas=3, healthy=3) == 1
    error = render_error(TRITON, lint_values(podDisruptionBudget={"minAvailable": 1}), namespace=NS)
    assert "podDisruptionBudget.minAvailable (1) must be lower than replicas (1)" in error


# --- values the schema or the templates refuse ---------------------------------------------------


def test_schema_rejects_latest() -> None:
    assert "image.tag" in render_error(TRITON, lint_values(image={"tag": "latest"}), namespace=NS)


@pytest.mark.parametrize("gpus", [1.5, "1", 0, 9, None])
def test_schema_rejects_a_gpu_count_that_is_not_a_whole_number_from_1_to_8(gpus: object) -> None:
    assert "gpusPerPod" in render_error(TRITON, lint_values(gpusPerPod=gpus), namespace=NS)


def test_lint_reports_the_schema_message_too() -> None:
    result = run_helm(["lint", "--strict", str(TRITON), *values_args(lint_values(gpusPerPod=1.5))])
    assert result.returncode != 0 and "gpusPerPod" in result.output, result.output


def test_empty_models_fail_with_instructions_unless_allowed() -> None:
    error = render_error(TRITON, lint_values(models=[]), namespace=NS)
    assert "models is empty" in error and "allowNoModels" in error
    docs = render(TRITON, lint_values(models=[], allowNoModels=True), namespace=NS)
    assert not [a for a in container(docs)["args"] if a.startswith("--load-model")]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"s3": {"bucket": ""}}, "s3.bucket is required when modelSource is s3"),
        ({"s3": {"region": ""}}, "s3.region is required"),
        ({"serviceAccount": {"roleArn": ""}}, "serviceAccount.roleArn is required when modelSource is s3"),
        ({"modelSource": "efs"}, "efs.fileSystemId is required when modelSource is efs"),
        (
            {"modelSource": "efs", "efs": {"fileSystemId": "fs-0123abcd"}},
            "efs.accessPointId is required when modelSource is efs",
        ),
        ({"replicas": 3, "autoscaling": {"maxReplicas": 2}}, "autoscaling.maxReplicas (2) is below replicas (3)"),
    ],
)
def test_missing_or_inconsistent_values_fail_with_instructions(values: dict[str, Any], message: str) -> None:
    assert message in render_error(TRITON, lint_values(**values), namespace=NS)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("models", ["bad name"]),
        ("models", ["a", "a"]),
        ("modelSource", "gcs"),
        ("s3", {"prefix": "/models/"}),
        ("s3", {"bucket": "Bad_Bucket"}),
        ("efs", {"accessPointId": "fsap-123"}),
        ("efs", {"path": "../etc"}),
        ("serviceAccount", {"roleArn": "arn:aws:iam::1:user/x"}),
        ("resources", {"requests": {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "2"}}),
        ("resources", {"requests": {"cpu": "lots", "memory": "16Gi"}}),
        ("server", {"extraArgs": ["--model-control-mode=poll"]}),
        ("server", {"extraArgs": ["--load-model=x"]}),
        ("server", {"logFormat": "json"}),
        ("securityContext", {"allowPrivilegeEscalation": True}),
        ("podSecurityContext", {"runAsNonRoot": False}),
        ("autoscaling", {"queueTimeTargetMs": 0}),
        ("serviceMonitor", {"interval": "fast"}),
        ("extraEnv", [{"name": "AWS_REGION", "value": "x"}]),
        ("replica", 2),
    ],
)
def test_schema_refuses_bad_values(key: str, value: object) -> None:
    error = render_error(TRITON, lint_values(**{key: value}), namespace=NS)
    assert key in error, error


def test_standard_labels_on_every_object() -> None:
    for path in CI_FILES:
        for doc in render(TRITON, ci_values(path), namespace=NS, release="run1"):
            labels = doc["metadata"]["labels"]
            assert labels["app.kubernetes.io/part-of"] == "mlplat" and labels["app.kubernetes.io/instance"] == "run1"
            if doc["kind"] not in {"Namespace", "PersistentVolume"}:
                assert doc["metadata"]["namespace"] == (ci_values(path).get("namespace") or NS)


def test_created_namespace_enforces_restricted_pod_security() -> None:
    docs = render(TRITON, ci_values(TRITON / "ci" / "ha-values.yaml"), namespace="default")
    labels = one(docs, "Namespace")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


# --- the helm-values file and the catalog agree with the names mlplat uses -------------------------


def test_helm_values_pin_the_service_and_account_names() -> None:
    pinned = yaml.safe_load((REPO / "helm-values" / "triton" / "values.yaml").read_text())
    assert pinned["fullnameOverride"] == endpoints.TRITON_HTTP.name == endpoints.TRITON_METRICS.name
    assert pinned["serviceAccount"]["name"] == "triton"


def test_catalog_entry_when_wired() -> None:
    releases = [r for r in load_catalog().releases if r.name == "triton"]
    if not releases:
        pytest.skip("the catalog has no triton entry yet (the lead adds it)")
    (release,) = releases
    assert (release.namespace, release.path, release.phase) == (NS, "charts/triton", "triton")
    assert release.version == yaml.safe_load((TRITON / "Chart.yaml").read_text())["version"]


# --- the chart's Triton flags, run by the real tritonserver --------------------------------------


@pytest.fixture(scope="module")
def model_repository() -> Iterator[Path]:
    from tests.support.tritonserver import NOT_INSTALLED, triton_install, write_test_models

    if triton_install() is None:
        pytest.skip(NOT_INSTALLED)
    with tempfile.TemporaryDirectory(prefix="triton-chart-") as tmp:
        write_test_models(Path(tmp) / "repo")
        yield Path(tmp)


def chart_server_args(values: dict[str, Any]) -> list[str]:
    """The rendered Triton arguments, less what a loopback test server must set itself."""
    args = container(render(TRITON, values, namespace=NS))["args"]
    own = ("--model-repository=", "--http-port=", "--grpc-port=", "--metrics-port=")
    return [arg for arg in args if not arg.startswith(own)]


def test_real_tritonserver_runs_with_the_charts_flags(model_repository: Path) -> None:
    import urllib.request

    import numpy as np
    import tritonclient.http as triton_http

    from tests.support.tritonserver import start_tritonserver

    args = chart_server_args(lint_values(models=["mlp_onnx"]))
    with start_tritonserver(model_repository / "repo", model_repository / "ok", extra_args=args) as server:
        for probe in ("/v2/health/live", "/v2/health/ready"):  # what the probes ask
            with urllib.request.urlopen(server.http_url + probe, timeout=5) as answer:  # noqa: S310 - loopback
                assert answer.status == 200, probe
        client = triton_http.InferenceServerClient(server.http_url.removeprefix("http://"))
        index = {entry["name"]: entry.get("state") for entry in client.get_model_repository_index()}
        assert index["mlp_onnx"] == "READY" and index["multi_io"] != "READY"  # explicit: only what was listed
        tensor = triton_http.InferInput("INPUT0", [2, 4], "FP32")
        tensor.set_data_from_numpy(np.ones((2, 4), dtype=np.float32))
        client.infer("mlp_onnx", [tensor])
        client.close()
        with urllib.request.urlopen(server.metrics_url, timeout=5) as answer:  # noqa: S310 - loopback
            metrics = answer.read().decode()
    assert re.search(
        r'^nv_inference_request_summary_us\{model="mlp_onnx",version="1",quantile="0\.99"\} ', metrics, re.M
    )


def test_real_tritonserver_exits_on_a_model_that_cannot_load(model_repository: Path) -> None:
    """exitOnError (the default): the pod restarts and the log tail says which model and why."""
    from tests.support.tritonserver import BROKEN_MESSAGE, start_tritonserver

    args = chart_server_args(lint_values(models=["mlp_onnx", "broken_init"]))
    with pytest.raises(RuntimeError, match="tritonserver exited") as info:
        start_tritonserver(model_repository / "repo", model_repository / "broken", extra_args=args).stop()
    assert BROKEN_MESSAGE in str(info.value)
