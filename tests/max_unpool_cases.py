"""MaxUnpool test inputs and the NumPy reference shared by tests/test_max_unpool.py, the host
emulation's test and the GPU pair-kernel tests."""

from __future__ import annotations

import math

import numpy as np


def indices_with_strays(rng, x_shape, out_spatial) -> tuple[np.ndarray, tuple[int, ...]]:
    """Flat indices into (N, C, *out_spatial): each x element points into its own window (out / in
    long per axis), then a fifth of them at distinct unused positions anywhere in the tensor (outside
    their window, as ONNX allows) and a twentieth outside the tensor (-1 or past its end)."""
    ratio = [o // i for o, i in zip(out_spatial, x_shape[2:], strict=True)]
    coords = np.indices(x_shape)
    own = [coords[2 + d] * ratio[d] + rng.integers(0, ratio[d], x_shape) for d in range(len(ratio))]
    out_shape = (*x_shape[:2], *out_spatial)
    flat = np.ravel_multi_index((coords[0], coords[1], *own), out_shape).reshape(-1)
    total = math.prod(out_shape)
    strays = rng.random(flat.size) < 0.2
    unused = np.setdiff1d(np.arange(total), flat)
    flat[strays] = rng.choice(unused, min(int(strays.sum()), unused.size), replace=False)
    outside = rng.random(flat.size) < 0.05
    flat[outside] = np.where(rng.random(int(outside.sum())) < 0.5, -1, total + 7)
    return flat.reshape(x_shape), out_shape


def unpool_reference(values: np.ndarray, indices: np.ndarray, inferred, out) -> np.ndarray:
    """y as ai.onnx MaxUnpool defines it, in values' dtype: x scattered to its indices in the
    inferred tensor, which sits at the start of the output; indices outside that tensor skipped
    (duplicates must carry equal values, as MaxPool's do)."""
    flat = np.zeros(math.prod(inferred), values.dtype)
    indices = indices.reshape(-1)
    valid = (indices >= 0) & (indices < flat.size)
    flat[indices[valid]] = values.reshape(-1)[valid]
    y = np.zeros(tuple(out), values.dtype)
    y[tuple(slice(0, n) for n in inferred)] = flat.reshape(inferred)
    return y
