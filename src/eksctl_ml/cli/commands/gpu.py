"""`mlplat gpu-check`: nvidia-smi on every GPU node, as a table."""

from __future__ import annotations

import typer

from eksctl_ml.cli.commands._common import deps, load
from eksctl_ml.cli.options import ConfigDirOption, EnvOption, OutputOption
from eksctl_ml.cli.render import OutputFormat, print_json, stdout_console
from eksctl_ml.errors import ExitCode


def register(app: typer.Typer) -> None:
    app.command(name="gpu-check", rich_help_panel="Cluster access")(gpu_check)


def gpu_check(
    ctx: typer.Context,
    env: EnvOption = None,
    config_dir: ConfigDirOption = None,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Run a Job pinned to each GPU node that calls nvidia-smi; print GPU model, driver and CUDA version.

    Exits 1 if a node has no working GPU (driver missing, device plugin not advertising GPUs...).
    """
    from rich.table import Table

    from eksctl_ml.services.gpu import gpu_check as run

    loaded = load(ctx, env, config_dir, output)
    verdict, gpus = run(loaded, deps(ctx))
    if output is OutputFormat.json:
        print_json(
            {
                "env": loaded.name,
                "ok": verdict.ok,
                "summary": verdict.summary,
                "diagnosis": verdict.diagnosis,
                "gpus": [g.__dict__ for g in gpus],
            }
        )
    else:
        table = Table(title=f"mlplat gpu-check · env {loaded.name}", title_justify="left")
        for column in ("node", "GPU", "driver", "CUDA", "memory (MiB)"):
            table.add_column(column)
        for g in gpus:
            table.add_row(g.node, g.model, g.driver, g.cuda, g.memory_mib)
        console = stdout_console()
        console.print(table)
        console.print(("[green]✓[/] " if verdict.ok else "[red]✗[/] ") + verdict.summary)
        if verdict.diagnosis:
            console.print(verdict.diagnosis)
    if not verdict.ok:
        raise typer.Exit(ExitCode.PHASE_FAILED)
