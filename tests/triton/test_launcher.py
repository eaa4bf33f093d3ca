"""The test launcher itself: the model repository it writes and a clean stop, even after a SIGKILL."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.support.tritonserver import MODELS_SOURCE, start_tritonserver, write_test_models


def test_write_test_models_generates_the_onnx_file_outside_the_source_tree(triton_repository: Path) -> None:
    described = write_test_models(triton_repository.parent / "again")
    assert set(described) == {"mlp_onnx", "broken_init", "multi_io", "versioned"}
    onnx_file = triton_repository.parent / "again" / "mlp_onnx" / "1" / "model.onnx"
    assert onnx_file.read_bytes()[:2] == b"\x08\x08"  # protobuf field 1 (ir_version) = 8
    assert not list(MODELS_SOURCE.rglob("*.onnx"))  # generated at fixture time, never in the sources
    assert sorted(p.name for p in (triton_repository / "versioned").iterdir()) == ["1", "2", "config.pbtxt"]


def test_a_killed_server_leaves_no_shared_memory_after_stop(triton_repository: Path, tmp_path: Path) -> None:
    server = start_tritonserver(triton_repository, tmp_path, models=["versioned"])
    assert "Started HTTPService at 127.0.0.1" in server.log()
    regions = list(Path("/dev/shm").glob(f"{server.shm_prefix}*"))
    assert regions, "the python backend should hold shared memory while serving"
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait()
    server.stop()
    assert not [p for p in regions if p.exists()]
