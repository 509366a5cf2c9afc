"""The prototypes' 16-byte-vector elementwise kernels (trtplug/protolib/gpu_kernels.py): every
GELU-family and split-GELU form compiles with nvcc here (CI has nvcc, no GPU), bf16 included; on a
GPU each form, dtype and bias/skip combination equals the NumPy path of the same prototype on
poisoned outputs, bf16 as Bf16Device, and inputs the vector kernel cannot take (unaligned, odd
widths, broadcast skip) fall back (the ElementwiseKernel, or float32 stand-ins for bf16) with the
same results. A spy checks the vector kernel really ran where it applies."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from trtplug.protolib import gpu_kernels
from trtplug.protolib.activations import bias_activation, gelu_erf, gelu_tanh, identity, quick_gelu
from trtplug.protolib.dtypes import Bf16Device, to_bfloat16

ACTIVATIONS = {"gelu_erf": gelu_erf, "gelu_tanh": gelu_tanh, "quick_gelu": quick_gelu(1.702), "identity": identity}
FORMS = [  # (activation, CUDA type, bias, skip): each activation, each type, bias and skip on and off
    ("gelu_erf", "float", True, True),
    ("gelu_tanh", "__half", True, False),
    ("quick_gelu", "__half", False, True),
    ("identity", "float", False, False),
    ("gelu_erf", "trtplug_bf16", True, False),
    ("identity", "trtplug_bf16", True, True),
]
CTYPES = ["float", "__half", "trtplug_bf16"]


def assert_compiles(tmp_path: Path, text: str) -> None:
    if not shutil.which("nvcc"):
        pytest.skip("nvcc is needed to compile the kernel source")
    source = tmp_path / "kernel.cu"
    source.write_text(text)
    done = subprocess.run(
        ["nvcc", "-arch=sm_90", "-c", str(source), "-o", str(tmp_path / "kernel.o")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize(("name", "ctype", "bias", "skip"), FORMS)
def test_every_form_compiles(tmp_path: Path, name: str, ctype: str, bias: bool, skip: bool) -> None:
    act = ACTIVATIONS[name]
    assert_compiles(tmp_path, gpu_kernels.vector_activation_source(act.cuda, tuple(act.params), ctype, bias, skip))


@pytest.mark.parametrize("ctype", CTYPES)
def test_split_gelu_source_compiles(tmp_path: Path, ctype: str) -> None:
    assert_compiles(tmp_path, gpu_kernels.vector_split_gelu_source(ctype))


CASES = [  # (shape, bias, skip, sliced): sliced = an offset view, so the vector kernel must decline
    ((3, 1024), True, True, False),
    ((1, 8), True, False, False),
    ((5, 7, 16), False, True, False),
    ((2, 24), False, False, False),
    ((4, 10), True, True, False),  # width 10: no whole vectors in fp32/fp16 -> fallback
    ((3, 1024), True, True, True),
    ((0, 16), True, False, False),
]


def _on_device(cp, x: np.ndarray, dtype: str, sliced: bool):
    """x on the device (bf16: a Bf16Device); `sliced`: a view one element into a copy, off 16-byte alignment."""
    bits = x.view(np.uint16) if dtype == "bfloat16" else x
    flat = bits.ravel()
    device = (
        cp.asarray(np.concatenate([flat[:1], flat]))[1:].reshape(x.shape) if sliced and x.size else cp.asarray(bits)
    )
    return Bf16Device(device) if dtype == "bfloat16" else device


def _host(rng, shape, dtype: str) -> np.ndarray:
    values = rng.standard_normal(shape).astype(np.float32)
    return to_bfloat16(values) if dtype == "bfloat16" else values.astype(dtype)


def _poisoned(cp, shape, dtype: str):
    if dtype == "bfloat16":
        return Bf16Device.poisoned(cp, shape)
    return cp.full(shape, cp.nan, dtype=dtype)


def _to_float32(out) -> np.ndarray:
    return out.to_host().astype(np.float32) if isinstance(out, Bf16Device) else out.get().astype(np.float32)


def _expects_vector(shape, sliced: bool, dtype: str, with_skip: bool) -> bool:
    per = 4 if dtype == "float32" else 8
    return not sliced and shape[-1] % per == 0 and int(np.prod(shape)) > 0


TOLERANCE = {"float32": 1e-6, "float16": 1e-3, "bfloat16": 1e-2}


@pytest.mark.gpu
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize(("shape", "with_bias", "with_skip", "sliced"), CASES)
def test_vector_kernel_equals_the_numpy_path(cp, monkeypatch, name, dtype, shape, with_bias, with_skip, sliced):
    rng = np.random.default_rng(7)
    width = shape[-1]
    host = [_host(rng, s, dtype) for s in (shape, (width,), shape)]
    x, bias, skip = host[0], host[1] if with_bias else None, host[2] if with_skip else None
    want = np.empty(shape, np.float32)
    bias_activation(
        np, [None if a is None else a.astype(np.float32) for a in (x, bias, skip)], [want], ACTIVATIONS[name]
    )
    device = [
        _on_device(cp, x, dtype, sliced),
        None if bias is None else _on_device(cp, bias, dtype, False),
        None if skip is None else _on_device(cp, skip, dtype, False),
    ]
    out = _poisoned(cp, shape, dtype)
    launched = []
    real = gpu_kernels._vector_activation_kernel
    monkeypatch.setattr(gpu_kernels, "_vector_activation_kernel", lambda *a: launched.append(a) or real(*a))
    bias_activation(cp, device, [out], ACTIVATIONS[name])
    # the run dtype's kernel (a declined bf16 tensor's float32 stand-ins may take the float32 one)
    assert any(form[2] == dtype for form in launched) == _expects_vector(shape, sliced, dtype, with_skip)
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(_to_float32(out), want, rtol=tol, atol=tol)


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize(("shape", "sliced"), [((6, 64), False), ((3, 2048), False), ((5, 12), False), ((4, 64), True)])
@pytest.mark.parametrize("vectors", ["1", "0"])
def test_split_gelu_equals_the_numpy_path(cp, monkeypatch, dtype, shape, sliced, vectors):
    from pyplugins import bias_split_gelu

    monkeypatch.setenv("TRTPLUG_PROTO_VECTOR", vectors)
    rng = np.random.default_rng(11)
    x, bias = _host(rng, shape, dtype), _host(rng, (shape[-1],), dtype)
    want = np.empty((*shape[:-1], shape[-1] // 2), np.float32)
    bias_split_gelu.forward(np, [x.astype(np.float32), bias.astype(np.float32)], [want], {})
    out = _poisoned(cp, want.shape, dtype)
    bias_split_gelu.forward(cp, [_on_device(cp, x, dtype, sliced), _on_device(cp, bias, dtype, False)], [out], {})
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(_to_float32(out), want, rtol=tol, atol=tol)


@pytest.mark.gpu
def test_vectors_off_takes_the_elementwise_kernel(cp, monkeypatch):
    """TRTPLUG_PROTO_VECTOR=0 (for timing the ElementwiseKernel) still computes the same values."""
    monkeypatch.setenv("TRTPLUG_PROTO_VECTOR", "0")
    monkeypatch.setattr(gpu_kernels, "_vector_activation_kernel", None)  # any use would raise
    x = cp.asarray(np.linspace(-4, 4, 4096, dtype=np.float32).reshape(4, 1024))
    out = cp.full(x.shape, cp.nan, dtype=cp.float32)
    bias_activation(cp, [x], [out], gelu_erf)
    want = np.empty(x.shape, np.float32)
    bias_activation(np, [x.get()], [want], gelu_erf)
    np.testing.assert_allclose(out.get(), want, rtol=1e-6, atol=1e-6)
