"""The engine driven with scripted test phases: order, gates, resume, reverse teardown, idempotency."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.fakes.adapters import fake_adapters
from tests.fakes.phases import ScriptedPhase, World

from eksctl_ml.config.loader import Environment
from eksctl_ml.engine.engine import Engine, Selection
from eksctl_ml.engine.events import Recorder
from eksctl_ml.engine.journal import PhaseState
from eksctl_ml.engine.store import LocalStore
from eksctl_ml.errors import UsageError


def make_engine(env: Environment, tmp_path: Path, phases: list[ScriptedPhase]) -> tuple[Engine, LocalStore, Recorder]:
    store = LocalStore(env.name, tmp_path / "state")
    recorder = Recorder()
    engine = Engine(env, phases, store, fake_adapters(), recorder, tmp_path / "state")
    return engine, store, recorder


def three(world: World, **overrides: dict[str, object]) -> list[ScriptedPhase]:
    phases = [
        ScriptedPhase("network", world),
        ScriptedPhase("cluster", world, needs="network"),
        ScriptedPhase("apps", world, needs="cluster"),
    ]
    for phase in phases:
        for key, value in overrides.get(phase.name, {}).items():
            setattr(phase, key, value)
    return phases


def test_up_applies_then_gates_each_phase_in_order(local_env: Environment, tmp_path: Path) -> None:
    world = World()
    engine, store, recorder = make_engine(local_env, tmp_path, three(world))
    report = engine.up(Selection())
    assert report.ok
    assert world.log == ["apply:network", "check:network", "apply:cluster", "check:cluster", "apply:apps", "check:apps"]
    journal = store.read_journal()
    assert journal is not None
    assert {n: r.state for n, r in journal.phases.items()} == dict.fromkeys(
        ("network", "cluster", "apps"), PhaseState.READY
    )
    assert journal.phases["cluster"].outputs == {"id": "cluster-id", "count": 1}
    assert journal.phases["network"].duration_s is not None
    assert journal.runs[-1].result == "succeeded"
    kinds = [e.kind for e in recorder.events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert any(e.kind == "phase_progress" and e.message == "cluster: working" for e in recorder.events)
    assert store.read_lock() is None  # released


def test_failing_gate_stops_the_run_and_rerun_resumes_from_it(local_env: Environment, tmp_path: Path) -> None:
    world = World()
    phases = three(world, cluster={"fail_gate": 1})
    engine, store, _ = make_engine(local_env, tmp_path, phases)
    report = engine.up(Selection())
    assert report.result == "failed"
    assert report.failed_phase == "cluster"
    assert report.diagnosis == "diagnosis: cluster pods Pending"
    assert report.resume == "mlplat up --env local --from cluster"
    assert "apply:apps" not in world.log  # stopped at the first failure
    journal = store.read_journal()
    assert journal is not None
    assert journal.phases["cluster"].state == PhaseState.FAILED
    assert "pods Pending" in (journal.phases["cluster"].last_error or "")
    assert "apps" not in journal.phases or journal.phases["apps"].state == PhaseState.PENDING

    world.log.clear()
    report = engine.up(Selection())
    assert report.ok
    # network is re-checked, not re-applied; cluster (failed) and apps are applied
    assert world.log == ["check:network", "apply:cluster", "check:cluster", "apply:apps", "check:apps"]


def test_rerun_reapplies_only_phases_whose_inputs_changed(local_env: Environment, tmp_path: Path) -> None:
    world = World()
    engine, _, _ = make_engine(local_env, tmp_path, three(world))
    assert engine.up(Selection()).ok
    world.log.clear()
    changed = three(world, cluster={"_inputs": {"size": 3}})
    engine2, _, recorder = make_engine(local_env, tmp_path, changed)
    assert engine2.up(Selection()).ok
    assert world.log == ["check:network", "apply:cluster", "check:cluster", "check:apps"]
    assert any("inputs changed" in e.message for e in recorder.events)


def test_drift_detected_by_gate_triggers_reapply(local_env: Environment, tmp_path: Path) -> None:
    world = World()
    engine, _, _ = make_engine(local_env, tmp_path, three(world))
    assert engine.up(Selection()).ok
    world.built.discard("cluster")  # someone deleted it by hand
    world.log.clear()
    assert engine.up(Selection()).ok
    assert world.log == ["check:network", "check:cluster", "apply:cluster", "check:cluster", "check:apps"]


def test_apply_error_is_recorded_with_hint_and_nothing_after_runs(local_env: Environment, tmp_path: Path) -> None:
    world = World()
    engine, _store, recorder = make_engine(local_env, tmp_path, three(world, network={"fail_apply": True}))
    report = engine.up(Selection())
    assert report.result == "failed" and report.failed_phase == "network"
    assert "apply failed" in report.error and "boom" in report.error
    assert world.log == ["apply:network"]
    failed = [e for e in recorder.events if e.kind == "phase_failed"]
    assert failed and failed[0].phase == "network" and failed[0].action == "apply"


def test_down_runs_in_exact_reverse_and_is_idempotent(local_env: Environment, tmp_path: Path) -> None:
    world = World()
    engine, store, _ = make_engine(local_env, tmp_path, three(world))
    assert engine.up(Selection()).ok
    world.log.clear()
    assert engine.down(Selection()).ok
    assert world.log == ["destroy:apps", "destroy:cluster", "destroy:network"]
    assert world.built == set()
    journal = store.read_journal()
    assert journal is not None
    assert all(r.state == PhaseState.DESTROYED and r.outputs == {} for r in journal.phases.values())
    world.log.clear()
    assert engine.down(Selection()).ok  # already gone is success
    assert world.log == ["destroy:apps", "destroy:cluster", "destroy:network"]


def test_down_failure_stops_with_resume_command(local_env: Environment, tmp_path: Path) -> None:
    world = World()
    engine, _, _ = make_engine(local_env, tmp_path, three(world, cluster={"fail_destroy": True}))
    assert engine.up(Selection()).ok
    world.log.clear()
    report = engine.down(Selection())
    assert report.result == "failed" and report.failed_phase == "cluster"
    assert report.resume == "mlplat down --env local --from cluster"
    assert world.log == ["destroy:apps", "destroy:cluster"]  # network untouched


def test_skipped_phase_is_recorded_and_not_applied(local_env: Environment, tmp_path: Path) -> None:
    world = World()
    phases = [ScriptedPhase("network", world), ScriptedPhase("k8s", world, skip="no Kubernetes API for env local")]
    engine, store, recorder = make_engine(local_env, tmp_path, phases)
    assert engine.up(Selection()).ok
    assert world.log == ["apply:network", "check:network"]
    journal = store.read_journal()
    assert journal is not None
    assert journal.phases["k8s"].state == PhaseState.SKIPPED
    assert journal.phases["k8s"].message == "no Kubernetes API for env local"
    assert any(e.kind == "phase_skipped" for e in recorder.events)
    world.log.clear()
    assert engine.down(Selection()).ok
    assert world.log == ["destroy:network"]


def test_selection_flags(local_env: Environment, tmp_path: Path) -> None:
    world = World()
    engine, _, _ = make_engine(local_env, tmp_path, three(world))
    assert [p.name for p in engine.select(Selection(until="cluster"))] == ["network", "cluster"]
    assert [p.name for p in engine.select(Selection(from_phase="cluster"))] == ["cluster", "apps"]
    assert [p.name for p in engine.select(Selection(only="apps"))] == ["apps"]
    with pytest.raises(UsageError, match="unknown phase 'nope'") as info:
        engine.select(Selection(only="nope"))
    assert "network, cluster, apps" in (info.value.hint or "")
    with pytest.raises(UsageError, match="comes after"):
        engine.select(Selection(from_phase="apps", until="network"))
    with pytest.raises(UsageError, match="cannot be combined"):
        engine.select(Selection(only="apps", until="apps"))


def test_up_from_refuses_when_earlier_phases_are_not_ready(local_env: Environment, tmp_path: Path) -> None:
    world = World()
    engine, store, _ = make_engine(local_env, tmp_path, three(world))
    with pytest.raises(UsageError, match="needs earlier phase"):
        engine.up(Selection(from_phase="cluster"))
    assert world.log == []
    assert store.read_lock() is None
    assert engine.up(Selection(until="network")).ok
    assert engine.up(Selection(only="cluster")).ok
    assert world.built == {"network", "cluster"}


def test_down_from_refuses_to_strand_later_phases(local_env: Environment, tmp_path: Path) -> None:
    world = World()
    engine, _, _ = make_engine(local_env, tmp_path, three(world))
    assert engine.up(Selection()).ok
    world.log.clear()
    with pytest.raises(UsageError, match="still built"):
        engine.down(Selection(only="network"))
    assert world.log == []
    assert engine.down(Selection(from_phase="cluster")).ok
    assert world.log == ["destroy:apps", "destroy:cluster"]


def test_plan_changes_nothing(local_env: Environment, tmp_path: Path) -> None:
    world = World()
    engine, store, _ = make_engine(local_env, tmp_path, three(world))
    rows = engine.plan(Selection())
    assert [r.plan.action for r in rows] == ["create", "create", "create"]
    assert world.log == ["plan:network", "plan:cluster", "plan:apps"]
    assert world.built == set()
    assert store.read_journal() is None


def test_status_runs_live_checks_concurrently_with_timeout(local_env: Environment, tmp_path: Path) -> None:
    world = World()
    phases = three(world)

    class Hanging(ScriptedPhase):
        def status(self, ctx):  # type: ignore[no-untyped-def]
            import time

            time.sleep(30)
            raise AssertionError("unreachable")

    phases.append(Hanging("hung", world))
    engine, _, _ = make_engine(local_env, tmp_path, phases)
    assert engine.up(Selection(until="apps")).ok
    import time

    began = time.monotonic()
    rows = engine.status(offline=False, timeout_s=1.0)
    assert time.monotonic() - began < 5
    live = {r.name: r.live_state for r in rows}
    assert live == {"network": "ready", "cluster": "ready", "apps": "ready", "hung": "timeout"}
    world.log.clear()
    offline = engine.status(offline=True)
    assert world.log == []  # offline touches nothing
    assert {r.name: r.record.state for r in offline}["network"] == PhaseState.READY


def test_gate_sees_the_outputs_apply_just_recorded(local_env: Environment, tmp_path: Path) -> None:
    world = World()
    seen: list[object] = []

    class Reading(ScriptedPhase):
        def check(self, ctx):  # type: ignore[no-untyped-def]
            seen.append(ctx.outputs.get(self.name, {}).get("id"))
            return super().check(ctx)

    engine, _, _ = make_engine(local_env, tmp_path, [Reading("network", world)])
    assert engine.up(Selection()).ok
    assert seen == ["network-id"]
