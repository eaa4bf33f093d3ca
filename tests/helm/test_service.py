"""install_phase / uninstall_phase order and list_releases rows, through the real adapter and a fake helm."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from eksctl_ml.adapters.helm.client import PyHelm3Client
from eksctl_ml.adapters.helm.protocol import ReleaseStatus
from eksctl_ml.config.loader import Environment
from eksctl_ml.errors import HelmError, UsageError
from eksctl_ml.releases.catalog import load_catalog
from eksctl_ml.releases.service import install_phase, list_releases, no_kubernetes_api, uninstall_phase
from tests.helm.conftest import REPO, with_config
from tests.helm.fake_helm import FakeHelmBinary


@pytest.fixture
def cluster_env(local_env: Environment) -> Environment:
    return with_config(local_env, cluster={"kube_context": "kind-mlplat"}, features={"calico": True})


def test_install_phase_in_catalog_order_with_computed_values(
    fake_client: PyHelm3Client, fake_helm: FakeHelmBinary, cluster_env: Environment
) -> None:
    computed = {"cni-metrics-helper": {"serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": "arn:x"}}}}
    installed = install_phase(load_catalog(), "cni", cluster_env, fake_client, computed)

    assert [s.name for s in installed] == ["tigera-operator", "cni-metrics-helper"]
    calls = fake_helm.calls("upgrade")
    assert [(c.argv[1], c.flag("--namespace"), c.flag("--version"), c.flag("--repo")) for c in calls] == [
        ("tigera-operator", "tigera-operator", "v3.29.5", "https://docs.tigera.io/calico/charts"),
        ("cni-metrics-helper", "kube-system", "1.19.2", "https://aws.github.io/eks-charts"),
    ]
    assert all(c.flag("--kube-context") == "mlplat-test" for c in calls)
    helper_values = calls[1].values_data()
    assert helper_values["image"]["region"] == "us-east-1"  # from the env
    assert helper_values["env"]["AWS_CLUSTER_ID"] == "mlplat-local"
    assert helper_values["env"]["USE_PROMETHEUS"] == "true"  # from helm-values/cni-metrics-helper/values.yaml
    assert helper_values["serviceAccount"]["annotations"] == {"eks.amazonaws.com/role-arn": "arn:x"}  # computed
    assert calls[0].values_data()["installation"]["cni"]["type"] == "AmazonVPC"


def test_install_phase_skips_disabled_and_stops_at_first_failure(
    fake_client: PyHelm3Client, fake_helm: FakeHelmBinary, local_env: Environment
) -> None:
    catalog = load_catalog()
    calico_off = with_config(local_env, features={"calico": False})
    assert [s.name for s in install_phase(catalog, "cni", calico_off, fake_client)] == ["cni-metrics-helper"]

    fake_helm.fail("upgrade", "Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress\n")
    with pytest.raises(HelmError, match="in progress"):
        install_phase(catalog, "cni", with_config(local_env, features={"calico": True}), fake_client)
    assert [c.argv[1] for c in fake_helm.calls("upgrade")][-1] == "tigera-operator"


def test_local_chart_is_installed_from_the_project(
    fake_client: PyHelm3Client, fake_helm: FakeHelmBinary, local_env: Environment
) -> None:
    if not (REPO / "charts" / "mlplat-storage" / "Chart.yaml").is_file():
        pytest.skip("charts/mlplat-storage is not built yet")
    install_phase(
        load_catalog(), "storage", local_env, fake_client, {"mlplat-storage": {"efs": {"fileSystemId": "fs-1"}}}
    )
    [call] = fake_helm.calls("upgrade")
    assert call.argv[2] == str(REPO / "charts" / "mlplat-storage") and call.flag("--repo") is None
    assert call.values_data() == {"efs": {"fileSystemId": "fs-1"}}


def test_uninstall_phase_walks_backwards_and_is_idempotent(
    fake_client: PyHelm3Client, fake_helm: FakeHelmBinary, cluster_env: Environment
) -> None:
    catalog = load_catalog()
    install_phase(catalog, "cni", with_config(cluster_env, features={"calico": False}), fake_client)
    # calico is off now, but an old tigera-operator release would still be removed
    assert uninstall_phase(catalog, "cni", cluster_env, fake_client) == [
        ("cni-metrics-helper", True),
        ("tigera-operator", False),
    ]
    assert uninstall_phase(catalog, "cni", cluster_env, fake_client) == [
        ("cni-metrics-helper", False),
        ("tigera-operator", False),
    ]
    assert uninstall_phase(catalog, "mesh", cluster_env, fake_client) == []
    with pytest.raises(UsageError):
        uninstall_phase(catalog, "network", cluster_env, fake_client)


def test_no_kubernetes_api_only_for_emulator_envs_without_context(local_env: Environment) -> None:
    assert no_kubernetes_api(local_env) == "no Kubernetes API for env local"
    assert no_kubernetes_api(with_config(local_env, cluster={"kube_context": "kind-x"})) is None
    assert no_kubernetes_api(with_config(local_env, aws={"emulator": False})) is None


class ScriptedHelm:
    """A HelmClient whose status answers are scripted per release (ReleaseStatus, None or an error)."""

    def __init__(self, answers: Mapping[str, ReleaseStatus | Exception | None]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def version(self) -> str:
        return "v3.17.3"

    def upgrade_install(
        self,
        release: str,
        chart: str,
        *,
        namespace: str,
        version: str | None,
        values: Mapping[str, Any],
        timeout_s: int,
        repo: str | None = None,
        wait: bool = True,
    ) -> ReleaseStatus:
        raise AssertionError("list_releases must not install")

    def uninstall(self, release: str, *, namespace: str, timeout_s: int) -> bool:
        raise AssertionError("list_releases must not uninstall")

    def status(self, release: str, *, namespace: str) -> ReleaseStatus | None:
        self.asked.append(release)
        answer = self.answers.get(release)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_list_releases_reports_each_row_on_its_own(cluster_env: Environment) -> None:
    helm = ScriptedHelm(
        {
            "nvidia-device-plugin": ReleaseStatus(
                "nvidia-device-plugin", "nvidia-device-plugin", 3, "deployed", "nvidia-device-plugin-0.17.4", "0.17.4"
            ),
            "tigera-operator": HelmError("cannot reach the Kubernetes API: connection refused"),
            "cni-metrics-helper": RuntimeError("boom"),
            "mlplat-storage": ReleaseStatus("mlplat-storage", "ml-inference", 1, "failed", "mlplat-storage-0.0.9"),
        }
    )
    rows = {row.name: row for row in list_releases(load_catalog(), helm, cluster_env)}

    assert sorted(helm.asked) == sorted(rows)
    gpu = rows["nvidia-device-plugin"]
    assert (gpu.status, gpu.revision, gpu.deployed_chart, gpu.drift) == (
        "deployed",
        3,
        "nvidia-device-plugin-0.17.4",
        False,
    )
    assert rows["tigera-operator"].status == "error"
    assert "connection refused" in (rows["tigera-operator"].error or "")
    assert rows["cni-metrics-helper"].error == "RuntimeError: boom"
    storage = rows["mlplat-storage"]
    assert (storage.status, storage.drift) == ("failed", True)
    assert storage.as_dict()["drift"] is True


# the releases of the phases after storage (tests/helm/test_catalog.py pins the catalog's full order)
OBSERVABILITY_AND_TRITON = tuple(r.name for r in load_catalog().ordered() if r.phase in ("observability", "triton"))


def test_list_releases_without_a_kubernetes_api_never_asks_helm(local_env: Environment) -> None:
    helm = ScriptedHelm({})
    rows = list_releases(load_catalog(), helm, local_env)
    assert helm.asked == []
    assert {row.status for row in rows} == {"no Kubernetes API for env local"}
    assert [row.name for row in rows if not row.enabled] == ["tigera-operator", "fluentd"]
    assert all(row.revision is None for row in rows)


def test_list_releases_not_installed(cluster_env: Environment) -> None:
    rows = list_releases(load_catalog(), ScriptedHelm({}), cluster_env)
    assert {row.status for row in rows} == {"not installed"}


def test_list_releases_through_the_real_adapter_in_threads(
    fake_client: PyHelm3Client, fake_helm: FakeHelmBinary, cluster_env: Environment
) -> None:
    catalog = load_catalog()
    install_phase(catalog, "cni", cluster_env, fake_client)
    rows = {row.name: row for row in list_releases(catalog, fake_client, cluster_env)}
    assert {name: (row.status, row.revision) for name, row in rows.items()} == {
        "nvidia-device-plugin": ("not installed", None),
        "tigera-operator": ("deployed", 1),
        "cni-metrics-helper": ("deployed", 1),
        "mlplat-storage": ("not installed", None),
        **dict.fromkeys(OBSERVABILITY_AND_TRITON, ("not installed", None)),
    }
    assert rows["tigera-operator"].deployed_chart == "tigera-operator-v3.29.5" and not rows["tigera-operator"].drift
    assert len(fake_helm.calls("history")) == 4 + len(OBSERVABILITY_AND_TRITON)
