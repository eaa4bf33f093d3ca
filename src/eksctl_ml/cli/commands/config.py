"""`mlplat config validate|show`: check and display environment files."""

from __future__ import annotations

from typing import Annotated

import typer

from eksctl_ml.cli.commands._common import load
from eksctl_ml.cli.options import ConfigDirOption, EnvOption, OutputOption
from eksctl_ml.cli.render import OutputFormat, print_json, stdout_console

app = typer.Typer(help="Validate and show environment files (envs/NAME.yaml).", no_args_is_help=True)


@app.command()
def validate(
    ctx: typer.Context,
    env: EnvOption = None,
    config_dir: ConfigDirOption = None,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Check an environment file: types, unknown keys, CIDRs, sizes, GPU families, versions, region.

    Every problem is listed at once with file:line, field, value and fix. Exit 2 if any.
    """
    loaded = load(ctx, env, config_dir, output)
    if output is OutputFormat.json:
        print_json({"env": loaded.name, "file": str(loaded.source), "valid": True})
    else:
        stdout_console().print(f"[green]✓[/] {loaded.source} is valid (env {loaded.name!r})")


@app.command()
def show(
    ctx: typer.Context,
    env: EnvOption = None,
    config_dir: ConfigDirOption = None,
    output: Annotated[OutputFormat, typer.Option("--output", "-o", help="text (YAML) or json.")] = OutputFormat.text,
) -> None:
    """Print the resolved configuration: the file plus every default and derived value."""
    from eksctl_ml.services.config_view import resolved_config

    document = resolved_config(load(ctx, env, config_dir, output))
    if output is OutputFormat.json:
        print_json(document)
        return
    import yaml

    typer.echo(yaml.safe_dump(document, sort_keys=False, default_flow_style=False), nl=False)
