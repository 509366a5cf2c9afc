"""A small declarative pattern layer over onnx-graphsurgeon graphs.

A pattern is an expression tree written from the output back to the inputs, as the subgraph
computes it: `op("Mul", op("Mul", x, one_plus), const(0.5))`. Matching starts at a candidate
root node and walks gs producers (`tensor.inputs`). Generic rules, written once here:
- Add and Mul are commutative: their two operands are tried in both orders;
- a named pattern (`var("x")`, `op(..., name="d")`) binds a tensor; another occurrence of the
  same name must be that tensor (so `x` in `Div(x, sqrt2)` and `Mul(x, ...)` is one tensor);
- `either(a, b)` tries alternatives in order; `const(v)` is a scalar constant close to v
  (`const(name=...)` binds any scalar constant);
- `where=` predicates state conditions a structure cannot (an axis, a rank).
Matching yields every way the pattern fits (a generator), first the one the operand order gives.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from trtplug.onnx_common import STANDARD_DOMAINS

COMMUTATIVE = frozenset({"Add", "Mul"})
RTOL = 1e-3  # constants of exported models are rounded (float32, printed digits)


class Pattern:
    name = ""

    def root_ops(self) -> frozenset[str]:
        return frozenset()

    def size(self) -> int:
        """An upper bound on the nodes a match covers."""
        return 0


@dataclass(frozen=True)
class Op(Pattern):
    op_type: str
    operands: tuple[Pattern, ...]
    name: str = ""
    where: Callable[[Any, Any], bool] | None = None  # (gs node, Match) -> bool

    def root_ops(self) -> frozenset[str]:
        return frozenset({self.op_type})

    def size(self) -> int:
        return 1 + sum(o.size() for o in self.operands)


@dataclass(frozen=True)
class Var(Pattern):
    name: str
    where: Callable[[str, Any], bool] | None = None  # (tensor name, Match) -> bool


@dataclass(frozen=True)
class Const(Pattern):
    value: float | None = None  # None: any scalar constant
    name: str = ""


@dataclass(frozen=True)
class Opt(Pattern):
    """An optional trailing input: absent (or empty) matches, else `pattern` must."""

    pattern: Pattern

    def size(self) -> int:
        return self.pattern.size()


@dataclass(frozen=True)
class Either(Pattern):
    options: tuple[Pattern, ...]

    def root_ops(self) -> frozenset[str]:
        return frozenset().union(*(o.root_ops() for o in self.options))

    def size(self) -> int:
        return max(o.size() for o in self.options)


def op(op_type: str, *operands: Pattern, name: str = "", where: Callable | None = None) -> Op:
    return Op(op_type, operands, name, where)


def var(name: str, where: Callable | None = None) -> Var:
    return Var(name, where)


def const(value: float | None = None, name: str = "") -> Const:
    return Const(value, name)


def either(*options: Pattern) -> Either:
    return Either(options)


def opt(pattern: Pattern) -> Opt:
    return Opt(pattern)


@dataclass
class Match:
    """One fit of a pattern: bound tensor names, the gs nodes it covers, and the graph's view
    (shapes, dtypes, constants with external data) for checks."""

    view: Any
    bound: dict[str, str] = field(default_factory=dict)
    nodes: list[Any] = field(default_factory=list)  # gs nodes, in matching order
    named_nodes: dict[str, Any] = field(default_factory=dict)
    protos: list[Any] = field(default_factory=list)  # the matched nodes' protobufs, set by the pass

    def read_outside(self, name: str) -> bool:
        """Whether tensor `name` is a graph output or read by a node outside the match."""
        return self.view.used_outside(name, self.protos)

    def __getitem__(self, name: str) -> str:
        return self.bound[name]

    def get(self, name: str, default: str = "") -> str:
        return self.bound.get(name, default)

    def node(self, name: str) -> Any:
        return self.named_nodes[name]

    def scalar(self, name: str) -> float | None:
        return self.view.scalar(self.bound[name]) if name in self.bound else None

    def _fork(self) -> Match:
        return Match(self.view, dict(self.bound), list(self.nodes), dict(self.named_nodes))


def producer(tensor: Any) -> Any:
    """The gs node writing `tensor` in the standard domain, or None."""
    node = tensor.inputs[0] if tensor.inputs else None
    return node if node is not None and (node.domain or "") in STANDARD_DOMAINS else None


def match_tensor(pattern: Pattern, tensor: Any, m: Match) -> Iterator[Match]:
    """Every extension of `m` under which `pattern` computes `tensor`."""
    if isinstance(pattern, Opt):
        if tensor is None or not tensor.name:
            yield m
        else:
            yield from match_tensor(pattern.pattern, tensor, m)
        return
    if tensor is None:
        return
    if pattern.name and pattern.name in m.bound:
        if m.bound[pattern.name] == tensor.name:
            yield m
        return
    if isinstance(pattern, Either):
        for option in pattern.options:
            yield from match_tensor(option, tensor, m)
        return
    if isinstance(pattern, Op):
        node = producer(tensor)
        if node is not None and node.op == pattern.op_type and node.outputs[0] is tensor:
            yield from match_node(pattern, node, m)
        return
    if isinstance(pattern, Const):
        value = m.view.scalar(tensor.name)
        if value is None or (pattern.value is not None and not math.isclose(value, pattern.value, rel_tol=RTOL)):
            return
    elif isinstance(pattern, Var) and pattern.where is not None and not pattern.where(tensor.name, m):
        return
    m = m._fork()
    if pattern.name:
        m.bound[pattern.name] = tensor.name
    yield m


def match_node(pattern: Op, node: Any, m: Match) -> Iterator[Match]:
    """Every extension of `m` under which `pattern` is `node` (extra inputs are left to `where`)."""
    required = sum(not isinstance(p, Opt) for p in pattern.operands)
    if node.op != pattern.op_type or len(node.inputs) < required or any(n is node for n in m.nodes):
        return
    m = m._fork()
    m.nodes.append(node)
    if pattern.name:
        m.bound[pattern.name] = node.outputs[0].name
        m.named_nodes[pattern.name] = node
    inputs = list(node.inputs[: len(pattern.operands)])
    inputs += [None] * (len(pattern.operands) - len(inputs))
    orders = [inputs, inputs[::-1]] if pattern.op_type in COMMUTATIVE and len(inputs) == 2 else [inputs]
    for order in orders:
        for done in _match_operands(pattern.operands, order, m):
            if pattern.where is None or pattern.where(node, done):
                yield done


def _match_operands(patterns: tuple[Pattern, ...], tensors: list[Any], m: Match) -> Iterator[Match]:
    if not patterns:
        yield m
        return
    for first in match_tensor(patterns[0], tensors[0], m):
        yield from _match_operands(patterns[1:], tensors[1:], first)
