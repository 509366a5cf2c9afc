"""The prototypes' 16-byte-vector activation kernel (trtplug/protolib/gpu_kernels.py, opt-in with
TRTPLUG_PROTO_VECTOR=1): every GELU-family form compiles with nvcc here (CI has nvcc, no GPU);
on a GPU each form, dtype and bias/skip combination equals the NumPy path of the same prototype
on poisoned outputs, and inputs the vector kernel cannot take (unaligned, odd widths, broadcast
skip) fall back to the ElementwiseKernel with the same results."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from trtplug.protolib import gpu_kernels
from trtplug.protolib.activations import bias_activation, gelu_erf, gelu_tanh, identity, quick_gelu

ACTIVATIONS = {"gelu_erf": gelu_erf, "gelu_tanh": gelu_tanh, "quick_gelu": quick_gelu(1.702), "identity": identity}
FORMS = [  # (activation, CUDA type, bias, skip): each activation, each type, bias and skip on and off
    ("gelu_erf", "float", True, True),
    ("gelu_tanh", "__half", True, False),
    ("quick_gelu", "__half", False, True),
    ("identity", "float", False, False),
]


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


@pytest.mark.parametrize("ctype", ["float", "__half"])
def test_skip_norm_source_compiles(tmp_path: Path, ctype: str) -> None:
    """The skip-norm RawKernel shares the vector kernel's load/store helpers."""
    assert_compiles(tmp_path, gpu_kernels.skip_norm_source(ctype))


CASES = [  # (shape, bias, skip, sliced): sliced = an offset view, so the vector kernel must decline
    ((3, 1024), True, True, False),
    ((1, 8), True, False, False),
    ((5, 7, 16), False, True, False),
    ((2, 24), False, False, False),
    ((4, 10), True, True, False),  # width 10: no whole vectors in fp32 -> fallback
    ((3, 1024), True, True, True),
]


def _on_device(cp, x: np.ndarray, sliced: bool):
    """x on the device; `sliced`: a view one element into a copy, 4 or 2 bytes past 16-byte alignment."""
    if not sliced:
        return cp.asarray(x)
    return cp.asarray(np.concatenate([x.ravel()[:1], x.ravel()]))[1:].reshape(x.shape)


@pytest.mark.gpu
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize(("shape", "with_bias", "with_skip", "sliced"), CASES)
def test_vector_kernel_equals_the_numpy_path(cp, monkeypatch, name, dtype, shape, with_bias, with_skip, sliced):
    monkeypatch.setenv("TRTPLUG_PROTO_VECTOR", "1")
    rng = np.random.default_rng(7)
    width = shape[-1]
    host = [rng.standard_normal(s).astype(dtype) for s in (shape, (width,), shape)]
    x, bias, skip = host[0], host[1] if with_bias else None, host[2] if with_skip else None
    want = np.empty(shape, dtype)
    bias_activation(np, [x, bias, skip], [want], ACTIVATIONS[name])
    device = [
        _on_device(cp, x, sliced),
        None if bias is None else cp.asarray(bias),
        None if skip is None else cp.asarray(skip),
    ]
    out = cp.full(shape, cp.nan, dtype=dtype)
    bias_activation(cp, device, [out], ACTIVATIONS[name])
    tol = 1e-6 if dtype == "float32" else 1e-3
    np.testing.assert_allclose(out.get().astype(np.float32), want.astype(np.float32), rtol=tol, atol=tol)
