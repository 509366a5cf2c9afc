"""4-bit tables repacked for plugins that take uint8: TensorRT plugins take no ONNX INT4/UINT4
tensor (TensorRT 10 has kINT4 for its own weights only, and no unsigned 4-bit type), so a covered
node whose table is an INT4/UINT4 initializer is planned on a copy reading a uint8 repack of it.
The repack becomes part of the plan: it reaches the graph only when the node is replaced, and the
report lists it among the node's mapping lines.

com.microsoft GatherBlockQuantized (its plugin's uint8 form: plugins/gather_block_quantized/spec.toml):
int4 codes v become v + 8 and their zero points too, so (v - zp) is unchanged and int4's default
zero point 0 becomes the uint8 default 8; a uint4 table without zero points gets explicit zeros
(uint8's default is 8, uint4's 0). Codes are packed two a byte along the last axis where it has
an even length, else stored one a byte (bits 8) with explicit zero points.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from trtplug.protolib.packed_codes import pack_last_axis

from .attributes import NotRewritable
from .graph_view import GraphView, TensorType

_FOUR_BIT = {TensorProto.INT4: "int4", TensorProto.UINT4: "uint4"}


@dataclass
class Repacked:
    node: onnx.NodeProto  # a copy of the node reading the repacked tensors, planned instead of it
    tensors: list[onnx.TensorProto] = field(default_factory=list)  # initializers the plan adds
    released: list[str] = field(default_factory=list)  # tensors the node no longer reads
    notes: list[str] = field(default_factory=list)  # report lines
    set_attributes: list[str] = field(default_factory=list)  # attributes the repack chose, not the node


def _four_bit_table(view: GraphView, name: str, role: str) -> tuple[np.ndarray, bool] | None:
    """(codes as int16, signed) of an INT4/UINT4 initializer; None when `name` is not 4-bit;
    NotRewritable when it is 4-bit but computed at run time."""
    if view.dtype(name) not in _FOUR_BIT.values():
        return None
    tensor = view.initializers.get(name)
    if tensor is None:
        raise NotRewritable(f"{role} {name!r} is 4-bit and computed at run time; only 4-bit initializers are repacked")
    codes = numpy_helper.to_array(tensor, base_dir=view.base_dir or "").astype(np.int16)
    return codes, tensor.data_type == TensorProto.INT4


def _add(view: GraphView, out: Repacked, base: str, values: np.ndarray) -> str:
    name = view.fresh_name(base)
    out.tensors.append(numpy_helper.from_array(values, name))
    view.types[name] = TensorType(TensorProto.UINT8, tuple(values.shape))
    return name


def _gather_block_quantized(node: onnx.NodeProto, view: GraphView) -> Repacked | None:
    data = _four_bit_table(view, node.input[0], "data")
    if data is None:
        return None
    codes, signed = data
    scales_shape = view.shape(node.input[2])
    given_zero = node.input[3] if len(node.input) > 3 and node.input[3] else ""
    zero = _four_bit_table(view, given_zero, "zero_points") if given_zero else None
    if given_zero and zero is None:
        raise NotRewritable(f"zero_points {given_zero!r} is {view.dtype(given_zero)}, data is 4-bit")
    offset = 8 if signed else 0  # int4 codes v -> v + 8 in [0, 16): uint8's default zero point is then int4's 0
    if zero is not None:
        zero_codes = zero[0] + offset
    elif scales_shape is None or not all(isinstance(d, int) for d in scales_shape):
        raise NotRewritable(f"scales {node.input[2]!r} has no static shape for the repacked zero points")
    else:
        zero_codes = np.full(scales_shape, offset, np.int16)
    packed = codes.shape[-1] % 2 == 0  # else one code a byte: the packed axis would gain a code
    bits = 4 if packed else 8
    out = Repacked(helper.make_node(node.op_type, [], node.output, name=node.name, domain=node.domain))
    kind = _FOUR_BIT[TensorProto.INT4 if signed else TensorProto.UINT4]
    table = pack_last_axis(np, codes + offset, 4) if packed else (codes + offset).astype(np.uint8)
    inputs = [_add(view, out, f"{node.input[0]}_uint8", table), node.input[1], node.input[2]]
    # uint4 codes with zero points 0, or any table stored a code a byte, need explicit zero points.
    if zero is not None or not signed or not packed:
        zeros = pack_last_axis(np, zero_codes, 4) if packed else zero_codes.astype(np.uint8)
        inputs.append(_add(view, out, f"{given_zero or node.input[0]}_zero_points_uint8", zeros))
    out.node.input.extend(inputs)
    out.node.attribute.extend(a for a in node.attribute if a.name != "bits")
    out.node.attribute.append(helper.make_attribute("bits", bits))
    out.set_attributes = ["bits"]
    out.released = [n for n in (node.input[0], given_zero) if n]
    layout = "2 codes a byte along the last axis" if packed else "1 code a byte (odd last axis), bits=8"
    out.notes.append(
        f"{node.input[0]}: {kind} {list(codes.shape)} repacked to uint8 {list(table.shape)} as {inputs[0]} "
        f"({layout}{', codes + 8' if signed else ''}; TensorRT plugins take no 4-bit tensors)"
    )
    if len(inputs) > 3:
        origin = f"{kind} {given_zero}" if given_zero else f"{kind}'s default 0"
        out.notes.append(f"{inputs[3]}: zero points from {origin}, uint8 {list(np.shape(zeros))}")
    return out


def _qmoe_e8m0_scales(node: onnx.NodeProto, view: GraphView) -> Repacked | None:
    """com.microsoft QMoE with MXFP4 experts (quant_type fp4): its FLOAT8E8M0 block scales (inputs 3,
    6, 9) read as uint8 copies of the same bytes (TensorRT has no E8M0 type; the plugin decodes the
    bytes, plugins/qmoe/spec.toml)."""
    positions = [i for i in (3, 6, 9) if i < len(node.input) and node.input[i]]
    if not any(view.dtype(node.input[i]) == "float8e8m0" for i in positions):
        return None
    out = Repacked(onnx.NodeProto())
    out.node.CopyFrom(node)
    for i in positions:
        name = node.input[i]
        if view.dtype(name) != "float8e8m0":
            continue
        tensor = view.initializers.get(name)
        if tensor is None:
            raise NotRewritable(f"scales {name!r} are float8e8m0 and computed at run time; only initializers are read")
        raw = numpy_helper.to_array(tensor, base_dir=view.base_dir or "").view(np.uint8)
        out.node.input[i] = _add(view, out, f"{name}_uint8", raw)
        out.released.append(name)
        out.notes.append(f"{name}: float8e8m0 {list(raw.shape)} read as uint8 {out.node.input[i]} (same bytes)")
    return out


REPACKERS: dict[tuple[str, str], Callable[[onnx.NodeProto, GraphView], Repacked | None]] = {
    ("com.microsoft", "GatherBlockQuantized"): _gather_block_quantized,
    ("com.microsoft", "QMoE"): _qmoe_e8m0_scales,
}


def repack_four_bit_inputs(node: onnx.NodeProto, view: GraphView) -> Repacked | None:
    """The node reading uint8 repacks of its 4-bit tables, or None when it reads none."""
    repacker = REPACKERS.get((node.domain, node.op_type))
    return repacker(node, view) if repacker is not None else None
