"""The Typer application: root options, the error edge, and command registration."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from eksctl_ml import __version__
from eksctl_ml.cli.errors import report_bug, report_error, report_interrupt
from eksctl_ml.errors import MlplatError

HELP = """\
[bold]mlplat[/] provisions a production GPU inference platform on AWS — VPC, EKS, GPU and CPU node
groups, CNI, EFS/S3 storage, observability, Triton (Istio and GitOps are planned) — phase by phase,
proving each phase works before the next one starts, and tears it down in exact reverse without leaving
anything that bills.

[bold]Start here[/]
  mlplat config validate --env local   check an environment file
  mlplat up --env local --yes          build the local environment (embedded AWS emulator, no account)
  mlplat status --env local            what is built and whether it works right now
  mlplat down --env local --yes        remove everything, and prove nothing is left

Exit codes: 0 ok · 1 a phase failed · 2 usage/config error · 3 lock held · 130 interrupted.
"""


@dataclass
class AppState:
    """Per-invocation state shared by the root callback, the commands and the error edge."""

    deps: Any = None  # eksctl_ml.services.deps.Dependencies (imported lazily to keep --help fast)
    debug: bool = False
    json_output: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def state(ctx: typer.Context) -> AppState:
    """The AppState of this invocation (tests may pass a Dependencies as ``obj``)."""
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState(deps=root.obj)
    return root.obj


class MlplatGroup(TyperGroup):
    """Catches every error once, at the edge, and turns it into a message and an exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except MlplatError as exc:
            app_state = state(ctx)
            if app_state.debug:
                raise
            raise typer.Exit(report_error(exc, json_output=app_state.json_output)) from None
        except KeyboardInterrupt:
            raise typer.Exit(report_interrupt()) from None
        except BrokenPipeError:
            # Whoever read our output went away (`mlplat status | head`): nothing left to tell them.
            raise typer.Exit(1) from None
        except Exception as exc:
            # Usage errors, --help and Exit belong to click/typer (vendored or not): let them through.
            if type(exc).__module__.startswith(("click", "typer")) or state(ctx).debug:
                raise
            raise typer.Exit(report_bug(exc)) from None


app = typer.Typer(
    name="mlplat",
    cls=MlplatGroup,
    help=HELP,
    rich_markup_mode="rich",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # the edge reports errors; --debug re-raises for a plain traceback
    pretty_exceptions_show_locals=False,  # locals can hold credentials
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mlplat {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    debug: Annotated[
        bool,
        typer.Option("--debug", envvar="MLPLAT_DEBUG", help="Show tracebacks for errors (never secrets)."),
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Root options."""
    state(ctx).debug = debug or os.environ.get("MLPLAT_DEBUG", "") not in ("", "0", "false")


def _register() -> None:
    from eksctl_ml.cli.commands import access, config, doctor, gpu, lifecycle, local, models, releases, smoke

    lifecycle.register(app)
    releases.register(app)
    app.add_typer(config.app, name="config", rich_help_panel="Setup")
    app.add_typer(local.app, name="local", rich_help_panel="Setup")
    doctor.register(app)
    access.register(app)
    gpu.register(app)
    smoke.register(app)
    models.register(app)


_register()
