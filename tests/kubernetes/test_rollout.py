"""wait_for_rollout: Deployments, DaemonSets and StatefulSets through the real client and watch streams."""

from __future__ import annotations

import time

import pytest
from kubernetes import client

from eksctl_ml.adapters.kubernetes.client import KubeClient
from eksctl_ml.errors import KubernetesError
from tests.kubernetes import builders as b
from tests.kubernetes.fakeapi import FakeKubeApi


def test_deployment_becomes_ready_through_a_watch_event(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.deployment("triton", updated=1, available=1))
    api.when_watched("Deployment", lambda: api.put(b.deployment("triton", updated=3, available=3)))
    seen: list[str] = []

    started = time.monotonic()
    result = kube.wait_for_rollout("Deployment", "ml", "triton", timeout_s=30, progress=seen.append)

    assert result.ok, result
    assert result.summary.startswith("Deployment ml/triton rolled out: 3/3 replicas available")
    assert time.monotonic() - started < 2  # the event ended the wait, not the watch's timeout
    assert seen == ["Deployment ml/triton: 1 of 3 replicas updated, 1 available (0s)"]
    lists, watches = api.list_requests("deployments"), api.watch_requests("deployments")
    assert len(lists) == 1 and len(watches) == 1
    assert lists[0].query["fieldSelector"] == "metadata.name=triton"
    # the watch starts where the list left off, bounded by the server-side timeout
    assert watches[0].query["resourceVersion"] == "1001"
    assert watches[0].query["timeoutSeconds"] == "5"


def test_a_rolled_out_deployment_needs_no_watch(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.deployment("triton", updated=3, available=3))

    result = kube.wait_for_rollout("deployment", "ml", "triton", timeout_s=30)

    assert result.ok
    assert api.watch_requests("deployments") == []


def test_deployment_progress_follows_each_change(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.deployment("triton", generation=3, observed=2, updated=3, available=3))

    def roll() -> None:
        api.put(b.deployment("triton", generation=3, observed=3, updated=1, available=3, total=4))
        api.put(b.deployment("triton", generation=3, observed=3, updated=3, available=2, total=4))
        api.put(b.deployment("triton", generation=3, observed=3, updated=3, available=2, total=3))
        api.put(b.deployment("triton", generation=3, observed=3, updated=3, available=3, total=3))

    api.when_watched("Deployment", roll)
    seen: list[str] = []

    result = kube.wait_for_rollout("Deployment", "ml", "triton", timeout_s=30, progress=seen.append)

    assert result.ok
    assert [line.removesuffix(" (0s)") for line in seen] == [
        "Deployment ml/triton: waiting for the controller to observe generation 3",
        "Deployment ml/triton: 1 of 3 replicas updated, 3 available",
        "Deployment ml/triton: 1 old replica(s) pending termination",
        "Deployment ml/triton: 2 of 3 updated replicas available",
    ]


def test_a_deployment_created_during_the_wait_is_seen(api: FakeKubeApi, kube: KubeClient) -> None:
    api.when_watched("Deployment", lambda: api.put(b.deployment("triton", updated=1, available=1, replicas=1)))

    result = kube.wait_for_rollout("Deployment", "ml", "triton", timeout_s=30)

    assert result.ok


def test_a_deleted_deployment_is_reported_as_missing(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.deployment("triton", updated=0, available=0))
    api.when_watched("Deployment", lambda: api.delete("Deployment", "ml", "triton"))

    result = kube.wait_for_rollout("Deployment", "ml", "triton", timeout_s=1)

    assert not result.ok
    assert result.summary == "not ready after 1s: Deployment ml/triton does not exist yet"
    assert "was it installed" in result.diagnosis


def test_progress_deadline_exceeded_fails_at_once(api: FakeKubeApi, kube: KubeClient) -> None:
    stuck = client.V1DeploymentCondition(
        type="Progressing",
        status="False",
        reason="ProgressDeadlineExceeded",
        message='ReplicaSet "triton-7d9f" has timed out progressing.',
    )
    api.put(b.deployment("triton", updated=3, available=0, conditions=[stuck]))
    api.put(b.pod("triton-7d9f-a", labels={"app": "triton"}, phase="Pending", node=None))

    started = time.monotonic()
    result = kube.wait_for_rollout("Deployment", "ml", "triton", timeout_s=30)

    assert time.monotonic() - started < 2
    assert not result.ok
    assert "exceeded its progress deadline" in result.summary
    assert "has timed out progressing" in result.summary
    assert "pod triton-7d9f-a: Pending" in result.diagnosis


def test_timeout_diagnosis_names_the_image_that_cannot_be_pulled(api: FakeKubeApi, kube: KubeClient) -> None:
    image = "nvcr.io/nvidia/tritonserver:99.99-py3"
    api.put(b.deployment("triton", replicas=1, updated=1, available=0))
    api.put(
        b.pod(
            "triton-7d9f-a",
            labels={"app": "triton"},
            statuses=[
                b.container_status(image=image, waiting=("ImagePullBackOff", f'Back-off pulling image "{image}"'))
            ],
        )
    )
    api.put(b.event("Pod", "triton-7d9f-a", "Failed", f'Failed to pull image "{image}": not found', count=4))
    api.put(b.replicaset("triton-7d9f", "triton"))
    api.put(
        b.event(
            "ReplicaSet",
            "triton-7d9f",
            "FailedCreate",
            'Error creating: pods "triton-7d9f-b" is forbidden: exceeded quota: gpu-quota',
        )
    )
    seen: list[str] = []

    result = kube.wait_for_rollout("Deployment", "ml", "triton", timeout_s=1, progress=seen.append)

    assert not result.ok
    assert result.summary == ("not ready after 1s: Deployment ml/triton: 0 of 1 updated replicas available")
    assert "waiting: ImagePullBackOff" in result.diagnosis
    assert f"(image {image})" in result.diagnosis
    assert "Warning Failed: Failed to pull image" in result.diagnosis and "(x4)" in result.diagnosis
    assert "FailedCreate" in result.diagnosis and "exceeded quota" in result.diagnosis
    assert "the image cannot be pulled" in result.diagnosis
    assert len(seen) == 1  # nothing changed after the first report


def test_timeout_diagnosis_explains_unschedulable_gpu_pods(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.deployment("triton", replicas=2, updated=2, available=0))
    message = (
        "0/3 nodes are available: 1 node(s) had untolerated taint {nvidia.com/gpu: true}, "
        "2 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: 3 No preemption victims found."
    )
    api.put(
        b.pod("triton-a", labels={"app": "triton"}, phase="Pending", node=None, unschedulable=message),
        b.event("Pod", "triton-a", "FailedScheduling", message, count=12),
    )

    result = kube.wait_for_rollout("Deployment", "ml", "triton", timeout_s=1)

    assert not result.ok
    assert "pod triton-a: Pending, not ready" in result.diagnosis
    assert "FailedScheduling: 0/3 nodes are available" in result.diagnosis
    assert "2 Insufficient nvidia.com/gpu" in result.diagnosis
    assert "had untolerated taint {nvidia.com/gpu: true}" in result.diagnosis
    assert "no schedulable node has a free nvidia.com/gpu" in result.diagnosis
    assert "does not tolerate the node taint {nvidia.com/gpu: true}" in result.diagnosis


def test_timeout_diagnosis_shows_the_last_log_lines_of_a_crashing_container(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.deployment("triton", replicas=1, updated=1, available=0))
    api.put(
        b.pod(
            "triton-a",
            labels={"app": "triton"},
            statuses=[
                b.container_status(
                    waiting=("CrashLoopBackOff", "back-off 5m0s restarting failed container=main pod=triton-a"),
                    last_terminated=("Error", 1),
                    restarts=7,
                )
            ],
        ),
        b.event("Pod", "triton-a", "BackOff", "Back-off restarting failed container main in pod triton-a"),
    )
    previous = "".join(f"line {i}\n" for i in range(1, 41)) + "E model_repository_manager: failed to load 'densenet'\n"
    api.set_log("ml", "triton-a", "starting\n", previous=previous)

    result = kube.wait_for_rollout("Deployment", "ml", "triton", timeout_s=1)

    assert "waiting: CrashLoopBackOff" in result.diagnosis
    assert "last terminated: Error (exit code 1); 7 restart(s)" in result.diagnosis
    assert "last 20 log line(s) of container main (previous run):" in result.diagnosis
    assert "| E model_repository_manager: failed to load 'densenet'" in result.diagnosis
    assert "| line 22\n" in result.diagnosis + "\n"
    assert "| line 21\n" not in result.diagnosis + "\n"
    log_request = next(r for r in api.requests if r.path.endswith("/log"))
    assert log_request.query == {"container": "main", "previous": "true", "tailLines": "20"}


def test_daemonset_rollout_over_several_events(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.daemonset("nvidia-device-plugin", desired=3, updated=1, available=1))

    def roll() -> None:
        api.put(b.daemonset("nvidia-device-plugin", desired=3, updated=2, available=1))
        api.put(b.daemonset("nvidia-device-plugin", desired=3, updated=3, available=2))
        api.put(b.daemonset("nvidia-device-plugin", desired=3, updated=3, available=3))

    api.when_watched("DaemonSet", roll)
    seen: list[str] = []

    result = kube.wait_for_rollout(
        "DaemonSet", "kube-system", "nvidia-device-plugin", timeout_s=30, progress=seen.append
    )

    assert result.ok
    assert "3/3 pods available" in result.summary
    assert [line.split(": ", 1)[1].removesuffix(" (0s)") for line in seen] == [
        "1 of 3 pods updated, 1 available",
        "2 of 3 pods updated, 1 available",
        "2 of 3 updated pods available",
    ]


def test_daemonset_waits_for_the_new_generation(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.daemonset("dcgm-exporter", desired=2, updated=2, available=2, generation=2, observed=1))

    result = kube.wait_for_rollout("DaemonSet", "kube-system", "dcgm-exporter", timeout_s=1)

    assert not result.ok
    assert "waiting for the controller to observe generation 2" in result.summary


def test_daemonset_with_no_matching_node_is_rolled_out(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.daemonset("nvidia-device-plugin", desired=0))

    result = kube.wait_for_rollout("DaemonSet", "kube-system", "nvidia-device-plugin", timeout_s=5)

    assert result.ok
    assert "0 pods scheduled" in result.summary


def test_statefulset_waits_for_ready_pods_and_the_update_revision(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.statefulset("db", replicas=3, ready=2, updated=1, current_revision="db-1", update_revision="db-2"))

    def roll() -> None:
        api.put(b.statefulset("db", replicas=3, ready=3, updated=3, current_revision="db-1", update_revision="db-2"))
        api.put(b.statefulset("db", replicas=3, ready=3, updated=3, current_revision="db-2", update_revision="db-2"))

    api.when_watched("StatefulSet", roll)
    seen: list[str] = []

    result = kube.wait_for_rollout("StatefulSet", "ml", "db", timeout_s=30, progress=seen.append)

    assert result.ok
    assert "3/3 pods ready" in result.summary
    assert [line.removesuffix(" (0s)") for line in seen] == [
        "StatefulSet ml/db: 2 of 3 pods ready",
        "StatefulSet ml/db: rolling update to revision db-2 in progress (3/3 updated)",
    ]


def test_statefulset_partitioned_rollout_is_done_at_the_partition(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.statefulset("db", replicas=3, ready=3, updated=1, update_revision="db-2", partition=2))

    result = kube.wait_for_rollout("StatefulSet", "ml", "db", timeout_s=5)

    assert result.ok
    assert "partition 2" in result.summary


def test_statefulset_timeout_explains_its_pods(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.statefulset("db", replicas=1, ready=0))
    api.put(
        b.pod(
            "db-0",
            labels={"app": "db"},
            statuses=[b.container_status(terminated=("OOMKilled", 137), restarts=3)],
            memory_limit="512Mi",
        )
    )
    api.set_log("ml", "db-0", "loading weights\n")

    result = kube.wait_for_rollout("StatefulSet", "ml", "db", timeout_s=1)

    assert not result.ok
    assert "terminated: OOMKilled (exit code 137); memory limit 512Mi; 3 restart(s)" in result.diagnosis
    assert "raise resources.limits.memory" in result.diagnosis
    assert "| loading weights" in result.diagnosis


def test_unknown_kind_is_refused(kube: KubeClient) -> None:
    with pytest.raises(KubernetesError, match="cannot wait for the rollout of a CronJob"):
        kube.wait_for_rollout("CronJob", "ml", "x", timeout_s=1)


def test_the_client_stays_usable_after_a_wait_stopped_its_watch(api: FakeKubeApi, kube: KubeClient) -> None:
    for name in ("triton", "router", "gateway"):
        api.put(b.deployment(name, replicas=1, updated=0))
        api.when_watched("Deployment", lambda n=name: api.put(b.deployment(n, replicas=1, updated=1, available=1)))

        assert kube.wait_for_rollout("Deployment", "ml", name, timeout_s=30).ok
        assert kube.server_version().startswith("v1.32")
