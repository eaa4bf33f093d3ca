"""Contract of the Triton adapter: one running Triton server, spoken to over HTTP (KServe v2 protocol).

Every method raises :class:`eksctl_ml.errors.TritonError` when the server cannot be reached or answers
with an error; the error's message carries the server's own words (``failed to load 'mlp': ...``).
Readiness probes (``is_*``) return False for "not ready" and raise only when the server is unreachable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class TritonEndpoint:
    """Where a Triton server answers: ``url`` is ``http(s)://host:port[/base-path]``.

    Through the Kubernetes API server's service proxy the base path is
    ``/api/v1/namespaces/<ns>/services/<svc>:http/proxy`` and ``headers`` carry the bearer token.
    ``metrics_url`` is the Prometheus metrics endpoint (``.../metrics`` on port 8002), when reachable.
    """

    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    ca_file: str | None = None
    verify_tls: bool = True
    metrics_url: str | None = None
    timeout_s: float = 30.0


@dataclass(frozen=True)
class ModelState:
    """One entry of the repository index."""

    name: str
    version: str
    state: str
    """READY, UNAVAILABLE, LOADING, UNLOADING, or "" for a model that was never loaded."""
    reason: str = ""


@dataclass(frozen=True)
class Tensor:
    """An inference input or output: name, KServe datatype (``FP32``, ``INT64``, ``BYTES``...), shape, data."""

    name: str
    datatype: str
    shape: tuple[int, ...]
    data: Any = None
    """A numpy array (inputs: what is sent; outputs: what came back)."""


class TritonClient(Protocol):
    """A running Triton server."""

    @property
    def endpoint(self) -> TritonEndpoint: ...

    def is_server_live(self) -> bool: ...

    def is_server_ready(self) -> bool: ...

    def is_model_ready(self, model: str, version: str = "") -> bool: ...

    def model_metadata(self, model: str, version: str = "") -> Mapping[str, Any]:
        """``{"name", "versions", "platform", "inputs": [{"name","datatype","shape"}], "outputs": [...]}``."""
        ...

    def model_config(self, model: str, version: str = "") -> Mapping[str, Any]:
        """The model's configuration as JSON (``max_batch_size``, ``input``, ``output``...)."""
        ...

    def repository_index(self) -> list[ModelState]: ...

    def load_model(self, model: str) -> None:
        """Load (or reload, re-reading the repository) ``model``; returns once Triton answered."""
        ...

    def unload_model(self, model: str) -> None: ...

    def infer(self, model: str, inputs: Sequence[Tensor], outputs: Sequence[str], version: str = "") -> list[Tensor]:
        """One inference request; returns the requested outputs with the shapes/datatypes the server sent."""
        ...

    def metrics_text(self) -> str:
        """The Prometheus text exposition of the metrics endpoint (TritonError when there is none)."""
        ...
