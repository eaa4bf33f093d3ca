"""Triton python backend: run ``model.onnx`` (next to this file) with onnxruntime on CPU."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args: dict[str, Any]) -> None:
        path = Path(args["model_repository"]) / args["model_version"] / "model.onnx"
        if not path.is_file():
            raise pb_utils.TritonModelException(f"ONNX file {path} is missing: generate it with write_test_models")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        self.output_name = self.session.get_outputs()[0].name

    def execute(self, requests: list[Any]) -> list[Any]:
        responses = []
        for request in requests:
            batch = pb_utils.get_input_tensor_by_name(request, "INPUT0").as_numpy().astype(np.float32)
            (result,) = self.session.run([self.output_name], {self.input_name: batch})
            output = pb_utils.Tensor("OUTPUT0", np.ascontiguousarray(result, dtype=np.float32))
            responses.append(pb_utils.InferenceResponse(output_tensors=[output]))
        return responses
