"""Output shapes of a prototype plugin as TensorRT dimension expressions, from the spec's shape
rules (trtplug/shape_rules.py): the same rules on symbolic dimensions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trtplug.shape_rules import _RULES, VALUE_DEPENDENT, parse_rule
from trtplug.spec import OpSpec


class SymDim:
    """One IDimensionExpr with the arithmetic the shape rules use."""

    def __init__(self, trt: Any, builder: Any, expr: Any) -> None:
        self.trt, self.builder, self.expr = trt, builder, expr

    def _wrap(self, value: Any) -> Any:
        return value.expr if isinstance(value, SymDim) else self.builder.constant(int(value))

    def _op(self, name: str, other: Any) -> SymDim:
        operation = getattr(self.trt.DimensionOperation, name)
        return SymDim(self.trt, self.builder, self.builder.operation(operation, self.expr, self._wrap(other)))

    def __floordiv__(self, other: Any) -> SymDim:
        return self._op("FLOOR_DIV", other)

    def __add__(self, other: Any) -> SymDim:
        return self._op("SUM", other)

    def __mul__(self, other: Any) -> SymDim:
        return self._op("PROD", other)

    def maximum(self, other: SymDim) -> SymDim:
        return self._op("MAX", other)

    def is_one(self) -> bool:
        return self.expr.is_constant() and self.expr.get_constant_value() == 1


def _broadcast(*shapes: Sequence[SymDim]) -> tuple[Any, ...]:
    """NumPy broadcasting on expressions: a constant 1 takes the other extent, else the larger
    (equal extents at run time, which the plugin's inputs must satisfy)."""
    rank = max(len(s) for s in shapes)
    padded = [[None] * (rank - len(s)) + list(s) for s in shapes]
    result = []
    for dims in zip(*padded, strict=True):
        present = [d for d in dims if d is not None and not d.is_one()]
        chosen = present[0] if present else next(d for d in dims if d is not None)
        for other in present[1:]:
            chosen = chosen.maximum(other)
        result.append(chosen)
    return tuple(result)


def value_dependent_reason(spec: OpSpec) -> str | None:
    """Why the generic rules cannot shape this op's outputs (None when they can)."""
    if spec.size_tensors or any(parse_rule(t.shape or "")[0] == VALUE_DEPENDENT for t in spec.outputs):
        return "its output shapes depend on input values (size tensors or shape inputs)"
    if any(t.shape is None for t in spec.outputs):
        return "an output has no shape rule"
    return None


def output_shapes(trt: Any, spec: OpSpec, inputs: Sequence[Any], builder: Any) -> list[Any]:
    """trt.DimsExprs per plugin output from the plugin's input DimsExprs."""
    symbolic = {
        tensor.name: tuple(SymDim(trt, builder, d) for d in dims)
        for tensor, dims in zip(spec.plugin_inputs, inputs, strict=False)
    }
    shapes = []
    for tensor in spec.outputs:
        kind, ref = parse_rule(tensor.shape)
        args = [symbolic[name] for name in ref.split(",")]
        dims = _broadcast(*args) if kind == "broadcast" else _RULES[kind](*args)
        shapes.append(trt.DimsExprs([d.expr if isinstance(d, SymDim) else builder.constant(int(d)) for d in dims]))
    return shapes
