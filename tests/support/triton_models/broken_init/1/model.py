"""Triton python backend: a model that cannot start, as a model with a missing weights file would."""

from __future__ import annotations

from typing import Any

BROKEN_MESSAGE = "broken_init: weights file weights.bin is missing from the model repository"


class TritonPythonModel:
    def initialize(self, args: dict[str, Any]) -> None:
        raise RuntimeError(BROKEN_MESSAGE)

    def execute(self, requests: list[Any]) -> list[Any]:  # pragma: no cover - never loads
        raise RuntimeError(BROKEN_MESSAGE)
