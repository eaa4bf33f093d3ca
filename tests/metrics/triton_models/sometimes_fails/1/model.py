"""Triton python backend: echo ``x`` as ``y``; a negative ``x`` makes ``execute`` raise.

Triton 2.51 counts a raised execute in ``nv_inference_request_failure{reason="BACKEND"}``; an
``InferenceResponse(error=...)`` would still count as a success, so the model raises.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def execute(self, requests: list[Any]) -> list[Any]:
        responses = []
        for request in requests:
            x = pb_utils.get_input_tensor_by_name(request, "x").as_numpy().astype(np.float32)
            if float(x.reshape(-1)[0]) < 0:
                raise pb_utils.TritonModelException("sometimes_fails: x must not be negative")
            responses.append(pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor("y", x)]))
        return responses
