"""`mlplat releases`: the pinned Helm release catalog next to what is deployed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from eksctl_ml.cli.commands._common import deps, load
from eksctl_ml.cli.options import ConfigDirOption, EnvOption, OutputOption
from eksctl_ml.cli.render import OutputFormat, print_json, stdout_console

if TYPE_CHECKING:
    from rich.table import Table

    from eksctl_ml.releases.service import ReleaseRow


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel="Lifecycle")(releases)


def releases(
    ctx: typer.Context,
    env: EnvOption = None,
    config_dir: ConfigDirOption = None,
    output: OutputOption = OutputFormat.text,
) -> None:
    """List every Helm release mlplat manages: chart, pinned version, phase, whether this env enables
    it, and the deployed revision and status. Changes nothing."""
    from eksctl_ml.releases.catalog import load_catalog
    from eksctl_ml.releases.service import list_releases, no_kubernetes_api

    loaded = load(ctx, env, config_dir, output)
    catalog = load_catalog()
    helm = None if no_kubernetes_api(loaded) else deps(ctx).build_adapters(loaded).helm
    rows = list_releases(catalog, helm, loaded)
    if output is OutputFormat.json:
        print_json({"env": loaded.name, "releases": [row.as_dict() for row in rows]})
        return
    stdout_console().print(_table(loaded.name, rows))


def _table(env: str, rows: list[ReleaseRow]) -> Table:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"mlplat releases · env {env}", title_justify="left")
    for column in ("release", "namespace", "chart", "version", "phase", "enabled", "status", "revision"):
        table.add_column(column, overflow="fold")
    style = {"deployed": "green", "not installed": "dim", "error": "red", "failed": "red"}
    for row in rows:
        enabled = "yes" if row.enabled else f"[dim]no ({escape(row.condition or '')})[/]"
        status = f"[{style.get(row.status, 'yellow')}]{escape(row.status)}[/]"
        if row.error:
            status += f"\n{escape(row.error)}"
        if row.drift:
            status += f"\n[yellow]deployed {escape(row.deployed_chart)}[/]"
        revision = "" if row.revision is None else str(row.revision)
        table.add_row(row.name, row.namespace, escape(row.source), row.version, row.phase, enabled, status, revision)
    return table
