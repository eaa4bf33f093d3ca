"""release_values: values.yaml, then values-<env>.yaml, then computed; mappings merge, lists replace."""

from __future__ import annotations

from pathlib import Path

import pytest

from eksctl_ml.config.loader import Environment
from eksctl_ml.errors import ConfigError
from eksctl_ml.releases.catalog import Release, load_catalog
from eksctl_ml.releases.values import deep_merge, env_values, release_values

RELEASE = Release(
    name="demo", namespace="demo", repo="https://charts.example.com", chart="demo", version="1.0.0", phase="cni"
)


def _folder(root: Path) -> Path:
    folder = root / "helm-values" / "demo"
    folder.mkdir(parents=True)
    return folder


def test_merge_order_env_file_then_computed(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / "values.yaml").write_text(
        "replicas: 1\nimage: {repository: r, tag: base}\n"
        "tolerations: [{key: a}, {key: b}]\nlabels: {team: ml, tier: base}\nonlyBase: kept\n"
    )
    (folder / "values-dev.yaml").write_text("image: {tag: dev}\ntolerations: [{key: c}]\nlabels: {tier: dev}\n")
    computed = {"image": {"tag": "computed"}, "clusterName": "mlplat-dev", "labels": {"env": "dev"}}

    merged = release_values(RELEASE, "dev", computed, root=tmp_path)

    assert merged == {
        "replicas": 1,
        "image": {"repository": "r", "tag": "computed"},  # computed wins over the env file over the base
        "tolerations": [{"key": "c"}],  # lists are replaced, never concatenated
        "labels": {"team": "ml", "tier": "dev", "env": "dev"},  # mappings merge key by key
        "onlyBase": "kept",
        "clusterName": "mlplat-dev",
    }
    assert release_values(RELEASE, "prod", {}, root=tmp_path)["image"]["tag"] == "base"  # no values-prod.yaml


def test_deep_merge_copies_and_lets_override_replace_types() -> None:
    base = {"a": {"b": [1, 2]}, "c": {"d": 1}}
    override = {"a": {"b": [3]}, "c": "scalar now", "e": None}
    merged = deep_merge(base, override)
    assert merged == {"a": {"b": [3]}, "c": "scalar now", "e": None}
    merged["a"]["b"].append(4)
    assert base == {"a": {"b": [1, 2]}, "c": {"d": 1}} and override["a"] == {"b": [3]}


def test_missing_or_bad_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"values file .* not found"):
        release_values(RELEASE, "dev", {}, root=tmp_path)
    folder = _folder(tmp_path)
    (folder / "values.yaml").write_text("")  # empty is fine
    assert release_values(RELEASE, "dev", {"x": 1}, root=tmp_path) == {"x": 1}
    (folder / "values-dev.yaml").write_text("- a list\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        release_values(RELEASE, "dev", {}, root=tmp_path)
    (folder / "values-dev.yaml").write_text("a: 1\na: 2\n")
    with pytest.raises(ConfigError, match="duplicate key"):
        release_values(RELEASE, "dev", {}, root=tmp_path)
    (folder / "values-dev.yaml").write_text("a: [unclosed\n")
    with pytest.raises(ConfigError, match=r"values-dev.yaml:\d+: invalid YAML"):
        release_values(RELEASE, "dev", {}, root=tmp_path)


def test_production_values_of_the_upstream_charts(local_env: Environment) -> None:
    catalog = load_catalog()
    gpu = release_values(catalog.get("nvidia-device-plugin"), local_env.name, {})
    assert gpu["nodeSelector"] == {"mlplat.io/pool": "gpu"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in gpu["tolerations"]
    terms = gpu["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [{"key": "mlplat.io/pool", "operator": "In", "values": ["gpu"]}]}]
    assert gpu["resources"]["requests"] and gpu["resources"]["limits"]["memory"]

    calico = release_values(catalog.get("tigera-operator"), local_env.name, {})
    assert calico["installation"]["kubernetesProvider"] == "EKS"
    assert calico["installation"]["cni"]["type"] == "AmazonVPC"

    cni_helper = catalog.get("cni-metrics-helper")
    computed = env_values(cni_helper, local_env)
    assert computed == {"image": {"region": "us-east-1"}, "env": {"AWS_CLUSTER_ID": "mlplat-local"}}
    merged = release_values(cni_helper, local_env.name, computed)
    assert merged["env"]["AWS_CLUSTER_ID"] == "mlplat-local" and merged["env"]["USE_PROMETHEUS"] == "true"
    assert merged["image"] == {"region": "us-east-1"}
    assert env_values(catalog.get("nvidia-device-plugin"), local_env) == {}
