"""The lifecycle service: `up`, `down`, `plan`, `status` and `unlock` for one environment."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from eksctl_ml.config.loader import Environment
from eksctl_ml.engine.engine import Engine, PhaseIntent, PlanRow, RunReport, Selection, StatusRow
from eksctl_ml.engine.events import Event, EventSink
from eksctl_ml.engine.lock import LockInfo
from eksctl_ml.errors import InterruptedRunError, LeftoverResourcesError, MlplatError, PhaseError, PreflightError
from eksctl_ml.services.deps import Dependencies

if TYPE_CHECKING:
    from eksctl_ml.metrics.figures import LiveFigures, MetricsUnavailable

    Metrics = LiveFigures | MetricsUnavailable


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

    def status_with_metrics(self, *, offline: bool, timeout_s: float) -> tuple[list[StatusRow], Metrics]:
        """The status rows and the live figures, probed concurrently within one ``timeout_s``."""
        from eksctl_ml.metrics.figures import MetricsUnavailable

        if offline:
            return self.status(offline=True, timeout_s=timeout_s), MetricsUnavailable("skipped (--offline)")
        wait = self._metrics_in_background(timeout_s)
        rows = self.status(offline=False, timeout_s=timeout_s)
        return rows, wait()

    def live_metrics(self, timeout_s: float) -> Metrics:
        """GPU, model and alert figures from the env's Prometheus, or why there are none.

        Never raises: no Kubernetes API, Prometheus not installed or not ready, a refused query, or no
        answer within ``timeout_s`` all come back as :class:`MetricsUnavailable` with a one-line reason.
        """
        return self._metrics_in_background(timeout_s)()

    def _metrics_in_background(self, timeout_s: float) -> Callable[[], Metrics]:
        from eksctl_ml.metrics.figures import MetricsUnavailable
        from eksctl_ml.releases.service import no_kubernetes_api

        reason = no_kubernetes_api(self.env)
        if reason:
            unavailable = MetricsUnavailable(reason)
            return lambda: unavailable
        outcome: list[Metrics] = []
        # A daemon thread, like the phase probes: a hung proxy call must not keep `status` alive.
        worker = threading.Thread(
            target=lambda: outcome.append(self._collect_metrics(timeout_s)), daemon=True, name="status-metrics"
        )
        deadline = time.monotonic() + timeout_s
        worker.start()

        def wait() -> Metrics:
            worker.join(max(0.0, deadline - time.monotonic()))
            return outcome[0] if outcome else MetricsUnavailable(f"Prometheus did not answer within {timeout_s:g}s")

        return wait

    def _collect_metrics(self, timeout_s: float) -> Metrics:
        from eksctl_ml.metrics.figures import MetricsUnavailable, live_figures

        try:
            prom = self.deps.prometheus(self.env, self.adapters, timeout_s)
            if not prom.ready():
                return MetricsUnavailable(f"Prometheus at {prom.where} is not ready yet")
            return live_figures(prom, source=prom.where)
        except MlplatError as exc:
            detail = str(getattr(exc, "detail", "") or "").strip().splitlines()
            return MetricsUnavailable(exc.message + (f" ({detail[0]})" if detail else ""))
        except Exception as exc:  # the figures are a bonus: they must never take `status` down
            return MetricsUnavailable(f"internal error while reading Prometheus: {exc!r}")

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
