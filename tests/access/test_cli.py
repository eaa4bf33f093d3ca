"""`mlplat kubeconfig` and `mlplat token` through Typer's CliRunner, against the moto EKS cluster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from eksctl_ml.adapters import Adapters
from eksctl_ml.adapters.aws.session import Boto3Aws
from eksctl_ml.cli import app
from eksctl_ml.services.deps import Dependencies
from tests.access.conftest import EksCluster
from tests.access.test_token import decode, query


class Cli:
    def __init__(self, aws: Boto3Aws, env_dir: Path, root: Path) -> None:
        self.env_dir = env_dir
        self.root = root
        self.deps = Dependencies(adapters=lambda env, workdir: Adapters(aws_factory=lambda: aws), root=root)

    def run(self, *args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(app, [*args, "--config-dir", str(self.env_dir)], obj=self.deps)


@pytest.fixture
def cli(cluster_aws: Boto3Aws, env_dir: Path, tmp_path: Path) -> Cli:
    return Cli(cluster_aws, env_dir, tmp_path / "state")


@pytest.mark.usefixtures("eks_cluster")
def test_token_prints_only_the_exec_credential(cli: Cli) -> None:
    result = cli.run("token", "--env", "test")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.endswith("\n") and result.stdout.count("\n") == 1  # one JSON document, nothing else
    document = json.loads(result.stdout)
    assert document["kind"] == "ExecCredential"
    assert document["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert set(document["status"]) == {"token", "expirationTimestamp"}
    assert document["status"]["expirationTimestamp"].endswith("Z")
    url = decode(document["status"]["token"])
    assert url.startswith("https://sts.us-east-1.amazonaws.com/?")
    assert query(url)["Action"] == "GetCallerIdentity"


def test_token_errors_go_to_stderr(cli: Cli) -> None:
    result = cli.run("token", "--env", "nosuch")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "nosuch.yaml not found" in result.stderr


def test_kubeconfig_for_a_missing_cluster_says_build_it_first(cli: Cli, cluster_aws: Boto3Aws) -> None:
    # a fresh env whose cluster was never created
    (cli.env_dir / "ghost.yaml").write_text(
        (cli.env_dir / "test.yaml").read_text().replace("name: mlplat-local", "name: mlplat-ghost")
    )
    result = cli.run("kubeconfig", "--env", "ghost")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "EKS cluster 'mlplat-ghost' does not exist" in result.stderr
    assert "mlplat up --env ghost --until cluster" in result.stderr
    assert not (cli.root / "ghost" / "kubeconfig").exists()


def test_kubeconfig_writes_and_tells_how_to_use_it(cli: Cli, eks_cluster: EksCluster) -> None:
    result = cli.run("kubeconfig", "--env", "test")
    assert result.exit_code == 0, result.stderr
    path = (cli.root / "test" / "kubeconfig").absolute()
    assert f"wrote kubeconfig {path}" in result.stdout
    assert f"kubectl --kubeconfig {path} --context mlplat-test get nodes" in result.stdout
    document = yaml.safe_load(path.read_text())
    assert document["clusters"][0]["cluster"]["server"] == eks_cluster.endpoint
    assert document["users"][0]["user"]["exec"]["args"][-3:] == ["token", "--env", "test"]


def test_kubeconfig_path_and_json_output(cli: Cli, eks_cluster: EksCluster, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "config"
    result = cli.run("kubeconfig", "--env", "test", "--path", str(target), "--output", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"path": str(target.absolute()), "context": "mlplat-test"}
    assert target.is_file()
    assert not (cli.root / "test" / "kubeconfig").exists()


def test_help_lists_the_cluster_access_panel() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "Cluster access" in result.stdout
    assert "kubeconfig" in result.stdout and "token" in result.stdout
