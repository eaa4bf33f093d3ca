"""Each hand-written fake implements its adapter Protocol: same methods, same parameter names and kinds.
A contract change that a fake does not follow fails here, not as a confusing error in some other test."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from eksctl_ml.adapters.aws.protocol import AwsClients
from eksctl_ml.adapters.helm.protocol import HelmClient
from eksctl_ml.adapters.kubernetes.protocol import KubernetesClient
from eksctl_ml.adapters.terraform.protocol import TerraformRunner
from eksctl_ml.adapters.triton.protocol import TritonClient
from tests.fakes.adapters import FakeAws, FakeHelm, FakeKubernetes, FakeTerraform, FakeTriton

PAIRS = [
    (AwsClients, FakeAws),
    (TerraformRunner, FakeTerraform),
    (HelmClient, FakeHelm),
    (KubernetesClient, FakeKubernetes),
    (TritonClient, FakeTriton),
]


def _methods(cls: type) -> dict[str, Any]:
    return {name: member for name, member in inspect.getmembers(cls, inspect.isfunction) if not name.startswith("_")}


@pytest.mark.parametrize(("protocol", "fake"), PAIRS, ids=[p.__name__ for p, _ in PAIRS])
def test_fake_implements_every_protocol_method_with_the_same_parameters(protocol: type, fake: type) -> None:
    wanted = _methods(protocol)
    have = _methods(fake)
    assert wanted, f"{protocol.__name__} declares no methods?"
    missing = sorted(set(wanted) - set(have))
    assert not missing, f"{fake.__name__} lacks {missing}"
    for name, method in wanted.items():
        expected = [(p.name, p.kind) for p in inspect.signature(method).parameters.values()]
        actual = [(p.name, p.kind) for p in inspect.signature(have[name]).parameters.values()]
        assert actual == expected, f"{fake.__name__}.{name}{inspect.signature(have[name])} != protocol {expected}"


@pytest.mark.parametrize(("protocol", "fake"), PAIRS, ids=[p.__name__ for p, _ in PAIRS])
def test_fake_has_the_protocol_attributes(protocol: type, fake: type) -> None:
    properties = [name for name, member in inspect.getmembers(protocol) if isinstance(member, property)]
    instance = fake()
    for name in properties:
        assert hasattr(instance, name), f"{fake.__name__} lacks {name}"


def test_fakes_record_their_calls() -> None:
    kube = FakeKubernetes(ready={"DaemonSet/kube-system/aws-node"})
    assert kube.wait_for_rollout("DaemonSet", "kube-system", "aws-node", timeout_s=1).ok
    assert not kube.wait_pvc_bound("ml", "model-cache", timeout_s=1).ok
    assert kube.calls == ["DaemonSet/kube-system/aws-node", "pvc/ml/model-cache"]
    helm = FakeHelm()
    helm.upgrade_install("r", "c", namespace="n", version="1.0.0", values={}, timeout_s=1)
    assert helm.uninstall("r", namespace="n", timeout_s=1) is True
    assert helm.uninstall("r", namespace="n", timeout_s=1) is False  # already gone is success, reported
    assert helm.calls == [("upgrade_install", "r"), ("uninstall", "r"), ("uninstall", "r")]
