"""Contract of the Triton adapter (HTTP/gRPC via tritonclient)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class TritonClient(Protocol):
    """A running Triton server. Library exceptions become TritonError with the server's message."""

    def is_server_live(self) -> bool: ...

    def is_server_ready(self) -> bool: ...

    def is_model_ready(self, model: str, version: str = "") -> bool: ...

    def model_metadata(self, model: str) -> Mapping[str, Any]: ...

    def repository_index(self) -> list[Mapping[str, Any]]: ...
