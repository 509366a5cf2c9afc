"""Reference for ai.onnx Unique: onnx.reference's Unique, with its unsorted order corrected.

onnx.reference computes the sorted result with np.unique (the op's definition). For sorted = 0 it
builds Y with np.take(x, indices, axis=0), which is right only for 1-D flattened inputs and
axis 0 (onnx 1.23: a flattened X of rank > 1 raises IndexError, axis 1 gathers the wrong axis).
So this runs onnx.reference with sorted = 1 and reorders the groups by first occurrence itself,
as the ONNX documentation defines it. The tests cross-check it against ONNX Runtime (CPU), which
has float32 and int64 kernels (no int32) and aborts on slices of zero elements.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from onnx import helper
from onnx.reference import ReferenceEvaluator

from trtplug.protolib.axes import AXIS_ABSENT as FLATTEN  # the spec's default axis: absent


def _sorted_unique(x: np.ndarray, axis: int | None) -> list[np.ndarray]:
    attrs = {"sorted": 1} if axis is None else {"sorted": 1, "axis": axis}
    node = helper.make_node("Unique", ["X"], ["Y", "indices", "inverse_indices", "counts"], **attrs)
    elem = helper.np_dtype_to_tensor_dtype(x.dtype)
    graph = helper.make_graph(
        [node],
        "unique_reference",
        [helper.make_tensor_value_info("X", elem, x.shape)],
        [helper.make_tensor_value_info(n, elem if n == "Y" else 7, None) for n in node.output],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)], ir_version=10)
    return [np.asarray(a) for a in ReferenceEvaluator(model).run(None, {"X": x})]


def reference(inputs: dict[str, np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    x = inputs["X"]
    axis = attrs["axis"]
    axis = None if axis == FLATTEN else axis
    y, indices, inverse, counts = _sorted_unique(x, axis)
    if attrs["sorted"]:
        return [y, indices, inverse, counts]
    order = np.argsort(indices, kind="stable")  # groups by first occurrence
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    source = x.reshape(-1) if axis is None else x
    y = np.take(source, indices[order], axis=0 if axis is None else axis)
    return [y, indices[order], rank[inverse].astype(np.int64), counts[order]]
