"""Pattern rules: a subgraph -> one canonical contrib op, which the node pass then turns into
whichever registered plugin covers it.

A rule file (graph_rewrites/<rule>.py, or a plugin project's graph_rewrites/<rule>.py) defines
`RULE = Rule(...)`: data, no matching code. Its `forms` are tried best first (e.g. with the bias
folded in, then without); each is a pattern (graph_rewrites.pattern), the op it becomes and how
the op's inputs, outputs and attributes come from the pattern's bound names. `check` returns why
a match must not be fused (or None); `near_misses` name a partial pattern and the reason to
report when only that much is there. The docstring states the transformation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import onnx

from trtplug.onnx_common import qualified_op

from .pattern import Match, Pattern

ROOT = "@root"  # the output of the pattern's root node


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


Names = Sequence[str] | Callable[[Match], Sequence[str]]


@dataclass(frozen=True)
class Form:
    """`pattern` -> domain::op_type(inputs) -> outputs; names are bound names ("" = absent)."""

    pattern: Pattern
    op_type: str
    inputs: Names
    outputs: Names = (ROOT,)
    attrs: Callable[[Match], dict[str, Any]] | None = None
    domain: str = "com.microsoft"

    def names(self, which: Names, match: Match) -> list[str]:
        names = list(which(match) if callable(which) else which)
        return [match.get(n) if n else "" for n in names]


@dataclass(frozen=True)
class Rule:
    name: str
    anchors: tuple[str, ...]  # op_types (standard domain); one of them is in every match
    forms: tuple[Form, ...]
    check: Callable[[Match], str | None] | None = None
    near_misses: tuple[tuple[Pattern, str], ...] = ()  # rooted at the anchor or up to 3 nodes after
    priority: int = 100  # lower runs first where two rules could claim the same nodes

    @property
    def produces(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.op_type for f in self.forms))

    def root_ops(self) -> frozenset[str]:
        return frozenset().union(*(f.pattern.root_ops() for f in self.forms))


def rank(match: Match, name: str) -> int | None:
    shape = match.view.shape(name)
    return len(shape) if shape is not None else None


def last_axis(axes: Any, rank_: int | None) -> bool:
    """Whether `axes` names exactly the last axis (-1, or rank - 1 when the rank is known)."""
    values = list(axes) if axes is not None else []
    return len(values) == 1 and (values[0] == -1 or (rank_ is not None and values[0] == rank_ - 1))


def constant_1d(name: str, match: Match) -> bool:
    value = match.view.constant(name)
    return value is not None and value.ndim == 1


def not_constant(name: str, match: Match) -> bool:
    return match.view.constant(name) is None
