"""The network, iam and storage stacks applied for real against the AWS emulator (moto server).

One lifecycle runs for the session (``stack_lifecycle`` in conftest.py): state in the emulator's S3 with
``use_lockfile=true``, network and iam applied, storage applied from their outputs, a second
``plan -detailed-exitcode`` per stack, then destroy in reverse order. Each test asserts one part of it.
"""

from __future__ import annotations

import json

import pytest

from tests.terraform.lifecycle import (
    CLUSTER,
    ENV,
    STACK_ORDER,
    Lifecycle,
    iter_state_resources,
    policy_documents,
)
from tests.terraform.tf import as_list, iter_statements

pytestmark = pytest.mark.slow

CONTRACT_OUTPUTS = {
    "network": {
        "vpc_id", "vpc_cidr", "azs", "private_subnet_ids", "public_subnet_ids", "nat_gateway_ids",
        "cluster_security_group_id", "node_security_group_id", "efs_security_group_id",
    },
    "iam": {
        "cluster_role_arn", "cpu_node_role_arn", "gpu_node_role_arn", "cpu_node_role_name", "gpu_node_role_name",
        "eks_kms_key_arn", "data_kms_key_arn", "grafana_admin_secret_arn", "alertmanager_secret_arn",
    },
    "storage": {
        "efs_file_system_id", "efs_access_point_id", "efs_mount_target_ids", "model_bucket_name",
        "model_bucket_arn", "ecr_repository_urls", "triton_role_arn", "log_shipping_role_arn",
    },
}  # fmt: skip


@pytest.mark.parametrize("stack", STACK_ORDER)
def test_stack_applies(stack_lifecycle: Lifecycle, stack: str) -> None:
    run = stack_lifecycle.stacks[stack]
    for step in ("init", "plan", "apply", "output", "state_pull"):
        assert run.ok(step), run.report(step)


@pytest.mark.parametrize("stack", STACK_ORDER)
def test_outputs_follow_the_contract(stack_lifecycle: Lifecycle, stack: str) -> None:
    run = stack_lifecycle.stacks[stack]
    if not run.ok("output"):
        pytest.fail(run.report("output"))
    assert set(run.outputs) == CONTRACT_OUTPUTS[stack]
    assert all(value not in (None, "", [], {}) for value in run.outputs.values()), run.outputs


def test_network_outputs_match_the_request(stack_lifecycle: Lifecycle) -> None:
    outputs = stack_lifecycle.stacks["network"].outputs
    assert outputs["vpc_cidr"] == "10.42.0.0/16"
    assert len(outputs["azs"]) == len(outputs["private_subnet_ids"]) == len(outputs["public_subnet_ids"]) == 3
    assert len(outputs["nat_gateway_ids"]) == 3  # single_nat_gateway = false: one per AZ


def test_storage_outputs(stack_lifecycle: Lifecycle) -> None:
    outputs = stack_lifecycle.stacks["storage"].outputs
    assert len(outputs["efs_mount_target_ids"]) == 3
    assert set(outputs["ecr_repository_urls"]) == {"triton-models"}
    assert outputs["ecr_repository_urls"]["triton-models"].endswith(f"/mlplat-{ENV}/triton-models")
    assert outputs["triton_role_arn"].endswith(f":role/mlplat-{ENV}-triton")


def test_efs_security_group_allows_only_nfs_from_the_nodes(stack_lifecycle: Lifecycle) -> None:
    """Every rule Terraform manages on the EFS security group, whatever resource declares it."""
    network = stack_lifecycle.stacks["network"]
    efs_sg = network.outputs.get("efs_security_group_id")
    node_sg = network.outputs.get("node_security_group_id")
    assert efs_sg and node_sg, network.report("output")
    rules = []
    for resource in iter_state_resources(network.state):
        values = resource["values"]
        if resource["type"] in ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"):
            if values.get("security_group_id") == efs_sg:
                rules.append((resource["type"], values))
        elif resource["type"] == "aws_security_group_rule" and values.get("security_group_id") == efs_sg:
            rules.append((resource["type"], values))
        elif resource["type"] == "aws_security_group" and values.get("id") == efs_sg:
            assert not values.get("ingress") and not values.get("egress"), f"inline rules on the EFS SG: {values}"
    assert len(rules) == 1, f"expected exactly one rule on the EFS security group, got {rules}"
    kind, rule = rules[0]
    assert kind == "aws_vpc_security_group_ingress_rule"
    assert (rule["ip_protocol"], rule["from_port"], rule["to_port"]) == ("tcp", 2049, 2049)
    assert rule["referenced_security_group_id"] == node_sg
    assert not rule.get("cidr_ipv4") and not rule.get("cidr_ipv6") and not rule.get("prefix_list_id")


@pytest.mark.parametrize("stack", STACK_ORDER)
def test_second_plan_is_empty(stack_lifecycle: Lifecycle, stack: str) -> None:
    """``plan -detailed-exitcode`` right after apply is 0: the production HCL converges on the emulator
    (mlplat's patched moto, which closes moto 5.2.5's gaps instead of tolerating them here)."""
    run = stack_lifecycle.stacks[stack]
    assert run.second_plan_rc is not None, run.report("plan2")
    assert run.second_plan_rc == 0, (
        "the second plan is not empty:\n"
        + "\n".join(str(c) for c in run.second_plan_changes)
        + "\n"
        + run.report("plan2")
    )


def test_every_taggable_resource_carries_the_platform_tags(stack_lifecycle: Lifecycle) -> None:
    checked = 0
    missing = []
    for stack in STACK_ORDER:
        for resource in iter_state_resources(stack_lifecycle.stacks[stack].state):
            tags_all = resource["values"].get("tags_all")
            if tags_all is None:
                continue
            checked += 1
            if tags_all.get("mlplat:env") != ENV or tags_all.get("mlplat:cluster") != CLUSTER:
                missing.append(f"{stack}: {resource['address']} tags_all={tags_all}")
    assert checked > 40, f"only {checked} taggable resources found in state"
    assert not missing, "\n".join(missing)


def test_no_policy_allows_every_action_on_every_resource(stack_lifecycle: Lifecycle) -> None:
    offenders = []
    documents = 0
    for stack in STACK_ORDER:
        for resource in iter_state_resources(stack_lifecycle.stacks[stack].state):
            for attribute, document in policy_documents(resource):
                documents += 1
                for statement in iter_statements(document):
                    if statement.get("Effect") != "Allow":
                        continue
                    actions = as_list(statement.get("Action", []))
                    resources = as_list(statement.get("Resource", []))
                    if "*" in actions and "*" in resources:
                        offenders.append(f"{stack}: {resource['address']}.{attribute}: {json.dumps(statement)}")
    assert documents >= 15, f"only {documents} policy documents found"
    assert not offenders, "\n".join(offenders)


def test_grafana_password_is_generated_by_aws_and_never_in_state(stack_lifecycle: Lifecycle) -> None:
    secret = stack_lifecycle.grafana_secret
    assert secret is not None, stack_lifecycle.stacks["iam"].report("apply")
    assert "error" not in secret, secret.get("error")
    assert secret["keys"] == ["admin-password", "admin-user"]
    assert secret["password_length"] == 32
    assert not secret["password_in_state"], "the generated password was written to the Terraform state"
    assert secret.get("password_in_plan") is False, "the generated password is in the second plan (or no plan)"


def test_destroy_in_reverse_order_leaves_nothing(stack_lifecycle: Lifecycle) -> None:
    problems = []
    for stack in reversed(STACK_ORDER):
        run = stack_lifecycle.stacks[stack]
        if not run.ok("destroy"):
            problems.append(run.report("destroy"))
        elif run.state_after_destroy:
            problems.append(f"{stack}: still in state after destroy: {run.state_after_destroy}")
    leftovers = {kind: names for kind, names in stack_lifecycle.leftovers.items() if names}
    assert not problems, "\n".join(problems)
    assert not leftovers, f"left in the emulator after destroy: {leftovers}"
    storage_destroy = stack_lifecycle.stacks["storage"].steps["destroy"]
    network_destroy = stack_lifecycle.stacks["network"].steps["destroy"]
    assert storage_destroy.returncode == 0 and network_destroy.returncode == 0
