"""The lifecycle service: `up`, `down`, `plan`, `status` and `unlock` for one environment."""

from __future__ import annotations

from collections.abc import Sequence

from eksctl_ml.config.loader import Environment
from eksctl_ml.engine.engine import Engine, PhaseIntent, PlanRow, RunReport, Selection, StatusRow
from eksctl_ml.engine.events import Event, EventSink
from eksctl_ml.engine.lock import LockInfo
from eksctl_ml.errors import InterruptedRunError, LeftoverResourcesError, PhaseError, PreflightError
from eksctl_ml.services.deps import Dependencies


class LifecycleService:
    """Builds the engine for one env and turns its reports into errors the CLI edge understands."""

    def __init__(self, env: Environment, deps: Dependencies, sink: EventSink, resume_flags: Sequence[str] = ()) -> None:
        self.env = env
        self.deps = deps
        self.sink = sink
        self.workdir = deps.workdir(env)
        self.adapters = deps.build_adapters(env)
        self.store = deps.store(env, self.workdir, self.adapters)
        flags = " ".join(resume_flags)
        self.engine = Engine(
            env,
            deps.phases(env),
            self.store,
            self.adapters,
            sink,
            self.workdir,
            resume_formatter=lambda cmd, phase: " ".join(
                part for part in ("mlplat", cmd, "--env", env.name, "--from", phase, flags, "--yes") if part
            ),
        )

    def describe(self, command: str, selection: Selection) -> list[PhaseIntent]:
        return self.engine.describe(command, selection)

    def preflight(self) -> None:
        """Refuse to touch an account other than the one the env file names."""
        expected = self.env.config.aws.account_id
        actual = self.adapters.aws.caller_identity()
        if actual.account != expected:
            raise PreflightError(
                f"credentials belong to AWS account {actual.account} ({actual.arn}), but {self.env.source} "
                f"expects {expected}",
                hint="switch credentials (aws.profile / AWS_PROFILE) or fix aws.account_id",
            )

    def up(self, selection: Selection) -> RunReport:
        self.preflight()
        return self._raise_on_failure(self.engine.up(selection))

    def down(self, selection: Selection) -> RunReport:
        """Destroy in reverse; after a full teardown, prove nothing tagged with the env is left."""
        self.preflight()
        report = self._raise_on_failure(self.engine.down(selection))
        if selection == Selection() and self.deps.inventory is not None:
            self._prove_empty()
        return report

    def _prove_empty(self) -> None:
        from eksctl_ml.inventory import render_leftovers

        result = self.deps.inventory(self.env, self.adapters)  # type: ignore[misc]
        text = render_leftovers(result)
        self.sink.emit(
            Event(
                kind="inventory",
                env=self.env.name,
                state="clean" if not result.leftovers else "leftovers",
                message=text,
                data={
                    "remaining": len(result.leftovers),
                    "unchecked": list(result.unchecked),
                    "leftovers": [
                        {"service": x.service, "kind": x.kind, "id": x.id, "arn": x.arn} for x in result.leftovers
                    ],
                },
            )
        )
        if result.leftovers:
            raise LeftoverResourcesError(
                f"{len(result.leftovers)} resource(s) tagged mlplat:env={self.env.name} remain after down",
                hint="inspect them in the list above; rerun `mlplat down` or delete them by hand",
            )

    def plan(self, selection: Selection) -> list[PlanRow]:
        self.preflight()
        return self.engine.plan(selection)

    def status(self, *, offline: bool, timeout_s: float) -> list[StatusRow]:
        return self.engine.status(offline=offline, timeout_s=timeout_s)

    def lock_holder(self) -> LockInfo | None:
        return self.store.read_lock()

    def unlock(self) -> LockInfo | None:
        return self.store.break_lock()

    def _raise_on_failure(self, report: RunReport) -> RunReport:
        if report.result == "interrupted":
            raise InterruptedRunError(f"{report.error}; the journal records it", hint=f"resume with: {report.resume}")
        if report.result == "failed":
            error = PhaseError(
                f"phase {report.failed_phase!r} failed: {report.error}",
                phase=report.failed_phase or "",
                diagnosis=report.diagnosis,
                hint=(f"{report.hint}\n" if report.hint else "") + f"resume with: {report.resume}",
            )
            error.exit_code = report.exit_code  # a held Terraform state lock stays exit 3
            raise error
        return report
