"""Plumbing shared by commands: load the env, pick the sinks, open the run log."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from eksctl_ml.cli.app import state
from eksctl_ml.cli.render import ConsoleSink, GitHubSummarySink, JsonLinesSink, OutputFormat, stdout_console
from eksctl_ml.errors import UsageError

if TYPE_CHECKING:
    from eksctl_ml.config.loader import Environment
    from eksctl_ml.services.deps import Dependencies
    from eksctl_ml.services.lifecycle import LifecycleService


def load(ctx: typer.Context, env: str | None, config_dir: Path | None, output: OutputFormat) -> Environment:
    from eksctl_ml.config.loader import load_env

    state(ctx).json_output = output is OutputFormat.json
    return load_env(env, config_dir)


def deps(ctx: typer.Context) -> Dependencies:
    from eksctl_ml.services.deps import Dependencies

    app_state = state(ctx)
    if app_state.deps is None:
        app_state.deps = Dependencies()
    return app_state.deps  # type: ignore[no-any-return]


@dataclass
class Session:
    env: Environment
    service: LifecycleService
    log_path: Path


@contextmanager
def lifecycle_session(
    ctx: typer.Context, env_name: str | None, config_dir: Path | None, output: OutputFormat, command: str
) -> Iterator[Session]:
    """Load the env, wire sinks (Rich or JSON, GitHub summary, run log) and build the service."""
    from eksctl_ml.engine.events import EventSink, FanOut
    from eksctl_ml.runlog import LogSink, run_log
    from eksctl_ml.services.lifecycle import LifecycleService

    env = load(ctx, env_name, config_dir, output)
    dependencies = deps(ctx)
    sinks: list[EventSink] = [JsonLinesSink() if output is OutputFormat.json else ConsoleSink(stdout_console())]
    summary = GitHubSummarySink.from_environment()
    if summary:
        sinks.append(summary)
    sinks.append(LogSink())
    resume_flags = [f"--config-dir {config_dir}"] if config_dir else []
    with run_log(dependencies.workdir(env), command) as log_path:
        service = LifecycleService(env, dependencies, FanOut(sinks), resume_flags)
        yield Session(env, service, log_path)


def stdin_is_tty() -> bool:
    return sys.stdin.isatty()


def confirm(question: str, yes: bool) -> None:
    """Ask unless --yes; refuse to prompt without a terminal (CI must say --yes explicitly)."""
    if yes:
        return
    if not stdin_is_tty():
        raise UsageError("refusing to ask for confirmation: stdin is not a terminal", hint="pass --yes")
    if not typer.confirm(question, default=False, err=True):
        typer.echo("cancelled; nothing was changed", err=True)
        raise typer.Exit(0)
