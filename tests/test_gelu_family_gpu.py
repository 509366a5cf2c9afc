"""The GELU family and bias ops on a GPU beyond the parity cases: unaligned buffers (the scalar
kernel path), odd widths, every op through its binding and through its IPluginV3 plugin (build
and runtime phase), and a tensor beyond 2^31 elements (the chunked launch). Each result is
compared with the op's parity reference (ONNX Runtime CPU, or the NumPy reference of the
CUDA-only ops) at the spec's tolerances; outputs are poisoned with NaN first."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from tests.device_arrays import (
    FLOAT_DTYPES,
    as_float64,
    host_values,
    offset_view,
    plugin_executor,
    poisoned_view,
    untouched,
)
from trtplug import native
from trtplug.parity.cases import Case, default_attrs, make_inputs
from trtplug.parity.impl_base import output_specs
from trtplug.parity.reference import run_reference
from trtplug.registry import load_registry

pytestmark = pytest.mark.gpu

OPS = ["gelu", "bias_gelu", "fast_gelu", "quick_gelu", "bias_add", "bias_split_gelu"]
SHAPES = [(1, 1, 2), (3, 5, 34), (4, 7, 6), (2, 3, 64), (2, 33, 1000)]


def case_for(spec, shape: tuple[int, ...]) -> Case:
    shapes = {"X": shape, "A": shape, "bias": shape[-1:], "B": shape[-1:], "skip": shape}
    return Case("gpu", {t.name: shapes[t.name] for t in spec.inputs}, default_attrs(spec))


def check(cp, spec, case, inputs, dtype, outputs, buffers, offset) -> None:
    (expected,) = run_reference(spec, case, inputs)
    tol = spec.tolerance(dtype)
    (actual,) = [as_float64(o) for o in outputs]
    np.testing.assert_allclose(actual, expected, atol=tol.atol, rtol=tol.rtol)
    assert offset == 0 or all(untouched(b) for b in buffers)  # nothing written before the view


def run_case(cp, op: str, shape, dtype: str, offset: int, seed: int, execute) -> None:
    spec = load_registry().get(op)
    case = case_for(spec, shape)
    inputs = {k: host_values(v, dtype) for k, v in make_inputs(spec, case, seed).items()}
    ins = [offset_view(cp, inputs[t.name], offset) for t in spec.inputs]
    pairs = [poisoned_view(cp, s, dt, offset) for _, s, dt in output_specs(spec, case, dtype)]
    execute(spec, ins, [view for _, view in pairs], case.attrs)
    cp.cuda.get_current_stream().synchronize()
    check(cp, spec, case, inputs, dtype, [view for _, view in pairs], [buf for buf, _ in pairs], offset)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("offset", [0, 1], ids=["aligned", "misaligned"])
def test_binding(cp, ext, op, shape, dtype, offset, seed) -> None:
    def execute(spec, ins, outs, attrs):
        native.run_binding(spec, ext, ins, outs, attrs, cp.cuda.get_current_stream())

    run_case(cp, op, shape, dtype, offset, seed, execute)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("shape", [(3, 5, 34), (2, 3, 64)], ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("phase", ["build", "runtime"])
def test_plugin(cp, library, op, shape, dtype, phase, seed) -> None:
    execute = plugin_executor(cp, library, phase)

    run_case(cp, op, shape, dtype, 1 if phase == "runtime" else 0, seed, execute)


@pytest.mark.parametrize("alpha", [1.0, -0.75])
def test_quick_gelu_alpha_reaches_the_kernel(cp, ext, alpha, seed) -> None:
    spec = load_registry().get("quick_gelu")
    case = Case("alpha", {"X": (5, 77)}, {"alpha": alpha})
    inputs = make_inputs(spec, case, seed)
    y = cp.full((5, 77), cp.nan, dtype=cp.float32)
    ext.quick_gelu([cp.asarray(inputs["X"])], [y], {"alpha": alpha})
    check(cp, spec, case, inputs, "float32", [y], [], 0)


@pytest.mark.parametrize(
    ("op", "nb_inputs", "attrs", "message"),
    [
        ("gelu", 1, {"alpha": 1.0}, "gelu: unknown attribute 'alpha'"),
        ("fast_gelu", 3, {}, "fast_gelu: 3 inputs given, the op has 2"),
        ("bias_gelu", 1, {}, "bias_gelu: inputs 'B' is required"),
        ("quick_gelu", 1, {"alpha": "fast"}, "quick_gelu: attribute 'alpha' has the wrong type"),
        ("bias_split_gelu", 2, {"approximate": "tanh"}, "bias_split_gelu: unknown attribute 'approximate'"),
    ],
)
def test_binding_refuses_what_the_spec_forbids(cp, ext, op, nb_inputs, attrs, message) -> None:
    """The generated glue checks the call against the op's spec before any shape check or launch."""
    x, bias = cp.zeros((2, 4), dtype=cp.float32), cp.zeros(4, dtype=cp.float32)
    y = cp.full((2, 4), cp.nan, dtype=cp.float32)
    with pytest.raises(ValueError, match=re.escape(message)):
        getattr(ext, op)([x, bias, bias][:nb_inputs], [y], attrs)
    assert bool(cp.isnan(y).all())  # nothing was launched


def test_launch_error_is_raised_not_a_crash(ext) -> None:
    import cupy as cp

    x = cp.zeros(10, dtype=cp.float32)
    with pytest.raises(RuntimeError, match="cudaErrorInvalidValue"):
        ext.fast_gelu_ptr(x.data.ptr, x.data.ptr, 10, "float32", bias=x.data.ptr, bias_len=3)


def test_large_tensor_is_launched_in_chunks(cp, ext) -> None:
    """2^31 + 352 fp16 elements on a misaligned buffer: the scalar path with more than INT32_MAX
    groups, so the launcher splits it; chunk boundaries fall on whole bias rows (length 1000).
    Checked around the first chunk boundary and at both ends."""
    free, _ = cp.cuda.runtime.memGetInfo()
    width, rows = 1000, 2147484
    n = width * rows
    if free < 2 * 2 * n + (1 << 30):
        pytest.skip(f"needs ~{4 * n >> 30} GiB of free GPU memory")
    spec = load_registry().get("bias_gelu")
    buf = cp.empty(n + 1, dtype=cp.float16)
    block = 1 << 28  # fill in blocks: a float32 temporary of the whole tensor would need 8 GiB more
    for start in range(0, n, block):
        size = min(block, n - start)
        buf[1 + start : 1 + start + size] = cp.random.standard_normal(size, dtype=cp.float32) * 2
    x = buf[1:].reshape(rows, width)
    bias = cp.asarray((np.arange(width) % 7 - 3) / 4, dtype=cp.float16)
    out = cp.full(n + 1, cp.nan, dtype=cp.float16)
    y = out[1:].reshape(rows, width)
    ext.bias_gelu([x, bias], [y])
    cp.cuda.get_current_stream().synchronize()
    assert math.isnan(float(out[0]))
    boundary = (2**31 - 1) // width  # first chunk ends after this many rows
    for lo in (0, boundary - 2, rows - 3):
        rows_x = cp.asnumpy(x[lo : lo + 3])
        case = Case("large", {"A": rows_x.shape, "B": (width,)})
        (expected,) = run_reference(spec, case, {"A": rows_x, "B": cp.asnumpy(bias)})
        tol = spec.tolerance("float16")
        actual = cp.asnumpy(y[lo : lo + 3]).astype(np.float64)
        np.testing.assert_allclose(actual, expected, atol=tol.atol, rtol=tol.rtol)
