"""A real tritonserver (CPU, python backend) with the test model repository, shared by the Triton tests.

``triton_server``: mlp_onnx, multi_io and versioned loaded, ready. ``broken_triton``: broken_init loaded
(it fails in initialize, so the server is live but not ready) next to a good mlp_onnx.
Skipped with the reason when scripts/setup.sh did not install the server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from eksctl_ml.adapters.triton.client import HttpTritonClient
from eksctl_ml.adapters.triton.protocol import TritonEndpoint
from tests.support.tritonserver import (
    NOT_INSTALLED,
    TritonServer,
    start_tritonserver,
    triton_install,
    write_test_models,
)

GOOD_MODELS = ("mlp_onnx", "multi_io", "versioned")


@pytest.fixture(scope="session")
def triton_repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if triton_install() is None:
        pytest.skip(NOT_INSTALLED)
    repository = tmp_path_factory.mktemp("triton") / "models"
    write_test_models(repository)
    return repository


@pytest.fixture(scope="session")
def triton_server(triton_repository: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TritonServer]:
    server = start_tritonserver(triton_repository, tmp_path_factory.mktemp("triton-good"), models=GOOD_MODELS)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def broken_triton(triton_repository: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TritonServer]:
    server = start_tritonserver(
        triton_repository, tmp_path_factory.mktemp("triton-broken"), models=("broken_init", "mlp_onnx")
    )
    yield server
    server.stop()


@pytest.fixture
def triton(triton_server: TritonServer) -> Iterator[HttpTritonClient]:
    """The adapter on the good server, with its metrics endpoint."""
    with HttpTritonClient(TritonEndpoint(triton_server.http_url, metrics_url=triton_server.metrics_url)) as client:
        yield client
