"""Terraform-backed phases: one root module (``terraform/stacks/<stack>``) per phase, own state each.

Inputs reach a stack as one generated JSON var file under ``.mlplat/<env>/terraform/<phase>/`` built from
(1) variables every stack takes, (2) the env config, (3) outputs of earlier phases read from the journal
(never hidden remote-state lookups). Outputs go back to the journal, minus anything marked sensitive.
An apply that fails only because this env's own resources already exist (created by an interrupted run,
never recorded) adopts them and goes on: see :mod:`eksctl_ml.phases.orphans`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from eksctl_ml.adapters.terraform.protocol import Stack
from eksctl_ml.config.loader import Environment
from eksctl_ml.engine.phase import BasePhase, CheckResult, PhaseContext, PlanResult
from eksctl_ml.engine.store import atomic_write
from eksctl_ml.errors import PhaseError
from eksctl_ml.phases.orphans import apply_adopting_orphans

TERRAFORM_DIR_VAR = "MLPLAT_TERRAFORM_DIR"

ConfigVars = Callable[[Environment], Mapping[str, Any]]
Gate = Callable[[PhaseContext, Mapping[str, Any], float], CheckResult]


def terraform_root() -> Path:
    """The repository's ``terraform/`` folder (override with ``$MLPLAT_TERRAFORM_DIR``)."""
    override = os.environ.get(TERRAFORM_DIR_VAR)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3] / "terraform"


def common_vars(env: Environment) -> dict[str, Any]:
    return {
        "env": env.name,
        "cluster_name": env.config.cluster.name,
        "region": env.config.aws.region,
        "tags": dict(env.config.tags),
    }


def backend_config(env: Environment, stack: str) -> dict[str, str]:
    cfg = env.config
    backend = {
        "bucket": cfg.state_bucket(),
        "key": f"{cfg.state.key_prefix}/{env.name}/{stack}.tfstate",
        "region": cfg.aws.region,
        "use_lockfile": "true",
        "encrypt": "true",
    }
    if cfg.aws.emulator:
        backend["use_path_style"] = "true"  # the emulator has no virtual-hosted bucket DNS
    return backend


class TerraformPhase(BasePhase):
    """A phase that applies one stack, then proves the result with a boto3 readiness gate.

    ``upstream`` maps a stack variable to the (phase, output) in the journal that provides it.
    """

    def __init__(
        self,
        name: str,
        description: str,
        stack: str,
        config_vars: ConfigVars,
        *,
        upstream: Mapping[str, tuple[str, str]] | None = None,
        gate: Gate | None = None,
        gate_timeout_s: float = 1200.0,
    ) -> None:
        self.name = name
        self.description = description
        self.stack = stack
        self.config_vars = config_vars
        self.upstream = dict(upstream or {})
        self.gate = gate
        self.gate_timeout_s = gate_timeout_s

    def stack_ref(self, ctx: PhaseContext) -> Stack:
        return Stack(
            name=self.name,
            source=terraform_root() / "stacks" / self.stack,
            workdir=ctx.workdir / "terraform" / self.name,
            backend_config=backend_config(ctx.env, self.stack),
        )

    def variables(self, ctx: PhaseContext) -> dict[str, Any]:
        values = {**common_vars(ctx.env), **self.config_vars(ctx.env)}
        for var, (phase, output) in self.upstream.items():
            values[var] = ctx.output(phase, output)
        return values

    def inputs(self, ctx: PhaseContext) -> Mapping[str, Any]:
        return {"stack": self.stack, "variables": self.variables(ctx)}

    def _var_file(self, ctx: PhaseContext, stack: Stack) -> Path:
        path = stack.workdir / f"{self.name}.tfvars.json"
        atomic_write(path, json.dumps(self.variables(ctx), indent=2, sort_keys=True))
        return path

    def _upstream_ready(self, ctx: PhaseContext) -> str | None:
        missing = sorted({phase for phase, _ in self.upstream.values() if phase not in ctx.outputs})
        return f"waits for {', '.join(missing)}" if missing else None

    def plan(self, ctx: PhaseContext) -> PlanResult:
        waiting = self._upstream_ready(ctx)
        if waiting:
            return PlanResult("create", f"not yet planned: {waiting}")
        tf = ctx.adapters.terraform
        stack = self.stack_ref(ctx)
        tf.init(stack)
        summary = tf.plan(stack, self._var_file(ctx, stack))
        if not summary.has_changes:
            return PlanResult("noop", "no changes")
        details = tuple(summary.resource_changes)
        if summary.change == 0 and summary.remove == 0:
            return PlanResult("create", summary.describe(), details)
        return PlanResult("update", summary.describe(), details)

    def apply(self, ctx: PhaseContext) -> Mapping[str, Any]:
        tf = ctx.adapters.terraform
        stack = self.stack_ref(ctx)
        ctx.progress("terraform init")
        tf.init(stack)
        apply_adopting_orphans(
            tf,
            ctx.adapters.aws,
            stack,
            self._var_file(ctx, stack),
            env=ctx.env.name,
            cluster=ctx.env.config.cluster.name,
            phase=self.name,
            progress=ctx.progress,
        )
        outputs = tf.output(stack)
        return {name: out.value for name, out in outputs.items() if not out.sensitive}

    def check(self, ctx: PhaseContext) -> CheckResult:
        return self._gate(ctx, self.gate_timeout_s)

    def status(self, ctx: PhaseContext) -> CheckResult:
        return self._gate(ctx, 0.0)  # one probe, no waiting

    def _gate(self, ctx: PhaseContext, timeout_s: float) -> CheckResult:
        outputs = ctx.outputs.get(self.name)
        if not outputs:
            return CheckResult.not_ready("not built (no outputs recorded)")
        if self.gate is None:
            return CheckResult.ready("applied")
        return self.gate(ctx, outputs, timeout_s)

    def destroy(self, ctx: PhaseContext) -> None:
        from eksctl_ml.phases.bootstrap import bucket_exists

        if not bucket_exists(ctx.adapters.aws, ctx.env.config.state_bucket()):
            ctx.progress("no state bucket: nothing was ever applied")
            return
        try:
            variables = self.variables(ctx)
        except PhaseError as exc:
            raise PhaseError(
                f"cannot destroy {self.name}: {exc.message}",
                phase=self.name,
                hint="an upstream phase's outputs are missing from the journal; destroy in reverse order "
                "with `mlplat down` so each phase still has its inputs",
            ) from exc
        tf = ctx.adapters.terraform
        stack = self.stack_ref(ctx)
        tf.init(stack)
        path = stack.workdir / f"{self.name}.tfvars.json"
        atomic_write(path, json.dumps(variables, indent=2, sort_keys=True))
        tf.destroy(stack, path, progress=ctx.progress)
