"""Options shared by many commands, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from eksctl_ml.cli.render import OutputFormat

EnvOption = Annotated[
    str | None,
    typer.Option(
        "--env",
        "-e",
        envvar="MLPLAT_ENV",
        show_default=False,
        help="Environment to act on: the file envs/NAME.yaml. Also read from MLPLAT_ENV.",
    ),
]
ConfigDirOption = Annotated[
    Path | None,
    typer.Option(
        "--config-dir",
        envvar="MLPLAT_CONFIG_DIR",
        file_okay=False,
        show_default=False,
        help="Folder holding the environment files (default: ./envs). Also MLPLAT_CONFIG_DIR.",
    ),
]
OutputOption = Annotated[
    OutputFormat,
    typer.Option("--output", "-o", help="text for people; json for machines (one JSON object per line of events)."),
]
FromOption = Annotated[
    str | None,
    typer.Option("--from", show_default=False, help="Start at this phase (earlier ones must be ready)."),
]
UntilOption = Annotated[str | None, typer.Option("--until", show_default=False, help="Stop after this phase.")]
OnlyOption = Annotated[str | None, typer.Option("--only", show_default=False, help="Run just this phase.")]
YesOption = Annotated[
    bool,
    typer.Option("--yes", "-y", help="Do not ask for confirmation (required when stdin is not a terminal)."),
]
