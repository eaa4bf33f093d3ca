"""A debug log per run under ``.mlplat/<env>/logs/``: every event and every adapter's debug lines,
with secrets masked."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from eksctl_ml.engine.events import Event
from eksctl_ml.redact import redact

LOGGER = "eksctl_ml"
KEEP_LOGS = 30


class _RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class LogSink:
    """Writes each engine event to the run log as one JSON line."""

    def __init__(self) -> None:
        self._log = logging.getLogger(f"{LOGGER}.events")

    def emit(self, event: Event) -> None:
        self._log.info(json.dumps(event.to_dict(), default=str))


@contextmanager
def run_log(workdir: Path, command: str) -> Iterator[Path]:
    """Attach a DEBUG file handler to the ``eksctl_ml`` logger for the duration of one command."""
    logs = workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = logs / f"{stamp}-{command}.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(_RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger(LOGGER)
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield path
    finally:
        logger.removeHandler(handler)
        handler.close()
        for old in sorted(logs.glob("*.log"))[:-KEEP_LOGS]:
            old.unlink(missing_ok=True)
