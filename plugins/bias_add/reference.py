"""NumPy reference of com.microsoft BiasAdd (ONNX Runtime has only a CUDA kernel), from the
contrib-op documentation: "Add input with bias, then add residual inputs", Y = X + bias + skip,
X and skip [N, S, C], bias [C]. Float64; independent of the prototype in pyplugins/bias_add.py."""

from __future__ import annotations

from typing import Any

import numpy as np


def reference(inputs: dict[str, np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    x = inputs["X"].astype(np.float64)
    bias = inputs["bias"].astype(np.float64)
    skip = inputs["skip"].astype(np.float64)
    return [x + bias + skip]
