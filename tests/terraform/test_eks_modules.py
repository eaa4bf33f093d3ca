"""Static checks of the EKS Terraform: init/validate of the eks and nodegroups modules and stacks,
and their ``terraform test`` suites (mocked AWS provider, offline)."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.emulator.tfsupport import copy_terraform_tree, needs_terraform, run_terraform, terraform_env

pytestmark = needs_terraform

CONFIGS = ("modules/eks", "modules/nodegroups", "stacks/cluster", "stacks/nodegroups")
MODULES_WITH_TESTS = ("modules/eks", "modules/nodegroups")


class Workspace:
    """A private copy of terraform/ with one initialized data dir per configuration (init once).

    The terraform commands of all configurations run on a small thread pool as soon as the module's
    first test asks for them (they spend much of their time starting provider plugins), and each
    test waits for the result it checks.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tree = copy_terraform_tree(root)
        self._init_locks = {config: threading.Lock() for config in CONFIGS}
        self._initialized: set[str] = set()
        self._pool = ThreadPoolExecutor(max_workers=2)
        self._jobs: dict[tuple[str, str], Future[subprocess.CompletedProcess[str]]] = {}

    def env(self, config: str) -> dict[str, str]:
        return terraform_env(self.root / "work" / config.replace("/", "-"))

    def init(self, config: str) -> dict[str, str]:
        env = self.env(config)
        with self._init_locks[config]:
            if config not in self._initialized:
                run_terraform(["init", "-backend=false", "-input=false"], cwd=self.tree / config, env=env, timeout=120)
                self._initialized.add(config)
        return env

    def _run(self, config: str, args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        env = self.init(config)
        return run_terraform(args, cwd=self.tree / config, env=env, timeout=timeout)

    def start_all(self) -> None:
        if self._jobs:
            return
        for module in MODULES_WITH_TESTS:  # longest first
            self._jobs[("test", module)] = self._pool.submit(self._run, module, ["test"], 300)
        for config in CONFIGS:
            self._jobs[("validate", config)] = self._pool.submit(self._run, config, ["validate"], 120)
        # Dependency graph from the configuration alone (no provider calls, no backend: modules only).
        for module in MODULES_WITH_TESTS:
            self._jobs[("graph", module)] = self._pool.submit(self._run, module, ["graph"], 60)

    def result(self, kind: str, config: str) -> subprocess.CompletedProcess[str]:
        self.start_all()
        return self._jobs[(kind, config)].result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    space = Workspace(tmp_path_factory.mktemp("eks-tf"))
    try:
        yield space
    finally:
        space.close()


def test_hcl_is_formatted(workspace: Workspace) -> None:
    result = run_terraform(
        ["fmt", "-check", "-recursive", "-list=true", *CONFIGS],
        cwd=workspace.tree,
        env=workspace.env("fmt"),
        ok_codes=(0, 3),
    )
    assert result.returncode == 0, f"not formatted (run terraform fmt):\n{result.stdout}"


@pytest.mark.parametrize("config", CONFIGS)
def test_init_and_validate(workspace: Workspace, config: str) -> None:
    assert "Success" in workspace.result("validate", config).stdout


@pytest.mark.parametrize("module", MODULES_WITH_TESTS)
def test_terraform_test_suite(workspace: Workspace, module: str) -> None:
    result = workspace.result("test", module)
    assert "0 failed" in result.stdout and " passed" in result.stdout, result.stdout


def _graph_edges(dot: str) -> set[tuple[str, str]]:
    """``(from, to)`` pairs of ``terraform graph`` (DOT): ``from`` depends on ``to``."""
    import re

    return set(re.findall(r'^\s*"([^"]+)" -> "([^"]+)";?$', dot, re.M))


def test_addons_that_need_nodes_come_after_the_node_groups(workspace: Workspace) -> None:
    """coredns and the EFS and EBS CSI drivers (Deployments) are created after the node groups, by the
    nodegroups module; the cluster keeps the DaemonSet add-ons, which do not wait for nodes (vpc-cni must
    precede them). Which add-on lives where is asserted by the modules' terraform tests."""
    edges = _graph_edges(workspace.result("graph", "modules/nodegroups").stdout)
    assert ("aws_eks_addon.after_nodes", "aws_eks_node_group.this") in edges, edges
    eks_nodes = {node for edge in _graph_edges(workspace.result("graph", "modules/eks").stdout) for node in edge}
    assert "aws_eks_addon.before_nodes" in eks_nodes and "aws_eks_addon.this" not in eks_nodes, eks_nodes


def test_versions_pin_only_the_aws_provider() -> None:
    repo_tf = Path(__file__).resolve().parents[2] / "terraform"
    for config in CONFIGS:
        versions = (repo_tf / config / "versions.tf").read_text()
        assert 'required_version = ">= 1.10"' in versions
        assert 'source  = "hashicorp/aws"' in versions
        for forbidden in ("hashicorp/tls", "hashicorp/random", "hashicorp/time", "hashicorp/kubernetes"):
            assert forbidden not in versions
        assert ('backend "s3" {}' in versions) == config.startswith("stacks/")


def test_stack_contract_names() -> None:
    """The variable and output names the Python runner is written against."""
    import re

    repo_tf = Path(__file__).resolve().parents[2] / "terraform"

    def names(config: str, kind: str, file: str) -> set[str]:
        text = (repo_tf / config / file).read_text()
        return set(re.findall(rf'^{kind} "([^"]+)"', text, re.M))

    common = {"env", "cluster_name", "region", "tags"}
    assert names("stacks/cluster", "variable", "variables.tf") == common | {
        "kubernetes_version", "endpoint_public_access", "endpoint_private_access", "public_access_cidrs",
        "enabled_log_types", "authentication_mode", "admin_role_arns", "addon_versions",
        "vpc_cni_enable_network_policy", "vpc_cni_enable_prefix_delegation", "private_subnet_ids",
        "cluster_security_group_id", "cluster_role_arn", "eks_kms_key_arn",
        "cloudwatch_log_kms_key_arn",  # optional addition (default null)
    }  # fmt: skip
    assert names("stacks/cluster", "output", "outputs.tf") == {
        "cluster_name", "cluster_arn", "cluster_endpoint", "cluster_certificate_authority_data",
        "cluster_version", "oidc_provider_arn", "oidc_issuer_url", "cluster_primary_security_group_id",
        "efs_csi_role_arn", "ebs_csi_role_arn", "vpc_cni_role_arn",
    }  # fmt: skip
    assert names("stacks/nodegroups", "variable", "variables.tf") == common | {
        "kubernetes_version", "node_groups", "private_subnet_ids", "node_security_group_id",
        "cpu_node_role_arn", "gpu_node_role_arn", "data_kms_key_arn",
        "addon_versions", "efs_csi_role_arn", "ebs_csi_role_arn",  # add-ons that need nodes (config; cluster outputs)
    }  # fmt: skip
    assert names("stacks/nodegroups", "output", "outputs.tf") == {
        "node_group_names", "node_group_arns", "launch_template_ids", "addon_versions_installed",
    }  # fmt: skip
