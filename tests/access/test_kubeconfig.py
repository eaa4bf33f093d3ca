"""Kubeconfig files against a real moto EKS cluster: contents, mode, merging, and a real client using them."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest
import yaml

from eksctl_ml.adapters.aws.session import Boto3Aws
from eksctl_ml.adapters.kubernetes.auth import kubeconfig_document
from eksctl_ml.config.loader import load_env
from eksctl_ml.errors import ConfigError, PreflightError
from eksctl_ml.services import kubeaccess
from tests.access.conftest import EksCluster
from tests.access.test_token import decode, query

NAME = "mlplat-test"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def entry(document: dict, section: str, name: str = NAME) -> dict:  # type: ignore[type-arg]
    matches = [item for item in document[section] if item["name"] == name]
    assert len(matches) == 1, f"{section} has {len(matches)} entries named {name}"
    return matches[0]  # type: ignore[no-any-return]


def test_cluster_endpoint_reads_describe_cluster(cluster_aws: Boto3Aws, eks_cluster: EksCluster) -> None:
    assert kubeaccess.cluster_endpoint(cluster_aws, eks_cluster.name) == (eks_cluster.endpoint, eks_cluster.ca_data)


def test_missing_cluster_says_how_to_build_it(cluster_aws: Boto3Aws) -> None:
    with pytest.raises(PreflightError) as caught:
        kubeaccess.cluster_endpoint(cluster_aws, "nope", env_name="dev")
    assert "'nope' does not exist in us-east-1" in caught.value.message
    assert caught.value.hint == "run `mlplat up --env dev --until cluster` first"


def test_default_path_under_the_state_root(
    cluster_aws: Boto3Aws, eks_cluster: EksCluster, env_dir: Path, tmp_path: Path
) -> None:
    env = load_env("test", env_dir)
    root = tmp_path / "state"
    written = kubeaccess.write_kubeconfig(env, cluster_aws, None, state_root=root, command=["/opt/bin/mlplat"])
    assert written == (root / "test" / "kubeconfig").absolute()
    assert mode(written) == 0o600
    assert not list(written.parent.glob(".kubeconfig.*"))  # no temp file left behind
    document = yaml.safe_load(written.read_text())
    assert (document["apiVersion"], document["kind"], document["current-context"]) == ("v1", "Config", NAME)
    assert entry(document, "clusters")["cluster"] == {
        "server": eks_cluster.endpoint,
        "certificate-authority-data": eks_cluster.ca_data,
    }
    assert entry(document, "contexts")["context"] == {"cluster": NAME, "user": NAME}
    plugin = entry(document, "users")["user"]["exec"]
    assert plugin["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert plugin["command"] == "/opt/bin/mlplat"
    assert plugin["args"] == ["token", "--env", "test"]
    assert plugin["interactiveMode"] == "Never"
    assert plugin["provideClusterInfo"] is False
    variables = {item["name"]: item["value"] for item in plugin["env"]}
    assert variables["MLPLAT_CONFIG_DIR"] == str(env_dir.absolute())  # works from any folder
    assert variables["MLPLAT_STATE_DIR"] == str(root.absolute())
    assert variables["AWS_REGION"] == "us-east-1"


def test_merge_replaces_ours_and_keeps_the_rest(
    cluster_aws: Boto3Aws, eks_cluster: EksCluster, env_dir: Path, tmp_path: Path
) -> None:
    existing = {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {"colors": True},
        "current-context": "kind-dev",
        "clusters": [
            {"name": "kind-dev", "cluster": {"server": "https://127.0.0.1:6443"}},
            {"name": NAME, "cluster": {"server": "https://stale.example"}},
        ],
        "users": [{"name": "kind-dev", "user": {"token": "abc"}}, {"name": NAME, "user": {"token": "old"}}],
        "contexts": [
            {"name": "kind-dev", "context": {"cluster": "kind-dev", "user": "kind-dev"}},
            {"name": NAME, "context": {"cluster": NAME, "user": NAME, "namespace": "old"}},
        ],
    }
    path = tmp_path / "home" / ".kube" / "config"
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump(existing))
    path.chmod(0o644)
    env = load_env("test", env_dir)

    written = kubeaccess.write_kubeconfig(env, cluster_aws, path, state_root=tmp_path / "state", command=["mlplat"])

    assert written == path.absolute()
    assert mode(path) == 0o600
    assert not (tmp_path / "state").exists()  # --path given: nothing written under the state root
    document = yaml.safe_load(path.read_text())
    assert document["current-context"] == "kind-dev"  # never switch the user's kubectl silently
    assert document["preferences"] == {"colors": True}
    for section in ("clusters", "users", "contexts"):
        assert entry(document, section, "kind-dev") == entry(existing, section, "kind-dev")
    assert entry(document, "clusters")["cluster"]["server"] == eks_cluster.endpoint
    assert "exec" in entry(document, "users")["user"]
    assert "namespace" not in entry(document, "contexts")["context"]

    kubeaccess.write_kubeconfig(env, cluster_aws, path, state_root=tmp_path / "state", command=["mlplat"])
    assert yaml.safe_load(path.read_text()) == document  # idempotent


def test_empty_existing_file_gets_our_context(
    cluster_aws: Boto3Aws, eks_cluster: EksCluster, env_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "config"
    path.write_text("")
    kubeaccess.write_kubeconfig(load_env("test", env_dir), cluster_aws, path, state_root=tmp_path, command=["mlplat"])
    assert yaml.safe_load(path.read_text())["current-context"] == NAME


@pytest.mark.parametrize("content", ["clusters: [unclosed\n", "- just\n- a list\n", "kind: Pod\n"])
def test_refuses_to_overwrite_what_is_not_a_kubeconfig(
    cluster_aws: Boto3Aws, eks_cluster: EksCluster, env_dir: Path, tmp_path: Path, content: str
) -> None:
    path = tmp_path / "config"
    path.write_text(content)
    env = load_env("test", env_dir)
    with pytest.raises(ConfigError):
        kubeaccess.write_kubeconfig(env, cluster_aws, path, state_root=tmp_path, command=["mlplat"])
    assert path.read_text() == content


def test_symlinked_kubeconfig_is_followed(
    cluster_aws: Boto3Aws, eks_cluster: EksCluster, env_dir: Path, tmp_path: Path
) -> None:
    real = tmp_path / "dotfiles" / "kubeconfig"
    real.parent.mkdir()
    real.write_text("apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n")
    link = tmp_path / "config"
    link.symlink_to(real)
    kubeaccess.write_kubeconfig(load_env("test", env_dir), cluster_aws, link, state_root=tmp_path, command=["mlplat"])
    assert link.is_symlink()
    assert entry(yaml.safe_load(real.read_text()), "clusters")["cluster"]["server"] == eks_cluster.endpoint


def test_kubernetes_client_runs_the_exec_plugin(
    cluster_aws: Boto3Aws,
    eks_cluster: EksCluster,
    env_dir: Path,
    tmp_path: Path,
    moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The real kubernetes client loads the file and runs `mlplat token` (a real subprocess) for its token."""
    from kubernetes import config as k8s_config

    monkeypatch.setenv("MLPLAT_AWS_ENDPOINT", moto_endpoint)  # the plugin's AWS: this moto, not a new emulator
    monkeypatch.chdir(tmp_path)  # and it must find the env file without the caller's folder
    env = load_env("test", env_dir)
    path = kubeaccess.write_kubeconfig(
        env, cluster_aws, tmp_path / "kc", state_root=tmp_path / "state", command=[sys.executable, "-m", "eksctl_ml"]
    )
    client = k8s_config.new_client_from_config(config_file=str(path), context=NAME, persist_config=False)
    try:
        configuration = client.configuration
        assert configuration.host == eks_cluster.endpoint.rstrip("/")
        bearer = configuration.auth_settings()["BearerToken"]["value"]
        assert bearer.startswith("Bearer k8s-aws-v1.")
        url = decode(bearer.removeprefix("Bearer "))
        assert url.startswith("https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&")
        assert query(url)["X-Amz-Credential"].startswith("testing/")
    finally:
        client.close()


def test_kubeconfig_document_with_a_python_module_command() -> None:
    document = kubeconfig_document(
        env_name="dev",
        cluster_name="mlplat-dev",
        endpoint="https://ABC.gr7.us-west-2.eks.amazonaws.com",
        ca_data="Q0E=",
        region="us-west-2",
        mlplat_command=["/usr/bin/python3", "-m", "eksctl_ml"],
    )
    plugin = document["users"][0]["user"]["exec"]
    assert plugin["command"] == "/usr/bin/python3"
    assert plugin["args"] == ["-m", "eksctl_ml", "token", "--env", "dev"]
    assert [c["name"] for c in document["contexts"]] == ["mlplat-dev"]


def test_mlplat_command_prefers_the_running_executable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = tmp_path / "bin" / "mlplat"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    monkeypatch.setattr(sys, "argv", [str(script), "kubeconfig"])
    assert kubeaccess.mlplat_command() == [str(script.resolve())]

    monkeypatch.setattr(sys, "argv", ["/somewhere/pytest"])
    monkeypatch.setattr(kubeaccess.shutil, "which", lambda name: str(script) if name == "mlplat" else None)
    assert kubeaccess.mlplat_command() == [str(script.resolve())]

    monkeypatch.setattr(kubeaccess.shutil, "which", lambda name: None)
    assert kubeaccess.mlplat_command() == [sys.executable, "-m", "eksctl_ml"]
