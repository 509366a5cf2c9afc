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
from tests.test_protoplugin_dims import HOOKED, SPECS, symbolic_shapes
from trtplug.parity.cases import default_cases, make_inputs
from trtplug.parity.impl_base import output_specs, poisoned, pyplugin_module
from trtplug.parity.impls import fill_absent
from trtplug.protoplugin.plugin import ProtoLogic, node_inputs, output_count, tensorrt_inputs
from trtplug.protoplugin.standin import TRT, descriptor

CASES_PER_OP = 4


def expected_outputs(spec, folded, ins):
    """The prototype's own outputs at its concrete shapes (NumPy)."""
    prototype = pyplugin_module(spec)
    used = output_count(spec, folded.attrs)
    known = [tuple(s) for s in prototype.output_shapes(ins, folded.attrs)][:used]
    specs = output_specs(spec, folded, "float32", known)
    outs = [poisoned(np, shape, dtype) for _, shape, dtype in specs]
    prototype.forward(np, ins, outs, folded.attrs)
    return outs


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


@pytest.mark.parametrize("key", HOOKED)
def test_enqueue_writes_the_prototypes_outputs_and_size_tensors(key: str) -> None:
    spec = SPECS[key]
    cases = [c for c in default_cases(spec) if not c.strided][:CASES_PER_OP]
    packed_below_the_bound = 0
    for case in cases:
        inputs = make_inputs(spec, case, seed=1)
        dims, _, folded = symbolic_shapes(spec, case, inputs, symbolic=False)
        ins = [inputs[t.name] if t.name in folded.shapes else None for t in spec.plugin_inputs]
        while ins and ins[-1] is None:
            ins.pop()
        want = expected_outputs(spec, folded, ins)
        uppers = [tuple(d.value for d in out) for out in dims[: len(want)]]
        got, counts = run_plugin(spec, folded, ins, uppers, [str(w.dtype) for w in want])
        for i, (buffer, expected) in enumerate(zip(got, want, strict=True)):
            packed = buffer.ravel()[: math.prod(expected.shape)].reshape(expected.shape)
            np.testing.assert_array_equal(packed, expected, err_msg=f"{key} {case.name} output {i}")
        if spec.size_tensors:
            assert [int(c) for c in counts] == pyplugin_module(spec).size_tensor_values(want, folded.attrs)
            packed_below_the_bound += any(b.size > w.size for b, w in zip(got, want, strict=True))
    assert packed_below_the_bound or not spec.size_tensors, f"{key}: no case left room past the actual count"
