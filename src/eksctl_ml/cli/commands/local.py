"""`mlplat local start|status|stop`: the embedded AWS emulator behind the `local` environment."""

from __future__ import annotations

import typer

from eksctl_ml.cli.app import state
from eksctl_ml.cli.commands._common import deps
from eksctl_ml.cli.options import OutputOption
from eksctl_ml.cli.render import OutputFormat, print_json, stdout_console

app = typer.Typer(
    help="The embedded AWS emulator (moto, loopback only) that `--env local` runs against. "
    "`up --env local` starts it when needed; MLPLAT_AWS_ENDPOINT points every command at another one.",
    no_args_is_help=True,
)


def _render(ctx: typer.Context, output: OutputFormat, running: bool, endpoint: str | None, extra: str = "") -> None:
    state(ctx).json_output = output is OutputFormat.json
    if output is OutputFormat.json:
        print_json({"running": running, "endpoint": endpoint})
    elif running:
        stdout_console().print(f"emulator running at {endpoint}{extra}")
    else:
        stdout_console().print("emulator not running (start it with `mlplat local start`)")


@app.command()
def start(ctx: typer.Context, output: OutputOption = OutputFormat.text) -> None:
    """Start the emulator on a free loopback port (no-op if it is already running)."""
    from eksctl_ml.services import emulator

    current = emulator.start(deps(ctx).root)
    _render(ctx, output, True, current.endpoint, f" (pid {current.pid}, log {current.log})" if current.pid else "")


@app.command()
def status(ctx: typer.Context, output: OutputOption = OutputFormat.text) -> None:
    """Print the emulator's endpoint, or say it is not running (exit 1)."""
    from eksctl_ml.services import emulator

    current = emulator.status(deps(ctx).root)
    _render(ctx, output, current.running, current.endpoint, " (MLPLAT_AWS_ENDPOINT)" if current.external else "")
    if not current.running:
        raise typer.Exit(1)


@app.command()
def stop(ctx: typer.Context) -> None:
    """Stop the emulator. Everything it held is gone; run `mlplat down --env local` first to be tidy."""
    from eksctl_ml.services import emulator

    stopped = emulator.stop(deps(ctx).root)
    stdout_console().print("emulator stopped" if stopped else "emulator was not running")
