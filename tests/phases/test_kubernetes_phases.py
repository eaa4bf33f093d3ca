"""Kubernetes-side phases with the recording Helm fake and a scripted cluster fake.

The cluster fake implements the KubernetesClient contract in memory; the real client and its watch
waits are tested against an HTTP fake API in tests/kubernetes/.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.fakes.adapters import FakeHelm, FakeKubernetes, fake_adapters

from eksctl_ml.adapters.helm.protocol import ReleaseStatus
from eksctl_ml.adapters.kubernetes.protocol import NodeInfo
from eksctl_ml.config.loader import Environment, parse_env
from eksctl_ml.engine.phase import PhaseContext
from eksctl_ml.phases.kubernetes import CniPhase, CompositePhase, GpuNodesPart, VolumesPart, parse_gpu_lines
from eksctl_ml.phases.registry import provision_order

GPU_LOG = (
    'MLPLAT_GPU node=ip-1 index=0 uuid=GPU-1 model="NVIDIA A10G" driver=550.54.15 cuda=12.4 image_cuda=12.4.1 '
    "memory_mib=23028\nMLPLAT_GPU_SUMMARY node=ip-1 ok=true gpus=1 expected=1\n"
)


class ManifestHelm(FakeHelm):
    """Returns a manifest with one Job per chart, as real helm does for the project's charts."""

    def upgrade_install(self, release: str, chart: str, **kw: Any) -> ReleaseStatus:  # type: ignore[override]
        status = super().upgrade_install(release, chart, **kw)
        self.values = getattr(self, "values", {})
        self.values[release] = kw["values"]
        job = f"apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {release}-job-1\n"
        return ReleaseStatus(status.name, status.namespace, status.revision, status.status, chart, manifest=job)


def FakeCluster(**kwargs: Any) -> FakeKubernetes:  # noqa: N802 - reads like the class it builds
    """The shared cluster fake, answering the gpu-check Job with one A10G."""
    return FakeKubernetes(**{"logs": GPU_LOG, **kwargs})


def gpu_node(name: str, instance_type: str, gpus: int) -> NodeInfo:
    return NodeInfo(
        name=name,
        ready=True,
        instance_type=instance_type,
        labels={"mlplat.io/pool": "gpu"},
        taints=(),
        gpus_allocatable=gpus,
    )


@pytest.fixture
def eks_env(local_env: Environment) -> Environment:
    """The local env with a kube context, so Kubernetes parts apply."""
    text = local_env.source.read_text().replace(
        '  kubernetes_version: "1.32"', '  kubernetes_version: "1.32"\n  kube_context: kind-mlplat'
    )
    return Environment("local", local_env.source, parse_env(text, "local.yaml"))


def ctx(env: Environment, helm: FakeHelm, kube: FakeKubernetes, outputs: dict[str, Any] | None = None) -> PhaseContext:
    return PhaseContext(
        env=env,
        workdir=Path("/nonexistent"),
        outputs=outputs or {},
        adapters=fake_adapters(helm_factory=lambda: helm, kubernetes_factory=lambda: kube),
    )


def test_local_env_skips_kubernetes_parts_and_says_why(local_env: Environment) -> None:
    phases = {p.name: p for p in provision_order(local_env)}
    c = ctx(local_env, FakeHelm(), FakeCluster())
    assert phases["cni"].skip_reason(c) == "no Kubernetes API for env local"
    storage = phases["storage"]
    assert isinstance(storage, CompositePhase)
    assert storage.skip_reason(c) is None  # the Terraform part still runs
    assert [type(p).__name__ for p in storage._active(c)[0]] == ["TerraformPhase"]


def test_gpu_part_installs_device_plugin_then_proves_gpus(eks_env: Environment) -> None:
    helm, kube = ManifestHelm(), FakeCluster(nodes=[gpu_node("ip-1", "g5.xlarge", 1)], ready={"*"})
    part = GpuNodesPart("nodegroups", "Kubernetes side: device plugin")
    c = ctx(eks_env, helm, kube)
    part.apply(c)
    assert helm.calls[0] == ("upgrade_install", "nvidia-device-plugin")
    result = part.check(c)
    assert result.ok, result
    assert "NVIDIA A10G (driver 550.54.15, CUDA 12.4)" in result.summary
    gpu_values = helm.values["mlplat-gpu-check"]
    assert gpu_values["nodes"] == [{"name": "ip-1", "gpus": 1}]
    assert ("uninstall", "mlplat-gpu-check") in helm.calls  # the check cleans up after itself


def test_gpu_part_reports_allocatable_mismatch_without_running_jobs(eks_env: Environment) -> None:
    helm, kube = ManifestHelm(), FakeCluster(nodes=[gpu_node("ip-2", "g5.12xlarge", 0)], ready={"*"})
    result = GpuNodesPart("nodegroups", "k").check(ctx(eks_env, helm, kube))
    assert not result.ok and "ip-2" in result.diagnosis
    assert ("upgrade_install", "mlplat-gpu-check") not in helm.calls


def test_gpu_check_failure_lines_fail_the_gate(eks_env: Environment) -> None:
    kube = FakeCluster(
        nodes=[gpu_node("ip-1", "g5.xlarge", 1)],
        ready={"*"},
        logs="MLPLAT_GPU_SUMMARY node=ip-1 ok=false gpus=0 expected=1 reason=nvidia-smi-failed\n",
    )
    result = GpuNodesPart("nodegroups", "k").check(ctx(eks_env, ManifestHelm(), kube))
    assert not result.ok and "reason=nvidia-smi-failed" in result.diagnosis


def test_no_gpu_nodes_is_not_ready(eks_env: Environment) -> None:
    result = GpuNodesPart("nodegroups", "k").check(ctx(eks_env, ManifestHelm(), FakeCluster()))
    assert not result.ok and "no GPU nodes" in result.summary


def test_cni_gate_waits_for_calico_only_when_enabled(eks_env: Environment) -> None:
    kube = FakeCluster(ready={"DaemonSet/kube-system/aws-node", "Deployment/kube-system/cni-metrics-helper"})
    result = CniPhase().check(ctx(eks_env, FakeHelm(), kube))
    assert result.ok and kube.calls == ["DaemonSet/kube-system/aws-node", "Deployment/kube-system/cni-metrics-helper"]
    calico = Environment(
        "local",
        eks_env.source,
        eks_env.config.model_copy(update={"features": eks_env.config.features.model_copy(update={"calico": True})}),
    )
    result = CniPhase().check(ctx(calico, FakeHelm(), kube))
    assert not result.ok and "calico-node" in result.summary


def test_volumes_part_passes_the_efs_id_and_gates_on_the_verify_job(eks_env: Environment) -> None:
    helm, kube = ManifestHelm(), FakeCluster(ready={"*"})
    part = VolumesPart("storage", "Kubernetes side: volumes")
    c = ctx(eks_env, helm, kube, {"storage": {"efs_file_system_id": "fs-0123456789abcdef0"}})
    outputs = part.apply(c)
    values = helm.values["mlplat-storage"]
    assert values["efs"] == {"fileSystemId": "fs-0123456789abcdef0"}
    assert values["verify"]["runId"].startswith("r")
    assert outputs["verify_jobs"] == ["mlplat-storage-job-1"]
    c.outputs = {"storage": {**c.outputs["storage"], **outputs}}
    assert part.check(c).ok
    assert kube.calls[-2:] == ["pvc/mlplat-system/model-cache", "job/mlplat-system/mlplat-storage-job-1"] or any(
        call.startswith("job/") for call in kube.calls
    )


def test_parse_gpu_lines() -> None:
    gpus, failures = parse_gpu_lines(GPU_LOG + "noise\n")
    assert [(g.node, g.model, g.driver, g.cuda, g.memory_mib) for g in gpus] == [
        ("ip-1", "NVIDIA A10G", "550.54.15", "12.4", "23028")
    ]
    assert failures == []


def test_gpu_check_command_refuses_env_without_kubernetes_api(env_dir: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from eksctl_ml.cli import app
    from eksctl_ml.services.deps import Dependencies, local_store

    deps = Dependencies(adapters=lambda env, wd: fake_adapters(), store=local_store, inventory=None, root=tmp_path)
    result = CliRunner().invoke(app, ["gpu-check", "--env", "test", "--config-dir", str(env_dir)], obj=deps)
    assert result.exit_code == 2
    assert "no Kubernetes API for env test" in result.output and "kube_context" in result.output


def test_gpu_check_command_prints_the_table(
    eks_env: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from eksctl_ml.cli import app
    from eksctl_ml.services.deps import Dependencies, local_store

    env_dir = tmp_path / "envs"
    env_dir.mkdir()
    (env_dir / "gpu.yaml").write_text(
        eks_env.source.read_text().replace(
            'kubernetes_version: "1.32"', 'kubernetes_version: "1.32"\n  kube_context: kind-x'
        )
    )
    kube = FakeCluster(nodes=[gpu_node("ip-1", "g5.xlarge", 1)], ready={"*"})
    helm = ManifestHelm()
    deps = Dependencies(
        adapters=lambda env, wd: fake_adapters(helm_factory=lambda: helm, kubernetes_factory=lambda: kube),
        store=local_store,
        inventory=None,
        root=tmp_path / "state",
    )
    monkeypatch.setenv("COLUMNS", "200")
    result = CliRunner().invoke(app, ["gpu-check", "--env", "gpu", "--config-dir", str(env_dir)], obj=deps)
    assert result.exit_code == 0, result.output
    assert "NVIDIA A10G" in result.output and "550.54.15" in result.output and "12.4" in result.output


@dataclass
class _Report:
    ok: bool

    def render(self) -> str:
        return "1 load balancer remains: k8s-default-web-123 (service default/web)"


def test_nodegroups_destroy_clears_the_cluster_first_and_stops_if_lbs_remain(
    eks_env: Environment, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eksctl_ml.adapters.kubernetes import teardown
    from eksctl_ml.errors import PhaseError

    seen: dict[str, Any] = {}

    def fake_prepare(api_client: Any, aws: Any, helm: Any, cluster: str, releases: Any, **kw: Any) -> _Report:
        seen.update(cluster=cluster, releases=list(releases))
        return _Report(ok=seen.get("ok", False))

    monkeypatch.setattr(teardown, "prepare_cluster_for_destroy", fake_prepare)
    helm = ManifestHelm()
    part = GpuNodesPart("nodegroups", "Kubernetes side")
    c = ctx(eks_env, helm, FakeCluster())
    with pytest.raises(PhaseError, match="block the VPC") as info:
        part.destroy(c)
    assert "k8s-default-web-123" in info.value.diagnosis
    assert ("uninstall", "nvidia-device-plugin") not in helm.calls  # nothing removed before the LBs are gone
    assert seen["cluster"] == "mlplat-local"
    names = [name for name, _ in seen["releases"]]
    assert "nvidia-device-plugin" not in names and "mlplat-storage" in names  # later phases' releases, install order
    seen["ok"] = True
    part.destroy(c)
    assert ("uninstall", "nvidia-device-plugin") in helm.calls
