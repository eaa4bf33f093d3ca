"""Managing the embedded AWS emulator of the `local` environment (`mlplat local ...`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from eksctl_ml.services.deps import AWS_ENDPOINT_VAR, emulator_state_dir


@dataclass(frozen=True)
class EmulatorState:
    running: bool
    endpoint: str | None
    pid: int | None = None
    external: bool = False  # MLPLAT_AWS_ENDPOINT points at an emulator mlplat does not manage
    log: str | None = None


def _external() -> EmulatorState | None:
    endpoint = os.environ.get(AWS_ENDPOINT_VAR)
    return EmulatorState(True, endpoint, external=True) if endpoint else None


def start(root: Path) -> EmulatorState:
    from eksctl_ml.emulator import EmbeddedEmulator

    external = _external()
    if external:
        return external
    emulator = EmbeddedEmulator(emulator_state_dir(root))
    endpoint = emulator.start()
    info = emulator.status()
    return EmulatorState(True, endpoint, info.pid if info else None, log=str(emulator.log_file))


def status(root: Path) -> EmulatorState:
    from eksctl_ml.emulator import EmbeddedEmulator

    external = _external()
    if external:
        return external
    emulator = EmbeddedEmulator(emulator_state_dir(root))
    info = emulator.status()
    if info is None:
        return EmulatorState(False, None)
    return EmulatorState(True, info.endpoint, info.pid, log=str(emulator.log_file))


def stop(root: Path) -> bool:
    from eksctl_ml.emulator import EmbeddedEmulator

    return EmbeddedEmulator(emulator_state_dir(root)).stop()
