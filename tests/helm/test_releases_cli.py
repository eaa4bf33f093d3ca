"""`mlplat releases`: the catalog next to what is deployed, via Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from eksctl_ml.adapters import Adapters
from eksctl_ml.adapters.helm.protocol import ReleaseStatus
from eksctl_ml.cli import app
from eksctl_ml.config.loader import Environment
from eksctl_ml.errors import HelmError
from eksctl_ml.services.deps import Dependencies
from tests.helm.conftest import REPO
from tests.helm.test_service import ScriptedHelm


@pytest.fixture(autouse=True)
def _plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def _deps(tmp_path: Path, helm: ScriptedHelm | None = None) -> Dependencies:
    def no_helm() -> ScriptedHelm:
        raise AssertionError("the local env has no Kubernetes API: helm must not be built")

    def adapters(env: Environment, workdir: Path) -> Adapters:
        return Adapters(helm_factory=(lambda: helm) if helm else no_helm)  # type: ignore[arg-type, return-value]

    return Dependencies(adapters=adapters, root=tmp_path / "state", inventory=None)


def test_local_env_json_shows_the_catalog_without_asking_helm(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["releases", "--env", "local", "--config-dir", str(REPO / "envs"), "-o", "json"], obj=_deps(tmp_path)
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["env"] == "local"
    rows = {row["name"]: row for row in document["releases"]}
    assert list(rows) == [
        "nvidia-device-plugin",
        "tigera-operator",
        "cni-metrics-helper",
        "mlplat-storage",
        *("kube-prometheus-stack", "loki", "fluent-bit", "fluentd", "dcgm-exporter", "prometheus-adapter"),
        *("mlplat-observability", "triton"),
    ]
    assert {row["status"] for row in rows.values()} == {"no Kubernetes API for env local"}
    assert rows["nvidia-device-plugin"] | {"status": None} == {
        "name": "nvidia-device-plugin",
        "namespace": "nvidia-device-plugin",
        "chart": "nvidia-device-plugin",
        "source": "https://nvidia.github.io/k8s-device-plugin nvidia-device-plugin",
        "version": "0.17.4",
        "phase": "nodegroups",
        "enabled": True,
        "condition": None,
        "status": None,
        "revision": None,
        "deployed_chart": "",
        "error": None,
        "drift": False,
    }
    assert rows["tigera-operator"]["enabled"] is False and rows["tigera-operator"]["condition"] == "features.calico"
    assert rows["mlplat-storage"]["source"] == "charts/mlplat-storage"


def test_text_table(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["releases", "--env", "local", "--config-dir", str(REPO / "envs")], obj=_deps(tmp_path)
    )
    assert result.exit_code == 0, result.output
    for text in (
        "mlplat releases · env local",
        "nvidia-device-plugin",
        "v3.29.5",
        "no (features.calico)",
        "no Kubernetes API for env local",
    ):
        assert text in result.stdout


def test_env_with_a_cluster_shows_deployed_revisions(tmp_path: Path) -> None:
    env_dir = tmp_path / "envs"
    env_dir.mkdir()
    config = yaml.safe_load((REPO / "envs" / "local.yaml").read_text())
    config["cluster"]["kube_context"] = "kind-mlplat"
    (env_dir / "kind.yaml").write_text(yaml.safe_dump(config))
    helm = ScriptedHelm(
        {
            "nvidia-device-plugin": ReleaseStatus(
                "nvidia-device-plugin", "nvidia-device-plugin", 2, "deployed", "nvidia-device-plugin-0.17.3", "0.17.3"
            ),
            "cni-metrics-helper": HelmError("helm status cni-metrics-helper: the Kubernetes cluster is unreachable"),
        }
    )

    result = CliRunner().invoke(
        app, ["releases", "--env", "kind", "--config-dir", str(env_dir), "-o", "json"], obj=_deps(tmp_path, helm)
    )
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)["releases"]}
    assert (rows["nvidia-device-plugin"]["status"], rows["nvidia-device-plugin"]["revision"]) == ("deployed", 2)
    assert rows["nvidia-device-plugin"]["drift"] is True  # 0.17.3 deployed, 0.17.4 pinned
    assert rows["cni-metrics-helper"]["status"] == "error" and "unreachable" in rows["cni-metrics-helper"]["error"]
    assert rows["mlplat-storage"]["status"] == "not installed"

    text = CliRunner().invoke(
        app, ["releases", "--env", "kind", "--config-dir", str(env_dir)], obj=_deps(tmp_path, helm)
    )
    assert text.exit_code == 0 and "deployed nvidia-device-plugin-0.17.3" in text.stdout


def test_help_lists_releases_under_lifecycle() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0 and "releases" in result.output
