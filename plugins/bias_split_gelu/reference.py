"""NumPy reference of com.microsoft BiasSplitGelu (ONNX Runtime has only a CUDA kernel), from
the contrib-op documentation: "after adding bias, hidden state is sliced into two tensors of
same size, then left tensor multiplies the Gelu activation result of right tensor". X [N, HW, D],
bias [D] -> Y [N, HW, D/2]; Gelu is the exact one, 0.5 v (1 + erf(v / sqrt 2)). Float64 with
math.erf; independent of the prototype in pyplugins/bias_split_gelu.py."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

_erf = np.frompyfunc(math.erf, 1, 1)


def reference(inputs: dict[str, np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    v = inputs["X"].astype(np.float64) + inputs["bias"].astype(np.float64)
    half = v.shape[-1] // 2
    left, right = v[..., :half], v[..., half:]
    gelu = 0.5 * right * (1.0 + _erf(right / math.sqrt(2.0)).astype(np.float64))
    return [left * gelu]
