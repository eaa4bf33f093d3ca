"""`mlplat models validate|push|list`: the Triton model repository (thin: parse, call the service, render)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from eksctl_ml.cli.app import state
from eksctl_ml.cli.commands._common import deps, load
from eksctl_ml.cli.options import ConfigDirOption, EnvOption, OutputOption
from eksctl_ml.cli.render import OutputFormat, print_json, stderr_console, stdout_console
from eksctl_ml.errors import ExitCode

if TYPE_CHECKING:
    from rich.console import Console

    from eksctl_ml.services.models import ModelListing, PushReport
    from eksctl_ml.serving.push import PushProgress
    from eksctl_ml.serving.repository import RepositoryReport

app = typer.Typer(
    help="""Triton model repositories: check one on disk, push it to the env's S3 model bucket and have
Triton reload it, list what is stored and served.

A repository holds one folder per model: [bold]MODEL/config.pbtxt[/] and numbered version folders
([bold]MODEL/1/model.onnx[/], model.plan, model.pt or model.py by platform).

[bold]Examples[/]
  python scripts/make_example_models.py                   generate the example's ONNX file
  mlplat models validate examples/model-repository        every problem, with its file and fix
  mlplat models push examples/model-repository --env dev  upload, then reload on the env's Triton
  mlplat models list --env dev                            the bucket next to Triton's model states
""",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="models", rich_help_panel="Serving")


RepositoryArgument = Annotated[
    Path,
    typer.Argument(metavar="DIR", show_default=False, help="The model repository folder (one sub-folder per model)."),
]
TritonUrlOption = Annotated[
    str | None,
    typer.Option(
        "--triton-url",
        show_default=False,
        help="Talk to this Triton (http(s)://HOST:PORT) instead of the env's, reached through the "
        "Kubernetes API server's service proxy.",
    ),
]


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} B"  # pragma: no cover - the loop always returns


@app.command()
def validate(ctx: typer.Context, directory: RepositoryArgument, output: OutputOption = OutputFormat.text) -> None:
    """Check a Triton model repository and list every problem with its file and the fix.

    Each model folder's config.pbtxt is parsed with Triton's own model-config protobuf (syntax errors
    are reported as file:line:col); the platform/backend must be onnxruntime_onnx, tensorrt_plan,
    pytorch_libtorch or python; each version folder (1/, 2/, ...) must hold the file that platform
    loads; inputs and outputs must be declared. Exit 2 when there is an error; warnings do not fail.

    [bold]Example[/]: mlplat models validate examples/model-repository -o json
    """
    from eksctl_ml.services import models

    state(ctx).json_output = output is OutputFormat.json
    report = models.validate(directory)
    if output is OutputFormat.json:
        print_json(report.as_dict())
    else:
        _print_report(stdout_console(), report)
    if not report.ok:
        raise typer.Exit(ExitCode.USAGE)


def _print_report(console: Console, report: RepositoryReport) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"model repository {escape(report.root)}", title_justify="left")
    for column in ("model", "platform", "versions", "max batch", "inputs", "outputs", "ok"):
        table.add_column(column, overflow="fold")
    for model in report.models:
        table.add_row(
            escape(model.name),
            model.platform or "[red]?[/]",
            ", ".join(map(str, model.versions)) or "[red]none[/]",
            str(model.max_batch_size),
            escape("\n".join(t.render() for t in model.inputs)),
            escape("\n".join(t.render() for t in model.outputs)),
            "[green]✓[/]" if model.ok else "[red]✗[/]",
        )
    console.print(table)
    for problem in report.problems:
        style = "red" if problem.severity == "error" else "yellow"
        console.print(f"[{style}]{problem.severity}[/] {escape(problem.path)}: {escape(problem.message)}")
        console.print(f"    [bold]fix:[/] {escape(problem.fix)}")
    errors, warnings = len(report.errors), len(report.warnings)
    verdict = "[green]valid[/]" if report.ok else "[red]invalid[/]"
    console.print(f"{verdict}: {len(report.models)} model(s), {errors} error(s), {warnings} warning(s)")


class _PushLines:
    """Progress as plain lines: one per upload or delete; large uploads also report each quarter done."""

    LARGE = 16 * 1024 * 1024

    def __init__(self, console: Console) -> None:
        self.console = console
        self._quarters: dict[str, int] = {}

    def __call__(self, event: PushProgress) -> None:
        from rich.markup import escape

        where = f"[{event.index}/{event.total}]"
        if event.action == "delete":
            self.console.print(f"{where} deleted   {escape(event.key)}")
        elif event.action == "upload" and event.transferred == 0:
            self.console.print(f"{where} uploading {escape(event.key)} ({_size(event.size)})")
        elif event.action == "upload" and event.size >= self.LARGE:
            quarter = event.transferred * 4 // max(event.size, 1)
            if quarter > self._quarters.get(event.key, 0):
                self._quarters[event.key] = quarter
                self.console.print(f"{where}   {quarter * 25}% of {escape(event.key)}")


@app.command()
def push(
    ctx: typer.Context,
    directory: RepositoryArgument,
    env: EnvOption = None,
    config_dir: ConfigDirOption = None,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune", help="Delete objects of the pushed models that are no longer in DIR (history is kept)."
        ),
    ] = False,
    no_reload: Annotated[
        bool, typer.Option("--no-reload", help="Only upload; do not ask Triton to load the models.")
    ] = False,
    triton_url: TritonUrlOption = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="Seconds to wait for each model to become READY.")
    ] = 300.0,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Validate DIR, upload it to the env's model bucket, then have Triton reload the models.

    Nothing is uploaded when validation finds an error. Files go to
    s3://<model bucket>/<model_repository.prefix><model>/...; a file whose content is already there
    (same MD5) is skipped. The bucket is versioned: an overwritten or deleted file keeps its history
    (restore an older version with the S3 console or `aws s3api`). Objects of a pushed model that are
    no longer in DIR stay until you pass --prune; other models are never touched.

    Then each pushed model is loaded (or reloaded, re-reading the bucket) on the env's Triton, reached
    through the Kubernetes API server's service proxy, or on --triton-url; the command waits until
    each is READY and exits 1 with the server's reason when one is not. An env without a Kubernetes
    API (the emulator) and no --triton-url skips the reload and says so.

    [bold]Examples[/]
      mlplat models push examples/model-repository --env dev
      mlplat models push ./models --env local --triton-url http://localhost:8000 --prune
    """
    from eksctl_ml.services import models

    loaded = load(ctx, env, config_dir, output)
    json_output = output is OutputFormat.json
    console = stdout_console()
    report = models.push(
        loaded,
        deps(ctx),
        directory,
        prune=prune,
        reload=not no_reload,
        triton_url=triton_url,
        timeout_s=timeout,
        progress=None if json_output else _PushLines(console),
    )
    if json_output:
        print_json(report.as_dict())
        if report.failed_reloads:
            error = report.reload_error()
            stderr_console().print(f"error: {error}" if error else "error: reload failed")
            raise typer.Exit(ExitCode.PHASE_FAILED)
        return
    _print_push(console, report)
    error = report.reload_error()
    if error is not None:
        raise error


def _print_push(console: Console, report: PushReport) -> None:
    from rich.markup import escape
    from rich.table import Table

    result = report.result
    for problem in report.repository.warnings:
        console.print(f"[yellow]warning[/] {escape(problem.path)}: {escape(problem.message)}")
    console.print(
        f"pushed {len(result.models)} model(s) to {escape(report.target.url)} ({escape(report.target.source)}): "
        f"{len(result.uploaded)} uploaded ({_size(result.bytes_uploaded)}), {len(result.unchanged)} unchanged, "
        f"{len(result.deleted)} deleted"
    )
    if result.stale:
        console.print(
            f"[yellow]{len(result.stale)} object(s) no longer in the repository were kept[/] (--prune deletes them):"
        )
        for key in result.stale:
            console.print(f"  {escape(key)}")
    if report.reloads:
        table = Table(title=f"reload on {escape(report.triton_url)}", title_justify="left")
        for column in ("model", "state", "seconds", "reason"):
            table.add_column(column, overflow="fold")
        for reload in report.reloads:
            style = "green" if reload.ready else "red"
            table.add_row(
                escape(reload.model),
                f"[{style}]{escape(reload.state)}[/]",
                f"{reload.seconds:.1f}",
                escape(reload.reason),
            )
        console.print(table)
    for note in report.notes:
        console.print(f"[dim]note:[/] {escape(note)}")


@app.command("list")
def list_(
    ctx: typer.Context,
    env: EnvOption = None,
    config_dir: ConfigDirOption = None,
    triton_url: TritonUrlOption = None,
    output: OutputOption = OutputFormat.text,
) -> None:
    """List the models in the env's model bucket next to Triton's state of each.

    For each model folder under the env's model prefix: versions, files, size and last modification;
    when Triton answers (the env's, through the Kubernetes API server's service proxy, or
    --triton-url), the state of each version in Triton's repository index beside it, with the
    server's reason for an unavailable one. Changes nothing.

    [bold]Example[/]: mlplat models list --env dev -o json
    """
    from eksctl_ml.services import models

    loaded = load(ctx, env, config_dir, output)
    listing = models.list_models(loaded, deps(ctx), triton_url=triton_url)
    if output is OutputFormat.json:
        print_json(listing.as_dict())
        return
    _print_listing(stdout_console(), listing)


def _print_listing(console: Console, listing: ModelListing) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"models in {escape(listing.target.url)}", title_justify="left")
    for column in ("model", "versions", "files", "size", "last modified", "triton"):
        table.add_column(column, overflow="fold")
    style = {"READY": "green", "UNAVAILABLE": "red", "LOADING": "yellow", "UNLOADING": "yellow"}
    for row in listing.rows():
        if row["triton"] is None:
            served = "[dim]unknown[/]"
        elif not row["triton"]:
            served = "[dim]not in index[/]"
        else:
            served = "\n".join(
                f"v{s['version'] or '-'} [{style.get(s['state'], 'white')}]{escape(s['state'] or 'not loaded')}[/]"
                + (f" {escape(s['reason'])}" if s["reason"] else "")
                for s in row["triton"]
            )
        table.add_row(
            escape(row["name"]) if row["in_bucket"] else f"{escape(row['name'])} [dim](not in bucket)[/]",
            ", ".join(map(str, row["versions"])),
            str(row["files"]),
            _size(row["size"]),
            row["last_modified"],
            served,
        )
    console.print(table)
    if listing.triton_note:
        console.print(f"[dim]note:[/] {escape(listing.triton_note)}")
    elif listing.triton_url:
        console.print(f"[dim]Triton: {escape(listing.triton_url)}[/]")
