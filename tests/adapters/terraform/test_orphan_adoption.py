"""Adopting what an interrupted apply created but never recorded: real terraform, real provider, emulator.

An orphan is made the way Ctrl-C makes one: the resource exists in AWS, created by this stack with its
tags, but is not in the state (``terraform state rm``). The next apply must adopt it instead of failing on
"already exists", and must refuse (importing nothing) a taken name that is not provably this env's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from eksctl_ml.adapters.aws.session import Boto3Aws
from eksctl_ml.adapters.terraform.protocol import Stack
from eksctl_ml.adapters.terraform.runner import CliTerraformRunner
from eksctl_ml.errors import PhaseError
from eksctl_ml.phases.orphans import apply_adopting_orphans
from tests.adapters.terraform.conftest import FAKE_KEYS, FIXTURES, REGION, boto_client, needs_aws_provider

pytestmark = [pytest.mark.slow, needs_aws_provider]

NAMED = [
    "aws_cloudwatch_log_group.this",
    "aws_ecr_repository.this",
    "aws_iam_role.this",
    "aws_kms_alias.this",
    "aws_s3_bucket.this",
    "aws_security_group.this",
]


@pytest.fixture
def stack(tmp_path: Path, state_bucket: str) -> Stack:
    source = tmp_path / "adoptable"
    shutil.copytree(FIXTURES / "adoptable", source)
    return Stack(
        name="adoptable",
        source=source,
        workdir=tmp_path / "work",
        backend_config={
            "bucket": state_bucket,
            "key": f"test/{uuid.uuid4().hex[:8]}/adoptable.tfstate",
            "region": REGION,
            "use_lockfile": "true",
            "use_path_style": "true",
        },
    )


@pytest.fixture
def runner(aws_env: dict[str, str]) -> CliTerraformRunner:
    return CliTerraformRunner(env=aws_env, timeout_s=300)


@pytest.fixture
def aws(tf_emulator: str) -> Boto3Aws:
    return Boto3Aws(REGION, endpoint_url=tf_emulator, static_credentials=FAKE_KEYS)


def _vars(folder: Path, name: str, env: str) -> Path:
    path = folder / f"{name}.tfvars.json"
    path.write_text(json.dumps({"region": REGION, "name": name, "env": env, "cluster_name": f"{name}-cluster"}))
    return path


def _forget(runner: CliTerraformRunner, stack: Stack, addresses: list[str]) -> None:
    """``terraform state rm``: what a create cancelled after AWS carried it out leaves behind."""
    env = {**os.environ, **runner.env, "TF_DATA_DIR": str(runner.data_dir(stack))}
    env["TF_CLI_CONFIG_FILE"] = str(runner.workdir(stack) / "terraformrc")
    subprocess.run(
        [runner.binary, f"-chdir={stack.source}", "state", "rm", *addresses],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


def test_orphans_of_every_adoptable_type_are_adopted_and_the_apply_goes_on(
    runner: CliTerraformRunner, stack: Stack, aws: Boto3Aws, tf_emulator: str, tmp_path: Path
) -> None:
    name = f"ad-{uuid.uuid4().hex[:6]}"
    var_file = _vars(tmp_path, name, env="dev")
    runner.apply(stack, runner.plan(stack, var_file))
    group_id = runner.output(stack)["security_group_id"].value
    _forget(runner, stack, NAMED)
    assert {line.split(":")[0] for line in runner.plan(stack, var_file).resource_changes} == set(NAMED)

    progress: list[str] = []
    apply_adopting_orphans(
        runner, aws, stack, var_file, env="dev", cluster=f"{name}-cluster", phase="demo", progress=progress.append
    )

    adopting = sorted(line.split(":")[0] for line in progress if ": adopting " in line)
    assert adopting == NAMED
    assert not runner.plan(stack, var_file).has_changes  # the state holds them all again
    assert runner.output(stack)["security_group_id"].value == group_id  # the same group, not a second one
    groups = boto_client(tf_emulator, "ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [f"{name}-node"]}]
    )["SecurityGroups"]
    assert [group["GroupId"] for group in groups] == [group_id]
    runner.destroy(stack, var_file)


def test_a_taken_name_that_is_not_this_envs_stops_the_phase_and_imports_nothing(
    runner: CliTerraformRunner, stack: Stack, aws: Boto3Aws, tf_emulator: str, tmp_path: Path
) -> None:
    name = f"rf-{uuid.uuid4().hex[:6]}"
    logs = boto_client(tf_emulator, "logs")
    logs.create_log_group(
        logGroupName=f"/aws/eks/{name}/cluster", tags={"mlplat:env": "prod", "mlplat:cluster": f"{name}-cluster"}
    )
    boto_client(tf_emulator, "s3").create_bucket(Bucket=f"{name}-models")  # untagged: nobody's, provably
    var_file = _vars(tmp_path, name, env="dev")

    with pytest.raises(PhaseError) as failed:
        apply_adopting_orphans(
            runner, aws, stack, var_file, env="dev", cluster=f"{name}-cluster", phase="demo", progress=print
        )

    message = failed.value.message
    taken = f"aws_cloudwatch_log_group.this (/aws/eks/{name}/cluster): it is tagged mlplat:env=prod, mlplat:cluster="
    assert taken in message
    assert f"aws_s3_bucket.this ({name}-models): it carries no mlplat:env tag" in message
    assert "mlplat:env=dev and mlplat:cluster=" in (failed.value.hint or "")
    left = set(runner.plan(stack, var_file).resource_changes)
    assert {"aws_cloudwatch_log_group.this: create", "aws_s3_bucket.this: create"} <= left  # not imported
    tags = logs.list_tags_log_group(logGroupName=f"/aws/eks/{name}/cluster")["tags"]
    assert tags["mlplat:env"] == "prod"  # untouched
    runner.destroy(stack, var_file)
