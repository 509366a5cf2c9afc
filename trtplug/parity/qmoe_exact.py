"""QMoE nodes ONNX Runtime's CPU kernel computes approximately, run exactly for model parity.

ONNX Runtime's CPU QMoE quantizes the activations to int8 for 8-bit experts in blocks (it has no
float32 kernel for them), is ~1e-3 off for 2-bit experts in blocks of 32 and more, refuses mixed
widths, and at accuracy_level >= 2 lowers 4-bit precision the same way (measured:
tests/test_qmoe.py). The plugins compute float32 on the dequantized weights, as ONNX Runtime's CUDA
kernel does. So the original model's reference runs such a node as ONNX Runtime's float MoE on
weights dequantized by QMoE's reference (plugins/qmoe/reference.py, itself held to ONNX Runtime's
exact QMoE forms): the same op, exact. Only top-level nodes whose weights are initializers, in
the forms ONNX Runtime's CPU MoE takes (swiglu with fusion 1, other activations without fc3, no
router_weights), below a size cap (the float weights go into the in-memory model).

MXFP4 experts (quant_type fp4, GenAI's moe_quant_type=mxfp4 builds) ONNX Runtime runs on CUDA only:
the reference dequantizes them from the documented formats (plugins/qmoe/reference.py), and they
are run the same way; the MoE's weights take the node's activation type."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from trtplug.parity.reference import _numpy_reference_module
from trtplug.registry import builtin_plugins_dir
from trtplug.spec import load_spec

MAX_FLOAT_BYTES = 1 << 30  # float weights added in memory, beside the protobuf's 2 GiB limit
_MOE_ATTRS = ("activation_alpha", "activation_beta", "activation_type", "k", "normalize_routing_weights")
_MOE_ATTRS += ("swiglu_fusion", "swiglu_limit", "use_sparse_mixer")


def qmoe_reference() -> Any:
    return _numpy_reference_module(builtin_plugins_dir() / "qmoe" / "reference.py")


def node_attrs(node: onnx.NodeProto) -> dict[str, Any]:
    values = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    return {k: v.decode() if isinstance(v, bytes) else v for k, v in values.items()}


def node_inputs(node: onnx.NodeProto) -> dict[str, str]:
    """A MoE or QMoE node's present inputs by their spec names."""
    folder = "qmoe" if node.op_type == "QMoE" else "moe"
    names = [t.name for t in load_spec(builtin_plugins_dir() / folder / "spec.toml").inputs]
    return {name: t for name, t in zip(names, node.input, strict=False) if t}


def _approximate(attrs: dict[str, Any]) -> bool:
    """ONNX Runtime's CPU QMoE lowers precision (or refuses) this form."""
    reference = qmoe_reference()
    if reference.is_mxfp4(attrs):
        return True  # no CPU kernel at all
    bits = {reference.bits_of(attrs, p) for p in ("fc1", "fc2")}
    block = int(attrs.get("block_size", 0))
    exact = len(bits) == 1 and reference.exact_in_qmoe(bits.pop(), block)
    return not exact or int(attrs.get("accuracy_level", 0)) >= 2


def _moe_form(attrs: dict[str, Any], inputs: dict[str, str]) -> bool:
    """A form ONNX Runtime's CPU MoE takes as it is."""
    kind = attrs.get("activation_type", "relu")
    fused = int(attrs.get("swiglu_fusion", 0)) == 1
    plain = "router_weights" not in inputs and "fc3_experts_weights" not in inputs
    return plain and kind != "geglu" and (fused or kind != "swiglu")  # geglu: moe_dense.py


def _activation_dtype(graph: onnx.GraphProto, node: onnx.NodeProto, arrays: dict[str, np.ndarray]) -> np.dtype:
    """The node's activation type: its input's declared type, else its biases', else float32
    (MXFP4's scales are E8M0, not the activations' type)."""
    for info in (*graph.input, *graph.value_info, *graph.output):
        if info.name == node.input[0] and info.type.tensor_type.elem_type:
            return np.dtype(helper.tensor_dtype_to_np_dtype(info.type.tensor_type.elem_type))
    bias = arrays.get("fc1_experts_bias")
    return bias.dtype if bias is not None else np.dtype(np.float32)


def _float_moe(
    node: onnx.NodeProto, arrays: dict[str, np.ndarray], attrs: dict[str, Any], dtype: np.dtype | None = None
) -> tuple[onnx.NodeProto, list[onnx.TensorProto]]:
    """The float MoE node and its initializers: weights dequantized, then in the scales' type (the
    model's activations' type, which ONNX Runtime's MoE takes for its weights too), or `dtype`."""
    dtype = dtype if dtype is not None else arrays["fc1_scales"].dtype
    weights = {k: v.astype(dtype) for k, v in qmoe_reference().float_weights(arrays, attrs).items()}
    base = node.name or node.output[0]
    inits = [numpy_helper.from_array(v, f"{base}/exact_{k}") for k, v in weights.items()]
    moe_inputs = ("fc1_experts_weights", "fc1_experts_bias", "fc2_experts_weights", "fc2_experts_bias")
    names = [node.input[0], node.input[1], *(f"{base}/exact_{n}" if n in weights else "" for n in moe_inputs)]
    while names[-1] == "":
        names.pop()
    moe_attrs = {k: v for k, v in attrs.items() if k in _MOE_ATTRS}
    moe = helper.make_node("MoE", names, list(node.output), name=f"{base}/exact", domain="com.microsoft", **moe_attrs)
    return moe, inits


def _candidates(graph: onnx.GraphProto) -> list[tuple[int, dict[str, Any], dict[str, str]]]:
    """(index, attributes, inputs by name) of the top-level QMoE nodes to run exactly."""
    found = []
    for index, node in enumerate(graph.node):
        if node.op_type != "QMoE" or node.domain != "com.microsoft":
            continue
        attrs = node_attrs(node)
        inputs = node_inputs(node)
        if _approximate(attrs) and _moe_form(attrs, inputs):
            found.append((index, attrs, inputs))
    return found


def has_approximate_qmoe(model: onnx.ModelProto) -> bool:
    return bool(_candidates(model.graph))


def exact_qmoe(model: onnx.ModelProto, folder: str | None) -> int:
    """Replace the top-level QMoE nodes ONNX Runtime computes approximately by float MoE on their
    dequantized weights (module docstring); the count replaced. `folder` holds external data."""
    graph = model.graph
    initializers = {t.name: t for t in graph.initializer}
    added = 0
    for index, attrs, inputs in _candidates(graph):
        node = graph.node[index]
        constants = {k: t for k, t in inputs.items() if k not in ("input", "router_probs")}
        if any(t not in initializers for t in constants.values()):
            continue
        arrays = {k: numpy_helper.to_array(initializers[t], base_dir=folder or "") for k, t in constants.items()}
        codes = sum(
            arrays[f"{p}_experts_weights"].size * 8 // qmoe_reference().bits_of(attrs, p) for p in ("fc1", "fc2")
        )
        mxfp4 = qmoe_reference().is_mxfp4(attrs)
        dtype = _activation_dtype(graph, node, arrays) if mxfp4 else arrays["fc1_scales"].dtype
        if codes * dtype.itemsize > MAX_FLOAT_BYTES:
            continue
        moe, inits = _float_moe(node, arrays, attrs, dtype)
        graph.node[index].CopyFrom(moe)
        graph.initializer.extend(inits)
        added += 1
    return added
