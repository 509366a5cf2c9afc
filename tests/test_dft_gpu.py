"""DFT on a GPU beyond the parity cases: every launch path (contiguous float32 straight into and
out of cuFFT; packed inputs: strided axes, cut or zero-padded signals, fp16/bf16; unpacked
outputs: onesided complex, inverse scaling, the conjugate mirror of a full real spectrum; the
irfft's C2R), odd and prime lengths, both members, through the binding and the IPluginV3 plugins
(build and runtime phase, on a side stream, the cuFFT plan reused across calls). Compared with
onnx.reference at the spec's tolerances; outputs are poisoned first."""

from __future__ import annotations

import numpy as np
import pytest

from tests.device_arrays import plugin_executor
from tests.test_dft import reference
from trtplug import native
from trtplug.protolib.dtypes import BFLOAT16, Bf16Device, to_bfloat16, to_device, to_host
from trtplug.registry import load_registry

pytestmark = pytest.mark.gpu

# (input shape, axis, dft_length or None)
GEOMETRIES = [
    ((4, 64, 1), 1, None),  # real, contiguous: R2C straight from the input
    ((4, 64, 2), -2, None),  # complex, contiguous: C2C straight from the input
    ((3, 97, 1), 1, None),  # prime length
    ((2, 45, 2), 1, None),  # odd length
    ((2, 16, 5, 2), 1, None),  # strided axis (inner 5): packed a thread per element
    ((2, 70, 37, 2), 1, None),  # strided axis (inner 37): the tiled pack/unpack, partial tiles both ways
    ((3, 33, 20, 1), 1, 40),  # tiled, real, zero-padded past a tile edge
    ((50, 3, 64, 2), 1, 20),  # tiled, cut: whole tiles along the inner axis
    ((17, 2, 48, 1), 0, None),  # tiled, first axis (outer 1, inner 96)
    ((6, 3, 1), 0, None),  # first axis
    ((3, 20, 1), 1, 32),  # zero-padded
    ((3, 20, 2), 1, 15),  # cut, odd
    ((5, 1, 2), 1, None),  # length 1
    ((0, 8, 1), 1, None),  # empty batch
    ((32, 4096, 1), 1, None),  # large
]
VARIANTS = [(0, 0), (0, 1), (1, 0), (1, 1)]  # (inverse, onesided)


def run_case(cp, op, shape, axis, length, inverse, onesided, dtype, execute, seed, slack: float = 1.0) -> None:
    spec = load_registry().get(op)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    x = to_bfloat16(x) if dtype == BFLOAT16 else x.astype(dtype)
    if inverse and onesided and length is None and shape[axis] < 2:
        return  # irfft of one bin: n = 0, no output
    attrs = {"inverse": inverse, "onesided": onesided, "axis": axis, "dft_length": length or 0}
    onnx_attrs = {"inverse": inverse, "onesided": onesided, "axis": axis}
    expected = reference(x.astype(np.float32), onnx_attrs, length, 17)
    y = Bf16Device.poisoned(cp, expected.shape) if dtype == BFLOAT16 else cp.full(expected.shape, np.nan, dtype=dtype)
    execute(spec, [to_device(cp, x)], [y], attrs)
    tol = spec.tolerance(dtype)
    got = to_host(cp, y).astype(np.float64)
    np.testing.assert_allclose(got, expected, atol=slack * tol.atol, rtol=slack * tol.rtol)


def binding(cp, ext):
    def execute(spec, ins, outs, attrs):
        native.run_binding(spec, ext, ins, outs, attrs, cp.cuda.get_current_stream())
        cp.cuda.get_current_stream().synchronize()

    return execute


def geometry_id(g) -> str:
    # "large" lets scripts/gpu_test.sh leave the big cases out of its memcheck pass.
    size = "large-" if np.prod(g[0]) >= 1 << 16 else ""
    return size + "x".join(map(str, g[0])) + f"-axis{g[1]}" + (f"-n{g[2]}" if g[2] else "")


@pytest.mark.parametrize("op", ["dft_17", "dft_20"])
@pytest.mark.parametrize("geometry", GEOMETRIES, ids=geometry_id)
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize(("inverse", "onesided"), VARIANTS, ids=str)
def test_binding(cp, ext, op, geometry, dtype, inverse, onesided, seed) -> None:
    shape, axis, length = geometry
    run_case(cp, op, shape, axis, length, inverse, onesided, dtype, binding(cp, ext), seed)


# Forward transforms cuFFT's 16-bit plans take (power-of-two n, contiguous rows, the transform's
# own output layout): (shape, axis, onesided). bf16 takes them by default; fp16 with TRTPLUG_DFT_16BIT=1.
SIXTEEN_BIT = [((4, 64, 1), 1, 1), ((4, 64, 2), -2, 0), ((32, 4096, 1), 1, 1), ((8, 4096, 2), 1, 0), ((3, 2, 1), 1, 1)]


@pytest.mark.parametrize("op", ["dft_17", "dft_20"])
@pytest.mark.parametrize(("shape", "axis", "onesided"), SIXTEEN_BIT, ids=str)
@pytest.mark.parametrize("phase", ["binding", "build", "runtime"])
def test_bf16_cufft_plans_meet_the_tolerance(cp, ext, library, monkeypatch, op, shape, axis, onesided, phase, seed):
    """cuFFT's bfloat16 transforms straight from and into the tensors (the default for bf16), through
    the binding and both plugin phases, against the float32 reference rounded once."""
    monkeypatch.delenv("TRTPLUG_DFT_16BIT", raising=False)
    execute = binding(cp, ext) if phase == "binding" else plugin_executor(cp, library, phase)
    run_case(cp, op, shape, axis, None, 0, onesided, BFLOAT16, execute, seed)


@pytest.mark.parametrize(("shape", "axis", "onesided"), SIXTEEN_BIT, ids=str)
def test_fp16_cufft_plans_opted_in_keep_torch_fft_accuracy(cp, ext, monkeypatch, shape, axis, onesided, seed):
    """fp16 on cuFFT's half plans (TRTPLUG_DFT_16BIT=1): stages rounded to fp16, as torch.fft's fp16
    transform computes, so within 10x the fp16 tolerance (the bench's allowance for torch) rather
    than the tolerance itself, which the default fp32 path holds (0.38 off at n = 4096, H100)."""
    monkeypatch.setenv("TRTPLUG_DFT_16BIT", "1")
    run_case(cp, "dft_20", shape, axis, None, 0, onesided, "float16", binding(cp, ext), seed, slack=10.0)


def test_plan_reused_across_shapes_and_kinds(cp, ext, seed) -> None:
    """One binding, alternating shapes and kinds: each call re-plans only when they change."""
    for shape, axis, length in GEOMETRIES[:4] * 2:
        for inverse, onesided in VARIANTS:
            run_case(cp, "dft_20", shape, axis, length, inverse, onesided, "float32", binding(cp, ext), seed)


def test_binding_refuses_a_wrong_output_shape(cp, ext) -> None:
    x = cp.ones((2, 8, 1), dtype=cp.float32)
    y = cp.full((2, 8, 1), cp.nan, dtype=cp.float32)
    with pytest.raises(ValueError, match=r"output must have shape \(2, 8, 2\)"):
        ext.dft_20([x], [y], {"axis": 1})
    assert bool(cp.isnan(y).all())


@pytest.mark.parametrize("op", ["dft_17", "dft_20"])
@pytest.mark.parametrize("geometry", [GEOMETRIES[i] for i in (0, 3, 4, 5, 10)], ids=geometry_id)
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("phase", ["build", "runtime"])
def test_plugin(cp, library, op, geometry, dtype, phase, seed) -> None:
    """Through the plugin host: fields from the creator, the plan made in onShapeChange, the
    work area in TensorRT's workspace, a side stream."""

    execute = plugin_executor(cp, library, phase)

    shape, axis, length = geometry
    for inverse, onesided in VARIANTS:
        run_case(cp, op, shape, axis, length, inverse, onesided, dtype, execute, seed)


def test_torch_equivalent_agrees(cp, seed) -> None:
    """The benchmark's torch side (torch.fft) computes the same transform."""
    torch = pytest.importorskip("torch")
    from trtplug.parity.impl_base import pyplugin_module

    prototype = pyplugin_module(load_registry().get("dft_20"))
    rng = np.random.default_rng(seed)
    for shape in [(3, 40, 1), (3, 40, 2)]:
        x = rng.standard_normal(shape).astype(np.float32)
        for inverse, onesided in VARIANTS:
            attrs = {"inverse": inverse, "onesided": onesided, "axis": 1, "dft_length": 0}
            (out_shape,) = prototype.output_shapes([x], attrs)
            expected = np.full(out_shape, np.nan, np.float32)
            prototype.forward(np, [x], [expected], attrs)
            got = prototype.torch_equivalent(torch, [torch.as_tensor(x, device="cuda")], attrs)
            got = got.cpu().numpy().reshape(out_shape)
            np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_static_plugin_workspace_holds_only_the_copies_it_makes(library, monkeypatch) -> None:
    """rfft of contiguous rows on a static shape, fp16/bf16 of power-of-two length (cuFFT's 16-bit
    plan: bf16's default, fp16's opted in) and fp32: cuFFT reads and writes the tensors, so the
    workspace is cuFFT's work area alone, not the float32 packed input and spectrum (~1 MB here)
    that other lengths need; a dynamic shape keeps their room (other dims of it may need them)."""
    fields = {"axis": 1, "dft_length": 0, "inverse": 0, "onesided": 1}
    rows, n = 32, 4096
    copies = rows * n * 4 + rows * (n // 2 + 1) * 2 * 4
    shapes = [[rows, n, 1], [rows, n // 2 + 1, 2]]

    def workspace(dtype: str, max_shapes=None, length: int = n) -> int:
        plugin = library.create("TrtplugDft", "1", "trtplug", fields)
        dims = [[rows, length, 1], [rows, length // 2 + 1, 2]]
        return plugin.workspace_size([dtype, dtype], dims if max_shapes is None else shapes, max_shapes)

    monkeypatch.delenv("TRTPLUG_DFT_16BIT", raising=False)
    assert workspace("float16") >= copies  # fp16's 16-bit plans are opt-in (dft_fft_plan.cu)
    assert workspace("bfloat16") < copies // 2  # bf16's are the default
    monkeypatch.setenv("TRTPLUG_DFT_16BIT", "1")
    for dtype in ("float16", "bfloat16"):
        assert workspace(dtype) < copies // 2, dtype
        assert workspace(dtype, [[2 * rows, n, 1], [2 * rows, n // 2 + 1, 2]]) >= 2 * copies, dtype
    assert workspace("float32") < copies // 2  # a contiguous float32 rfft: cuFFT straight from and into the tensors
    odd = n - 2  # not a power of two: the float32 transform and its copies
    assert workspace("float16", length=odd) >= rows * odd * 4 + rows * (odd // 2 + 1) * 2 * 4
