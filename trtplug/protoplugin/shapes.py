"""Output shapes of a prototype plugin as TensorRT dimension expressions: the spec's shape rules
(trtplug/shape_rules.py) on symbolic dimensions, or, for value-dependent ("dynamic:") outputs,
the prototype's own `output_dims(inputs, attrs, builder)` hook (see SymBuilder)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trtplug.errors import TrtplugError
from trtplug.shape_rules import _RULES, VALUE_DEPENDENT, apply_axis_rule, is_axis_rule, parse_rule
from trtplug.spec import OpSpec
from trtplug.variadic import tensorrt_tensors

DIMS_HOOK = "output_dims"


class SymDim:
    """One IDimensionExpr with Python arithmetic (ints mix in as constants), so a shape rule or a
    prototype's output_dims hook reads like the concrete computation."""

    def __init__(self, trt: Any, builder: Any, expr: Any) -> None:
        self.trt, self.builder, self.expr = trt, builder, expr

    def _wrap(self, value: Any) -> Any:
        return value.expr if isinstance(value, SymDim) else self.builder.constant(int(value))

    def _op(self, name: str, a: Any, b: Any) -> SymDim:
        operation = getattr(self.trt.DimensionOperation, name)
        return SymDim(self.trt, self.builder, self.builder.operation(operation, self._wrap(a), self._wrap(b)))

    def __add__(self, other: Any) -> SymDim:
        return self._op("SUM", self, other)

    __radd__ = __add__

    def __sub__(self, other: Any) -> SymDim:
        return self._op("SUB", self, other)

    def __rsub__(self, other: Any) -> SymDim:
        return self._op("SUB", other, self)

    def __mul__(self, other: Any) -> SymDim:
        return self._op("PROD", self, other)

    __rmul__ = __mul__

    def __floordiv__(self, other: Any) -> SymDim:
        return self._op("FLOOR_DIV", self, other)

    def __rfloordiv__(self, other: Any) -> SymDim:
        return self._op("FLOOR_DIV", other, self)

    def ceil_div(self, other: Any) -> SymDim:
        return self._op("CEIL_DIV", self, other)

    def maximum(self, other: Any) -> SymDim:
        return self._op("MAX", self, other)

    def minimum(self, other: Any) -> SymDim:
        return self._op("MIN", self, other)

    def less(self, other: Any) -> SymDim:
        """1 where self < other, else 0."""
        return self._op("LESS", self, other)

    def is_one(self) -> bool:
        return self.constant() == 1

    def constant(self) -> int | None:
        """The value when TensorRT knows it at build time, else None."""
        return int(self.expr.get_constant_value()) if self.expr.is_constant() else None


class SymBuilder:
    """What an output_dims hook builds with: constants, and size tensors (the extent of a
    data-dependent dim, written by the plugin at enqueue: IExprBuilder.declare_size_tensor)."""

    def __init__(self, trt: Any, builder: Any, spec: OpSpec) -> None:
        self.trt, self.builder, self.spec = trt, builder, spec

    def constant(self, value: int) -> SymDim:
        return SymDim(self.trt, self.builder, self.builder.constant(int(value)))

    def size_tensor(self, index: int, upper: SymDim) -> SymDim:
        """The extent held by the spec's size tensor `index`, at most `upper`; TensorRT tunes for
        half of it (as the native plugins' declareCount does)."""
        upper = upper if isinstance(upper, SymDim) else self.constant(upper)
        output = len(self.spec.outputs) + index
        declared = self.builder.declare_size_tensor(output, upper.ceil_div(2).expr, upper.expr)
        return SymDim(self.trt, self.builder, declared)


def volume(dims: Sequence[Any]) -> Any:
    """The product of `dims` (1 for none)."""
    total: Any = 1
    for d in dims:
        total = d * total
    return total


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


def dims_hook(spec: OpSpec) -> Any:
    """The prototype's output_dims hook, or None (also when the prototype cannot be imported)."""
    from trtplug.prototypes import pyplugin_module

    try:
        return getattr(pyplugin_module(spec), DIMS_HOOK, None)
    except ImportError:
        return None


def value_dependent_reason(spec: OpSpec) -> str | None:
    """Why this op's outputs cannot be shaped symbolically (None when they can)."""
    dynamic = spec.size_tensors or any(parse_rule(t.shape or "")[0] == VALUE_DEPENDENT for t in spec.outputs)
    if dynamic and dims_hook(spec) is None:
        return f"its output shapes depend on input values and its prototype has no {DIMS_HOOK}() hook"
    if not dynamic and any(t.shape is None for t in spec.outputs):
        return "an output has no shape rule"
    return None


def hook_inputs(tensors: Sequence[Any], symbolic: dict[str, Any]) -> list[Any]:
    """The hook's inputs in plugin input order (`tensors`: a variadic input once per tensor, as
    the prototype gets them): a tensor's dims, a shape input's values, None for an absent one (a
    1-D empty placeholder, or missing)."""
    inputs = []
    for tensor in tensors:
        dims = symbolic.get(tensor.name)
        placeholder = dims is not None and len(dims) == 1 and dims[0].constant() == 0
        inputs.append(None if dims is None or (tensor.optional and placeholder) else dims)
    return inputs


def output_shapes(
    trt: Any,
    spec: OpSpec,
    inputs: Sequence[Any],
    builder: Any,
    attrs: dict[str, Any] | None = None,
    shape_values: dict[str, Any] | None = None,
) -> list[Any]:
    """trt.DimsExprs per plugin output (size tensors last, 0-D) from the regular inputs' DimsExprs
    in spec.plugin_inputs order (shape inputs skipped) and the shape inputs' value expressions by
    name; `attrs` (the plugin's fields) feed the axis rules and the hook."""
    tensors = tensorrt_tensors(spec, len(inputs))  # a variadic input once per tensor given
    regular = [t for t in tensors if not t.shape_input]
    symbolic = {t.name: tuple(SymDim(trt, builder, d) for d in dims) for t, dims in zip(regular, inputs, strict=False)}
    for name, values in (shape_values or {}).items():
        symbolic[name] = tuple(SymDim(trt, builder, v) for v in values)
    hook = dims_hook(spec)
    if hook is not None:
        try:
            dims_list = list(hook(hook_inputs(tensors, symbolic), attrs or {}, SymBuilder(trt, builder, spec)))
        except (ValueError, TypeError, IndexError, KeyError, NotImplementedError) as exc:  # one line, no traceback
            raise TrtplugError(f"{spec.plugin.name}: output shapes: {exc}") from None
    else:
        dims_list = [_rule_dims(t.shape, symbolic, attrs) for t in spec.outputs]
    dims_list += [()] * len(spec.size_tensors)
    return [trt.DimsExprs([_expr(builder, d) for d in dims]) for dims in dims_list]


def _expr(builder: Any, dim: Any) -> Any:
    return dim.expr if isinstance(dim, SymDim) else builder.constant(int(dim))


def _rule_dims(rule: str, symbolic: dict[str, Any], attrs: dict[str, Any] | None) -> tuple[Any, ...]:
    kind, ref = parse_rule(rule)
    args = [symbolic[name] for name in ref.split(",")]
    if is_axis_rule(kind):
        return apply_axis_rule(kind, args[0], attrs)
    return _broadcast(*args) if kind == "broadcast" else _RULES[kind](*args)
