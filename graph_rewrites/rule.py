"""Pattern rules: a subgraph -> one canonical ONNX Runtime contrib op, which the node pass then
turns into whichever registered plugin covers it.

A rule module (graph_rewrites/<rule>.py) defines `RULE`, an instance of a Rule subclass, and
states its transformation in its docstring (`A(B(x)) -> P(x)` and the conditions). Rules are
discovered, never listed. `match` starts at an anchor node and returns the candidate fusions,
best first (e.g. with the bias folded in, then without), None when the anchor is not part of
the pattern at all, or the reason when the pattern is recognisable but does not fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import onnx

from trtplug.onnx_common import STANDARD_DOMAINS, qualified_op

from .graph_view import GraphView


@dataclass
class Fusion:
    """One way to replace `nodes` by a single op: domain::op_type(inputs) -> outputs."""

    nodes: list[onnx.NodeProto]
    domain: str
    op_type: str
    inputs: list[str]
    outputs: list[str]  # "" where the op's output is unused
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def op(self) -> str:
        return qualified_op(self.domain, self.op_type)

    def node(self, name: str) -> onnx.NodeProto:
        return onnx.helper.make_node(
            self.op_type, self.inputs, self.outputs, name=name, domain=self.domain, **self.attrs
        )


class Rule:
    name = ""
    anchors: tuple[str, ...] = ()  # op_types (standard domain) where matching starts
    produces: tuple[str, ...] = ()  # op_types of the canonical ops it can produce
    priority = 100  # lower runs first where two rules share an anchor

    def match(self, view: GraphView, anchor: onnx.NodeProto) -> list[Fusion] | str | None:
        raise NotImplementedError

    def check(self, view: GraphView, fusion: Fusion) -> str | None:
        """Why `fusion` must not be applied, or None. The generic part: no intermediate tensor
        may be read outside the fused nodes (it would vanish), no node may be fused twice."""
        if any(view.claimed(n) for n in fusion.nodes):
            return "overlaps a subgraph already fused"
        keep = set(fusion.outputs)
        for node in fusion.nodes:
            for out in node.output:
                if out and out not in keep and view.used_outside(out, fusion.nodes):
                    return f"intermediate tensor {out!r} is also read outside the pattern"
        return None


# ---- matching helpers ---------------------------------------------------------------------------
def is_op(node: onnx.NodeProto | None, op_type: str) -> bool:
    return node is not None and node.op_type == op_type and node.domain in STANDARD_DOMAINS


def sole_consumer(view: GraphView, name: str, op_type: str) -> onnx.NodeProto | None:
    """The one reader of `name` that is an `op_type` node. Other readers do not stop the match:
    Rule.check then refuses the fusion, naming the tensor read outside the pattern."""
    matching = [c for c in view.consumers(name) if is_op(c, op_type)]
    return matching[0] if len(matching) == 1 else None


def other_input(node: onnx.NodeProto, name: str) -> str | None:
    """The other operand of a binary op one of whose inputs is `name`."""
    if len(node.input) != 2 or name not in node.input:
        return None
    return node.input[1] if node.input[0] == name else node.input[0]


def split_constant(view: GraphView, node: onnx.NodeProto) -> tuple[float | None, str | None]:
    """(scalar constant operand, other operand) of a binary op, or (None, None)."""
    if len(node.input) != 2:
        return None, None
    for const, other in ((node.input[1], node.input[0]), (node.input[0], node.input[1])):
        value = view.scalar(const)
        if value is not None:
            return value, other
    return None, None


def close(value: float | None, target: float, rtol: float = 1e-3) -> bool:
    return value is not None and math.isclose(value, target, rel_tol=rtol)


def attribute(node: onnx.NodeProto, name: str, default: Any = None) -> Any:
    for attr in node.attribute:
        if attr.name == name:
            return onnx.helper.get_attribute_value(attr)
    return default


def last_axis(axes: Any, rank: int | None) -> bool:
    """Whether `axes` names exactly the last axis (-1, or rank - 1 when the rank is known)."""
    values = list(axes) if axes is not None else []
    return len(values) == 1 and (values[0] == -1 or (rank is not None and values[0] == rank - 1))


def bias_operand(view: GraphView, node: onnx.NodeProto | None) -> tuple[str, str] | None:
    """(data, bias) when `node` is Add(data, bias) with a 1-D constant bias."""
    if not is_op(node, "Add") or len(node.input) != 2:
        return None
    for data, bias in ((node.input[0], node.input[1]), (node.input[1], node.input[0])):
        value = view.constant(bias)
        if value is not None and value.ndim == 1 and view.constant(data) is None:
            return data, bias
    return None
