"""QMoE reference: ONNX Runtime's CPU kernels, on the inputs as given where ONNX Runtime's QMoE
computes float32 math on the dequantized weights, else on weights dequantized here.

Each case takes one of three paths (`path(inputs, attrs)` names it):

- "qmoe": ONNX Runtime's CPU QMoE on the inputs as given (weights, scales, zero points and biases
  as initializers; accuracy_level and weights_prepacked left out: 0 and, on the CPU, the raw layout;
  ONNX Runtime 1.32 or later, the release measured). Taken when both
  projections have one bit width (ONNX Runtime 1.32's CPU kernel refuses mixed widths) of a form
  it computes in float32 on the dequantized weights (equal to float32 MoE on them to ~1e-7):
  4 bits (column-wise or any block size), 8 bits column-wise, 2 bits column-wise or in blocks of
  16; with no fc3 (its CPU kernel implements no fc3 gating); swiglu only with swiglu_fusion 1 (the
  only form it takes); and with router_weights or normalize_routing_weights 1 (without
  router_weights it divides the softmax weights by their sum whatever normalize_routing_weights
  says: measured, tests/test_qmoe.py; the op's contract, as MoE's, follows the attribute).
- "moe": ONNX Runtime's CPU MoE (float) on weights this file dequantizes (float64, then float32):
  the forms ONNX Runtime's QMoE lowers (8 bits in blocks: int8 activations at every accuracy
  level; 2 bits in blocks of 32 and more: ~1e-3 off) or refuses (mixed widths), softmax weights
  not normalized, and swiglu with swiglu_fusion 2 (halves) or 0 (fc3 the linear half), rearranged
  into fusion 1's interleaved rows (the only form ONNX Runtime's CPU MoE takes), as
  tests/test_moe.py does. Not with router_weights (ONNX Runtime's MoE has no such input).
- "numpy": MoE's float64 loop over tokens and their experts (plugins/moe/reference.py), on the
  same dequantized weights: geglu (CUDA-only in ONNX Runtime), the gated form of the other
  activations (act(fc1) * fc3, which neither of ONNX Runtime's CPU kernels implements) and
  router_weights where ONNX Runtime's QMoE is not exact. The routing rule is ONNX
  Runtime's as measured (tests/test_qmoe.py): the k largest router_probs (ties: the higher
  expert), mixing weights softmax(router_probs) or, given, router_weights at those experts (no
  softmax), divided by their sum when normalize_routing_weights; a route whose weight is not
  positive adds nothing.

quant_type "fp4" (MXFP4; ONNX Runtime runs it on CUDA only) never takes "qmoe": its weights are
dequantized here in float64 from the documented formats (OCP Microscaling: FP4 E2M1 codes, bit 3
the sign, magnitudes 0, 0.5, 1, 1.5, 2, 3, 4, 6; one E8M0 scale 2^(e - 127) per 32 values along K,
e = 255 NaN; times the per-expert float32 global scale) in GenAI's layout (codes [E, K, N / 2], the
even output column in the low nibble; scales [E, N, K / 32]), then "moe" or "numpy" as above.

Written apart from the prototype (pyplugins/qmoe.py): its own unpacking, dequantization and
routing.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from trtplug.parity.ort_session import cpu_session
from trtplug.parity.reference import _numpy_reference_module, onnxruntime_version
from trtplug.spec import load_spec

NAMES = [t.name for t in load_spec(Path(__file__).resolve().parent / "spec.toml").inputs]  # the node's order
RUNTIME_INPUTS = ("input", "router_probs", "router_weights")  # graph inputs; the rest initializers
REQUIRED = ("input", "router_probs")  # present even when empty (no tokens); absent optional inputs are empty
MOE_ATTRS = (
    "activation_alpha",
    "activation_beta",
    "activation_type",
    "k",
    "normalize_routing_weights",
    "swiglu_fusion",
)


def _given(inputs: dict[str, np.ndarray], name: str) -> bool:
    return name in inputs and inputs[name] is not None and inputs[name].size > 0


def bits_of(attrs: dict[str, Any], projection: str) -> int:
    """The projection's bit width: fc*_expert_weight_bits when set (not 0), else expert_weight_bits."""
    return int(attrs.get(f"{projection}_expert_weight_bits", 0) or attrs.get("expert_weight_bits", 4))


def unpack(packed: np.ndarray, bits: int, count: int) -> np.ndarray:
    """The first `count` codes along the last axis of uint8 `packed`, low bits of each byte first."""
    per_byte = 8 // bits
    codes = np.empty((*packed.shape[:-1], packed.shape[-1] * per_byte), dtype=np.int64)
    for j in range(per_byte):
        codes[..., j::per_byte] = (packed.astype(np.int64) >> (bits * j)) & ((1 << bits) - 1)
    return codes[..., :count]


def is_mxfp4(attrs: dict[str, Any]) -> bool:
    quant = attrs.get("quant_type", "int")
    return (quant.decode() if isinstance(quant, bytes) else str(quant)) == "fp4"


def e2m1(codes: np.ndarray) -> np.ndarray:
    """FP4 E2M1 codes as float64: sign bit 3, exponent bits 2-1 (bias 1), mantissa bit 0; exponent 0
    is subnormal (0 or 0.5)."""
    exponent, mantissa = (codes >> 1) & 3, (codes & 1).astype(np.float64)
    magnitude = np.where(exponent == 0, 0.5 * mantissa, (1.0 + 0.5 * mantissa) * np.exp2(exponent - 1.0))
    return np.where(codes & 8, -magnitude, magnitude)


def e8m0(scales: np.ndarray) -> np.ndarray:
    """E8M0 bytes as float64: 2^(e - 127), 255 NaN."""
    e = scales.astype(np.int64)
    return np.where(e == 255, np.nan, np.exp2(e - 127.0))


def dequantize_mxfp4(inputs: dict[str, np.ndarray], projection: str) -> np.ndarray:
    """MXFP4 fc*_experts_weights [E, K, N / 2] as float64 [E, N, K]."""
    packed = inputs[f"{projection}_experts_weights"].astype(np.int64)
    experts, k, half = packed.shape
    codes = np.empty((experts, k, 2 * half), dtype=np.int64)
    codes[..., 0::2], codes[..., 1::2] = packed & 15, packed >> 4  # even column: the low nibble
    scale = e8m0(inputs[f"{projection}_scales"].view(np.uint8))  # [E, N, K / 32]
    weights = e2m1(codes).transpose(0, 2, 1) * np.repeat(scale, 32, axis=2)
    glob = inputs.get(f"{projection}_global_scale")
    if glob is not None and glob.size:
        weights = weights * glob.astype(np.float64)[:, None, None]
    return weights


def dequantize(inputs: dict[str, np.ndarray], attrs: dict[str, Any], projection: str) -> np.ndarray:
    """fc*_experts_weights as float64 [E, N, K]: (code - zero point) * scale per block of K
    (block_size > 0) or per column N (block_size 0); MXFP4's (module docstring) for quant_type fp4."""
    if is_mxfp4(attrs):
        return dequantize_mxfp4(inputs, projection)
    packed = inputs[f"{projection}_experts_weights"]
    scales = inputs[f"{projection}_scales"].astype(np.float64)
    zero_points = inputs.get(f"{projection}_zero_points")
    bits, block = bits_of(attrs, projection), int(attrs.get("block_size", 0))
    experts, rows = packed.shape[:2]
    k = packed.shape[2] * 8 // bits
    codes = unpack(packed, bits, k).astype(np.float64)
    if block > 0:
        blocks = k // block
        zero = (
            unpack(zero_points, bits, blocks).astype(np.float64)
            if zero_points is not None and zero_points.size
            else np.full((experts, rows, blocks), 2.0 ** (bits - 1))
        )
        scale = scales.reshape(experts, rows, blocks)
        return ((codes.reshape(experts, rows, blocks, block) - zero[..., None]) * scale[..., None]).reshape(
            experts, rows, k
        )
    zero = (
        unpack(zero_points, bits, rows).astype(np.float64)
        if zero_points is not None and zero_points.size
        else np.full((experts, rows), 2.0 ** (bits - 1))
    )
    return (codes - zero[..., None]) * scales.reshape(experts, rows)[..., None]


def exact_in_qmoe(bits: int, block: int) -> bool:
    """ONNX Runtime 1.32's CPU QMoE computes this projection form in float32 on its dequantized
    weights (measured: tests/test_qmoe.py holds the list)."""
    return bits == 4 or (bits == 8 and block == 0) or (bits == 2 and block in (0, 16))


def path(inputs: dict[str, np.ndarray], attrs: dict[str, Any]) -> str:
    """The path the reference takes for these inputs: "qmoe", "moe" or "numpy" (module docstring)."""
    block = int(attrs.get("block_size", 0))
    swiglu = str(attrs.get("activation_type", "relu")) == "swiglu"
    fc3 = _given(inputs, "fc3_experts_weights")
    router_weights = _given(inputs, "router_weights")
    bits = {bits_of(attrs, p) for p in ("fc1", "fc2")}
    exact = len(bits) == 1 and exact_in_qmoe(bits.pop(), block)
    normalized = router_weights or int(attrs.get("normalize_routing_weights", 0))
    if str(attrs.get("activation_type")) == "geglu":
        return "numpy"  # CUDA-only in ONNX Runtime
    measured = onnxruntime_version() >= (1, 32)  # the release whose exactness tests/test_qmoe.py measured
    if (
        measured
        and exact
        and not is_mxfp4(attrs)
        and normalized
        and not fc3
        and (not swiglu or int(attrs.get("swiglu_fusion", 0)) == 1)
    ):
        return "qmoe"
    if router_weights or (fc3 and not swiglu):
        return "numpy"
    return "moe"


def reference(inputs: dict[str, np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    x = inputs["input"]
    run = {"qmoe": run_qmoe, "moe": run_moe, "numpy": run_numpy}[path(inputs, attrs)]
    return [run(inputs, attrs).reshape(x.shape).astype(np.float32)]


def _model(op: str, node_attrs: dict[str, Any], names: list[str], tensors: dict[str, np.ndarray]) -> onnx.ModelProto:
    while names and names[-1] == "":
        names.pop()
    node = helper.make_node(op, names, ["output"], domain="com.microsoft", **node_attrs)
    graph = helper.make_graph(
        [node],
        f"{op.lower()}_reference",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, tensors[n].shape) for n in names if n in RUNTIME_INPUTS],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(tensors[n], n) for n in names if n and n not in RUNTIME_INPUTS],
    )
    opsets = [helper.make_opsetid("", 21), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=10)


def _run(model: onnx.ModelProto, tensors: dict[str, np.ndarray]) -> np.ndarray:
    feeds = {i.name: tensors[i.name] for i in model.graph.input}
    return cpu_session(model.SerializeToString()).run(None, feeds)[0]


def _float32(array: np.ndarray) -> np.ndarray:
    return array.astype(np.float32) if array.dtype.kind == "f" else array


def _routing_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    out = {n: attrs[n] for n in MOE_ATTRS if n in attrs}
    if "swiglu_limit" in attrs:
        out["swiglu_limit"] = float(attrs["swiglu_limit"])
    return out


def run_qmoe(inputs: dict[str, np.ndarray], attrs: dict[str, Any]) -> np.ndarray:
    """ONNX Runtime's CPU QMoE on the inputs as given (float32 activations and scales)."""
    node_attrs = {
        **_routing_attrs(attrs),
        "expert_weight_bits": int(attrs.get("expert_weight_bits", 4)),
        "quant_type": "int",
    }
    for p in ("fc1", "fc2", "fc3"):
        if int(attrs.get(f"{p}_expert_weight_bits", 0)):
            node_attrs[f"{p}_expert_weight_bits"] = int(attrs[f"{p}_expert_weight_bits"])
    if int(attrs.get("block_size", 0)) > 0:
        node_attrs["block_size"] = int(attrs["block_size"])
    tensors = {n: _float32(inputs[n]) for n in NAMES if n in REQUIRED or _given(inputs, n)}
    return _run(_model("QMoE", node_attrs, [n if n in tensors else "" for n in NAMES], tensors), tensors)


def _interleave(gate: np.ndarray, linear: np.ndarray) -> np.ndarray:
    """Rows g0, l0, g1, l1, ... (swiglu_fusion 1) from [E, I, ...] gate and linear rows."""
    out = np.empty((gate.shape[0], 2 * gate.shape[1], *gate.shape[2:]), dtype=gate.dtype)
    out[:, 0::2], out[:, 1::2] = gate, linear
    return out


def float_weights(inputs: dict[str, np.ndarray], attrs: dict[str, Any]) -> dict[str, np.ndarray]:
    """The projections as float MoE takes them: weights dequantized here (float64, then float32),
    biases; absent ones left out."""
    out = {}
    for p in ("fc1", "fc2", "fc3"):
        if _given(inputs, f"{p}_experts_weights"):
            out[f"{p}_experts_weights"] = dequantize(inputs, attrs, p).astype(np.float32)
            if _given(inputs, f"{p}_experts_bias"):
                out[f"{p}_experts_bias"] = inputs[f"{p}_experts_bias"].astype(np.float32)
    return out


def _as_fusion_1(w: dict[str, np.ndarray], attrs: dict[str, Any]) -> dict[str, np.ndarray]:
    """swiglu's fc1 (and fc3) rearranged into fusion 1's interleaved gate/linear rows."""
    fusion = int(attrs.get("swiglu_fusion", 0))
    if fusion == 1:
        return w
    if fusion == 2:
        parts = {n: np.split(w[f"fc1_experts_{n}"], 2, axis=1) for n in ("weights", "bias") if f"fc1_experts_{n}" in w}
    else:  # fusion 0: fc1 the gate, fc3 the linear half
        parts = {"weights": (w["fc1_experts_weights"], w["fc3_experts_weights"])}
        if "fc1_experts_bias" in w or "fc3_experts_bias" in w:
            rows = w["fc1_experts_weights"].shape[:2]
            parts["bias"] = tuple(w.get(f"fc{i}_experts_bias", np.zeros(rows, np.float32)) for i in (1, 3))
    fused = {k: v for k, v in w.items() if k.startswith("fc2")}
    fused.update({f"fc1_experts_{n}": _interleave(*pair) for n, pair in parts.items()})
    return fused


def run_moe(inputs: dict[str, np.ndarray], attrs: dict[str, Any]) -> np.ndarray:
    """ONNX Runtime's CPU MoE (float) on the weights dequantized here, swiglu as fusion 1."""
    w = float_weights(inputs, attrs)
    node_attrs = _routing_attrs(attrs)
    if str(attrs.get("activation_type", "relu")) == "swiglu":
        w = _as_fusion_1(w, attrs)
        node_attrs["swiglu_fusion"] = 1
    tensors = {"input": _float32(inputs["input"]), "router_probs": _float32(inputs["router_probs"]), **w}
    names = ["input", "router_probs"] + [
        n if n in tensors else ""
        for n in ("fc1_experts_weights", "fc1_experts_bias", "fc2_experts_weights", "fc2_experts_bias")
    ]
    return _run(_model("MoE", node_attrs, names, tensors), tensors)


def run_numpy(inputs: dict[str, np.ndarray], attrs: dict[str, Any]) -> np.ndarray:
    """Token by token, expert by expert, in float64 on the weights dequantized here."""
    tensors = {n: inputs[n] for n in RUNTIME_INPUTS if n in inputs}
    return _moe_reference().mixture({**tensors, **float_weights(inputs, attrs)}, attrs)


def _moe_reference() -> ModuleType:
    """MoE's float64 loop (plugins/moe/reference.py), beside this file in source and installed trees."""
    return _numpy_reference_module(Path(__file__).resolve().parent.parent / "moe" / "reference.py")
