"""GatherBlockQuantized reference: ONNX Runtime's own CPU kernel, on the table as it takes it.

ONNX Runtime's uint8 kernel takes gather_axis 0 with quantize_axis last only; the plugin takes any
axes. For the other axes (bits 4) the same codes run as a uint4 table (ONNX's flat two-per-byte
layout), zero points as a uint4 tensor of the scales' shape, the uint8 default 8 written out (a
uint4 table's default is 0). Written apart from the prototype and the rewrite's repacking.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper

from trtplug.parity.ort_session import cpu_session


def _codes(packed: np.ndarray, bits: int) -> np.ndarray:
    """The codes of `packed` along its last axis, low bits of each byte first."""
    per_byte = 8 // bits
    columns = [(packed >> (bits * j)) & ((1 << bits) - 1) for j in range(per_byte)]
    return np.stack(columns, axis=-1).reshape(*packed.shape[:-1], packed.shape[-1] * per_byte)


def _uint4(name: str, codes: np.ndarray) -> onnx.TensorProto:
    flat = np.zeros(codes.size + codes.size % 2, dtype=np.uint8)
    flat[: codes.size] = codes.reshape(-1)
    raw = (flat[0::2] | (flat[1::2] << 4)).astype(np.uint8).tobytes()
    return helper.make_tensor(name, TensorProto.UINT4, codes.shape, raw, raw=True)


def _as_uint4_table(inputs: dict[str, np.ndarray], bits: int) -> dict[str, onnx.TensorProto]:
    if bits != 4:
        raise ValueError(
            f"GatherBlockQuantized reference: ONNX Runtime takes these axes only for 4-bit tables, not {bits}"
        )
    scales = inputs["scales"]
    zero = inputs.get("zero_points")
    zero_codes = _codes(zero, 4)[..., : scales.shape[-1]] if zero is not None else np.full(scales.shape, 8, np.uint8)
    return {"data": _uint4("data", _codes(inputs["data"], 4)), "zero_points": _uint4("zero_points", zero_codes)}


def _model(
    attrs: dict[str, Any], tables: dict[str, onnx.TensorProto], inputs: dict[str, np.ndarray]
) -> onnx.ModelProto:
    names = ["data", "indices", "scales"] + (["zero_points"] if "zero_points" in tables else [])
    node = helper.make_node("GatherBlockQuantized", names, ["output"], domain="com.microsoft", **attrs)
    feeds = [n for n in ("indices", "scales") if n not in tables]
    graph = helper.make_graph(
        [node],
        "gather_block_quantized_reference",
        [
            helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(inputs[n].dtype), inputs[n].shape)
            for n in feeds
        ],
        [helper.make_tensor_value_info("output", helper.np_dtype_to_tensor_dtype(inputs["scales"].dtype), None)],
        list(tables.values()),
    )
    opsets = [helper.make_opsetid("", 21), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=10)


def reference(inputs: dict[str, np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    bits = int(attrs.get("bits", 4))
    rank = inputs["data"].ndim
    gather, quantize = int(attrs.get("gather_axis", 0)) % rank, int(attrs.get("quantize_axis", 1)) % rank
    node_attrs = {k: int(v) for k, v in attrs.items() if k in ("bits", "block_size", "gather_axis", "quantize_axis")}
    if gather == 0 and quantize == rank - 1:
        tables = {n: onnx.numpy_helper.from_array(inputs[n], n) for n in ("data", "zero_points") if n in inputs}
    else:
        tables = _as_uint4_table(inputs, bits)
        node_attrs.pop("bits", None)
    model = _model(node_attrs, tables, inputs)
    indices = inputs["indices"]
    in_range = _in_range(indices, _gather_length(inputs["data"], gather, bits))
    feeds = {"indices": np.where(in_range, indices, 0).astype(indices.dtype), "scales": inputs["scales"]}
    (output,) = cpu_session(model.SerializeToString()).run(None, feeds)
    mask = in_range.reshape((1,) * gather + in_range.shape + (1,) * (output.ndim - gather - in_range.ndim))
    return [np.where(mask, output, 0).astype(output.dtype)]


def _gather_length(data: np.ndarray, gather: int, bits: int) -> int:
    """Codes along the gather axis (the last axis of a uint8 table packs 8 / bits codes a byte)."""
    return data.shape[gather] * (8 // bits if gather == data.ndim - 1 else 1)


def _in_range(indices: np.ndarray, length: int) -> np.ndarray:
    """Indices inside [-length, length). ONNX Runtime 1.32 gives zeros for the others; 1.30 (the
    GPU machine's) refuses them, so they run as index 0 here and their rows are zeroed after."""
    return (indices >= -length) & (indices < length)
