"""uninstall_releases with a recording fake Helm; stuck_namespaces on the fake API server."""

from __future__ import annotations

from typing import Any

from eksctl_ml.adapters.kubernetes.teardown import StuckNamespace, stuck_namespaces, uninstall_releases
from eksctl_ml.errors import HelmError
from tests.teardown import objects as o
from tests.teardown.conftest import FakeHelm
from tests.teardown.fake_kube import FakeKubeApi


def test_uninstalls_in_the_given_order_and_already_gone_is_fine(helm: FakeHelm) -> None:
    helm.installed = {("triton", "inference"), ("aws-load-balancer-controller", "kube-system")}
    releases = [
        ("triton", "inference"),
        ("dcgm-exporter", "monitoring"),
        ("aws-load-balancer-controller", "kube-system"),
    ]

    result = uninstall_releases(helm, releases, timeout_s=300.7)

    assert [(name, ns) for name, ns, _t in helm.calls] == releases
    assert {t for _n, _ns, t in helm.calls} == {300}
    assert result.ok
    assert result.uninstalled == ["inference/triton", "kube-system/aws-load-balancer-controller"]
    assert result.already_gone == ["monitoring/dcgm-exporter"]


def test_a_failed_uninstall_is_recorded_and_the_rest_still_runs(helm: FakeHelm) -> None:
    helm.installed = {("a", "x"), ("c", "x")}
    helm.failures = {
        "b": HelmError("helm uninstall b failed", detail="context deadline exceeded"),
        "gone": HelmError(
            "helm uninstall failed", detail="Error: uninstall: Release not loaded: gone: release: not found"
        ),
    }

    result = uninstall_releases(helm, [("a", "x"), ("b", "x"), ("gone", "x"), ("c", "x")], timeout_s=60)

    assert [n for n, _ns, _t in helm.calls] == ["a", "b", "gone", "c"]
    assert not result.ok
    assert result.failed == ["x/b: helm uninstall b failed"]
    assert result.uninstalled == ["x/a", "x/c"]
    assert result.already_gone == ["x/gone"]


CONTENT = (
    "Some resources are remaining: persistentvolumeclaims. has 1 resource instances, "
    "targetgroupbindings.elbv2.k8s.aws has 2 resource instances"
)
FINALIZERS = (
    "Some content in the namespace has finalizers remaining: elbv2.k8s.aws/resources in 2 resource instances, "
    "kubernetes.io/pvc-protection in 1 resource instances"
)


def test_reports_terminating_namespaces_with_finalizers_and_what_remains(kube: FakeKubeApi, api_client: Any) -> None:
    kube.add(
        o.namespace("default"),
        o.namespace("kube-system"),
        o.namespace(
            "inference",
            terminating=True,
            conditions={
                "NamespaceDeletionDiscoveryFailure": ("False", "All resources successfully discovered"),
                "NamespaceDeletionContentFailure": ("False", "All content successfully deleted, may be waiting"),
                "NamespaceContentRemaining": ("True", CONTENT),
                "NamespaceFinalizersRemaining": ("True", FINALIZERS),
            },
        ),
        o.namespace("empty-but-held", terminating=True),
    )

    stuck = stuck_namespaces(api_client)

    assert [ns.name for ns in stuck] == ["empty-but-held", "inference"]
    inference = stuck[1]
    assert inference == StuckNamespace(
        name="inference",
        spec_finalizers=("kubernetes",),
        metadata_finalizers=("example.com/hold",),
        remaining_resources={"persistentvolumeclaims": 1, "targetgroupbindings.elbv2.k8s.aws": 2},
        remaining_finalizers={"elbv2.k8s.aws/resources": 2, "kubernetes.io/pvc-protection": 1},
        conditions=(f"NamespaceContentRemaining: {CONTENT}", f"NamespaceFinalizersRemaining: {FINALIZERS}"),
        deleting_since="2026-01-01T10:00:00+00:00",
    )
    assert inference.finalizers == ("kubernetes", "example.com/hold")
    rendered = inference.render()
    assert "finalizers: kubernetes, example.com/hold" in rendered
    assert "targetgroupbindings.elbv2.k8s.aws (2)" in rendered
    assert "elbv2.k8s.aws/resources on 2" in rendered
    assert (
        stuck[0].render()
        == "empty-but-held (deleting since 2026-01-01T10:00:00+00:00): finalizers: kubernetes, example.com/hold"
    )


def test_no_terminating_namespace_is_an_empty_report(kube: FakeKubeApi, api_client: Any) -> None:
    kube.add(o.namespace("default"))
    assert stuck_namespaces(api_client) == []
