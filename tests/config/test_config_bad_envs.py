"""The bad-environment corpus: each file in bad_envs/ holds one real mistake.

Through the CLI, every one must exit 2, name the file (with line where the mistake has one), the
field path and the problem, and run no phase at all: no phase method is called and no journal is
written.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from eksctl_ml.errors import ExitCode

BAD_ENVS_DIR = Path(__file__).resolve().parent / "bad_envs"


@dataclass(frozen=True)
class Expected:
    path: str | None  # field path as the loader renders it; None for YAML-level errors
    fragment: str  # part of the message (or fix) that explains the mistake
    line: int | None = None  # bad.yaml:<line> must appear in the output


EXPECTED: dict[str, Expected] = {
    "typo_top_level_key.yaml": Expected("node_group", "did you mean 'node_groups'?", 7),
    "typo_nested_key.yaml": Expected("aws.profil", "did you mean 'profile'?", 5),
    "unknown_region.yaml": Expected("aws.region", "not an AWS region (got 'us-west-9')", 3),
    "account_id_unquoted.yaml": Expected("aws.account_id", "quote it in YAML", 4),
    "account_id_wrong_length.yaml": Expected("aws.account_id", "exactly 12 digits", 4),
    "vpc_cidr_syntax.yaml": Expected("network.vpc_cidr", "not a valid IPv4 CIDR block", 8),
    "public_access_cidr_host_bits.yaml": Expected("cluster.public_access_cidrs", "has host bits set", 7),
    "vpc_too_large.yaml": Expected("network.vpc_cidr", "must be /16 to /28", 8),
    "subnet_prefix_not_smaller.yaml": Expected(
        "network.private_subnet_prefix", "subnet prefix /19 is not smaller than the VPC's /24", 10
    ),
    "subnets_do_not_fit.yaml": Expected("network.vpc_cidr", "need 5120 addresses; the VPC 10.0.0.0/20 has 4096", 8),
    "az_count_too_high.yaml": Expected("network.az_count", "less than or equal to 6", 8),
    "min_above_desired.yaml": Expected("node_groups.cpu.desired_size", "got 3 <= 2 <= 4", 11),
    "desired_above_max.yaml": Expected("node_groups.cpu.desired_size", "got 1 <= 5 <= 4", 11),
    "gpu_group_cpu_types.yaml": Expected("node_groups.gpu.instance_types", "m5.xlarge have no NVIDIA GPU", 9),
    "cpu_group_gpu_type.yaml": Expected("node_groups.cpu.instance_types", "GPU instance type(s) g5.xlarge", 9),
    "gpu_group_no_taint.yaml": Expected("node_groups.gpu.taints", "nvidia.com/gpu NoSchedule taint", 8),
    "taint_key_typo.yaml": Expected("node_groups.gpu.taints[0].efect", "did you mean 'effect'?", 14),
    "kubernetes_version_unsupported.yaml": Expected(
        "cluster.kubernetes_version", "unsupported Kubernetes version (got '1.22')", 7
    ),
    "kubernetes_version_unquoted.yaml": Expected(
        "cluster.kubernetes_version", "quote it in YAML: unquoted, 1.3 is read as a number", 7
    ),
    "endpoints_both_off.yaml": Expected("cluster.endpoint_private_access", "public and private access are both off", 8),
    "unknown_addon.yaml": Expected("cluster.addon_versions", "unknown add-on(s) aws-ebs-csi-driverx", 7),
    "admin_role_arn_invalid.yaml": Expected("cluster.admin_role_arns", "not an IAM role ARN", 7),
    "gitops_invalid.yaml": Expected("features.gitops", "'argocd', 'flux' or 'none' (got 'fluxcd')", 8),
    "gatekeeper_enforcement_invalid.yaml": Expected(
        "features.gatekeeper_enforcement", "'dryrun', 'warn' or 'deny' (got 'enforce')", 8
    ),
    "bucket_name_invalid.yaml": Expected("model_repository.s3_bucket", "not a valid S3 bucket name", 8),
    "tag_reserved_prefix.yaml": Expected("tags", "tag key 'aws:cost-center' uses a reserved prefix", 9),
    "triton_image_latest.yaml": Expected("triton.image_tag", "must be pinned (got 'latest')", 10),
    "duplicate_key.yaml": Expected(None, "duplicate key 'region'", 5),
    "yaml_syntax.yaml": Expected(None, "invalid YAML", 10),
    "yaml_unhashable_key.yaml": Expected(None, "found unhashable key", 10),
    "missing_cluster_section.yaml": Expected("cluster", "Field required"),
    "top_level_not_mapping.yaml": Expected(None, "the top level must be a mapping of sections"),
}

CASES = sorted(EXPECTED)


def _install(case: str, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "bad.yaml"
    shutil.copyfile(BAD_ENVS_DIR / case, target)
    return target


def test_corpus_and_table_agree() -> None:
    on_disk = sorted(p.name for p in BAD_ENVS_DIR.glob("*.yaml"))
    assert on_disk == CASES
    assert len(CASES) >= 14


@pytest.mark.parametrize("case", CASES)
def test_validate_reports_the_mistake(case: str, tmp_path: Path, cli: Any) -> None:
    expected = EXPECTED[case]
    config_dir = tmp_path / "cfg"
    bad = _install(case, config_dir)

    run = cli("config", "validate", "--env", "bad", "--config-dir", str(config_dir))

    assert run.exit_code == ExitCode.USAGE, run.text
    assert "error:" in run.text
    where = f"{bad}:{expected.line}" if expected.line else str(bad)
    assert where in run.text, run.text
    if expected.path is not None:
        # rendered as "<file>[:line]: <path>: <message>"
        assert f": {expected.path}: " in run.text, run.text
    assert expected.fragment in run.flat, run.text
    assert "valid (env" not in run.text  # the success line never appears
    assert "internal error" not in run.text


@pytest.mark.parametrize("case", CASES)
def test_up_runs_no_phase(case: str, tmp_path: Path, cli: Any, harness: Any) -> None:
    config_dir = tmp_path / "cfg"
    bad = _install(case, config_dir)

    run = cli("up", "--env", "bad", "--config-dir", str(config_dir), "--yes", obj=harness.deps)

    assert run.exit_code == ExitCode.USAGE, run.text
    assert str(bad) in run.text
    assert EXPECTED[case].fragment in run.flat
    assert harness.recorder.calls == []
    assert harness.journals() == []
    assert not (harness.state_root / "bad").exists()


@pytest.mark.parametrize("command", [("plan",), ("status",), ("status", "--offline"), ("down", "--yes")])
def test_other_lifecycle_commands_run_no_phase(
    command: tuple[str, ...],
    tmp_path: Path,
    cli: Any,
    harness: Any,
) -> None:
    config_dir = tmp_path / "cfg"
    _install("gpu_group_no_taint.yaml", config_dir)

    run = cli(*command, "--env", "bad", "--config-dir", str(config_dir), obj=harness.deps)

    assert run.exit_code == ExitCode.USAGE, run.text
    assert "node_groups.gpu.taints" in run.text
    assert harness.recorder.calls == []
    assert not harness.state_root.exists()


def test_harness_does_record_a_valid_env(tmp_path: Path, cli: Any, harness: Any) -> None:
    """Positive control: the same harness with a valid file does apply the phase and write a journal,
    so the empty recordings above mean "no phase ran", not "the harness cannot see phases"."""
    config_dir = tmp_path / "cfg"
    config_dir.mkdir()
    (config_dir / "good.yaml").write_text(
        'aws: {region: us-west-2, account_id: "123456789012"}\n'
        "cluster: {name: mlplat-test}\n"
        "model_repository: {s3_bucket: mlplat-test-models}\n",
        encoding="utf-8",
    )

    run = cli("up", "--env", "good", "--config-dir", str(config_dir), "--yes", obj=harness.deps)

    assert run.exit_code == ExitCode.OK, run.text
    assert ("apply", "good") in harness.recorder.calls
    assert harness.journals() == [harness.state_root / "good" / "journal.json"]


def test_json_output_lists_the_issue(tmp_path: Path, cli: Any) -> None:
    config_dir = tmp_path / "cfg"
    _install("typo_top_level_key.yaml", config_dir)

    run = cli("config", "validate", "--env", "bad", "--config-dir", str(config_dir), "-o", "json")

    assert run.exit_code == ExitCode.USAGE
    document = json.loads(run.result.stdout)
    assert document["event"] == "error"
    assert document["error"] == "ConfigError"
    assert document["exit_code"] == ExitCode.USAGE
    assert len(document["issues"]) == 1
    assert "node_group: unknown key" in document["issues"][0]
    assert "did you mean 'node_groups'?" in document["issues"][0]


def test_non_utf8_file_is_a_config_error(tmp_path: Path, cli: Any, harness: Any) -> None:
    """A file saved as Latin-1 (an editor default on some systems) is reported with its line, not a crash."""
    config_dir = tmp_path / "cfg"
    config_dir.mkdir()
    bad = config_dir / "bad.yaml"
    good_text = (BAD_ENVS_DIR / "gitops_invalid.yaml").read_text(encoding="utf-8").replace("fluxcd", "flux")
    bad.write_bytes(good_text.encode("utf-8") + "# owner: José\n".encode("latin-1"))
    line = good_text.count("\n") + 1

    run = cli("up", "--env", "bad", "--config-dir", str(config_dir), "--yes", obj=harness.deps)

    assert run.exit_code == ExitCode.USAGE, run.text
    assert f"{bad}:{line}: not UTF-8" in run.text
    assert "internal error" not in run.text
    assert harness.recorder.calls == []
