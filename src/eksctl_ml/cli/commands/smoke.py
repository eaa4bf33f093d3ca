"""`mlplat smoke`: one real inference per model against a running Triton, checked against its metadata."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from eksctl_ml.cli.app import state
from eksctl_ml.cli.commands._common import deps, load
from eksctl_ml.cli.options import ConfigDirOption, EnvOption, OutputOption
from eksctl_ml.cli.render import OutputFormat, print_json, stderr_console, stdout_console
from eksctl_ml.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from eksctl_ml.serving.smoke import SmokeReport

HELP = """\
Smoke-test a running Triton: live and ready, every model ready, ONE inference per model with inputs
built from the model's own metadata (datatypes, shapes, several inputs, BYTES), outputs checked against
the metadata, the nv_inference_request_success counter rising, and a latency figure per model.

[bold]Examples[/]
  [cyan]mlplat smoke --env dev[/]
      the env's Triton Service, through the Kubernetes API server; models: triton.models
  [cyan]mlplat smoke --url http://localhost:8000[/]
      any Triton; models: every model in its repository index
  [cyan]mlplat smoke --url localhost:8000 --metrics-url http://localhost:8002/metrics -m mlp_onnx[/]
      one model, and check its success counter on the metrics port
  [cyan]mlplat smoke --env prod --output json[/]
      the report as JSON

Exit codes: 0 every check passed · 1 a check failed (each failure names the model and carries the
server's own message) · 2 usage error (an emulator env has no Kubernetes API to reach Triton through).
"""


def register(app: typer.Typer) -> None:
    app.command(name="smoke", rich_help_panel="Serving", help=HELP)(smoke)


def smoke(
    ctx: typer.Context,
    env: EnvOption = None,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            metavar="URL",
            show_default=False,
            help="Triton's HTTP endpoint, http(s)://HOST:PORT\\[/base-path] (HOST:PORT means http). Instead of --env.",
        ),
    ] = None,
    metrics_url: Annotated[
        str | None,
        typer.Option(
            "--metrics-url",
            metavar="URL",
            show_default=False,
            help="Triton's metrics endpoint (e.g. http://HOST:8002/metrics), with --url; without it the "
            "success counter is not checked. --env uses the Service's metrics port.",
        ),
    ] = None,
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            "-m",
            metavar="NAME",
            show_default=False,
            help="Model to check (repeat for several). Default: --env: triton.models of the env file; "
            "--url: every model in the server's repository index.",
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option("--timeout", min=1, help="Seconds to wait for the server and its models to become ready."),
    ] = 120.0,
    ca_file: Annotated[
        Path | None,
        typer.Option(
            "--ca-file",
            metavar="FILE",
            exists=True,
            dir_okay=False,
            show_default=False,
            help="CA bundle for an https --url.",
        ),
    ] = None,
    config_dir: ConfigDirOption = None,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Smoke-test a running Triton (see the examples)."""
    from eksctl_ml.services import smoke as service

    state(ctx).json_output = output is OutputFormat.json
    # MLPLAT_ENV in the shell must not clash with an explicit --url; only a typed --env does
    source = ctx.get_parameter_source("env")
    env_given = env is not None and source is not None and source.name == "COMMANDLINE"
    if url is not None and env_given:
        raise UsageError("give --url or --env, not both")
    if url is not None:
        env = None
    if url is None and env is None:
        raise UsageError("nothing to smoke-test", hint="give --env NAME or --url http://HOST:8000")
    if url is None and metrics_url is not None:
        raise UsageError("--metrics-url goes with --url", hint="--env uses the Triton Service's metrics port")
    progress = None if output is OutputFormat.json else _progress()
    if url is not None:
        endpoint = service.url_endpoint(url, metrics_url=metrics_url, ca_file=str(ca_file) if ca_file else None)
        report = service.smoke_url(endpoint, model, timeout_s=timeout, progress=progress)
    else:
        environment = load(ctx, env, config_dir, output)
        report = service.smoke_env(environment, deps(ctx), model, timeout_s=timeout, progress=progress)
    _render(report, output)
    if not report.ok:
        raise typer.Exit(ExitCode.PHASE_FAILED)


def _progress() -> Callable[[str], None]:
    console = stderr_console()

    def say(message: str) -> None:
        console.print(f"  {message}", markup=False)

    return say


def _render(report: SmokeReport, output: OutputFormat) -> None:
    if output is OutputFormat.json:
        print_json(report.to_dict())
        return
    from rich.markup import escape
    from rich.table import Table

    console = stdout_console()
    if report.models:
        table = Table(title=f"mlplat smoke · {escape(report.url)}", title_justify="left")
        for column in ("model", "version", "result", "latency", "detail"):
            table.add_column(column, overflow="fold")
        for result in report.models:
            table.add_row(
                escape(result.name),
                escape(result.version),
                "[green]ok[/]" if result.ok else "[red]FAILED[/]",
                f"{result.latency_ms:.1f} ms" if result.latency_ms is not None else "",
                escape(_first_line(result.detail) if result.ok else "see below"),
            )
        console.print(table)
    for result in report.models:
        if not result.ok:
            console.print(f"[red]✗[/] model [bold]{escape(result.name)}[/]: {escape(result.detail)}")
    if report.skipped:
        console.print(f"[dim]not loaded, skipped: {escape(', '.join(report.skipped))}[/]")
    for problem in report.problems:
        console.print(f"[red]✗[/] {escape(problem)}")
    if report.ok:
        summary = report.to_check_result().summary
        console.print(f"[green]✓[/] {escape(summary)} ({report.duration_s:.1f}s)")
        return
    failed = [m.name for m in report.models if not m.ok]
    what = f"model(s) {', '.join(failed)}" if failed else "the server"
    console.print(f"[red]✗[/] smoke test failed on {escape(what)} ({report.duration_s:.1f}s)")


def _first_line(text: str, width: int = 100) -> str:
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= width else line[: width - 1] + "…"
