"""The prototype plugin's enqueue on the CPU (tests/numpy_cupy.py stands in for CuPy): TensorRT's
input layout (shape inputs dropped, data copies appended, absent optional inputs as empty
placeholders), output buffers as TensorRT allocates them (a data-dependent extent at its size
tensor's upper bound), then the outputs read back packed at the prototype's shapes and the size
tensors against size_tensor_values. On the GPU the `protoplugin` parity implementation runs the
same code with CuPy for every op and case."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.numpy_cupy import numpy_cupy, pointer
from tests.test_protoplugin_dims import SPECS, symbolic_shapes
from trtplug.parity.cases import default_cases, make_inputs
from trtplug.parity.impl_base import output_specs, poisoned, pyplugin_module
from trtplug.parity.impls import fill_absent
from trtplug.protolib.dtypes import BFLOAT16, numpy_dtype, to_bfloat16, upcast
from trtplug.protoplugin import shapes
from trtplug.protoplugin.plugin import ProtoLogic, node_inputs, output_count, tensorrt_inputs, unsupported_reason
from trtplug.protoplugin.standin import TRT, descriptor

CASES_PER_OP = 4


def expected_outputs(spec, folded, ins, dtype):
    """The prototype's own outputs at its concrete shapes (NumPy); bf16 ones computed in float32
    on the upcast inputs and rounded, as the plugin does, or, for a prototype that takes bf16
    arrays, on the bf16 arrays themselves."""
    prototype = pyplugin_module(spec)
    used = output_count(spec, folded.attrs)
    hooked = shapes.dims_hook(spec) is not None  # else the spec's shape rules shape every output
    known = [tuple(s) for s in prototype.output_shapes(ins, folded.attrs)][:used] if hooked else None
    specs = output_specs(spec, folded, dtype, known)
    if getattr(prototype, "takes_bf16", False):  # it rounds inside as the run's type (GatedAdd's product)
        outs = [poisoned(np, shape, dt) for _, shape, dt in specs]
        prototype.forward(np, ins, outs, folded.attrs)
        return outs
    outs = [poisoned(np, shape, "float32" if dt == BFLOAT16 else dt) for _, shape, dt in specs]
    prototype.forward(np, [None if a is None else upcast(np, a) for a in ins], outs, folded.attrs)
    return [to_bfloat16(o) if dt == BFLOAT16 else o for o, (_, _, dt) in zip(outs, specs, strict=True)]


def case_inputs(spec, case, dtype):
    """The case's inputs, floating ones of a T that allows `dtype` in `dtype` (bf16: ml_dtypes)."""
    inputs = make_inputs(spec, case, seed=1)
    for tensor in spec.inputs:
        if tensor.name in inputs and inputs[tensor.name].dtype.kind == "f" and dtype in spec.dtypes_of(tensor):
            inputs[tensor.name] = np.asarray(inputs[tensor.name]).astype(numpy_dtype(dtype))
    return inputs


def run_plugin(spec, folded, ins, buffer_shapes, dtypes):
    """ProtoLogic.run as TensorRT calls enqueue; returns the output buffers and size tensors."""
    layout = tensorrt_inputs(spec, fill_absent(np, spec, node_inputs(spec, ins)))
    plugin_ins = [np.ascontiguousarray(a) for a in layout]
    buffers = [poisoned(np, shape, dtype) for shape, dtype in zip(buffer_shapes, dtypes, strict=True)]
    counts = [np.full((), -1, np.int32) for _ in spec.size_tensors]
    with numpy_cupy():
        ProtoLogic(TRT, spec, folded.attrs).run(
            [descriptor(TRT, a) for a in plugin_ins],
            [descriptor(TRT, o) for o in [*buffers, *counts]],
            [pointer(a) for a in plugin_ins],
            [pointer(o) for o in [*buffers, *counts]],
            0,
        )
    return buffers, counts


SERVED = sorted(k for k, s in SPECS.items() if unsupported_reason(s) is None)
BF16_OPS = [k for k in SERVED if BFLOAT16 in SPECS[k].dtypes]


@pytest.mark.parametrize(("key", "dtype"), [(k, "float32") for k in SERVED] + [(k, BFLOAT16) for k in BF16_OPS])
def test_enqueue_writes_the_prototypes_outputs_and_size_tensors(key: str, dtype: str) -> None:
    spec = SPECS[key]
    cases = [c for c in default_cases(spec) if not c.strided][:CASES_PER_OP]
    packed_below_the_bound = 0
    for case in cases:
        inputs = case_inputs(spec, case, dtype)
        dims, _, folded = symbolic_shapes(spec, case, inputs, symbolic=False)
        ins = [inputs[t.name] if t.name in folded.shapes else None for t in spec.plugin_inputs]
        while ins and ins[-1] is None:
            ins.pop()
        want = expected_outputs(spec, folded, ins, dtype)
        uppers = [tuple(d.value for d in out) for out in dims[: len(want)]]
        got, counts = run_plugin(spec, folded, ins, uppers, [str(w.dtype) for w in want])
        for i, (buffer, expected) in enumerate(zip(got, want, strict=True)):
            packed = buffer.ravel()[: math.prod(expected.shape)].reshape(expected.shape)
            np.testing.assert_array_equal(packed, expected, err_msg=f"{key} {case.name} output {i}")
        if spec.size_tensors:
            assert [int(c) for c in counts] == pyplugin_module(spec).size_tensor_values(want, folded.attrs)
            packed_below_the_bound += any(b.size > w.size for b, w in zip(got, want, strict=True))
    assert packed_below_the_bound or not spec.size_tensors, f"{key}: no case left room past the actual count"
