"""The cni and storage phase gates through the real KubeClient and kubernetes client, against the fake
API server (tests/kubernetes/fakeapi.py stands in for a Kubernetes API server, which cannot be obtained
on this machine). Objects become ready through watch events, as a controller would make them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eksctl_ml.adapters.kubernetes.client import KubeClient
from eksctl_ml.config.loader import Environment, parse_env
from eksctl_ml.engine.phase import PhaseContext
from eksctl_ml.phases.kubernetes import CniPhase, VolumesPart
from tests.fakes.adapters import FakeHelm, fake_adapters
from tests.kubernetes import builders as b
from tests.kubernetes.fakeapi import FakeKubeApi

REPO = Path(__file__).resolve().parents[2]


def env_with_kube_context(calico: bool = False) -> Environment:
    text = (REPO / "envs" / "local.yaml").read_text()
    text = text.replace('  kubernetes_version: "1.32"', '  kubernetes_version: "1.32"\n  kube_context: kind-mlplat')
    text = text.replace("  calico: false", f"  calico: {str(calico).lower()}")
    return Environment("local", REPO / "envs" / "local.yaml", parse_env(text, "local.yaml"))


def ctx(kube: KubeClient, env: Environment, outputs: dict[str, Any] | None = None) -> PhaseContext:
    return PhaseContext(
        env=env,
        workdir=REPO,
        outputs=outputs or {},
        adapters=fake_adapters(helm_factory=FakeHelm, kubernetes_factory=lambda: kube),
    )


def in_ns(model: Any, namespace: str) -> Any:
    model.metadata.namespace = namespace
    return model


def test_cni_gate_waits_for_aws_node_rollout_through_a_watch(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(
        b.daemonset("aws-node", desired=2, updated=1, available=1),
        in_ns(b.deployment("cni-metrics-helper", replicas=1, updated=1, available=1), "kube-system"),
    )
    api.when_watched("DaemonSet", lambda: api.put(b.daemonset("aws-node", desired=2, updated=2, available=2)))
    phase = CniPhase()
    phase.timeout_s = 20
    result = phase.check(ctx(kube, env_with_kube_context()))
    assert result.ok, result
    assert "aws-node" in result.summary and "cni-metrics-helper" in result.summary


def test_cni_gate_with_calico_names_the_missing_daemonset(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(
        b.daemonset("aws-node", desired=1, updated=1, available=1),
        in_ns(b.deployment("cni-metrics-helper", replicas=1, updated=1, available=1), "kube-system"),
    )
    phase = CniPhase()
    phase.timeout_s = 1
    result = phase.check(ctx(kube, env_with_kube_context(calico=True)))
    assert not result.ok
    assert "calico-node" in result.summary + result.diagnosis


def test_storage_gate_needs_csi_claim_bound_and_verify_job(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(
        in_ns(b.deployment("efs-csi-controller", replicas=2, updated=2, available=2), "kube-system"),
        b.daemonset("efs-csi-node", desired=2, updated=2, available=2),
        in_ns(b.deployment("ebs-csi-controller", replicas=2, updated=2, available=2), "kube-system"),
        b.daemonset("ebs-csi-node", desired=2, updated=2, available=2),
        in_ns(b.pvc("model-cache", phase="Pending"), "ml-inference"),
        in_ns(b.job("mlplat-storage-verify-r1", complete=True, active=0, succeeded=1), "ml-inference"),
    )
    api.when_watched(
        "PersistentVolumeClaim",
        lambda: api.put(in_ns(b.pvc("model-cache", phase="Bound", volume="pv-1"), "ml-inference")),
    )
    part = VolumesPart("storage", "Kubernetes side")
    part.timeout_s = 20
    outputs = {"storage": {"efs_file_system_id": "fs-0123456789abcdef0", "verify_jobs": ["mlplat-storage-verify-r1"]}}
    result = part.check(ctx(kube, env_with_kube_context(), outputs))
    assert result.ok, result


def test_storage_gate_names_a_missing_ebs_csi_driver(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(
        in_ns(b.deployment("efs-csi-controller", replicas=1, updated=1, available=1), "kube-system"),
        b.daemonset("efs-csi-node", desired=1, updated=1, available=1),
        in_ns(b.pvc("model-cache", phase="Bound", volume="pv-1"), "ml-inference"),
    )
    part = VolumesPart("storage", "Kubernetes side")
    part.timeout_s = 2
    result = part.check(ctx(kube, env_with_kube_context(), {"storage": {}}))
    assert not result.ok
    assert "ebs-csi-controller" in result.summary + result.diagnosis


def test_storage_gate_reports_a_failed_verify_job(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(
        in_ns(b.deployment("efs-csi-controller", replicas=1, updated=1, available=1), "kube-system"),
        b.daemonset("efs-csi-node", desired=1, updated=1, available=1),
        in_ns(b.deployment("ebs-csi-controller", replicas=1, updated=1, available=1), "kube-system"),
        b.daemonset("ebs-csi-node", desired=1, updated=1, available=1),
        in_ns(b.pvc("model-cache", phase="Bound", volume="pv-1"), "ml-inference"),
        in_ns(
            b.job(
                "mlplat-storage-verify-r2",
                failed=("BackoffLimitExceeded", "Job has reached the specified backoff limit"),
                active=0,
                failures=1,
            ),
            "ml-inference",
        ),
    )
    part = VolumesPart("storage", "Kubernetes side")
    part.timeout_s = 5
    outputs = {"storage": {"verify_jobs": ["mlplat-storage-verify-r2"]}}
    result = part.check(ctx(kube, env_with_kube_context(), outputs))
    assert not result.ok
    assert "BackoffLimitExceeded" in result.summary + result.diagnosis
