"""Contract tests: the REAL helm binary accepts every argument PyHelm3Client passes.

No cluster exists here, so helm runs with its memory driver (HELM_DRIVER=memory, releases preloaded
from HELM_MEMORY_DRIVER_DATA, resources "applied" by helm's printing fake client) against a kubeconfig
whose API server is a loopback HTTP server answering discovery only. The memory driver's store lives
in one helm process: every adapter call is a new process, so state between calls comes from ``seed``.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from eksctl_ml.adapters.helm.client import PyHelm3Client
from eksctl_ml.adapters.helm.errors import HelmChartNotFoundError, HelmRenderError, HelmUnreachableError
from eksctl_ml.adapters.helm.protocol import ReleaseStatus
from eksctl_ml.errors import HelmError
from tests.helm.conftest import TEST_CHART, MemoryHelm, closed_port, write_kubeconfig

COMPUTED = {
    "clusterName": "mlplat-dev",
    "region": "eu-west-1",
    "message": 'quote " brace {{ .Values.region }} newline\nand tab\t and unicode \u00e9',
    "labels": {"mlplat.io/env": "dev"},
}


def _configmap(status: ReleaseStatus) -> dict[str, object]:
    [configmap] = [doc for doc in yaml.safe_load_all(status.manifest) if doc and doc["kind"] == "ConfigMap"]
    return configmap  # type: ignore[no-any-return]


def test_version(memory_helm: MemoryHelm) -> None:
    assert memory_helm.client().version().startswith(("v3.", "v4."))


def test_upgrade_install_with_every_flag_is_accepted_and_renders_computed_values(memory_helm: MemoryHelm) -> None:
    status = memory_helm.client().upgrade_install(
        "mlplat-test", str(TEST_CHART), namespace="ml-test", version="0.1.0", values=COMPUTED, timeout_s=60
    )

    assert status == ReleaseStatus("mlplat-test", "ml-test", 1, "deployed", "mlplat-helm-test-0.1.0", "1.2.3")
    configmap = _configmap(status)
    assert configmap["metadata"] == {  # type: ignore[comparison-overlap]
        "name": "mlplat-test-settings",
        "namespace": "ml-test",
        "labels": {"app.kubernetes.io/managed-by": "Helm", "mlplat.io/env": "dev"},
    }
    data = configmap["data"]
    assert isinstance(data, dict)
    assert data["clusterName"] == "mlplat-dev" and data["region"] == "eu-west-1"
    assert data["message"] == COMPUTED["message"]  # quotes, braces, newlines arrive as data, untemplated
    assert json.loads(data["values.json"]) == COMPUTED
    assert "/version" in memory_helm.paths_asked()  # helm really talked to the kubeconfig's API server


def test_release_json_round_trips_through_status_upgrade_and_uninstall(memory_helm: MemoryHelm) -> None:
    # One real helm process installs; its release JSON seeds the store the next processes start with.
    proc = subprocess.run(
        [
            memory_helm.executable,
            "upgrade",
            "mlplat-test",
            str(TEST_CHART),
            "--install",
            "-n",
            "ml-test",
            "--kubeconfig",
            str(memory_helm.kubeconfig),
            "-o",
            "json",
            "--set",
            "clusterName=seeded",
        ],
        env={**memory_helm.env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    memory_helm.seed([json.loads(proc.stdout)])
    client = memory_helm.client()

    current = client.status("mlplat-test", namespace="ml-test")
    assert current == ReleaseStatus("mlplat-test", "ml-test", 1, "deployed", "mlplat-helm-test-0.1.0", "1.2.3")
    assert client.status("mlplat-test", namespace="elsewhere") is None

    upgraded = client.upgrade_install(
        "mlplat-test", str(TEST_CHART), namespace="ml-test", version="0.1.0", values=COMPUTED, timeout_s=60
    )
    assert (upgraded.revision, upgraded.status) == (2, "deployed")
    assert _configmap(upgraded)["data"]["clusterName"] == "mlplat-dev"  # type: ignore[index]

    assert client.uninstall("mlplat-test", namespace="ml-test", timeout_s=60) is True


def test_unknown_release(memory_helm: MemoryHelm) -> None:
    client = memory_helm.client()
    assert client.status("ghost", namespace="ml-test") is None
    assert client.uninstall("ghost", namespace="ml-test", timeout_s=60) is False


def test_render_failure_keeps_helms_words(memory_helm: MemoryHelm) -> None:
    with pytest.raises(HelmRenderError) as caught:
        memory_helm.client().upgrade_install(
            "mlplat-test", str(TEST_CHART), namespace="ml-test", version="0.1.0", values={}, timeout_s=60
        )
    assert "clusterName is required" in caught.value.detail
    assert "helm-values/mlplat-test/" in (caught.value.hint or "")


def test_pinned_version_must_match_the_chart(memory_helm: MemoryHelm) -> None:
    with pytest.raises(HelmError, match=r"is version 0\.1\.0, but release mlplat-test pins 0\.1\.1"):
        memory_helm.client().upgrade_install(
            "mlplat-test", str(TEST_CHART), namespace="ml-test", version="0.1.1", values=COMPUTED, timeout_s=60
        )


def test_connection_refused_is_recognised(real_helm: str, tmp_path: Path) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{closed_port()}")
    client = PyHelm3Client(
        real_helm,
        kubeconfig=kubeconfig,
        kube_context="mlplat-test",
        env={
            "HELM_DRIVER": "secret",
            "HELM_CACHE_HOME": str(tmp_path / "cache"),
            "HELM_CONFIG_HOME": str(tmp_path / "config"),
            "HELM_DATA_HOME": str(tmp_path / "data"),
        },
    )
    with pytest.raises(HelmUnreachableError, match="connection refused") as caught:
        client.upgrade_install(
            "mlplat-test", str(TEST_CHART), namespace="ml-test", version="0.1.0", values=COMPUTED, timeout_s=30
        )
    assert "connect: connection refused" in caught.value.detail
    with pytest.raises(HelmUnreachableError):
        client.status("mlplat-test", namespace="ml-test")
    with pytest.raises(HelmUnreachableError):
        client.uninstall("mlplat-test", namespace="ml-test", timeout_s=30)


@pytest.fixture
def chart_repo(memory_helm: MemoryHelm, tmp_path: Path) -> str:
    """The test chart published in a Helm repository (index.yaml + .tgz) on the loopback server."""
    packaged = tmp_path / "repo"
    packaged.mkdir()
    url = memory_helm.server.url_for("/charts")
    helm = [memory_helm.executable]
    env = {**memory_helm.env, "PATH": "/usr/bin:/bin"}
    subprocess.run([*helm, "package", str(TEST_CHART), "-d", str(packaged)], env=env, check=True, capture_output=True)
    subprocess.run([*helm, "repo", "index", str(packaged), "--url", url], env=env, check=True, capture_output=True)
    for path in packaged.iterdir():
        memory_helm.server.expect_request(f"/charts/{path.name}").respond_with_data(path.read_bytes())
    return url


def test_chart_from_a_repository_at_the_pinned_version(memory_helm: MemoryHelm, chart_repo: str) -> None:
    client = memory_helm.client()
    status = client.upgrade_install(
        "mlplat-test",
        "mlplat-helm-test",
        namespace="ml-test",
        version="0.1.0",
        values=COMPUTED,
        timeout_s=60,
        repo=chart_repo,
    )
    assert (status.revision, status.status, status.chart) == (1, "deployed", "mlplat-helm-test-0.1.0")
    assert {"/charts/index.yaml", "/charts/mlplat-helm-test-0.1.0.tgz"} <= memory_helm.paths_asked()

    with pytest.raises(HelmChartNotFoundError) as caught:
        client.upgrade_install(
            "mlplat-test",
            "mlplat-helm-test",
            namespace="ml-test",
            version="9.9.9",
            values=COMPUTED,
            timeout_s=60,
            repo=chart_repo,
        )
    assert "9.9.9" in caught.value.detail
