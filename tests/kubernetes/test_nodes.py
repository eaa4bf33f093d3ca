"""nodes_summary and gpu_allocatable_check over a mixed fleet of CPU and GPU nodes."""

from __future__ import annotations

from eksctl_ml.adapters.kubernetes.client import KubeClient
from eksctl_ml.adapters.kubernetes.protocol import NodeInfo
from eksctl_ml.config.catalog import gpus_per_instance
from tests.kubernetes import builders as b
from tests.kubernetes.fakeapi import FakeKubeApi

GPU_TAINT = ("nvidia.com/gpu", "true", "NoSchedule")


def _mixed_fleet(api: FakeKubeApi) -> None:
    api.put(
        b.node("ip-10-0-0-10", instance_type="m6i.xlarge"),  # system pool, no GPUs: ignored by the GPU check
        b.node("ip-10-0-1-1", instance_type="g5.xlarge", gpu_pool=True, gpus=1, taints=[GPU_TAINT]),
        b.node("ip-10-0-1-2", instance_type="g5.12xlarge", gpu_pool=True, gpus=0, taints=[GPU_TAINT]),
        b.node("ip-10-0-1-3", instance_type="g5.12xlarge", gpu_pool=True, gpus=4, taints=[GPU_TAINT]),
        b.node("ip-10-0-1-4", instance_type="p4d.24xlarge", gpu_pool=True, gpus=8, taints=[GPU_TAINT]),
        b.node("ip-10-0-1-5", instance_type="g5.xlarge", gpu_pool=True, ready=False),
    )


def test_nodes_summary(api: FakeKubeApi, kube: KubeClient) -> None:
    _mixed_fleet(api)

    nodes = {node.name: node for node in kube.nodes_summary()}

    assert list(nodes) == sorted(nodes)
    assert nodes["ip-10-0-1-4"] == NodeInfo(
        name="ip-10-0-1-4",
        ready=True,
        instance_type="p4d.24xlarge",
        labels={
            "node.kubernetes.io/instance-type": "p4d.24xlarge",
            "kubernetes.io/os": "linux",
            "mlplat.io/pool": "gpu",
        },
        taints=("nvidia.com/gpu=true:NoSchedule",),
        gpus_allocatable=8,
    )
    assert nodes["ip-10-0-1-4"].is_gpu_pool
    assert not nodes["ip-10-0-0-10"].is_gpu_pool and nodes["ip-10-0-0-10"].gpus_allocatable == 0
    assert not nodes["ip-10-0-1-5"].ready
    assert nodes["ip-10-0-1-5"].not_ready_reason == (
        "KubeletNotReady: container runtime network not ready: cni plugin not initialized"
    )


def test_gpu_allocatable_check_lists_every_mismatch_and_not_ready_node(api: FakeKubeApi, kube: KubeClient) -> None:
    _mixed_fleet(api)

    result = kube.gpu_allocatable_check(gpus_per_instance)

    assert not result.ok
    assert result.summary == "5/6 nodes Ready; 5 GPU node(s) (mlplat.io/pool=gpu) expose 13 nvidia.com/gpu"
    assert result.diagnosis.splitlines() == [
        "ip-10-0-1-5: NotReady (KubeletNotReady: container runtime network not ready: cni plugin not initialized)",
        "ip-10-0-1-2: g5.12xlarge allocatable nvidia.com/gpu 0, expected 4 (is the device plugin running on it?)",
    ]


def test_gpu_allocatable_check_passes_on_a_healthy_fleet(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(
        b.node("ip-10-0-0-10", instance_type="m6i.xlarge", gpus=0),
        b.node("ip-10-0-1-1", instance_type="g5.xlarge", gpu_pool=True, gpus=1),
        b.node("ip-10-0-1-3", instance_type="g5.12xlarge", gpu_pool=True, gpus=4),
        b.node("ip-10-0-1-4", instance_type="p4d.24xlarge", gpu_pool=True, gpus=8),
    )

    result = kube.gpu_allocatable_check(gpus_per_instance)

    assert result.ok, result.diagnosis
    assert result.summary == "4/4 nodes Ready; 3 GPU node(s) (mlplat.io/pool=gpu) expose 13 nvidia.com/gpu"


def test_partial_gpus_and_unknown_types_are_explained(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(
        b.node("ip-10-0-1-1", instance_type="p4d.24xlarge", gpu_pool=True, gpus=7),
        b.node("ip-10-0-1-2", instance_type="x9.future", gpu_pool=True, gpus=0),
        b.node("ip-10-0-1-3", instance_type="x9.future", gpu_pool=True, gpus=2),  # unknown type with GPUs: fine
    )

    result = kube.gpu_allocatable_check(gpus_per_instance)

    assert not result.ok
    assert result.diagnosis.splitlines() == [
        "ip-10-0-1-1: p4d.24xlarge allocatable nvidia.com/gpu 7, expected 8 "
        "(unhealthy GPUs, or a device plugin sharing/MIG configuration?)",
        "ip-10-0-1-2: x9.future allocatable nvidia.com/gpu 0, expected at least 1 "
        "(is the device plugin running on it?)",
    ]


def test_a_cluster_without_nodes_is_not_ready(kube: KubeClient) -> None:
    result = kube.gpu_allocatable_check(gpus_per_instance)

    assert not result.ok
    assert result.summary == "no node has joined the cluster"
    assert "access entry" in result.diagnosis
