"""Write the test MLP as ONNX with ``onnx.helper``: FP32 [N, 4] -> Relu(x W1 + b1) W2 + b2 -> FP32 [N, 3].

Run as ``python make_mlp_onnx.py OUT.onnx [hidden]`` (any Python with onnx and numpy); weights are
seeded, so the file is the same on every run. Nothing is downloaded, and ``*.onnx`` stays out of git.
"""

from __future__ import annotations

import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

IN_FEATURES, OUT_FEATURES = 4, 3


def build(hidden: int = 16) -> onnx.ModelProto:
    rng = np.random.default_rng(1234)
    weights = {
        "W1": rng.standard_normal((IN_FEATURES, hidden)).astype(np.float32),
        "b1": rng.standard_normal(hidden).astype(np.float32),
        "W2": rng.standard_normal((hidden, OUT_FEATURES)).astype(np.float32),
        "b2": rng.standard_normal(OUT_FEATURES).astype(np.float32),
    }
    nodes = [
        helper.make_node("MatMul", ["input", "W1"], ["h0"]),
        helper.make_node("Add", ["h0", "b1"], ["h1"]),
        helper.make_node("Relu", ["h1"], ["h2"]),
        helper.make_node("MatMul", ["h2", "W2"], ["h3"]),
        helper.make_node("Add", ["h3", "b2"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", IN_FEATURES])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", OUT_FEATURES])],
        initializer=[numpy_helper.from_array(value, name) for name, value in weights.items()],
    )
    # opset 13 / IR 8: old enough for any onnxruntime a Triton image ships
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="mlplat-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


if __name__ == "__main__":
    hidden = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    onnx.save(build(hidden), sys.argv[1])
