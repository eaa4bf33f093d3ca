"""Event parsing and error mapping against lines recorded from real terraform 1.11 runs (fixtures/events)."""

from __future__ import annotations

from pathlib import Path

import pytest

from eksctl_ml.adapters.terraform.events import (
    ChangeCounts,
    Diagnostic,
    StateLockHeldError,
    change_counts,
    describe_event,
    error_from_diagnostics,
    existing_resource,
    force_unlock_command,
    is_missing_state_bucket,
    parse_event,
    parse_lock_info,
    planned_change_line,
)
from eksctl_ml.adapters.terraform.protocol import ExistingResource, ResourceExistsError
from eksctl_ml.errors import ExitCode, LockHeldError, TerraformError
from tests.adapters.terraform.conftest import recorded


def events(name: str) -> list[dict[str, object]]:
    parsed = [parse_event(line) for line in recorded(name)]
    return [event for event in parsed if event is not None]


def progress_lines(name: str) -> list[str]:
    return [line for line in (describe_event(event) for event in events(name)) if line]


def plain_error(diags: list[Diagnostic], command: str = "plan", stack: str = "demo") -> TerraformError:
    error = error_from_diagnostics(diags, command=command, stack=stack, returncode=1)
    assert isinstance(error, TerraformError)
    return error


def diagnostics(name: str) -> list[Diagnostic]:
    found = [Diagnostic.from_event(event) for event in events(name)]
    return [diag for diag in found if diag is not None]


def test_parse_event_ignores_plain_text_and_broken_json() -> None:
    lines = recorded("init_ok")
    parsed = [parse_event(line) for line in lines]
    assert parsed[0] is not None and parsed[0]["type"] == "version"
    text = [line for line, event in zip(lines, parsed, strict=True) if event is None and line.strip()]
    assert any("Successfully configured the backend" in line for line in text)
    assert parse_event('{"type": "log", "@message": "cut') is None
    assert parse_event("[1, 2]") is None


def test_plan_events_give_counts_and_planned_lines() -> None:
    plan = events("plan_create")
    counts = [c for c in (change_counts(event) for event in plan) if c]
    assert counts == [ChangeCounts(add=2, change=0, remove=0, import_=0)]
    assert [line for line in (planned_change_line(event) for event in plan) if line] == [
        "aws_s3_bucket.data: create",
        "aws_ssm_parameter.marker: create",
    ]
    assert progress_lines("plan_create") == [
        "aws_s3_bucket.data: will be created",
        "aws_ssm_parameter.marker: will be created",
    ]


def test_a_plan_without_changes_reports_only_drift_and_zero_counts() -> None:
    plan = events("plan_no_changes")
    assert [c for c in (change_counts(event) for event in plan) if c] == [ChangeCounts()]
    assert progress_lines("plan_no_changes") == []  # refresh and drift events are not progress lines


def test_apply_events_become_one_human_line_each() -> None:
    assert progress_lines("apply_create") == [
        "aws_s3_bucket.data: will be created",
        "aws_ssm_parameter.marker: will be created",
        "aws_s3_bucket.data: creating…",
        "aws_s3_bucket.data: created (1s)",
        "aws_ssm_parameter.marker: creating…",
        "aws_ssm_parameter.marker: created (2s)",
    ]


def test_apply_progress_and_errored_events() -> None:
    slow = progress_lines("apply_slow_progress")
    assert "terraform_data.slow: still creating… (10s elapsed)" in slow
    assert slow[-1] == "terraform_data.slow: created (11s)"
    failed = progress_lines("apply_error")
    assert "aws_ssm_parameter.marker: destroying… [id=/demo/marker]" in failed
    assert "aws_s3_bucket.data: destroyed (0s)" in failed
    assert failed[-1] == "aws_s3_bucket.data: create failed (0s)"
    assert progress_lines("apply_interrupted")[-1] == "terraform_data.slow2: create failed (3s)"


def test_validation_error_maps_to_summary_variable_and_detail() -> None:
    error = plain_error(diagnostics("plan_invalid_variable"))
    assert type(error) is TerraformError
    assert error.message == "Invalid value for variable"
    assert error.address == "var.name"
    assert "name must be 3-31 lowercase letters" in error.detail
    assert "terraform plan of stack 'demo' failed (exit 1)" in error.detail
    assert "bad.tfvars.json:1" in error.detail


def test_apply_error_uses_the_diagnostic_address() -> None:
    diags = diagnostics("apply_error")
    error = plain_error(diags, command="apply")
    assert error.message == "creating S3 Bucket (demo2-data): BucketAlreadyExists"
    assert error.address == "aws_s3_bucket.data"
    assert "at aws_s3_bucket.data, main.tf:21" in error.detail


def test_every_error_diagnostic_is_in_the_detail_and_warnings_are_not() -> None:
    diags = diagnostics("apply_interrupted")
    error = plain_error(diags, command="apply", stack="slow")
    assert error.message == "local-exec provisioner error"
    assert error.address == "terraform_data.slow2"
    assert error.detail.count("Error: execution halted") == 2
    warnings = [diag for diag in diagnostics("apply_slow_progress") if not diag.is_error]
    assert warnings and warnings[0].summary == "Deprecated flag: -state"
    assert error_from_diagnostics(warnings, command="apply", stack="s", returncode=1, fallback_text="boom").message == (
        "boom"
    )


def test_multi_paragraph_summary_keeps_its_first_line_as_message() -> None:
    error = plain_error(diagnostics("init_missing_bucket"), command="init")
    assert error.message == 'Failed to get existing workspaces: S3 bucket "nosuchbucket" does not exist.'
    assert "NoSuchBucket" in error.detail
    assert is_missing_state_bucket(error)
    other = plain_error(diagnostics("apply_error"), command="apply")
    assert not is_missing_state_bucket(other)


def test_held_lock_becomes_lock_held_error_with_id_and_unlock_command() -> None:
    diags = diagnostics("plan_lock_held")
    info = parse_lock_info(diags[0].detail)
    assert info is not None
    assert info.id == "0f2b9c1e-1111-2222-3333-444455556666"
    assert info.who == "alice@laptop"
    assert info.operation == "OperationTypeApply"
    assert info.path == "tfstate/demo.tfstate"

    def unlock(lock_id: str) -> str:
        return force_unlock_command(
            "terraform", Path("/repo/terraform/stacks/net"), Path("/w/.terraform"), lock_id, {"AWS_PROFILE": "dev"}
        )

    error = error_from_diagnostics(diags, command="plan", stack="network", returncode=1, unlock_command=unlock)
    assert isinstance(error, StateLockHeldError)
    assert isinstance(error, LockHeldError) and error.exit_code == ExitCode.LOCK_HELD
    assert "0f2b9c1e-1111-2222-3333-444455556666" in error.message
    assert "alice@laptop" in error.message
    assert error.hint is not None
    assert (
        "AWS_PROFILE=dev TF_DATA_DIR=/w/.terraform terraform -chdir=/repo/terraform/stacks/net "
        "force-unlock -force 0f2b9c1e-1111-2222-3333-444455556666"
    ) in error.hint


def test_lock_error_without_a_holder_is_a_plain_terraform_error() -> None:
    diag = Diagnostic(severity="error", summary="Error acquiring the state lock", detail="AccessDenied: no")
    error = error_from_diagnostics([diag], command="plan", stack="x", returncode=1)
    assert type(error) is TerraformError
    assert error.message == "Error acquiring the state lock"


@pytest.mark.parametrize(
    ("summary", "needle"),
    [
        ('Backend initialization required, please run "terraform init"', "run init again"),
        ("Saved plan is stale", "plan again"),
        ("Inconsistent dependency lock file", "providers lock"),
    ],
)
def test_known_failures_get_a_hint(summary: str, needle: str) -> None:
    error = error_from_diagnostics([Diagnostic("error", summary)], command="apply", stack="x", returncode=1)
    assert error.hint is not None and needle in error.hint


def test_failure_without_diagnostics_uses_stderr() -> None:
    error = error_from_diagnostics(
        [], command="plan", stack="x", returncode=1, fallback_text="Error: Failed to parse command-line flags\n..."
    )
    assert error.message == "Failed to parse command-line flags"
    assert "exit 1" in error.detail


# --- names already taken (recorded: an apply whose resources existed but were not in the state) ----


def test_names_taken_become_one_resource_exists_error_listing_each() -> None:
    diags = diagnostics("apply_names_taken")
    error = error_from_diagnostics(diags, command="apply", stack="demo", returncode=1)
    assert isinstance(error, ResourceExistsError)
    assert sorted(error.existing, key=lambda found: found.address) == [
        ExistingResource("aws_cloudwatch_log_group.this", "aws_cloudwatch_log_group", "/aws/eks/x/cluster"),
        ExistingResource("aws_ecr_repository.this", "aws_ecr_repository", "x/repo"),
        ExistingResource("aws_iam_role.this", "aws_iam_role", "x-role"),
        ExistingResource("aws_kms_alias.this", "aws_kms_alias", "alias/x-alias"),
        ExistingResource("aws_s3_bucket.this", "aws_s3_bucket", "x-bucket"),
        ExistingResource("aws_security_group.this", "aws_security_group", "x-sg"),
    ]
    assert error.address in {found.address for found in error.existing}
    assert "terraform import" in (error.hint or "")


def test_one_other_error_among_names_taken_is_a_plain_terraform_error() -> None:
    denied = Diagnostic(
        "error", "creating EC2 VPC: operation error EC2: CreateVpc, UnauthorizedOperation", address="aws_vpc.this"
    )
    diags = [*diagnostics("apply_names_taken"), denied]
    error = error_from_diagnostics(diags, command="apply", stack="demo", returncode=1)
    assert type(error) is TerraformError


@pytest.mark.parametrize(
    ("address", "summary", "expected"),
    [
        (
            'module.iam.aws_iam_role.node["gpu"]',
            "creating IAM Role (mlplat-dev-gpu-node): operation error IAM: CreateRole, EntityAlreadyExists: x",
            ExistingResource('module.iam.aws_iam_role.node["gpu"]', "aws_iam_role", "mlplat-dev-gpu-node"),
        ),
        (
            "module.eks.aws_eks_cluster.this",
            "creating EKS Cluster (mlplat-dev): operation error EKS: CreateCluster, ResourceInUseException: in use",
            ExistingResource("module.eks.aws_eks_cluster.this", "aws_eks_cluster", "mlplat-dev"),
        ),
        # Not a taken name: a create that failed for another reason, or no create at all.
        ("aws_iam_role.this", "creating IAM Role (x): operation error IAM: CreateRole, AccessDenied: no", None),
        ("aws_iam_role.this", "reading IAM Role (x): EntityAlreadyExists", None),
        ("", "creating IAM Role (x): EntityAlreadyExists", None),
    ],
)
def test_existing_resource_reads_address_type_and_name(
    address: str, summary: str, expected: ExistingResource | None
) -> None:
    assert existing_resource(Diagnostic("error", summary, address=address)) == expected
    assert existing_resource(Diagnostic("warning", summary, address=address)) is None
