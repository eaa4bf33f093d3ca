"""The release catalog (helm-values/catalog.yaml): pinned, complete, and conditions that select right."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from eksctl_ml.config.loader import Environment
from eksctl_ml.errors import ConfigError, UsageError
from eksctl_ml.releases.catalog import PHASES, Catalog, Release, catalog_path, load_catalog, project_root
from eksctl_ml.releases.values import release_values
from tests.helm.conftest import REPO, with_config

EXACT = re.compile(r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _entry(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": "demo",
        "namespace": "demo",
        "repo": "https://charts.example.com",
        "chart": "demo",
        "version": "1.2.3",
        "phase": "cni",
    }
    entry.update(overrides)
    return {k: v for k, v in entry.items() if v is not None}


def _load(tmp_path: Path, *entries: dict[str, Any]) -> Catalog:
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump({"releases": list(entries)}))
    return load_catalog(path)


def test_the_catalog_is_found_in_this_checkout() -> None:
    assert project_root() == REPO
    assert catalog_path() == REPO / "helm-values" / "catalog.yaml"


def test_expected_releases_in_provision_order(catalog: Catalog) -> None:
    assert [(r.name, r.phase) for r in catalog.ordered()] == [
        ("nvidia-device-plugin", "nodegroups"),
        ("tigera-operator", "cni"),
        ("cni-metrics-helper", "cni"),
        ("mlplat-storage", "storage"),
        # CRDs first: kube-prometheus-stack before anything that creates monitors or rules
        ("kube-prometheus-stack", "observability"),
        ("loki", "observability"),
        ("fluent-bit", "observability"),
        ("fluentd", "observability"),
        ("dcgm-exporter", "observability"),
        ("prometheus-adapter", "observability"),
        ("mlplat-observability", "observability"),
        ("triton", "triton"),
    ]


def test_every_version_is_pinned_exactly(catalog: Catalog) -> None:
    for release in catalog.releases:
        assert EXACT.fullmatch(release.version), release.name
    raw = yaml.safe_load(catalog_path().read_text())
    for entry in raw["releases"]:
        assert isinstance(entry.get("version"), str) and EXACT.fullmatch(entry["version"]), entry["name"]


@pytest.mark.parametrize(
    "version",
    [
        None,
        "latest",
        "",
        "*",
        "^1.2.3",
        "~1.2.3",
        ">=1.2.3",
        "1.2.x",
        "1.2",
        "1",
        "1.2.3 - 1.4.0",
        "1.2.3 || 2.0.0",
        "v1",
        "01.2.3",
        1.2,
        3,
    ],
)
def test_unpinned_versions_are_rejected(tmp_path: Path, version: Any) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, _entry(version=version))
    assert any(issue.path.endswith(".version") for issue in caught.value.issues)


@pytest.mark.parametrize("version", ["0.17.4", "v3.29.5", "1.0.0-rc.1", "1.2.3+build.5"])
def test_exact_versions_are_accepted(tmp_path: Path, version: str) -> None:
    assert _load(tmp_path, _entry(version=version)).releases[0].version == version


def test_every_values_folder_exists_and_parses(catalog: Catalog, local_env: Environment) -> None:
    for release in catalog.releases:
        folder = release.values_dir()
        assert folder == REPO / "helm-values" / release.name
        assert (folder / "values.yaml").is_file(), release.name
        for path in folder.glob("values*.yaml"):
            data = yaml.safe_load(path.read_text())
            assert data is None or isinstance(data, dict), path
        assert isinstance(release_values(release, local_env.name, {}), dict)


def test_repos_are_https_and_local_charts_match_their_pin(catalog: Catalog) -> None:
    for release in catalog.releases:
        if release.local:
            folder = Path(release.chart_ref())
            assert folder == REPO / "charts" / release.chart
            if not (folder / "Chart.yaml").is_file():
                pytest.skip(f"{folder} is not built yet")
            chart = yaml.safe_load((folder / "Chart.yaml").read_text())
            assert (chart["name"], str(chart["version"])) == (release.chart, release.version)
        else:
            assert release.repo and release.repo.startswith("https://")
            assert release.chart_ref() == release.chart


def test_phases_are_known(catalog: Catalog, local_env: Environment, tmp_path: Path) -> None:
    assert PHASES == ("nodegroups", "cni", "storage", "observability", "triton", "mesh", "gitops")
    assert {r.phase for r in catalog.releases} <= set(PHASES)
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, _entry(phase="network"))
    assert caught.value.issues[0].path == "releases.0:demo.phase"
    with pytest.raises(UsageError, match="unknown phase"):
        catalog.for_phase("network", local_env)


def test_tigera_operator_only_when_calico_is_on(catalog: Catalog, local_env: Environment) -> None:
    off = with_config(local_env, features={"calico": False})
    on = with_config(local_env, features={"calico": True})
    assert [r.name for r in catalog.for_phase("cni", off)] == ["cni-metrics-helper"]
    assert [r.name for r in catalog.for_phase("cni", on)] == ["tigera-operator", "cni-metrics-helper"]
    assert [r.name for r in catalog.for_phase("cni", on.config)] == ["tigera-operator", "cni-metrics-helper"]
    enabled = {r.name: r.enabled(off) for r in catalog.releases}
    assert enabled == {
        "nvidia-device-plugin": True,
        "tigera-operator": False,
        "cni-metrics-helper": True,
        "mlplat-storage": True,
        "kube-prometheus-stack": True,
        "loki": True,
        "fluent-bit": True,  # observability.log_shipper defaults to fluent-bit
        "fluentd": False,
        "dcgm-exporter": True,
        "prometheus-adapter": True,
        "mlplat-observability": True,
        "triton": True,
    }


def test_comparison_conditions(tmp_path: Path, local_env: Environment) -> None:
    catalog = _load(
        tmp_path,
        _entry(name="argo", condition="features.gitops == argocd"),
        _entry(name="not-flux", condition="features.gitops != flux"),
    )
    argocd = with_config(local_env, features={"gitops": "argocd"})
    flux = with_config(local_env, features={"gitops": "flux"})
    assert [r.name for r in catalog.for_phase("cni", argocd)] == ["argo", "not-flux"]
    assert [r.name for r in catalog.for_phase("cni", flux)] == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"condition": "features.nope"}, "features.nope is not an environment setting"),
        ({"condition": "features.gitops"}, "not a true/false switch"),
        ({"condition": "features.calico and rm"}, "write a condition"),
        ({"condition": "aws.region.x"}, "has no sub-settings"),
        ({"path": "charts/demo"}, "exactly one of repo"),
        ({"repo": None}, "exactly one of repo"),
        ({"repo": None, "path": "charts/other"}, "charts/demo"),
        ({"repo": "http://insecure.example.com"}, "https"),
        ({"name": "Bad_Name"}, "DNS label"),
        ({"values": "../outside"}, "relative"),
        ({"timeout_s": 5}, "greater than or equal"),
        ({"chart_version": "1.0.0"}, "unknown key"),
    ],
)
def test_invalid_entries_are_reported(tmp_path: Path, overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, _entry(**overrides))
    assert message in str(caught.value)
    assert "releases.0:demo" in str(caught.value) or "Bad_Name" in str(overrides)


def test_duplicate_names_and_keys(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="listed twice"):
        _load(tmp_path, _entry(), _entry())
    path = tmp_path / "dup.yaml"
    path.write_text("releases:\n  - name: a\n    name: b\n")
    with pytest.raises(ConfigError, match="duplicate key 'name'"):
        load_catalog(path)
    path.write_text("- just a list\n")
    with pytest.raises(ConfigError, match="top level"):
        load_catalog(path)


def test_release_model_is_strict() -> None:
    with pytest.raises(ValueError, match="extra"):
        Release.model_validate({**_entry(), "surprise": 1})


def test_only_triton_skips_helms_wait_so_its_gate_diagnoses_model_loading(catalog: Catalog) -> None:
    assert [r.name for r in catalog.releases if not r.wait] == ["triton"]


def test_install_phase_passes_the_wait_switch(catalog: Catalog, local_env: Environment) -> None:
    from eksctl_ml.releases.service import install_phase
    from tests.fakes.adapters import FakeHelm

    helm = FakeHelm()
    install_phase(catalog, "triton", local_env, helm, {"triton": {"s3": {"bucket": "b"}}})
    install_phase(catalog, "cni", local_env, helm)
    assert helm.waited == {"triton": False, "cni-metrics-helper": True}
