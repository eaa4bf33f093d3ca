"""Generate the ONNX files of the example model repository (``examples/model-repository``).

``mlp_onnx/1/model.onnx`` is a small MLP built with ``onnx.helper``: FP32 ``INPUT0`` [batch, 4] ->
Relu(x W1 + b1) W2 + b2 -> FP32 ``OUTPUT0`` [batch, 3]. The weights come from a seeded generator, so the
file is byte-for-byte the same on every run; nothing is downloaded. ``*.onnx`` stays out of git.

    python scripts/make_example_models.py                       # writes examples/model-repository/...
    python scripts/make_example_models.py --repository DIR --version 2 --seed 7   # another version

Needs the ``onnx`` and ``numpy`` packages (``pip install onnx``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_REPOSITORY = REPO / "examples" / "model-repository"
MODEL = "mlp_onnx"
IN_FEATURES, HIDDEN, OUT_FEATURES = 4, 16, 3
# Opset 13 / IR 8: old enough for the onnxruntime of any Triton release mlplat deploys.
OPSET, IR_VERSION = 13, 8


def build_mlp(seed: int = 0, hidden: int = HIDDEN) -> object:
    """The example MLP as an ``onnx.ModelProto`` (checked with ``onnx.checker``)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    weights = {
        "W1": rng.standard_normal((IN_FEATURES, hidden)).astype(np.float32),
        "b1": rng.standard_normal(hidden).astype(np.float32),
        "W2": rng.standard_normal((hidden, OUT_FEATURES)).astype(np.float32),
        "b2": rng.standard_normal(OUT_FEATURES).astype(np.float32),
    }
    nodes = [
        helper.make_node("MatMul", ["INPUT0", "W1"], ["h0"]),
        helper.make_node("Add", ["h0", "b1"], ["h1"]),
        helper.make_node("Relu", ["h1"], ["h2"]),
        helper.make_node("MatMul", ["h2", "W2"], ["h3"]),
        helper.make_node("Add", ["h3", "b2"], ["OUTPUT0"]),
    ]
    # Tensor names match config.pbtxt: Triton's onnxruntime backend binds inputs and outputs by name.
    graph = helper.make_graph(
        nodes,
        MODEL,
        [helper.make_tensor_value_info("INPUT0", TensorProto.FLOAT, ["batch", IN_FEATURES])],
        [helper.make_tensor_value_info("OUTPUT0", TensorProto.FLOAT, ["batch", OUT_FEATURES])],
        initializer=[numpy_helper.from_array(value, name) for name, value in weights.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="mlplat-examples")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def write_mlp(repository: Path, version: int = 1, seed: int = 0) -> Path:
    """Write ``<repository>/mlp_onnx/<version>/model.onnx``; returns its path."""
    import onnx

    target = repository / MODEL / str(version) / "model.onnx"
    target.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(build_mlp(seed), str(target))  # type: ignore[arg-type]
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repository", type=Path, default=DEFAULT_REPOSITORY, help="model repository folder")
    parser.add_argument("--version", type=int, default=1, help="version folder to write (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="weight seed (another seed, other answers)")
    args = parser.parse_args(argv)
    if args.version < 1:
        parser.error("--version must be a positive integer (Triton ignores other folders)")
    try:
        path = write_mlp(args.repository, args.version, args.seed)
    except ImportError as exc:
        print(f"error: {exc.name or 'onnx'} is not installed; pip install onnx", file=sys.stderr)
        return 2
    print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
