"""bfloat16 models on ONNX Runtime's CPU provider, which model parity runs them on.

ONNX Runtime GenAI's bf16 CUDA builds are bf16 end to end, while the CPU provider has no bf16
kernel for MatMul, Mul, Add, Softmax, GroupQueryAttention and most other ops ("Could not find an
implementation for MatMul(13)"), and its Python API can neither take nor return a bf16 array. So
model parity runs a bf16 model widened, in place, on a copy:
- every node with a bf16 input or output (Casts aside) runs on float32 upcasts of its bf16 inputs
  (exact), its bf16 outputs rounded back to bf16 by a Cast (round to nearest even): each op
  rounds its result to bf16 once, computing in float32 inside, as trtplug's kernels and bf16 GPU
  kernels do. Ops with a bf16 CPU kernel run so too: ONNX Runtime's bf16 norms round their
  intermediate steps to bf16, which is that kernel's choice, not the op's definition;
- bf16 graph inputs become float32 inputs cast to bf16 inside, bf16 graph outputs float32 casts
  (both exact), so ONNX Runtime sees float32 at its boundary. Callers upcast bf16 feeds and take
  the outputs that were bf16 back to bf16 (exact), so the comparison uses bf16 tolerances.
Plugin nodes (trtplug's domains, unknown to ONNX Runtime) keep their bf16 inputs and outputs.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper

from trtplug.graph_rewrites.tensor_types import infer_types
from trtplug.onnx_common import is_standard_domain, iter_nodes
from trtplug.protolib.dtypes import BF16

BFLOAT16, FLOAT = TensorProto.BFLOAT16, TensorProto.FLOAT


@cache
def _float_cpu_ops() -> frozenset[tuple[str, str]]:
    """(domain, op) of the ops with a CPU kernel taking float32."""
    from onnxruntime.capi import _pybind_state as ort_state

    return frozenset(
        ("" if is_standard_domain(k.domain) else k.domain, k.op_name)
        for k in ort_state.get_all_opkernel_def()
        if k.provider == "CPUExecutionProvider"
        and "tensor(float)" in {t for allowed in k.type_constraints.values() for t in allowed}
    )


def has_bf16_boundary(model: onnx.ModelProto) -> bool:
    """Whether a graph input or output is bf16 (cheap: no inference); such a model needs widening."""
    values = (*model.graph.input, *model.graph.output)
    return any(v.type.tensor_type.elem_type == BFLOAT16 for v in values)


def _needs_float32(node: onnx.NodeProto, elem: dict[str, int]) -> bool:
    """A node touching bf16 that ONNX Runtime can run in float32: all but Cast. Even ops with a bf16
    CPU kernel run in float32 (exact for data movement): ONNX Runtime's bf16 norms round their
    intermediate steps to bf16, a kernel choice, not the op's definition."""
    key = ("" if is_standard_domain(node.domain) else node.domain, node.op_type)
    touches = any(elem.get(n) == BFLOAT16 for n in (*node.input, *node.output) if n)
    return touches and key in _float_cpu_ops() and node.op_type != "Cast"


def _cast(source: str, target: str, to: int) -> onnx.NodeProto:
    return helper.make_node("Cast", [source], [target], to=to, name=f"{target}/Cast_from/{source}")


def _islanded(node: onnx.NodeProto, elem: dict[str, int], tag: str) -> list[onnx.NodeProto]:
    before, after = [], []
    for index, name in enumerate(node.input):
        if name and elem.get(name) == BFLOAT16:
            before.append(_cast(name, f"{name}/{tag}", FLOAT))
            node.input[index] = f"{name}/{tag}"
    for index, name in enumerate(node.output):
        if name and elem.get(name) == BFLOAT16:
            after.append(_cast(f"{name}/{tag}", name, BFLOAT16))
            node.output[index] = f"{name}/{tag}"
    return [*before, node, *after]


def inner_name(name: str) -> str:
    """The name a widened bf16 graph input or output keeps inside the graph (bf16 there)."""
    return f"{name}/bf16"


def _rename_reads(graph: onnx.GraphProto, old: str, new: str) -> None:
    """Every read of `old` in the graph and its bodies becomes a read of `new`."""
    for _, node in iter_nodes(graph):
        for index, name in enumerate(node.input):
            if name == old:
                node.input[index] = new


def widen(model: onnx.ModelProto) -> tuple[list[str], frozenset[str]]:
    """Widen `model` in place (see the module docstring). Returns its graph outputs that were bf16,
    and the names of the bf16 tensors it still has (plugin inputs and outputs, the islands' bf16
    sides): what a stretch of it must pass through ONNX Runtime as float32."""
    types, _ = infer_types(model)
    elem = {name: info.elem_type for name, info in types.items()}
    graph = model.graph
    nodes: list[onnx.NodeProto] = []
    for value in graph.input:
        if value.type.tensor_type.elem_type == BFLOAT16:
            _rename_reads(graph, value.name, inner_name(value.name))
            elem[inner_name(value.name)] = BFLOAT16
            value.type.tensor_type.elem_type = FLOAT
            nodes.append(_cast(value.name, inner_name(value.name), BFLOAT16))
    for index, node in enumerate(graph.node):
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        nodes.extend(_islanded(copy, elem, f"float32_{index}") if _needs_float32(copy, elem) else [copy])
    widened = []
    for value in graph.output:
        if value.type.tensor_type.elem_type == BFLOAT16:
            inner = inner_name(value.name)
            for node in nodes:
                node.output[:] = [inner if o == value.name else o for o in node.output]
                node.input[:] = [inner if i == value.name else i for i in node.input]
            nodes.append(_cast(inner, value.name, FLOAT))
            elem[inner] = BFLOAT16
            value.type.tensor_type.elem_type = FLOAT
            widened.append(value.name)
    del graph.node[:]
    graph.node.extend(nodes)
    boundary = {v.name for v in (*graph.input, *graph.output)}
    return widened, frozenset(n for n, t in elem.items() if t == BFLOAT16 and n not in boundary)


def float32_feeds(feeds: dict[str, Any]) -> dict[str, Any]:
    """bf16 arrays upcast to float32 (exact), the others as given."""
    return {k: np.asarray(v, np.float32) if getattr(v, "dtype", None) == BF16 else v for k, v in feeds.items()}


def as_bf16(names: list[str], widened: list[str], outputs: list[Any]) -> list[Any]:
    """The outputs of `names` that `widen` made float32, back in bf16 (exact: they were bf16)."""
    back = set(widened)
    return [np.asarray(v).astype(BF16) if n in back else v for n, v in zip(names, outputs, strict=True)]
