"""The triton phase: values computed from the env and the storage outputs, the gate through the real
KubeClient against the fake API server (tests/kubernetes/fakeapi.py, as no Kubernetes API server can run
here) and the smoke test against the real tritonserver (tests/support/tritonserver.py), and status."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client as k8s
from tests.charts.test_triton_chart import RecordingHelm, catalog_with_triton, load_env, storage_outputs
from tests.fakes.adapters import FakeHelm, FakeTriton, fake_adapters
from tests.kubernetes import builders as b
from tests.kubernetes.fakeapi import FakeKubeApi

from eksctl_ml.adapters.kubernetes.client import KubeClient
from eksctl_ml.adapters.triton.client import HttpTritonClient
from eksctl_ml.adapters.triton.protocol import TritonClient, TritonEndpoint
from eksctl_ml.config.loader import Environment
from eksctl_ml.engine.phase import Phase, PhaseContext
from eksctl_ml.errors import ConfigError, PhaseError
from eksctl_ml.phases.triton import TritonPhase, triton_phase
from eksctl_ml.releases import endpoints
from eksctl_ml.releases.catalog import PROJECT_DIR_VAR

REPO = Path(__file__).resolve().parents[2]
NS = endpoints.TRITON_NAMESPACE
LABELS = {"app.kubernetes.io/name": "triton", "app.kubernetes.io/instance": "triton"}
PROXY = f"/api/v1/namespaces/{NS}/services/triton"


# --- environment, cluster and Triton -------------------------------------------------------------


def dev_env(**triton: Any) -> Environment:
    """envs/dev.yaml (an EKS env: it has a Kubernetes API) with ``triton`` settings changed."""
    env = load_env(REPO / "envs" / "dev.yaml")
    config = env.config.model_copy(update={"triton": env.config.triton.model_copy(update=triton)})
    return Environment(env.name, env.source, config)


@pytest.fixture
def kube(api: FakeKubeApi) -> Iterator[KubeClient]:
    """A client that sends a bearer token (tests/phases/conftest.py's sends none): the smoke endpoint carries it."""
    configuration = k8s.Configuration(host=api.url)
    configuration.api_key["BearerToken"] = "t0k3n"
    configuration.api_key_prefix["BearerToken"] = "Bearer"
    with k8s.ApiClient(configuration) as api_client:
        yield KubeClient(api_client, watch_chunk_s=5)


def ctx(kube: Any, env: Environment, helm: FakeHelm | None = None, aws: Any = None) -> PhaseContext:
    return PhaseContext(
        env=env,
        workdir=REPO,
        outputs={"storage": storage_outputs(env)},
        adapters=fake_adapters(aws, helm_factory=lambda: helm or FakeHelm(), kubernetes_factory=lambda: kube),
    )


def model_bucket(aws: Any, env: Environment, *keys: str) -> Any:
    """The env's model bucket in the emulator, holding ``keys`` (relative to the repository prefix)."""
    s3 = aws.client("s3")
    bucket, prefix = env.config.model_repository.s3_bucket, env.config.model_repository.prefix
    s3.create_bucket(Bucket=bucket)
    for key in keys:
        s3.put_object(Bucket=bucket, Key=prefix + key, Body=b"x")
    return s3


def in_ns(model: Any) -> Any:
    model.metadata.namespace = NS
    return model


def triton_deployment(*, replicas: int = 1, available: int = 1) -> Any:
    return in_ns(b.deployment("triton", replicas=replicas, updated=replicas, available=available, labels=LABELS))


def ready_endpoints(ready: bool = True) -> Any:
    return in_ns(b.endpoint_slice("triton", ready=[ready]))


def healthy_cluster(api: FakeKubeApi) -> None:
    api.put(triton_deployment(), ready_endpoints())


@pytest.fixture(scope="module")
def model_repository() -> Iterator[Path]:
    from tests.support.tritonserver import NOT_INSTALLED, triton_install, write_test_models

    if triton_install() is None:
        pytest.skip(NOT_INSTALLED)
    with tempfile.TemporaryDirectory(prefix="triton-phase-") as tmp:
        write_test_models(Path(tmp) / "repo")
        yield Path(tmp)


@pytest.fixture(scope="module")
def healthy_triton(model_repository: Path) -> Iterator[Any]:
    from tests.support.tritonserver import start_tritonserver

    with start_tritonserver(model_repository / "repo", model_repository / "healthy", models=["mlp_onnx"]) as server:
        yield server


@pytest.fixture(scope="module")
def broken_triton(model_repository: Path) -> Iterator[Any]:
    """Serves mlp_onnx; broken_init failed to load (the server stays up, not ready: --exit-on-error=false)."""
    from tests.support.tritonserver import start_tritonserver

    with start_tritonserver(
        model_repository / "repo", model_repository / "broken", models=["mlp_onnx", "broken_init"]
    ) as server:
        yield server


class ProxiedTriton:
    """Client factory: records the endpoint the phase built (the API server's service proxy, which the fake
    API does not forward) and connects the real client to the real server behind it instead."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.endpoints: list[TritonEndpoint] = []

    def __call__(self, endpoint: TritonEndpoint) -> TritonClient:
        self.endpoints.append(endpoint)
        return HttpTritonClient(TritonEndpoint(self.server.http_url, metrics_url=self.server.metrics_url))


class Unused:
    """Client factory for gates that must stop before talking to Triton."""

    def __call__(self, endpoint: TritonEndpoint) -> TritonClient:
        raise AssertionError(f"the gate must not reach Triton here (asked for {endpoint.url})")


# --- the gate ------------------------------------------------------------------------------------


def test_gate_is_ready_after_rollout_endpoints_and_smoke(
    api: FakeKubeApi, kube: KubeClient, healthy_triton: Any
) -> None:
    api.put(in_ns(b.deployment("triton", replicas=1, updated=0, available=0, labels=LABELS)), ready_endpoints())
    api.when_watched("Deployment", lambda: api.put(triton_deployment()))
    factory = ProxiedTriton(healthy_triton)
    seen: list[str] = []
    context = ctx(kube, dev_env(models=["mlp_onnx"]))
    context.progress = seen.append

    result = TritonPhase(factory).check(context)

    assert result.ok, result
    assert "Deployment triton/triton rolled out" in result.summary
    assert "smoke inference ok on 1 model(s): mlp_onnx" in result.summary
    assert any("mlp_onnx: ok" in line for line in seen)
    (endpoint,) = factory.endpoints
    assert endpoint.url == f"{api.url}{PROXY}:http/proxy"
    assert endpoint.metrics_url == f"{api.url}{PROXY}:metrics/proxy/metrics"
    assert endpoint.headers == {"Authorization": "Bearer t0k3n"}


def test_gate_names_the_model_that_fails_with_the_servers_message(
    api: FakeKubeApi, kube: KubeClient, broken_triton: Any
) -> None:
    from tests.support.tritonserver import BROKEN_MESSAGE

    healthy_cluster(api)
    phase = TritonPhase(ProxiedTriton(broken_triton))
    phase.smoke_timeout_s = 20

    result = phase.check(ctx(kube, dev_env(models=["mlp_onnx", "broken_init"])))

    assert not result.ok
    assert "broken_init" in result.summary
    assert BROKEN_MESSAGE in result.diagnosis


def test_gate_fails_for_a_model_the_server_does_not_have(
    api: FakeKubeApi, kube: KubeClient, healthy_triton: Any
) -> None:
    healthy_cluster(api)
    phase = TritonPhase(ProxiedTriton(healthy_triton))
    phase.smoke_timeout_s = 10

    result = phase.check(ctx(kube, dev_env(models=["mlp_onnx", "resnet50"])))

    assert not result.ok
    assert "resnet50" in result.summary + result.diagnosis


def test_a_rollout_that_does_not_finish_stops_the_gate_and_counts_gpus(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(
        triton_deployment(replicas=2, available=1),
        ready_endpoints(),
        b.pod(
            "triton-7d9f-abcde",
            labels=LABELS,
            phase="Pending",
            node=None,
            namespace=NS,
            unschedulable="0/3 nodes are available: 1 Insufficient nvidia.com/gpu, 2 node(s) had untolerated taint.",
        ),
        b.node("ip-10-10-1-23.us-west-2.compute.internal", instance_type="g5.xlarge", gpu_pool=True, gpus=1),
        b.node("ip-10-10-2-45.us-west-2.compute.internal"),
    )
    phase = TritonPhase(Unused())
    phase.timeout_s = 1

    result = phase.check(ctx(kube, dev_env(replicas=2, max_replicas=2, gpus_per_pod=1)))

    assert not result.ok
    assert "Deployment triton/triton" in result.summary
    assert "Insufficient nvidia.com/gpu" in result.diagnosis  # the scheduler's own words about the pod
    assert "1 node(s) advertise 1 nvidia.com/gpu in total; Triton asks for 2 replica(s) x 1 GPU(s) = 2" in (
        result.diagnosis
    )
    assert "not enough GPUs" in result.diagnosis


def test_enough_gpus_are_not_blamed(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(
        triton_deployment(replicas=1, available=0),
        b.node("ip-1", instance_type="g5.12xlarge", gpu_pool=True, gpus=4),
    )
    phase = TritonPhase(Unused())
    phase.timeout_s = 1
    result = phase.check(ctx(kube, dev_env()))
    assert not result.ok
    assert "advertise 4 nvidia.com/gpu" in result.diagnosis and "not enough GPUs" not in result.diagnosis


def test_no_ready_endpoints_stops_the_gate(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(triton_deployment(), ready_endpoints(ready=False), in_ns(b.service("triton", selector=LABELS)))
    phase = TritonPhase(Unused())
    phase.timeout_s = 1

    result = phase.check(ctx(kube, dev_env()))

    assert not result.ok
    assert "Service triton/triton" in result.summary


def test_gate_with_the_in_memory_triton_when_no_server_binary_is_installed(api: FakeKubeApi, kube: KubeClient) -> None:
    """The same gate against tests/fakes' FakeTriton, so it is covered where tritonserver is not installed."""
    healthy_cluster(api)
    fake = FakeTriton(models={"mlp_onnx": True, "broken": False})
    asked: list[TritonEndpoint] = []

    def factory(endpoint: TritonEndpoint) -> TritonClient:
        asked.append(endpoint)
        return fake

    phase = TritonPhase(factory)
    phase.smoke_timeout_s = 2
    ok = phase.check(ctx(kube, dev_env(models=["mlp_onnx"])))
    failed = phase.check(ctx(kube, dev_env(models=["mlp_onnx", "broken"])))

    assert not ok.ok  # strict readiness: a model that failed to load makes the whole server not ready
    assert "broken" in ok.diagnosis
    assert not failed.ok and "broken" in failed.summary and "fake: broken failed to load" in failed.diagnosis
    fake.models = {"mlp_onnx": True}
    assert phase.check(ctx(kube, dev_env(models=["mlp_onnx"]))).ok
    assert ("infer", "mlp_onnx") in fake.calls
    assert {endpoint.url for endpoint in asked} == {f"{api.url}{PROXY}:http/proxy"}


# --- status --------------------------------------------------------------------------------------


def test_status_reports_server_and_models_ready_without_inferring(
    api: FakeKubeApi, kube: KubeClient, healthy_triton: Any
) -> None:
    from tests.support.tritonserver import triton_install

    healthy_cluster(api)
    before = _success_count(healthy_triton)
    result = TritonPhase(ProxiedTriton(healthy_triton)).status(ctx(kube, dev_env(models=["mlp_onnx"])))
    assert result.ok, result
    assert "Triton ready, 1 model(s) ready: mlp_onnx" in result.summary
    assert api.watch_requests("deployments") == []  # status never waits
    assert triton_install() is not None and _success_count(healthy_triton) == before  # no inference


def test_status_lists_the_models_that_are_not_ready(api: FakeKubeApi, kube: KubeClient, broken_triton: Any) -> None:
    healthy_cluster(api)
    result = TritonPhase(ProxiedTriton(broken_triton)).status(ctx(kube, dev_env(models=["mlp_onnx", "broken_init"])))
    assert not result.ok
    assert result.summary == "Triton model(s) not ready: broken_init"
    assert "mlplat smoke --env dev" in result.diagnosis


def test_status_of_a_server_that_cannot_be_reached(api: FakeKubeApi, kube: KubeClient) -> None:
    from tests.support.tritonserver import free_port

    healthy_cluster(api)
    port = free_port()  # nothing listens there

    def unreachable(endpoint: TritonEndpoint) -> TritonClient:
        assert endpoint.timeout_s == 10  # status asks with a short timeout
        return HttpTritonClient(TritonEndpoint(f"http://127.0.0.1:{port}", timeout_s=2))

    result = TritonPhase(unreachable).status(ctx(kube, dev_env()))
    assert not result.ok
    assert result.summary == "Triton cannot be asked through the API server"
    assert "cannot reach the server" in result.diagnosis


def test_status_of_a_deployment_not_rolled_out(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(triton_deployment(replicas=2, available=1))
    result = TritonPhase(Unused()).status(ctx(kube, dev_env(replicas=2)))
    assert not result.ok and "Deployment triton/triton" in result.summary


def _success_count(server: Any) -> float:
    import urllib.request

    with urllib.request.urlopen(server.metrics_url, timeout=5) as answer:  # noqa: S310 - loopback
        text = answer.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("nv_inference_request_success{")
    )


# --- values --------------------------------------------------------------------------------------


def test_values_come_from_the_env_and_the_storage_outputs() -> None:
    env = dev_env(models=["mlp_onnx", "bert"], replicas=2, max_replicas=5, gpus_per_pod=2, cpu="3", memory="12Gi")
    outputs = storage_outputs(env) | {"model_bucket_name": "bucket-from-terraform"}
    context = PhaseContext(env=env, workdir=REPO, adapters=fake_adapters(), outputs={"storage": outputs})

    values = TritonPhase().computed_values(context)["triton"]

    assert values["image"] == {"tag": env.config.triton.image_tag}
    assert values["models"] == ["mlp_onnx", "bert"]
    assert (values["replicas"], values["gpusPerPod"]) == (2, 2)
    assert values["resources"] == {"requests": {"cpu": "3", "memory": "12Gi"}, "limits": {"cpu": "3", "memory": "12Gi"}}
    assert values["autoscaling"] == {
        "maxReplicas": 5,
        "queueTimeTargetMs": env.config.triton.queue_time_target_ms,
        "queueTimeMetric": endpoints.TRITON_QUEUE_METRIC,
    }
    assert values["modelSource"] == "s3"
    assert values["s3"] == {
        "bucket": "bucket-from-terraform",
        "prefix": env.config.model_repository.prefix,
        "region": env.config.aws.region,
    }
    assert values["serviceAccount"] == {"roleArn": outputs["triton_role_arn"]}
    assert "efs" not in values


def test_efs_values_come_from_the_storage_outputs() -> None:
    env = dev_env(model_source="efs")
    values = TritonPhase().computed_values(ctx(None, env))["triton"]
    assert values["efs"] == {"fileSystemId": "fs-0123456789abcdef0", "accessPointId": "fsap-0123456789abcdef0"}
    assert values["modelSource"] == "efs" and "s3" not in values and "serviceAccount" not in values


def test_missing_storage_outputs_say_which_phase_to_run() -> None:
    env = dev_env()
    context = PhaseContext(env=env, workdir=REPO, adapters=fake_adapters(), outputs={"storage": {}})
    with pytest.raises(PhaseError) as info:
        TritonPhase().computed_values(context)
    assert "model_bucket_name" in info.value.message
    assert info.value.hint == "run `mlplat up --env dev --only storage` first"


def test_an_env_without_models_is_refused_with_the_setting_to_fix() -> None:
    with pytest.raises(ConfigError) as info:
        TritonPhase().inputs(ctx(None, dev_env(models=[])))
    assert "triton.models is empty" in info.value.message
    assert info.value.issues[0].path == "triton.models"
    assert "mlplat models push" in info.value.issues[0].fix


# --- apply, destroy, skip ------------------------------------------------------------------------


@pytest.fixture
def project_with_triton(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The project's files; while the catalog lacks the triton entry, a copy of it that has one."""
    catalog = catalog_with_triton()
    root = tmp_path / "project"
    (root / "helm-values").mkdir(parents=True)
    (root / "charts").symlink_to(REPO / "charts")
    for folder in (REPO / "helm-values").iterdir():
        if folder.is_dir():
            (root / "helm-values" / folder.name).symlink_to(folder)
    document = {"releases": [release.model_dump(exclude_none=True) for release in catalog.releases]}
    (root / "helm-values" / "catalog.yaml").write_text(yaml.safe_dump(document))
    monkeypatch.setenv(PROJECT_DIR_VAR, str(root))


@pytest.mark.usefixtures("project_with_triton")
def test_apply_installs_the_release_with_the_computed_values_and_destroy_removes_it(aws: Any) -> None:
    helm = RecordingHelm()
    env = dev_env()
    s3 = model_bucket(aws, env, "mlp_onnx/config.pbtxt", "mlp_onnx/1/model.onnx")
    context = ctx(None, env, helm, aws)
    phase = TritonPhase(Unused())

    outputs = phase.apply(context)

    # Triton refuses an S3 repository path with nothing directly under it: the marker is there
    bucket, prefix = env.config.model_repository.s3_bucket, env.config.model_repository.prefix
    assert s3.head_object(Bucket=bucket, Key=f"{prefix}.keep")["ContentLength"] == 0

    assert outputs == {"releases": {"triton": 1}}
    values = helm.values["triton"]
    assert values["fullnameOverride"] == "triton"  # helm-values/triton/values.yaml
    assert values["models"] == env.config.triton.models  # computed
    assert values["serviceAccount"] == {"name": "triton", "roleArn": storage_outputs(env)["triton_role_arn"]}
    (release,) = helm.releases
    assert release == (NS, "triton")
    phase.destroy(context)
    phase.destroy(context)  # already gone is success
    assert helm.calls[-2:] == [("uninstall", "triton"), ("uninstall", "triton")]
    assert not helm.releases


@pytest.mark.usefixtures("project_with_triton")
def test_apply_refuses_models_missing_from_the_bucket_and_installs_nothing(aws: Any) -> None:
    helm = RecordingHelm()
    env = dev_env(models=["mlp_onnx", "ranker"])
    model_bucket(aws, env, "mlp_onnx/config.pbtxt", "mlp_onnx/1/model.onnx", "ranker/config.pbtxt")

    with pytest.raises(PhaseError) as info:
        TritonPhase(Unused()).apply(ctx(None, env, helm, aws))

    assert "ranker" in info.value.message and "mlp_onnx" not in info.value.message  # no version folder
    assert "in the bucket: mlp_onnx, ranker" in (info.value.diagnosis or "")
    assert f"mlplat models push DIR --env {env.name}" in (info.value.hint or "")
    assert not helm.releases


def test_an_env_without_a_kubernetes_api_is_skipped(local_env: Environment) -> None:
    assert TritonPhase().skip_reason(ctx(None, local_env)) == "no Kubernetes API for env local"


def test_triton_phase_is_a_phase() -> None:
    phase = triton_phase()
    assert isinstance(phase, Phase)
    assert phase.name == "triton"
