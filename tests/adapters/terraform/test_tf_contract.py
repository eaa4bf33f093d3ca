"""CliTerraformRunner against the real terraform binary, the real AWS provider and the AWS emulator.

Skipped when terraform, the offline provider mirror or moto_server is missing.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eksctl_ml.adapters.terraform import runner as runner_module
from eksctl_ml.adapters.terraform.events import StateLockHeldError
from eksctl_ml.adapters.terraform.process import run_process
from eksctl_ml.adapters.terraform.protocol import Stack, TerraformRunner
from eksctl_ml.adapters.terraform.runner import CliTerraformRunner
from eksctl_ml.errors import LockHeldError, TerraformError
from tests.adapters.terraform.conftest import FIXTURES, boto_client, needs_aws_provider, needs_terraform

pytestmark = pytest.mark.slow


def _files(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def _var_file(folder: Path, **values: Any) -> Path:
    path = folder / f"vars-{uuid.uuid4().hex[:6]}.tfvars.json"
    path.write_text(json.dumps(values))
    return path


@pytest.fixture
def argv_log(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every argv the runner starts (the real process still runs)."""
    seen: list[list[str]] = []
    real = run_process

    def spy(argv: Any, **kwargs: Any) -> Any:
        seen.append(list(argv))
        return real(argv, **kwargs)

    monkeypatch.setattr(runner_module, "run_process", spy)
    return seen


@pytest.fixture
def aws_stack(tmp_path: Path, stack_source: Path, state_bucket: str) -> Stack:
    return Stack(
        name="demo",
        source=stack_source,
        workdir=tmp_path / ".mlplat" / "test" / "terraform" / "demo",
        backend_config={
            "bucket": state_bucket,
            "key": f"test/{uuid.uuid4().hex[:8]}/demo.tfstate",
            "region": "us-east-1",
            "use_lockfile": "true",
            "use_path_style": "true",
        },
    )


@pytest.fixture
def tf(aws_env: dict[str, str]) -> CliTerraformRunner:
    return CliTerraformRunner(env=aws_env, timeout_s=300)


@needs_aws_provider
def test_lifecycle_init_plan_apply_output_replan_destroy(
    tf: CliTerraformRunner,
    aws_stack: Stack,
    tf_emulator: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    argv_log: list[list[str]],
) -> None:
    runner: TerraformRunner = tf  # the contract
    name = f"lc-{uuid.uuid4().hex[:8]}"
    var_file = _var_file(tmp_path, region="us-east-1", name=name)
    timings: dict[str, float] = {}

    assert runner.version().startswith("1.")
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="eksctl_ml.terraform"):
        runner.init(aws_stack)
    timings["init"] = time.monotonic() - started
    assert "has no .terraform.lock.hcl" in caplog.text  # created in the (copied) source: commit it
    source_files = _files(aws_stack.source)
    assert set(source_files) == {"main.tf", ".terraform.lock.hcl"}
    workdir = aws_stack.workdir
    assert (workdir / ".terraform" / "terraform.tfstate").is_file()  # TF_DATA_DIR lives in the workdir
    assert 'exclude = ["*/*"]' in (workdir / "terraformrc").read_text()

    planned: list[str] = []
    started = time.monotonic()
    plan = runner.plan(aws_stack, var_file, progress=planned.append)
    timings["plan"] = time.monotonic() - started
    assert plan.has_changes and (plan.add, plan.change, plan.remove) == (2, 0, 0)
    assert plan.plan_file == workdir.resolve() / "demo.tfplan" and plan.plan_file.is_file()
    assert plan.plan_file.stat().st_mode & 0o077 == 0
    assert plan.resource_changes == ("aws_s3_bucket.data: create", "aws_ssm_parameter.marker: create")
    assert planned == ["aws_s3_bucket.data: will be created", "aws_ssm_parameter.marker: will be created"]

    applied: list[str] = []
    started = time.monotonic()
    runner.apply(aws_stack, plan, progress=applied.append)
    timings["apply"] = time.monotonic() - started
    assert "aws_s3_bucket.data: creating…" in applied
    assert any(line.startswith("aws_s3_bucket.data: created (") for line in applied)
    assert any(line.startswith("aws_ssm_parameter.marker: created (") for line in applied)
    assert not plan.plan_file.exists()  # applied plans (they hold secrets) are removed
    s3 = boto_client(tf_emulator, "s3")
    assert f"{name}-data" in {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}

    with caplog.at_level(logging.DEBUG, logger="eksctl_ml.terraform"):
        outputs = runner.output(aws_stack)
    assert outputs["token"].value == f"not-a-real-secret-{name}"
    assert "not-a-real-secret" not in caplog.text  # output values never reach the log
    assert outputs["bucket"].value == f"{name}-data" and not outputs["bucket"].sensitive
    assert outputs["parameter"].value == f"/{name}/marker"
    assert outputs["token"].sensitive

    started = time.monotonic()
    again = runner.plan(aws_stack, var_file)
    timings["replan"] = time.monotonic() - started
    assert not again.has_changes and again.describe() == "no changes"
    runner.apply(aws_stack, again)  # nothing to apply: no terraform run

    destroyed: list[str] = []
    started = time.monotonic()
    runner.destroy(aws_stack, var_file, progress=destroyed.append)
    timings["destroy"] = time.monotonic() - started
    assert any(line.startswith("aws_s3_bucket.data: destroyed (") for line in destroyed)
    assert f"{name}-data" not in {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}
    assert boto_client(tf_emulator, "ssm").describe_parameters()["Parameters"] == []

    started = time.monotonic()
    runner.destroy(aws_stack, var_file, progress=destroyed.append)  # idempotent: empty state
    timings["destroy again"] = time.monotonic() - started
    assert runner.output(aws_stack) == {}

    assert _files(aws_stack.source) == source_files  # nothing more written into the stack folder
    inits = [argv for argv in argv_log if "init" in argv]
    assert len(inits) == 1  # later inits found nothing changed
    applies = [argv for argv in argv_log if "apply" in argv]
    assert [argv[2:4] for argv in applies] == [["apply", "-json"], ["apply", "-destroy"]]
    print("timings (s):", {key: round(value, 1) for key, value in timings.items()})


@needs_aws_provider
def test_backend_change_reinitialises_with_reconfigure_and_readonly_lock_file(
    tf: CliTerraformRunner, aws_stack: Stack, argv_log: list[list[str]]
) -> None:
    tf.init(aws_stack)
    tf.init(aws_stack)
    assert len(argv_log) == 1
    assert "-reconfigure" not in argv_log[0]
    assert f"-backend-config=bucket={aws_stack.backend_config['bucket']}" in argv_log[0]
    moved = Stack(
        name=aws_stack.name,
        source=aws_stack.source,
        workdir=aws_stack.workdir,
        backend_config={**aws_stack.backend_config, "key": "test/moved/demo.tfstate"},
    )
    tf.init(moved)
    assert len(argv_log) == 2
    assert "-reconfigure" in argv_log[1] and "-lockfile=readonly" in argv_log[1]
    (aws_stack.source / "extra.tf").write_text('output "extra" {\n  value = 1\n}\n')
    tf.init(moved)  # the configuration changed: init runs again, the backend did not: no -reconfigure
    assert len(argv_log) == 3 and "-reconfigure" not in argv_log[2]


@needs_aws_provider
def test_invalid_variable_is_a_terraform_error_with_summary_and_address(
    tf: CliTerraformRunner, aws_stack: Stack, tmp_path: Path
) -> None:
    var_file = _var_file(tmp_path, region="us-east-1", name="Not_Valid")
    with pytest.raises(TerraformError) as caught:
        tf.plan(aws_stack, var_file)
    error = caught.value
    assert error.message == "Invalid value for variable"
    assert error.address == "var.name"
    assert "name must be 3-41 lowercase letters" in error.detail


@needs_aws_provider
def test_held_state_lock_is_lock_held_error_and_force_unlock_clears_it(
    tf: CliTerraformRunner, aws_stack: Stack, tf_emulator: str, tmp_path: Path
) -> None:
    tf.init(aws_stack)
    lock_id = str(uuid.uuid4())
    bucket, key = aws_stack.backend_config["bucket"], aws_stack.backend_config["key"]
    lock = {
        "ID": lock_id,
        "Operation": "OperationTypeApply",
        "Info": "",
        "Who": "bob@ci-runner",
        "Version": "1.11.4",
        "Created": "2026-01-01T00:00:00Z",
        "Path": f"{bucket}/{key}",
    }
    s3 = boto_client(tf_emulator, "s3")
    s3.put_object(Bucket=bucket, Key=f"{key}.tflock", Body=json.dumps(lock).encode())
    var_file = _var_file(tmp_path, region="us-east-1", name=f"lk-{uuid.uuid4().hex[:8]}")

    with pytest.raises(LockHeldError) as caught:
        tf.plan(aws_stack, var_file)
    error = caught.value
    assert isinstance(error, StateLockHeldError)
    assert lock_id in error.message and "bob@ci-runner" in error.message
    assert error.lock.id == lock_id
    assert error.hint is not None
    assert f"-chdir={aws_stack.source.resolve()} force-unlock -force {lock_id}" in error.hint
    assert f"TF_DATA_DIR={aws_stack.workdir.resolve() / '.terraform'}" in error.hint
    assert tf.unlock_command(aws_stack, lock_id) in error.hint

    tf.force_unlock(aws_stack, lock_id)
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=key).get("Contents", [])
    assert [item["Key"] for item in listed if item["Key"].endswith(".tflock")] == []


@needs_aws_provider
def test_destroy_without_a_state_bucket_is_success(tf: CliTerraformRunner, tmp_path: Path, stack_source: Path) -> None:
    stack = Stack(
        name="never",
        source=stack_source,
        workdir=tmp_path / "never",
        backend_config={
            "bucket": f"missing-{uuid.uuid4().hex[:8]}",
            "key": "never.tfstate",
            "region": "us-east-1",
            "use_lockfile": "true",
            "use_path_style": "true",
        },
    )
    tf.destroy(stack, tmp_path / "not-even-written.tfvars.json")
    assert tf.output(stack) == {}


# --- Ctrl-C with the real binary ---------------------------------------------------------------------


@pytest.fixture
def sigint_timers() -> Iterator[list[threading.Timer]]:
    timers: list[threading.Timer] = []
    yield timers
    for timer in timers:
        timer.cancel()


@needs_terraform
def test_ctrl_c_lets_real_terraform_stop_and_save_its_state(
    tmp_path: Path, sigint_timers: list[threading.Timer]
) -> None:
    source = tmp_path / "slow-src"
    shutil.copytree(FIXTURES / "slow", source)
    state = tmp_path / "state" / "terraform.tfstate"
    state.parent.mkdir()
    stack = Stack(name="slow", source=source, workdir=tmp_path / "work", backend_config={"path": str(state)})
    tf = CliTerraformRunner(discover_mirror=False, interrupt_grace_s=20)
    plan = tf.plan(stack, _var_file(tmp_path, sleep_s=40))
    assert plan.has_changes and plan.add == 1
    lines: list[str] = []

    def progress(line: str) -> None:
        lines.append(line)
        if line == "terraform_data.slow: creating…":
            timer = threading.Timer(0.5, os.kill, args=(os.getpid(), signal.SIGINT))
            timer.daemon = True
            sigint_timers.append(timer)
            timer.start()

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        tf.apply(stack, plan, progress=progress)
    assert time.monotonic() - started < 15  # stopped early, not after the 40 s provisioner
    assert lines[-1].startswith("terraform_data.slow: create failed (")
    saved = json.loads(state.read_text())  # terraform wrote its state before exiting
    instances = [inst for res in saved["resources"] for inst in res["instances"]]
    assert [inst.get("status") for inst in instances] == ["tainted"]
