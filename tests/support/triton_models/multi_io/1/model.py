"""Triton python backend: several inputs and outputs of different datatypes.

total = sum(ids); scaled = ids * scale[0] + scale[1]; tag_upper = tag.upper(); count = len(ids).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def execute(self, requests: list[Any]) -> list[Any]:
        responses = []
        for request in requests:
            ids = pb_utils.get_input_tensor_by_name(request, "ids").as_numpy().astype(np.int64)
            scale = pb_utils.get_input_tensor_by_name(request, "scale").as_numpy().astype(np.float32)
            tag = pb_utils.get_input_tensor_by_name(request, "tag").as_numpy()
            upper = np.array([bytes(value).upper() for value in tag.reshape(-1)], dtype=np.object_)
            outputs = [
                pb_utils.Tensor("total", np.array([ids.sum()], dtype=np.int64)),
                pb_utils.Tensor("scaled", (ids.astype(np.float32) * scale[0] + scale[1]).astype(np.float32)),
                pb_utils.Tensor("tag_upper", upper),
                pb_utils.Tensor("count", np.array([ids.size], dtype=np.int32)),
            ]
            responses.append(pb_utils.InferenceResponse(output_tensors=outputs))
        return responses
