"""MatMulNBits on a GPU beyond the parity cases: both kernel paths (the GEMV up to 8 rows of A,
dequantize + cuBLAS above) for every bit width, zero-point form and optional input, rows whose
bytes are not a multiple of 16 (the 4-byte-load GEMV), the bandwidth-bound kernels at their
boundaries (chunk counts around the block's threads, rows of A per kernel, scale groups per chunk,
the benchmark's shapes) and unaligned views that send calls back to the original kernels, the
workspace query, and the IPluginV3
plugin through the plugin host (build and runtime phase, a side stream, the workspace TensorRT
hands it). Results are compared with ONNX Runtime CPU (the parity reference) at the spec's
tolerances; outputs are poisoned with NaN first."""

from __future__ import annotations

import math

import numpy as np
import pytest

from trtplug.parity.cases import Case, make_inputs
from trtplug.parity.reference import run_reference
from trtplug.protolib.dtypes import BFLOAT16, Bf16Device, numpy_dtype, to_device, upcast
from trtplug.registry import load_registry

pytestmark = pytest.mark.gpu


def nbits_case(rows: tuple[int, ...], k: int, n: int, bits: int, block: int, zp: str | None, g_idx: bool, bias: bool):
    """A case whose inputs the spec's generator draws: zero_points of rank 2 are packed, rank 1 floats."""
    blocks = -(-k // block)
    shapes = {"A": (*rows, k), "B": (n, blocks, block * bits // 8), "scales": (n, blocks)}
    if zp == "packed":
        shapes["zero_points"] = (n, -(-blocks * bits // 8))
    elif zp == "float":
        shapes["zero_points"] = (n * blocks,)
    if g_idx:
        shapes["g_idx"] = (k,)
    if bias:
        shapes["bias"] = (n,)
    return Case("gpu", shapes, {"K": k, "N": n, "bits": bits, "block_size": block})


def inputs_and_expected(case: Case, dtype: str, seed: int):
    spec = load_registry().get("matmul_nbits")
    rounded = numpy_dtype(dtype)  # bf16: ml_dtypes.bfloat16
    inputs = {k: v if v.dtype.kind in "iu" else v.astype(rounded) for k, v in make_inputs(spec, case, seed).items()}
    (expected,) = run_reference(spec, case, inputs)
    ordered = [inputs.get(t.name) for t in spec.inputs]
    while ordered[-1] is None:
        ordered.pop()
    return spec, ordered, expected


def device_inputs(cp, spec, ordered):
    """Device arrays; an absent input before a present one is an empty array of its type (the plugins' absent)."""
    pairs = zip(spec.inputs, ordered, strict=False)
    return [to_device(cp, a) if a is not None else cp.empty((0,), dtype=spec.dtypes_of(t)[0]) for t, a in pairs]


def poisoned_output(cp, shape: tuple[int, ...], dtype: str):
    return Bf16Device.poisoned(cp, shape) if dtype == BFLOAT16 else cp.full(shape, cp.nan, dtype=dtype)


def check(cp, spec, dtype: str, actual, expected) -> None:
    """actual (bf16 upcast to float32) against the reference at the spec's tolerance for dtype."""
    tol = spec.tolerance(dtype)
    values = upcast(cp, actual).get().astype(np.float64)
    np.testing.assert_allclose(values, expected, atol=tol.atol, rtol=tol.rtol)


# (rows of A, K, N, bits, block, zero points, g_idx, bias): ONNX Runtime CPU takes each combination
# (it refuses float zero points and g_idx with 8 bits, and ignores packed zero points with g_idx).
CASES = [
    ((1,), 4096, 512, 4, 32, "packed", False, True),
    ((2,), 256, 33, 4, 64, "float", False, False),
    ((3,), 100, 7, 4, 16, None, False, True),
    ((8,), 1000, 31, 8, 256, "packed", False, True),
    ((2, 4), 160, 10, 4, 32, None, True, True),
    ((5,), 64, 12, 2, 16, "packed", False, True),
    ((9,), 512, 130, 4, 32, "packed", False, True),
    ((300,), 512, 200, 8, 128, None, False, True),
    ((4, 33), 192, 65, 4, 64, "float", True, False),
    ((64,), 130, 9, 2, 64, "float", False, True),
    ((0,), 64, 8, 4, 32, "packed", False, True),
]
MISALIGNED = [((3,), 48, 5, 4, 16, "packed", False, True), ((6,), 48, 5, 2, 16, None, False, False)]


def case_id(c) -> str:
    rows, k, n, bits, block, zp, g_idx, bias = c
    return f"m{math.prod(rows)}-k{k}-n{n}-b{bits}-bs{block}-zp_{zp}{'-g_idx' if g_idx else ''}{'-bias' if bias else ''}"


# The bandwidth-bound kernels (matmul_nbits_fast.cuh) take calls without g_idx whose K is a multiple
# of the block and whose B rows are whole 16-byte chunks (K a multiple of 32 at 4 bits, 16 at 8, 64
# at 2), with 16-byte-aligned A, B and workspace: the GEMV 4 and 8 bits, the dequantize every width.
# The GEMV block is 128 threads over a row's chunks and 4 output columns; rows of A in kernels for
# 1, 2, 4 and 8. The cases sit on those boundaries (the comment says which).
FAST_GEMV = [
    ((1,), 32, 1, 4, 32, "packed", False, True),  # one chunk per row; 3 of the block's 4 columns dead
    ((1,), 4064, 5, 4, 32, None, False, True),  # 127 chunks: one short of the block's threads
    ((2,), 4128, 7, 4, 32, "packed", False, False),  # 129 chunks: thread 0 takes two
    ((3,), 256, 33, 4, 16, "packed", False, True),  # two scale groups per chunk; 3 rows in the 4-row kernel
    ((4,), 512, 64, 4, 64, "float", False, True),
    ((5,), 1024, 63, 4, 128, None, False, True),  # 5 rows in the 8-row kernel
    ((8,), 1024, 65, 4, 256, "packed", False, True),
    ((1,), 16, 9, 8, 16, "packed", False, True),  # 8 bits: one chunk is one block of 16
    ((2,), 2064, 31, 8, 16, "packed", False, True),  # 129 chunks
    ((6,), 512, 17, 8, 128, None, False, False),
    ((7,), 768, 130, 8, 256, "packed", False, True),
    ((1,), 4096, 4096, 4, 32, "packed", False, False),  # the benchmark's decode shape
    # One row of A (TRTPLUG_NBITS_GEMV=wave's kernel unless 4 bits at block 16):
    ((1,), 4128, 7, 4, 32, "float", False, True),  # 129 chunks: thread 0 loops; float zero points
    ((1,), 1024, 130, 8, 256, None, False, True),  # 8 bits, 2 dead columns in the last block
    ((1,), 256, 33, 4, 16, "packed", False, True),  # two scale groups per chunk: the fast GEMV's
]
FAST_DEQUANTIZE = [
    ((9,), 4128, 9, 4, 16, None, False, True),  # first GEMM row count; two blocks per chunk
    ((16,), 128, 3, 2, 64, "float", False, True),  # 2 bits: one chunk is one block of 64
    ((33,), 2064, 20, 8, 16, "packed", False, True),
    ((2048,), 4096, 4096, 4, 32, "packed", False, False),  # the benchmark's prefill shape
]


def run_binding(cp, ext, params, dtype: str, seed: int, shift: str | None = None) -> None:
    """The binding on a case against the reference; `shift` moves A (one element), B (4 bytes) or
    the workspace (8 bytes) off 16-byte alignment, onto the original kernels."""
    case = nbits_case(*params)
    spec, ordered, expected = inputs_and_expected(case, dtype, seed)
    inputs = device_inputs(cp, spec, ordered)
    workspace = None
    if shift == "A":
        inputs[0] = shifted(cp, inputs[0], 1)
    elif shift == "B":
        inputs[1] = shifted(cp, inputs[1], 4)
    elif shift == "workspace":
        k, n = case.attrs["K"], case.attrs["N"]
        needed = ext.matmul_nbits_workspace_bytes(dtype, math.prod(params[0]), n, k)
        workspace = cp.empty(needed + 8, dtype=cp.uint8)[8:]
    y = poisoned_output(cp, expected.shape, dtype)
    ext.matmul_nbits(inputs, [y], dict(case.attrs), workspace=workspace)
    cp.cuda.get_current_stream().synchronize()
    check(cp, spec, dtype, y, expected)


def shifted(cp, array, elements: int):
    """A copy of `array` starting `elements` elements into a larger buffer (an unaligned view)."""
    flat = array.ravel()
    buffer = cp.empty(flat.size + elements, dtype=flat.dtype)
    view = buffer[elements:]
    view[...] = flat
    return view.reshape(array.shape)


@pytest.mark.parametrize("params", CASES + MISALIGNED, ids=case_id)
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_binding(cp, ext, params, dtype, seed) -> None:
    run_binding(cp, ext, params, dtype, seed)


@pytest.mark.parametrize("params", FAST_GEMV + FAST_DEQUANTIZE, ids=case_id)
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("gemv", ["fast", "wave", "original"])
def test_fast_kernels(cp, ext, monkeypatch, gemv, params, dtype, seed) -> None:
    """The decode GEMVs (TRTPLUG_NBITS_GEMV, read per launch; `wave` takes one row of A at one
    quantization block per chunk, the fast GEMV the rest) and the fast dequantize."""
    monkeypatch.setenv("TRTPLUG_NBITS_GEMV", gemv)
    run_binding(cp, ext, params, dtype, seed)


# (case, what is shifted): A and B for the GEMV, B and the workspace for the dequantize (A stays
# aligned there: it goes to cuBLAS, not to these kernels).
UNALIGNED = [
    (FAST_GEMV[3], "A"),
    (FAST_GEMV[3], "B"),
    (FAST_GEMV[8], "A"),
    (FAST_GEMV[8], "B"),
    (FAST_DEQUANTIZE[0], "B"),
    (FAST_DEQUANTIZE[0], "workspace"),
    (FAST_DEQUANTIZE[2], "workspace"),
]


@pytest.mark.parametrize(("params", "shift"), UNALIGNED, ids=lambda v: v if isinstance(v, str) else case_id(v))
@pytest.mark.parametrize("dtype", ["float32", "float16"])  # bf16 device arrays are wrapped: not sliced here
def test_unaligned_views_take_the_original_kernels(cp, ext, params, shift, dtype, seed) -> None:
    run_binding(cp, ext, params, dtype, seed, shift)


@pytest.mark.parametrize("params", [CASES[0], CASES[4], CASES[7], MISALIGNED[0]], ids=case_id)
@pytest.mark.parametrize("phase", ["build", "runtime"])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_plugin(cp, library, params, phase, dtype, seed) -> None:
    case = nbits_case(*params)
    spec, ordered, expected = inputs_and_expected(case, dtype, seed)
    plugin = library.create("TrtplugMatMulNBits", "1", "trtplug", dict(case.attrs))
    assert plugin is not None
    plugin = plugin if phase == "build" else plugin.round_trip()
    y = poisoned_output(cp, expected.shape, dtype)
    stream = cp.cuda.Stream(non_blocking=True)  # the plugin must use the stream it is given
    inputs = device_inputs(cp, spec, ordered)
    cp.cuda.get_current_stream().synchronize()  # the side stream does not wait for the default stream
    plugin.run(inputs, [y], stream, synchronize=False)
    stream.synchronize()
    check(cp, spec, dtype, y, expected)


def test_workspace_only_for_the_gemm_path(ext) -> None:
    """Up to 8 rows the GEMV needs nothing; above, B dequantized (N * K of A's type) when cuBLAS is linked."""
    assert ext.matmul_nbits_workspace_bytes("float16", 8, 4096, 4096) == 0
    above = ext.matmul_nbits_workspace_bytes("float16", 9, 4096, 4096)
    assert above in (0, 4096 * 4096 * 2)
    assert ext.matmul_nbits_workspace_bytes("float32", 2048, 10, 30) == (10 * 30 * 4 if above else 0)


def test_binding_names_a_wrong_shape(cp, ext) -> None:
    a = cp.zeros((2, 64), dtype=cp.float16)
    b = cp.zeros((8, 2, 8), dtype=cp.uint8)  # block 32 at 4 bits is 16 bytes per block, not 8
    scales = cp.zeros((8, 2), dtype=cp.float16)
    y = cp.full((2, 8), cp.nan, dtype=cp.float16)
    with pytest.raises(ValueError, match=r"matmul_nbits: B must have shape \[N, ceil"):
        ext.matmul_nbits([a, b, scales], [y], {"K": 64, "N": 8, "bits": 4, "block_size": 32})
    assert bool(cp.isnan(y).all())  # nothing was launched
