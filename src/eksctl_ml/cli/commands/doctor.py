"""`mlplat doctor`: check tools, credentials and the account guard, with a fix for each failure."""

from __future__ import annotations

import typer

from eksctl_ml.cli.commands._common import deps, load
from eksctl_ml.cli.options import ConfigDirOption, EnvOption, OutputOption
from eksctl_ml.cli.render import OutputFormat, print_json, stdout_console
from eksctl_ml.errors import ExitCode


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel="Setup")(doctor)


def doctor(
    ctx: typer.Context,
    env: EnvOption = None,
    config_dir: ConfigDirOption = None,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Check terraform >= 1.10, helm >= 3.14, AWS credentials (STS) and that the account matches the env."""
    from rich.table import Table

    from eksctl_ml.services.doctor import run_doctor

    loaded = load(ctx, env, config_dir, output)
    dependencies = deps(ctx)
    adapters = dependencies.build_adapters(loaded)
    checks = run_doctor(loaded, lambda: adapters.aws)
    failed = [c for c in checks if not c.ok]
    if output is OutputFormat.json:
        print_json(
            {
                "env": loaded.name,
                "ok": not failed,
                "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail, "fix": c.fix} for c in checks],
            }
        )
    else:
        table = Table(title=f"mlplat doctor · env {loaded.name}", title_justify="left")
        for column in ("check", "result", "detail", "fix"):
            table.add_column(column, overflow="fold")
        for c in checks:
            table.add_row(c.name, "[green]ok[/]" if c.ok else "[red]FAIL[/]", c.detail, c.fix)
        stdout_console().print(table)
    if failed:
        raise typer.Exit(ExitCode.USAGE)
