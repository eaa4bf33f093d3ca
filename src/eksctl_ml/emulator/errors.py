"""Errors of the embedded AWS emulator: the project's EmulatorError, so the CLI edge reports them."""

from __future__ import annotations

from eksctl_ml.errors import EmulatorError

__all__ = ["EmulatorError"]
