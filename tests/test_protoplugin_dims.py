"""The prototype plugin's shape inputs, folded inputs, size tensors and output_dims hooks
(trtplug.protoplugin): symbolic output shapes evaluated on known extents against the prototype's
concrete output_shapes on the parity cases' inputs, and TensorRT's input layout."""

from __future__ import annotations

from types import SimpleNamespace
from typing import ClassVar

import numpy as np
import pytest

from trtplug.parity.cases import default_cases, make_inputs
from trtplug.parity.impl_base import folded_case, pyplugin_module
from trtplug.protoplugin import shapes
from trtplug.protoplugin.plugin import (
    ProtoLogic,
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
    """An IDimensionExpr stand-in with a known value; `size_index` marks a declared size tensor."""

    def __init__(self, value: int, size_index: int | None = None) -> None:
        self.value, self.size_index = value, size_index

    def is_constant(self) -> bool:
        return self.size_index is None

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
    }

    def __init__(self) -> None:
        self.declared: dict[int, tuple[int, int]] = {}

    def constant(self, value: int) -> Const:
        return Const(value)

    def operation(self, op: str, a: Const, b: Const) -> Const:
        assert a.size_index is None and b.size_index is None, "a size tensor is used as a dim only"
        return Const(self.OPS[op](a.value, b.value))

    def declare_size_tensor(self, output: int, opt: Const, upper: Const) -> Const:
        assert output not in self.declared, f"output {output} declared twice"
        self.declared[output] = (opt.value, upper.value)
        return Const(upper.value, output)


TRT = SimpleNamespace(
    DimensionOperation=SimpleNamespace(**{k: k for k in Builder.OPS}),
    DimsExprs=lambda exprs: tuple(exprs),
)


def symbolic_shapes(spec, case, inputs):
    """The plugin's get_output_shapes for a case: (Const tuples per output, the builder)."""
    folded = folded_case(spec, case, inputs)
    dims, values = [], []
    for tensor in spec.plugin_inputs:
        given = tensor.name in folded.shapes
        if tensor.shape_input:
            if given:
                values.append([Const(int(v)) for v in np.asarray(inputs[tensor.name]).ravel()])
            continue
        dims.append([Const(d) for d in (folded.shapes[tensor.name] if given else (0,))])
    copies = [[Const(d) for d in folded.shapes[t.name]] for t in spec.data_copies]
    builder = Builder()
    logic = ProtoLogic(TRT, spec, folded.attrs)
    return logic.output_shapes([*dims, *copies], values, builder), builder, folded


def concrete_shapes(spec, folded, inputs):
    ins = [inputs.get(t.name) if t.name in folded.shapes else None for t in spec.plugin_inputs]
    return [tuple(s) for s in pyplugin_module(spec).output_shapes(ins, folded.attrs)]


@pytest.mark.parametrize("key", HOOKED)
def test_output_dims_hook_agrees_with_the_prototypes_concrete_shapes(key: str) -> None:
    """Every parity case: the hook's dims equal output_shapes', a size tensor's dim bounds it."""
    spec = SPECS[key]
    checked = 0
    for case in default_cases(spec):
        inputs = make_inputs(spec, case, seed=0)
        got, builder, folded = symbolic_shapes(spec, case, inputs)
        want = concrete_shapes(spec, folded, inputs)
        used = len(want)
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
        checked += 1
    assert checked >= 3, f"{key}: too few cases to trust the hook"


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
    reason = unsupported_reason(SPECS["bert_attention"])
    assert reason is not None and "output_dims() hook" in reason
    for key in ("dft_20", "stft", "center_crop_pad", "col2im", "unique", "compress"):
        assert unsupported_reason(SPECS[key]) is None, key
