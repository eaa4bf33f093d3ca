"""PVC, CRD, Job and Service-endpoint waits through the real client and watch streams."""

from __future__ import annotations

import pytest

from eksctl_ml.adapters.kubernetes.client import KubeClient
from tests.kubernetes import builders as b
from tests.kubernetes.fakeapi import FakeKubeApi

CRD = "servicemonitors.monitoring.coreos.com"


# --- PersistentVolumeClaims ---------------------------------------------------------------------


def test_pvc_binds_through_a_watch_event(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.pvc("models"))
    api.when_watched("PersistentVolumeClaim", lambda: api.put(b.pvc("models", phase="Bound", volume="pvc-1234")))
    seen: list[str] = []

    result = kube.wait_pvc_bound("ml", "models", timeout_s=30, progress=seen.append)

    assert result.ok
    assert result.summary.startswith("PersistentVolumeClaim ml/models is Bound to pvc-1234")
    assert seen == ["PersistentVolumeClaim ml/models is Pending (0s)"]


def test_pvc_created_later_is_waited_for(api: FakeKubeApi, kube: KubeClient) -> None:
    api.when_watched("PersistentVolumeClaim", lambda: api.put(b.pvc("models", phase="Bound", volume="pvc-1")))

    assert kube.wait_pvc_bound("ml", "models", timeout_s=30).ok


def test_pvc_stuck_pending_reports_provisioning_failed(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.pvc("models"))
    api.put(
        b.event(
            "PersistentVolumeClaim",
            "models",
            "ProvisioningFailed",
            'failed to provision volume with StorageClass "efs-sc": rpc error: code = Unauthenticated desc = '
            "Access Denied. Please ensure you have the right AWS permissions: Access denied",
            count=6,
        ),
        b.event(
            "PersistentVolumeClaim",
            "models",
            "ExternalProvisioning",
            "Waiting for a volume to be created either by the external provisioner 'efs.csi.aws.com' or manually",
            type="Normal",
        ),
    )

    result = kube.wait_pvc_bound("ml", "models", timeout_s=1)

    assert not result.ok
    assert result.summary == "not ready after 1s: PersistentVolumeClaim ml/models is Pending"
    assert "storage class efs-sc; access modes ReadWriteMany" in result.diagnosis
    assert "event Warning ProvisioningFailed: failed to provision volume" in result.diagnosis
    assert "Access Denied" in result.diagnosis and "(x6)" in result.diagnosis
    assert "hint: the CSI driver could not create the volume" in result.diagnosis


def test_pvc_waiting_for_its_first_consumer_says_so(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.pvc("scratch", storage_class="gp3"))
    api.put(
        b.event(
            "PersistentVolumeClaim",
            "scratch",
            "WaitForFirstConsumer",
            "waiting for first consumer to be created before binding",
            type="Normal",
        )
    )

    result = kube.wait_pvc_bound("ml", "scratch", timeout_s=1)

    assert not result.ok
    assert "binds volumes on first use" in result.diagnosis


def test_lost_pvc_fails_at_once(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.pvc("models", phase="Lost", volume="pvc-gone"))

    result = kube.wait_pvc_bound("ml", "models", timeout_s=30)

    assert not result.ok
    assert "Lost" in result.summary
    assert api.watch_requests("persistentvolumeclaims") == []


# --- CustomResourceDefinitions --------------------------------------------------------------------


def test_crd_established_through_a_watch_event(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.crd(CRD, established=False))
    api.when_watched("CustomResourceDefinition", lambda: api.put(b.crd(CRD, established=True)))

    result = kube.wait_crd_established(CRD, timeout_s=30)

    assert result.ok
    assert result.summary.startswith(f"CustomResourceDefinition {CRD} is Established")
    watch = api.watch_requests("customresourcedefinitions")[0]
    assert watch.path == "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


def test_crd_with_rejected_names_fails_at_once(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.crd(CRD, names_accepted=False))

    result = kube.wait_crd_established(CRD, timeout_s=30)

    assert not result.ok
    assert "names were not accepted" in result.summary
    assert "condition NamesAccepted=False: ListKindConflict" in result.diagnosis


def test_missing_crd_times_out_with_a_hint(api: FakeKubeApi, kube: KubeClient) -> None:
    result = kube.wait_crd_established(CRD, timeout_s=1)

    assert not result.ok
    assert result.summary == f"not ready after 1s: CustomResourceDefinition {CRD} does not exist yet"
    assert "is the chart (or operator) that installs it deployed?" in result.diagnosis


# --- Jobs -----------------------------------------------------------------------------------------


def test_job_completes_through_a_watch_event(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.job("warmup", active=1))
    api.when_watched("Job", lambda: api.put(b.job("warmup", complete=True, active=0, succeeded=1)))
    seen: list[str] = []

    result = kube.wait_job_complete("ml", "warmup", timeout_s=30, progress=seen.append)

    assert result.ok
    assert result.summary == "Job ml/warmup complete in 42s"
    assert seen == ["Job ml/warmup: 1 active, 0 succeeded, 0 failed pod(s) (0s)"]


def test_failed_job_returns_at_once_with_its_pod_and_logs(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.job("warmup", failed=("BackoffLimitExceeded", "Job has reached the specified backoff limit"), active=0))
    api.put(
        b.pod(
            "warmup-x7k2p",
            labels=b.job_pod_labels("warmup"),
            phase="Failed",
            statuses=[b.container_status(terminated=("Error", 2))],
            restart_policy="Never",
        ),
        b.pod("unrelated", labels={"app": "other"}, phase="Failed"),
    )
    api.set_log("ml", "warmup-x7k2p", "loading densenet\nTraceback (most recent call last):\nValueError: bad shape\n")

    result = kube.wait_job_complete("ml", "warmup", timeout_s=30)

    assert not result.ok
    assert result.summary == ("Job ml/warmup failed: BackoffLimitExceeded: Job has reached the specified backoff limit")
    assert "pod warmup-x7k2p: Failed" in result.diagnosis
    assert "terminated: Error (exit code 2)" in result.diagnosis
    assert "container main (current run):" in result.diagnosis
    assert "| ValueError: bad shape" in result.diagnosis
    assert "unrelated" not in result.diagnosis
    assert api.watch_requests("jobs") == []


def test_job_failing_during_the_wait_is_reported(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.job("warmup"))
    api.when_watched(
        "Job", lambda: api.put(b.job("warmup", failed=("DeadlineExceeded", "Job was active longer than specified")))
    )

    result = kube.wait_job_complete("ml", "warmup", timeout_s=30)

    assert not result.ok
    assert "DeadlineExceeded" in result.summary
    assert "no pods match" in result.diagnosis


# --- Service endpoints (webhooks) -----------------------------------------------------------------


def test_webhook_service_with_a_ready_endpoint_is_ready(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.service("aws-load-balancer-webhook-service", selector={"app": "lbc"}))
    api.put(b.endpoint_slice("aws-load-balancer-webhook-service", ready=[False, True]))
    api.put(b.endpoint_slice("other-service", ready=[True]))

    result = kube.wait_service_endpoints("ml", "aws-load-balancer-webhook-service", timeout_s=30)

    assert result.ok
    assert "has 1 ready endpoint(s)" in result.summary
    listing = api.list_requests("endpointslices")[0]
    assert listing.path == "/apis/discovery.k8s.io/v1/namespaces/ml/endpointslices"
    assert listing.query["labelSelector"] == "kubernetes.io/service-name=aws-load-balancer-webhook-service"


def test_endpoint_readiness_unset_means_ready(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.endpoint_slice("webhook", ready=[None]))

    assert kube.wait_service_endpoints("ml", "webhook", timeout_s=30).ok


def test_webhook_endpoints_become_ready_through_a_watch(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.endpoint_slice("webhook", ready=[False]))
    api.when_watched("EndpointSlice", lambda: api.put(b.endpoint_slice("webhook", ready=[True])))
    seen: list[str] = []

    result = kube.wait_service_endpoints("ml", "webhook", timeout_s=30, progress=seen.append)

    assert result.ok
    assert seen == ["Service ml/webhook: 1 endpoint(s), none ready (0s)"]


def test_webhook_without_ready_endpoints_explains_its_pods(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.service("webhook", selector={"app": "lbc"}))
    api.put(b.endpoint_slice("webhook", ready=[False]))
    api.put(
        b.pod(
            "lbc-1",
            labels={"app": "lbc"},
            statuses=[b.container_status(running=True, ready=False)],
        ),
        b.event("Pod", "lbc-1", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 500"),
    )

    result = kube.wait_service_endpoints("ml", "webhook", timeout_s=1)

    assert not result.ok
    assert result.summary == "not ready after 1s: Service ml/webhook: 1 endpoint(s), none ready"
    assert "running but not ready" in result.diagnosis
    assert "Readiness probe failed" in result.diagnosis


def test_missing_webhook_service_is_named(api: FakeKubeApi, kube: KubeClient) -> None:
    result = kube.wait_service_endpoints("ml", "webhook", timeout_s=1)

    assert not result.ok
    assert "has no endpoints" in result.summary
    assert "Service ml/webhook does not exist" in result.diagnosis


@pytest.mark.parametrize("ready", [True, False])
def test_core_endpoints_are_used_when_endpointslices_are_not_served(
    api: FakeKubeApi, kube: KubeClient, ready: bool
) -> None:
    from kubernetes import client

    api.fail(r"^/apis/discovery\.k8s\.io/", 404, message="the server could not find the requested resource", times=9)
    address = [client.V1EndpointAddress(ip="10.0.1.10")]
    api.put(
        client.V1Endpoints(
            metadata=b.meta("webhook"),
            subsets=[
                client.V1EndpointSubset(
                    addresses=address if ready else None, not_ready_addresses=None if ready else address
                )
            ],
        ),
        b.service("webhook", selector=None),
    )

    result = kube.wait_service_endpoints("ml", "webhook", timeout_s=1)

    assert result.ok is ready
    if not ready:
        assert "1 endpoint(s), none ready" in result.summary
        assert "has no selector" in result.diagnosis
    assert api.list_requests("/endpoints")


def test_job_logs_concatenate_the_pods_logs_oldest_first(api: FakeKubeApi, kube: KubeClient) -> None:
    from datetime import timedelta

    api.put(b.job("gpu-check", complete=True, active=0, succeeded=2))
    labels = b.job_pod_labels("gpu-check")
    api.put(
        b.pod("gpu-check-b", labels=labels, phase="Succeeded", created=b.T0 + timedelta(seconds=5)),
        b.pod("gpu-check-a", labels=labels, phase="Succeeded"),
        b.pod("gpu-check-pending", labels=labels, phase="Pending", created=b.T0 + timedelta(seconds=9)),
        b.pod("other", labels={"job-name": "other"}, phase="Succeeded"),
    )
    api.set_log("ml", "gpu-check-a", "MLPLAT_GPU node=a model=A10G\n")
    api.set_log("ml", "gpu-check-b", "noise\nMLPLAT_GPU node=b model=A10G")
    api.set_log("ml", "other", "MLPLAT_GPU node=other\n")
    api.fail(r"/pods/gpu-check-pending/log$", 400, message='container "main" in pod "gpu-check-pending" is waiting')

    logs = kube.job_logs("ml", "gpu-check", tail_lines=1)

    assert logs == "MLPLAT_GPU node=a model=A10G\nMLPLAT_GPU node=b model=A10G\n"


def test_job_logs_of_a_deleted_job_use_the_job_name_label(api: FakeKubeApi, kube: KubeClient) -> None:
    api.put(b.pod("gpu-check-a", labels=b.job_pod_labels("gpu-check"), phase="Succeeded"))
    api.set_log("ml", "gpu-check-a", "MLPLAT_GPU_SUMMARY ok=true\n")

    assert kube.job_logs("ml", "gpu-check", tail_lines=10) == "MLPLAT_GPU_SUMMARY ok=true\n"
