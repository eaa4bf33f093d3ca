"""`up`, `down`, `plan`, `status`, `unlock`: the lifecycle of an environment."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer

from eksctl_ml.cli.commands._common import confirm, lifecycle_session
from eksctl_ml.cli.options import (
    ConfigDirOption,
    EnvOption,
    FromOption,
    OnlyOption,
    OutputOption,
    UntilOption,
    YesOption,
)
from eksctl_ml.cli.render import (
    OutputFormat,
    intents_table,
    plan_table,
    print_json,
    status_document,
    status_view,
)
from eksctl_ml.cli.render import stdout_console as console

if TYPE_CHECKING:
    from rich.console import RenderableType


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel="Lifecycle")(up)
    app.command(rich_help_panel="Lifecycle")(down)
    app.command(rich_help_panel="Lifecycle")(plan)
    app.command(rich_help_panel="Lifecycle")(status)
    app.command(rich_help_panel="Lifecycle")(unlock)


def _selection(from_: str | None, until: str | None, only: str | None):  # type: ignore[no-untyped-def]
    from eksctl_ml.engine.engine import Selection

    return Selection(from_phase=from_, until=until, only=only)


def up(
    ctx: typer.Context,
    env: EnvOption = None,
    config_dir: ConfigDirOption = None,
    yes: YesOption = False,
    from_: FromOption = None,
    until: UntilOption = None,
    only: OnlyOption = None,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Build the environment: every phase in provision order, each proven by its readiness gate.

    Shows the plan and asks first (unless --yes). Stops at the first failure and prints the exact
    command to resume; rerunning re-checks finished phases instead of re-applying them.
    """
    selection = _selection(from_, until, only)
    with lifecycle_session(ctx, env, config_dir, output, "up") as session:
        intents = session.service.describe("up", selection)
        if output is OutputFormat.text:
            console().print(intents_table("up", session.env.name, intents))
        confirm(f"Build {len(intents)} phase(s) of env {session.env.name!r}?", yes)
        session.service.up(selection)


def down(
    ctx: typer.Context,
    env: EnvOption = None,
    config_dir: ConfigDirOption = None,
    yes: YesOption = False,
    from_: FromOption = None,
    until: UntilOption = None,
    only: OnlyOption = None,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Tear the environment down: the same phases in exact reverse. Already-gone is success.

    --from/--until name phases in provision order; down walks them backwards.
    """
    selection = _selection(from_, until, only)
    with lifecycle_session(ctx, env, config_dir, output, "down") as session:
        intents = session.service.describe("down", selection)
        if output is OutputFormat.text:
            console().print(intents_table("down", session.env.name, intents))
        confirm(f"DESTROY {len(intents)} phase(s) of env {session.env.name!r}?", yes)
        session.service.down(selection)
        if session.env.config.aws.emulator and output is OutputFormat.text:
            console().print(
                "the embedded AWS emulator is still running (it holds nothing now); stop it with `mlplat local stop`"
            )


def plan(
    ctx: typer.Context,
    env: EnvOption = None,
    config_dir: ConfigDirOption = None,
    from_: FromOption = None,
    until: UntilOption = None,
    only: OnlyOption = None,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Show what `up` would change, phase by phase. Changes nothing."""
    with lifecycle_session(ctx, env, config_dir, output, "plan") as session:
        rows = session.service.plan(_selection(from_, until, only))
        if output is OutputFormat.text:
            console().print(plan_table(session.env.name, rows))


def status(
    ctx: typer.Context,
    env: EnvOption = None,
    config_dir: ConfigDirOption = None,
    offline: Annotated[bool, typer.Option("--offline", help="Show the journal only; touch nothing remote.")] = False,
    watch: Annotated[
        float | None,
        typer.Option("--watch", "-w", help="Refresh every N seconds until Ctrl-C.", show_default=False, min=1),
    ] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds each live check may take.", min=1)] = 20.0,
    output: OutputOption = OutputFormat.text,
) -> None:
    """One table: every phase's recorded state and a live check, run concurrently.

    Under it, when the env's Prometheus answers: GPU utilization and memory per node, Triton requests/s,
    p99 latency and failures per model, and the alerts firing (``metrics`` in --output json).
    """
    with lifecycle_session(ctx, env, config_dir, output, "status") as session:
        service = session.service
        location = service.store.location
        name = session.env.name

        def view() -> RenderableType:
            rows, metrics = service.status_with_metrics(offline=offline, timeout_s=timeout)
            return status_view(name, rows, location, metrics)

        if output is OutputFormat.json:
            rows, metrics = service.status_with_metrics(offline=offline, timeout_s=timeout)
            print_json(status_document(name, rows, location, metrics))
            return
        if watch is None:
            console().print(view())
            return
        from rich.live import Live

        try:
            with Live(view(), console=console()) as live:
                while True:
                    time.sleep(watch)
                    live.update(view())
        except KeyboardInterrupt:
            return


def unlock(
    ctx: typer.Context,
    env: EnvOption = None,
    config_dir: ConfigDirOption = None,
    yes: YesOption = False,
) -> None:
    """Remove the environment's run lock on purpose (after a run died on another machine)."""
    with lifecycle_session(ctx, env, config_dir, OutputFormat.text, "unlock") as session:
        holder = session.service.lock_holder()
        if holder is None:
            console().print(f"env {session.env.name!r} is not locked")
            return
        confirm(f"Remove the lock held by {holder.describe()}?", yes)
        session.service.unlock()
        console().print(f"removed the lock held by {holder.describe()}")
