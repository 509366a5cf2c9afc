"""The prototype plugin's shape inputs, folded inputs, size tensors and output_dims hooks
(trtplug.protoplugin): symbolic output shapes evaluated on known extents against the prototype's
concrete output_shapes on the parity cases' inputs, and TensorRT's input layout."""

from __future__ import annotations

import dataclasses
import itertools
from types import SimpleNamespace
from typing import ClassVar

import numpy as np
import pytest

from trtplug.errors import TrtplugError
from trtplug.parity.cases import default_cases, make_inputs
from trtplug.parity.impl_base import folded_case, pyplugin_module
from trtplug.protoplugin import shapes
from trtplug.protoplugin.plugin import (
    ProtoLogic,
    node_inputs,
    output_count,
    prototype_inputs,
    regular_inputs,
    shape_inputs,
    tensorrt_inputs,
    unsupported_reason,
)
from trtplug.registry import load_registry

SPECS = {spec.key: spec for spec in load_registry()}
HOOKED = sorted(k for k, s in SPECS.items() if shapes.dims_hook(s) is not None)


class Const:
    """An IDimensionExpr stand-in with a known value, constant at build time or not (`symbolic`:
    an input's dim, as under dynamic shapes); `size_index` marks a declared size tensor."""

    def __init__(self, value: int, size_index: int | None = None, symbolic: bool = False) -> None:
        self.value, self.size_index, self.symbolic = value, size_index, symbolic

    def is_constant(self) -> bool:
        return self.size_index is None and not self.symbolic

    def get_constant_value(self) -> int:
        return self.value


class Builder:
    """IExprBuilder on known values; a size tensor evaluates to its upper bound."""

    OPS: ClassVar[dict] = {
        "SUM": int.__add__,
        "SUB": int.__sub__,
        "PROD": int.__mul__,
        "FLOOR_DIV": int.__floordiv__,
        "CEIL_DIV": lambda a, b: -(-a // b),
        "MAX": max,
        "MIN": min,
        "LESS": lambda a, b: int(a < b),
    }

    def __init__(self) -> None:
        self.declared: dict[int, tuple[int, int]] = {}

    def constant(self, value: int) -> Const:
        return Const(value)

    def operation(self, op: str, a: Const, b: Const) -> Const:
        assert a.size_index is None and b.size_index is None, "a size tensor is used as a dim only"
        return Const(self.OPS[op](a.value, b.value), symbolic=a.symbolic or b.symbolic)

    def declare_size_tensor(self, output: int, opt: Const, upper: Const) -> Const:
        assert output not in self.declared, f"output {output} declared twice"
        self.declared[output] = (opt.value, upper.value)
        return Const(upper.value, output)


TRT = SimpleNamespace(
    DimensionOperation=SimpleNamespace(**{k: k for k in Builder.OPS}),
    DimsExprs=lambda exprs: tuple(exprs),
)


def symbolic_shapes(spec, case, inputs, symbolic=True):
    """The plugin's get_output_shapes for a case: (Const tuples per output, the builder); input
    dims and shape-input values symbolic, or all known at build time (static shapes)."""
    folded = folded_case(spec, case, inputs)
    dims, values = [], []
    for tensor in spec.plugin_inputs:
        given = tensor.name in folded.shapes
        if tensor.shape_input:
            if given:
                values.append([Const(int(v), symbolic=symbolic) for v in np.asarray(inputs[tensor.name]).ravel()])
            continue
        # an absent input's placeholder is a constant [0] tensor (an initializer): dims known
        dims.append([Const(d, symbolic=symbolic and given) for d in (folded.shapes[tensor.name] if given else (0,))])
    copies = [[Const(d, symbolic=symbolic) for d in folded.shapes[t.name]] for t in spec.data_copies]
    builder = Builder()
    logic = ProtoLogic(TRT, spec, folded.attrs)
    return logic.output_shapes([*dims, *copies], values, builder), builder, folded


def concrete_shapes(spec, folded, inputs):
    ins = [inputs.get(t.name) if t.name in folded.shapes else None for t in spec.plugin_inputs]
    return [tuple(s) for s in pyplugin_module(spec).output_shapes(ins, folded.attrs)]


# Hooks that need some extents known at build time for some fields (they say so: TrtplugError).
NEEDS_STATIC = {"resize_antialias"}


def check_case(spec, case, inputs, symbolic) -> bool:
    """The hook's dims equal output_shapes', a size tensor's dim bounds it; False when the hook
    refused a symbolic case (allowed only for NEEDS_STATIC)."""
    key = spec.key
    try:
        got, builder, folded = symbolic_shapes(spec, case, inputs, symbolic)
    except TrtplugError as exc:
        assert symbolic and key in NEEDS_STATIC, (key, case.name, str(exc))
        assert str(exc).startswith(f"{spec.plugin.name}: output shapes: ") and "\n" not in str(exc)
        return False
    used = output_count(spec, folded.attrs)
    want = concrete_shapes(spec, folded, inputs)[:used]
    assert len(got) == used + len(spec.size_tensors), (key, case.name)
    assert all(d == () for d in got[used:]), "size tensors are 0-D"
    for out, (dims, concrete) in enumerate(zip(got[:used], want, strict=True)):
        assert len(dims) == len(concrete), (key, case.name, out)
        for d, n in zip(dims, concrete, strict=True):
            if d.size_index is None:
                assert d.value == n, (key, case.name, out, [x.value for x in dims], concrete)
            else:
                assert n <= d.value, (key, case.name, "a size tensor's upper bound is too small")
    assert sorted(builder.declared) == [len(spec.outputs) + i for i in range(len(spec.size_tensors))]
    return True


@pytest.mark.parametrize("key", HOOKED)
def test_output_dims_hook_agrees_with_the_prototypes_concrete_shapes(key: str) -> None:
    """Every parity case, under dynamic and under static shapes."""
    spec = SPECS[key]
    symbolic_ok = 0
    cases = default_cases(spec)
    for case in cases:
        inputs = make_inputs(spec, case, seed=0)
        assert check_case(spec, case, inputs, symbolic=False)
        symbolic_ok += check_case(spec, case, inputs, symbolic=True)
    assert len(cases) >= 3, f"{key}: too few cases to trust the hook"
    assert symbolic_ok >= (1 if key in NEEDS_STATIC else len(cases)), (key, symbolic_ok, len(cases))


@pytest.mark.parametrize("key", ["compress", "unique"])
def test_size_tensors_are_declared_with_half_the_bound_as_the_tuning_value(key: str) -> None:
    spec = SPECS[key]
    case = default_cases(spec)[0]
    _, builder, _ = symbolic_shapes(spec, case, make_inputs(spec, case, seed=0))
    ((output, (opt, upper)),) = builder.declared.items()
    assert output == len(spec.outputs) and opt == -(-upper // 2) and upper > 1


def test_shape_input_ops_take_regular_inputs_and_data_copies_in_tensorrts_order() -> None:
    col2im = SPECS["col2im"]  # input, image_shape (shape), block_shape (shape + data copy)
    assert [t.name for t in regular_inputs(col2im)] == ["input", "block_shape"]
    assert [t.name for t in shape_inputs(col2im)] == ["image_shape", "block_shape"]
    assert prototype_inputs(col2im, ["x", "blocks"]) == ["x", None, "blocks"]
    assert tensorrt_inputs(col2im, ["x", "image", "blocks"]) == ["x", "blocks"]
    unpool = SPECS["max_unpool"]  # X, I, optional output_shape (shape input)
    assert prototype_inputs(unpool, ["x", "i"]) == ["x", "i"]
    assert tensorrt_inputs(unpool, ["x", "i", "shape"]) == ["x", "i"]
    assert node_inputs(unpool, ["x", "i", None]) == ["x", "i"]  # trailing absent inputs dropped
    gqa = SPECS["group_query_attention"]  # with a data copy every plugin input is on the node
    given = ["q", None, None, None, None, "seqlens", "total"]
    assert node_inputs(gqa, given) == [*given, *[None] * 7]  # ... head_sink, k_scale, v_scale
    layout = tensorrt_inputs(gqa, node_inputs(gqa, given))
    assert len(layout) == 14 and layout[-1] == "total" and prototype_inputs(gqa, layout)[6] == "total"


def test_size_tensor_outputs_are_int32_after_the_outputs() -> None:
    from trtplug.protoplugin.standin import TRT as STANDIN

    spec = SPECS["unique"]
    logic = ProtoLogic(STANDIN, spec, {"axis": 0, "sorted": 1})
    half, i64, i32 = STANDIN.DataType.HALF, STANDIN.DataType.INT64, STANDIN.DataType.INT32
    assert logic.output_types([half]) == [half, i64, i64, i64, i32]

    def desc(t):
        return SimpleNamespace(desc=SimpleNamespace(type=t, format=STANDIN.TensorFormat.LINEAR, dims=()))

    in_out = [desc(half), desc(half), desc(i64), desc(i64), desc(i64), desc(i32)]
    assert all(logic.supports(pos, in_out, 1) for pos in range(6))
    in_out[5] = desc(i64)
    assert not logic.supports(5, in_out, 1)


def test_ops_without_a_hook_say_so() -> None:
    hookless = dataclasses.replace(SPECS["unique"], key="hookless", folder="no_such_prototype")
    reason = unsupported_reason(hookless)
    assert reason is not None and "output_dims() hook" in reason
    for key in ("dft_20", "stft", "center_crop_pad", "col2im", "unique", "compress"):
        assert unsupported_reason(SPECS[key]) is None, key


@pytest.mark.parametrize("auto_pad", ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"])
def test_max_pool_dims_match_geometry_over_extents_strides_and_ceil_mode(auto_pad: str) -> None:
    """Includes ceil_mode's dropped last window (extent 3, kernel 2, stride 3, pads 0/1 -> 1)."""
    from pyplugins.max_pool_with_indices import geometry, output_dims

    builder = Builder()
    checked = 0
    for extent, kernel, stride, dilation, end_pad, ceil in itertools.product(
        range(3, 10), (1, 2, 3), (1, 2, 3), (1, 2), (0, 1), (0, 1)
    ):
        if end_pad >= kernel or (kernel - 1) * dilation + 1 > extent:
            continue
        attrs = {"kernel_shape": [kernel], "strides": [stride], "dilations": [dilation], "pads": [0, end_pad]}
        attrs |= {"auto_pad": auto_pad, "ceil_mode": ceil, "storage_order": 0}
        x = [shapes.SymDim(TRT, builder, Const(n, symbolic=True)) for n in (1, 2, extent)]
        got = [d.expr.value for d in output_dims([x], attrs, builder)[0]]
        assert got == [1, 2, *geometry([extent], attrs)[0]], attrs | {"extent": extent}
        checked += 1
    assert checked > 100
