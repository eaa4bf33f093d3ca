"""Phases for driving the engine in tests: scripted behaviour, every call recorded in one shared log."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eksctl_ml.engine.phase import BasePhase, CheckResult, PhaseContext, PlanResult
from eksctl_ml.errors import PhaseError, TerraformError


@dataclass
class World:
    """What the test phases 'built', plus the order of every call."""

    built: set[str] = field(default_factory=set)
    log: list[str] = field(default_factory=list)


class ScriptedPhase(BasePhase):
    """A phase whose behaviour the test sets: failing apply/gate/destroy, inputs, skip reason."""

    def __init__(
        self,
        name: str,
        world: World,
        *,
        inputs: Mapping[str, Any] | None = None,
        fail_apply: bool = False,
        fail_gate: int = 0,
        fail_destroy: bool = False,
        skip: str | None = None,
        needs: str | None = None,
        sleep_s: float = 0.0,
        marker: Path | None = None,
    ) -> None:
        self.name = name
        self.description = f"test phase {name}"
        self.world = world
        self._inputs = dict(inputs or {})
        self.fail_apply = fail_apply
        self.fail_gate = fail_gate  # gate fails this many times, then passes
        self.fail_destroy = fail_destroy
        self.skip = skip
        self.needs = needs
        self.sleep_s = sleep_s
        self.marker = marker

    def skip_reason(self, ctx: PhaseContext) -> str | None:
        return self.skip

    def inputs(self, ctx: PhaseContext) -> Mapping[str, Any]:
        upstream = ctx.output(self.needs, "id") if self.needs else None
        return {**self._inputs, "upstream": upstream}

    def plan(self, ctx: PhaseContext) -> PlanResult:
        self.world.log.append(f"plan:{self.name}")
        return PlanResult("noop" if self.name in self.world.built else "create", "test plan")

    def apply(self, ctx: PhaseContext) -> Mapping[str, Any]:
        self.world.log.append(f"apply:{self.name}")
        ctx.progress(f"{self.name}: working")
        if self.marker:
            self.marker.write_text("started")
        deadline = time.monotonic() + self.sleep_s
        while time.monotonic() < deadline:
            time.sleep(0.05)
        if self.fail_apply:
            raise TerraformError("apply failed", detail="boom", address=f"aws_thing.{self.name}")
        self.world.built.add(self.name)
        return {"id": f"{self.name}-id", "count": 1}

    def check(self, ctx: PhaseContext) -> CheckResult:
        self.world.log.append(f"check:{self.name}")
        if self.fail_gate > 0:
            self.fail_gate -= 1
            return CheckResult.not_ready(f"{self.name} not ready", f"diagnosis: {self.name} pods Pending")
        if self.name not in self.world.built:
            return CheckResult.not_ready(f"{self.name} absent")
        return CheckResult.ready(f"{self.name} works")

    def destroy(self, ctx: PhaseContext) -> None:
        self.world.log.append(f"destroy:{self.name}")
        if self.fail_destroy:
            raise PhaseError(f"{self.name} destroy failed", phase=self.name)
        self.world.built.discard(self.name)  # absent already: still success
