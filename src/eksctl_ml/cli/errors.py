"""The one place where errors become messages and exit codes (see eksctl_ml.errors for the codes)."""

from __future__ import annotations

import json
import sys

from rich.console import Console
from rich.markup import escape

from eksctl_ml.errors import ConfigError, ExitCode, MlplatError, PhaseError
from eksctl_ml.redact import redact


def report_error(exc: MlplatError, *, json_output: bool) -> int:
    """Print ``exc`` for a person on stderr (and as one JSON object on stdout with --output json)."""
    console = Console(stderr=True, highlight=False)
    console.print(f"[bold red]error:[/] {escape(redact(str(exc)))}")
    if isinstance(exc, PhaseError) and exc.diagnosis:
        console.print("[bold]diagnosis:[/]")
        console.print(escape(redact(exc.diagnosis)))
    if exc.hint:
        console.print(f"[bold]hint:[/] {escape(redact(exc.hint))}")
    if json_output:
        document: dict[str, object] = {
            "event": "error",
            "error": type(exc).__name__,
            "message": redact(exc.message),
            "exit_code": exc.exit_code,
        }
        if exc.hint:
            document["hint"] = redact(exc.hint)
        if isinstance(exc, ConfigError):
            document["issues"] = [issue.render() for issue in exc.issues]
        if isinstance(exc, PhaseError):
            document["phase"] = exc.phase
            document["diagnosis"] = redact(exc.diagnosis)
        sys.stdout.write(json.dumps(document) + "\n")
    return exc.exit_code


def report_interrupt() -> int:
    Console(stderr=True).print("[yellow]interrupted[/]")
    return ExitCode.INTERRUPTED


def report_bug(exc: BaseException) -> int:
    Console(stderr=True, highlight=False).print(
        f"[bold red]internal error:[/] {escape(redact(repr(exc)))}\n"
        "[bold]hint:[/] rerun with --debug for the traceback, and please report it"
    )
    return ExitCode.PHASE_FAILED
