"""prepare_cluster_for_destroy end to end: fake API server, real moto, fake Helm, fake clock."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from eksctl_ml.adapters.aws.session import Boto3Aws
from eksctl_ml.adapters.kubernetes.teardown import prepare_cluster_for_destroy
from eksctl_ml.errors import KubernetesError
from tests.support.moto import free_port
from tests.teardown import objects as o
from tests.teardown.conftest import FakeClock, FakeHelm
from tests.teardown.fake_kube import FakeKubeApi

INSTALL_ORDER = [
    ("aws-load-balancer-controller", "kube-system"),
    ("kube-prometheus-stack", "monitoring"),
    ("triton", "inference"),
]


@pytest.fixture
def cluster(
    elb_aws: Boto3Aws, subnets: list[str], uid: str, kube: FakeKubeApi, helm: FakeHelm, clock: FakeClock
) -> str:
    """A cluster with one NLB Service, a ClusterIP Service, Delete and Retain volumes, a stuck namespace."""
    name = f"{uid}-cluster"
    nlb = o.elbv2(elb_aws, f"{uid}-nlb", subnets, {"elbv2.k8s.aws/cluster": name})
    o.elbv2(elb_aws, f"{uid}-decoy", subnets, {})
    kube.add(
        o.lb_service("inference", "triton", nlb["DNSName"]),
        o.cluster_ip_service("inference", "triton-metrics"),
        o.volume("pv-db", ("data", "db-0"), policy="Delete"),
        o.claim("data", "db-0", volume_name="pv-db"),
        o.volume("pv-keep", ("data", "keep"), policy="Retain"),
        o.claim("data", "keep", volume_name="pv-keep"),
        o.namespace("default"),
        o.namespace(
            "old",
            terminating=True,
            conditions={
                "NamespaceContentRemaining": ("True", "Some resources are remaining: pods. has 3 resource instances")
            },
        ),
    )
    helm.installed = {("aws-load-balancer-controller", "kube-system"), ("triton", "inference")}
    return name


def test_runs_every_step_in_order(
    cluster: str,
    elb_aws: Boto3Aws,
    uid: str,
    kube: FakeKubeApi,
    api_client: Any,
    helm: FakeHelm,
    clock: FakeClock,
    events: list[str],
) -> None:
    def controllers(_n: int) -> None:
        events.append("controllers run")
        v2 = elb_aws.client("elbv2")
        for lb in v2.describe_load_balancers()["LoadBalancers"]:
            if lb["LoadBalancerName"] == f"{uid}-nlb":
                v2.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])
        kube.finish_deletions("services")
        kube.reconcile_volumes()

    clock.on_sleep = controllers
    messages: list[str] = []
    report = prepare_cluster_for_destroy(
        api_client,
        elb_aws,
        helm,
        cluster,
        INSTALL_ORDER,
        timeout_s=600,
        progress=messages.append,
        clock=clock,
        sleep=clock.sleep,
    )

    assert report.ok, report.render()
    assert report.deleted_services == ["inference/triton"]
    assert [lb.split(" ")[0] for lb in report.load_balancers] == [f"{uid}-nlb"]
    assert report.deleted_claims == ["data/db-0", "data/keep"]
    assert [v.split(" ")[0] for v in report.deleted_volumes] == ["pv-db"]
    assert [v.split(" ")[0] for v in report.retained_volumes] == ["pv-keep"]
    assert report.releases_uninstalled == ["inference/triton", "kube-system/aws-load-balancer-controller"]
    assert report.releases_already_gone == ["monitoring/kube-prometheus-stack"]
    assert [ns.name for ns in report.stuck_namespaces] == ["old"]
    assert report.stuck_namespaces[0].remaining_resources == {"pods": 3}

    # Order: LB objects deleted and waited for, then claims, then releases (reverse), then namespaces.
    steps = [e for e in events if e.startswith(("kube DELETE", "helm", "kube GET /api/v1/namespaces"))]
    assert steps == [
        "kube DELETE /api/v1/namespaces/inference/services/triton",
        "kube DELETE /api/v1/namespaces/data/persistentvolumeclaims/db-0",
        "kube DELETE /api/v1/namespaces/data/persistentvolumeclaims/keep",
        "helm uninstall inference/triton",
        "helm uninstall monitoring/kube-prometheus-stack",
        "helm uninstall kube-system/aws-load-balancer-controller",
        "kube GET /api/v1/namespaces",
    ]
    first_claim_delete = events.index("kube DELETE /api/v1/namespaces/data/persistentvolumeclaims/db-0")
    assert "controllers run" in events[:first_claim_delete]  # the LB wait finished before the claims
    assert kube.names("services") == ["inference/triton-metrics"]

    rendered = report.render()
    assert rendered.startswith(f"Kubernetes teardown of cluster {cluster}: done")
    assert "reclaim policy Retain: they keep billing" in rendered
    assert "old (deleting since" in rendered
    assert "pods (3)" in rendered
    assert report.check_result().ok


def test_load_balancers_left_stop_the_release_uninstall_and_say_why(
    cluster: str, uid: str, kube: FakeKubeApi, api_client: Any, elb_aws: Boto3Aws, helm: FakeHelm, clock: FakeClock
) -> None:
    clock.on_sleep = lambda _n: kube.reconcile_volumes()  # volumes go; the LB controller is stuck

    report = prepare_cluster_for_destroy(
        api_client, elb_aws, helm, cluster, INSTALL_ORDER, timeout_s=120, clock=clock, sleep=clock.sleep
    )

    assert not report.ok
    assert [lb.split(" ")[0] for lb in report.remaining_load_balancers] == [f"{uid}-nlb"]
    assert report.remaining_volumes == []
    assert helm.calls == []  # the controllers that would delete the leftovers stay installed
    assert "stay installed" in report.releases_skipped
    assert report.terminating_objects == [
        "Service inference/triton (finalizers: service.kubernetes.io/load-balancer-cleanup)"
    ]
    rendered = report.render()
    assert f"cluster {cluster}: NOT done" in rendered
    assert f"load balancers STILL PRESENT (they block deleting the VPC) (1):\n    - {uid}-nlb (arn:aws:" in rendered
    assert "aws elbv2 delete-load-balancer" in rendered
    assert f"{uid}-decoy" not in rendered
    verdict = report.check_result()
    assert not verdict.ok
    assert verdict.summary == f"cluster {cluster}: still present: 1 load balancer(s)"
    assert verdict.diagnosis == rendered


def test_an_unreachable_cluster_is_a_kubernetes_error_saying_it_may_be_gone(
    elb_aws: Boto3Aws, helm: FakeHelm, clock: FakeClock
) -> None:
    configuration = client.Configuration()
    configuration.host = f"http://127.0.0.1:{free_port()}"  # nothing listens
    configuration.retries = False
    api = client.ApiClient(configuration)

    with pytest.raises(KubernetesError, match="Kubernetes API unreachable while listing Services") as caught:
        prepare_cluster_for_destroy(
            api, elb_aws, helm, "c", INSTALL_ORDER, timeout_s=10, clock=clock, sleep=clock.sleep
        )
    assert caught.value.hint is not None
    assert "cluster may already be gone" in caught.value.hint
    assert "Connection refused" in caught.value.detail or "refused" in caught.value.detail.lower()
    assert helm.calls == []


def test_a_forbidden_list_is_a_kubernetes_error_naming_the_permissions(
    kube: FakeKubeApi, api_client: Any, elb_aws: Boto3Aws, helm: FakeHelm, clock: FakeClock
) -> None:
    kube.fail[("GET", "persistentvolumes")] = 403

    with pytest.raises(KubernetesError, match=r"listing PersistentVolumes failed \(HTTP 403\)") as caught:
        prepare_cluster_for_destroy(api_client, elb_aws, helm, "c", [], timeout_s=10, clock=clock, sleep=clock.sleep)
    assert caught.value.detail == "persistentvolumes is forbidden"
    assert caught.value.hint is not None
    assert "list on persistentvolumes" in caught.value.hint
