"""Offline checks of the network, iam, security and storage HCL: formatting, init + validate of every
module and stack, and the modules' own ``terraform test`` suites (mocked AWS provider)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.terraform.tf import (
    MODULES,
    MODULES_WITH_TFTESTS,
    REPO,
    STACKS,
    TERRAFORM_ROOT,
    CheckResult,
    describe,
    terraform,
)


def test_fmt_check(tf_env: dict[str, str]) -> None:
    """``terraform fmt -check -recursive terraform/`` on the checkout itself (read-only)."""
    result = terraform(["fmt", "-check", "-recursive", "-diff", "-no-color", "terraform"], cwd=REPO, env=tf_env)
    assert result.returncode == 0, "HCL not formatted; run `terraform fmt -recursive terraform/`\n" + describe(result)


@pytest.mark.parametrize("config", MODULES + STACKS)
def test_init_and_validate(config: str, validate_job: Callable[[str], CheckResult]) -> None:
    result = validate_job(config)
    assert result.ok, "\n".join(describe(step) for step in result.steps)


@pytest.mark.parametrize("module", MODULES_WITH_TFTESTS)
def test_terraform_test_suite(module: str, tftest_job: Callable[[str], CheckResult]) -> None:
    """The module's tests/*.tftest.hcl (mock_provider "aws"), run with -junit-xml."""
    result = tftest_job(module)
    output = "\n".join(describe(step) for step in result.steps)
    assert result.ok, f"failed runs: {result.failed_runs}\n{output}"
    assert result.run_count > 0, "terraform test ran no run block\n" + output
    assert re.search(r"Success! \d+ passed, 0 failed", result.steps[-1].stdout), output


def test_every_module_has_the_standard_files() -> None:
    for config in MODULES + STACKS:
        folder = TERRAFORM_ROOT / config
        expected = {"main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"}
        if config.startswith("stacks/"):
            expected.add("providers.tf")
        missing = {name for name in expected if not (folder / name).is_file()}
        assert not missing, f"{config} lacks {sorted(missing)}"


def _blocks(text: str, kind: str) -> dict[str, str]:
    """name -> body of each top-level ``<kind> "<name>" { ... }`` block (bodies end at a line '}')."""
    return {m.group(1): m.group(2) for m in re.finditer(rf'^{kind} "([^"]+)" \{{\n(.*?)^\}}', text, re.M | re.S)}


@pytest.mark.parametrize("config", MODULES + STACKS)
def test_variables_and_outputs_are_described_and_typed(config: str) -> None:
    folder = TERRAFORM_ROOT / config
    variables = _blocks((folder / "variables.tf").read_text(), "variable")
    outputs = _blocks((folder / "outputs.tf").read_text(), "output")
    assert outputs, f"{config} declares no output"
    for name, body in variables.items():
        assert re.search(r"^\s+description\s+=", body, re.M), f"{config}: variable {name} has no description"
        assert re.search(r"^\s+type\s+=", body, re.M), f"{config}: variable {name} has no type"
    for name, body in outputs.items():
        assert re.search(r"^\s+description\s+=", body, re.M), f"{config}: output {name} has no description"
    readme = (folder / "README.md").read_text()
    for name in [*variables, *outputs]:
        assert f"`{name}`" in readme, f"{config}/README.md does not document {name}"


@pytest.mark.parametrize("config", MODULES + STACKS)
def test_only_the_aws_provider_is_required(config: str) -> None:
    versions = (TERRAFORM_ROOT / config / "versions.tf").read_text()
    sources = re.findall(r'source\s*=\s*"([^"]+)"', versions)
    assert sources == ["hashicorp/aws"], f"{config} requires {sources}"
    assert re.search(r'required_version\s*=\s*">= 1\.1[01]"', versions), config
    assert ('backend "s3" {}' in versions) == config.startswith("stacks/"), config


@pytest.mark.parametrize("stack", STACKS)
def test_stack_provider_sets_default_tags(stack: str) -> None:
    folder = TERRAFORM_ROOT / stack
    providers = (folder / "providers.tf").read_text()
    assert "region = var.region" in providers
    assert "tags = local.tags" in providers
    main = (folder / "main.tf").read_text()
    assert '"mlplat:env"     = var.env' in main and '"mlplat:cluster" = var.cluster_name' in main
    assert "terraform_remote_state" not in main


STACK_CONTRACT = {
    "stacks/network": (
        {"vpc_cidr", "private_subnet_cidrs", "public_subnet_cidrs", "single_nat_gateway"},
        {
            "vpc_id", "vpc_cidr", "azs", "private_subnet_ids", "public_subnet_ids", "nat_gateway_ids",
            "cluster_security_group_id", "node_security_group_id", "efs_security_group_id",
        },
    ),
    "stacks/iam": (
        set(),
        {
            "cluster_role_arn", "cpu_node_role_arn", "gpu_node_role_arn", "cpu_node_role_name", "gpu_node_role_name",
            "eks_kms_key_arn", "data_kms_key_arn", "grafana_admin_secret_arn", "alertmanager_secret_arn",
        },
    ),
    "stacks/storage": (
        {
            "vpc_id", "private_subnet_ids", "efs_security_group_id", "data_kms_key_arn", "oidc_provider_arn",
            "oidc_issuer_url", "model_bucket_name", "model_prefix", "ecr_repositories", "force_destroy",
        },
        {
            "efs_file_system_id", "efs_access_point_id", "efs_mount_target_ids", "model_bucket_name",
            "model_bucket_arn", "ecr_repository_urls", "triton_role_arn", "log_shipping_role_arn",
        },
    ),
}  # fmt: skip


@pytest.mark.parametrize("stack", STACKS)
def test_stack_contract_names(stack: str) -> None:
    """The variable and output names the Python runner is written against, exactly."""
    folder = TERRAFORM_ROOT / stack
    variables = set(_blocks((folder / "variables.tf").read_text(), "variable"))
    outputs = set(_blocks((folder / "outputs.tf").read_text(), "output"))
    extra_vars, expected_outputs = STACK_CONTRACT[stack]
    assert variables == {"env", "cluster_name", "region", "tags"} | extra_vars
    assert outputs == expected_outputs
