"""`kubeconfig` and `token`: kubectl access to an environment's EKS cluster."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from eksctl_ml.cli.commands._common import deps, load
from eksctl_ml.cli.options import ConfigDirOption, EnvOption, OutputOption
from eksctl_ml.cli.render import OutputFormat, print_json, stdout_console

PANEL = "Cluster access"


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel=PANEL)(kubeconfig)
    app.command(rich_help_panel=PANEL)(token)


def kubeconfig(
    ctx: typer.Context,
    env: EnvOption = None,
    config_dir: ConfigDirOption = None,
    path: Annotated[
        Path | None,
        typer.Option(
            "--path",
            dir_okay=False,
            show_default=False,
            help="Kubeconfig file to write or merge into (e.g. ~/.kube/config). "
            "Default: .mlplat/NAME/kubeconfig; ~/.kube/config is only touched when named here.",
        ),
    ] = None,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Write a kubeconfig for the env's EKS cluster; kubectl gets tokens from `mlplat token`.

    An existing file at --path is merged: the mlplat-NAME entries are replaced, everything else is kept
    (including its current context, unless it has none). The file is written atomically, mode 0600.
    """
    from eksctl_ml.adapters.kubernetes.auth import context_name
    from eksctl_ml.services import kubeaccess

    environment = load(ctx, env, config_dir, output)
    dependencies = deps(ctx)
    aws = dependencies.build_adapters(environment).aws
    written = kubeaccess.write_kubeconfig(environment, aws, path, state_root=dependencies.root)
    context = context_name(environment.name)
    if output is OutputFormat.json:
        print_json({"path": str(written), "context": context})
        return
    console = stdout_console()
    console.print(f"wrote kubeconfig {written} (context {context})")
    console.print(f"try: kubectl --kubeconfig {written} --context {context} get nodes")


def token(
    ctx: typer.Context,
    env: EnvOption = None,
    config_dir: ConfigDirOption = None,
) -> None:
    """Print an ExecCredential with a fresh EKS token (the kubeconfig's exec plugin runs this).

    Only the JSON goes to stdout; errors go to stderr with a non-zero exit.
    """
    from eksctl_ml.services import kubeaccess

    environment = load(ctx, env, config_dir, OutputFormat.text)
    aws = deps(ctx).build_adapters(environment).aws
    typer.echo(json.dumps(kubeaccess.token(environment, aws)))
