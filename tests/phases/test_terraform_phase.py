"""TerraformPhase with the recording Terraform fake: var files, upstream outputs, sensitive outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.fakes.adapters import FakeTerraform, fake_adapters

from eksctl_ml.adapters.terraform.protocol import OutputValue, PlanSummary, Stack
from eksctl_ml.config.loader import Environment
from eksctl_ml.engine.phase import CheckResult, PhaseContext
from eksctl_ml.errors import PhaseError
from eksctl_ml.phases.registry import provision_order
from eksctl_ml.phases.terraform import TerraformPhase, backend_config, terraform_root


class SecretOutputs(FakeTerraform):
    def output(self, stack: Stack) -> dict[str, OutputValue]:
        return {"vpc_id": OutputValue("vpc-1"), "admin_password": OutputValue("hunter2", sensitive=True)}


def ctx_for(env: Environment, tmp_path: Path, tf: FakeTerraform, outputs: dict[str, Any] | None = None) -> PhaseContext:
    return PhaseContext(
        env=env, workdir=tmp_path, adapters=fake_adapters(terraform_factory=lambda: tf), outputs=outputs or {}
    )


def phase(**kw: Any) -> TerraformPhase:
    return TerraformPhase("demo", "demo stack", "network", lambda env: {"vpc_cidr": env.config.network.vpc_cidr}, **kw)


def test_apply_writes_var_file_and_drops_sensitive_outputs(local_env: Environment, tmp_path: Path) -> None:
    tf = SecretOutputs(wanted={"demo": ["aws_vpc.this"]})
    ctx = ctx_for(local_env, tmp_path, tf)
    outputs = phase().apply(ctx)
    assert outputs == {"vpc_id": "vpc-1"}  # the password never reaches the journal
    assert [c[0] for c in tf.calls] == ["init", "plan", "apply"]
    written = json.loads((tmp_path / "terraform" / "demo" / "demo.tfvars.json").read_text())
    assert written == {
        "env": "local",
        "cluster_name": "mlplat-local",
        "region": "us-east-1",
        "tags": {"team": "ml-platform", "cost-center": "local"},
        "vpc_cidr": "10.42.0.0/16",
    }


def test_no_changes_skips_apply(local_env: Environment, tmp_path: Path) -> None:
    tf = FakeTerraform(wanted={"demo": ["a"]}, state={"demo": ["a"]})
    phase().apply(ctx_for(local_env, tmp_path, tf))
    assert ("apply", "demo") not in tf.calls


def test_upstream_outputs_become_variables(local_env: Environment, tmp_path: Path) -> None:
    p = phase(upstream={"vpc_id": ("network", "vpc_id")})
    ctx = ctx_for(local_env, tmp_path, FakeTerraform(), {"network": {"vpc_id": "vpc-9"}})
    assert p.variables(ctx)["vpc_id"] == "vpc-9"
    with pytest.raises(PhaseError, match="output 'vpc_id' of phase 'network' is not recorded"):
        p.variables(ctx_for(local_env, tmp_path, FakeTerraform()))


def test_plan_before_upstream_exists_says_what_it_waits_for(local_env: Environment, tmp_path: Path) -> None:
    tf = FakeTerraform()
    result = phase(upstream={"vpc_id": ("network", "vpc_id")}).plan(ctx_for(local_env, tmp_path, tf))
    assert result.action == "create" and "waits for network" in result.summary
    assert tf.calls == []


def test_gate_needs_outputs_and_status_never_waits(local_env: Environment, tmp_path: Path) -> None:
    timeouts: list[float] = []

    def gate(ctx: PhaseContext, out: Any, timeout_s: float) -> CheckResult:
        timeouts.append(timeout_s)
        return CheckResult.ready(f"vpc {out['vpc_id']}")

    p = phase(gate=gate, gate_timeout_s=99)
    assert not p.check(ctx_for(local_env, tmp_path, FakeTerraform())).ok
    built = ctx_for(local_env, tmp_path, FakeTerraform(), {"demo": {"vpc_id": "vpc-1"}})
    assert p.check(built).summary == "vpc vpc-1"
    p.status(built)
    assert timeouts == [99, 0.0]


def test_backend_config_per_stack_and_emulator_path_style(local_env: Environment) -> None:
    config = backend_config(local_env, "network")
    assert config["key"] == "mlplat/local/network.tfstate"
    assert config["bucket"] == "mlplat-state-123456789012-us-east-1"
    assert config["use_lockfile"] == "true" and config["use_path_style"] == "true"


def test_registry_order_and_stacks_exist(local_env: Environment) -> None:
    from eksctl_ml.phases.kubernetes import CompositePhase

    phases = provision_order(local_env)
    assert [p.name for p in phases] == [
        *("bootstrap", "network", "iam", "cluster", "nodegroups", "cni", "storage"),
        *("observability", "triton"),
    ]
    parts = [q for p in phases for q in (p.parts if isinstance(p, CompositePhase) else [p])]
    for p in parts:
        if isinstance(p, TerraformPhase):
            assert (terraform_root() / "stacks" / p.stack / "main.tf").is_file(), p.stack
            for upstream_phase, _ in p.upstream.values():
                assert [x.name for x in phases].index(upstream_phase) < [x.name for x in phases].index(p.name)


def test_plan_summary_describe() -> None:
    assert PlanSummary(False).describe() == "no changes"
    assert PlanSummary(True, 3, 1, 0).describe() == "3 to add, 1 to change, 0 to destroy"
