"""The RotaryEmbedding prototypes' one-kernel fast path (trtplug/protolib/gpu_rotary.py): every
source form (storage type x interleaved x layout) compiles with nvcc here (CI has nvcc, no GPU);
on a GPU the fast path equals the NumPy path of the same prototype on poisoned outputs for
fp32/fp16/bf16 (bf16 as Bf16Device), 4-D and 3-D inputs, position_ids [B, S] and [1, S], the [1]
offset, per-token caches of batch 1 and B, partial rotary dims, both pairings; heads or rotary
halves that are not whole 16-byte vectors and unaligned views fall back with the same results.
A spy on the kernel getter checks that the kernel ran exactly where it applies."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pyplugins.rotary_embedding import members
from tests.test_proto_vector_kernels import TOLERANCE, _host, _on_device, _poisoned, _to_float32, assert_compiles
from trtplug.protolib import gpu_rotary
from trtplug.protolib.dtypes import to_bfloat16

DTYPES = ["float32", "float16", "bfloat16"]


@pytest.mark.parametrize("ctype", ["float", "__half", "trtplug_bf16"])
@pytest.mark.parametrize("interleaved", [False, True])
@pytest.mark.parametrize("bnsh", [False, True], ids=["bsnh", "bnsh"])
def test_every_form_compiles(tmp_path: Path, ctype: str, interleaved: bool, bnsh: bool) -> None:
    assert_compiles(tmp_path, gpu_rotary.rotary_source(ctype, interleaved, bnsh))


@pytest.mark.parametrize("key", ["contrib_rotary_embedding", "onnx_rotary_embedding"])
def test_members_with_the_vector_kernel_take_bf16(key: str) -> None:
    assert members[key].takes_bf16


def test_mrope_runs_on_float32_stand_ins() -> None:
    """MRotaryEmbedding's prototype has no CuPy kernel: it must not claim bf16 arrays, so the
    parity runner hands it float32 upcasts and rounds its output (its CUDA kernel reads bf16)."""
    assert not getattr(members["mrotary_embedding"], "takes_bf16", False)


@pytest.mark.parametrize("interleaved", [0, 1])
def test_cpu_path_takes_ml_dtypes_bf16(interleaved: int) -> None:
    """On the CPU bf16 arrives as ml_dtypes.bfloat16: the NumPy path reads it and rounds its output."""
    rng = np.random.default_rng(5)
    x, cos, sin = (to_bfloat16(rng.standard_normal(s)) for s in ((2, 3, 4, 8), (6, 4), (6, 4)))
    ids = rng.integers(0, 6, (2, 4))
    attrs = {"interleaved": interleaved}
    want = np.empty(x.shape, np.float32)
    members["contrib_rotary_embedding"].forward(np, [x.astype(np.float32), ids, cos, sin], [want], attrs)
    got = np.full(x.shape, np.nan, np.float32).astype(x.dtype)
    members["contrib_rotary_embedding"].forward(np, [x, ids, cos, sin], [got], attrs)
    np.testing.assert_array_equal(got.astype(np.float32), to_bfloat16(want).astype(np.float32))


# (name, member, x shape, num_heads, positions: "ids" [B, S], "ids1" [1, S], "offset" [1], "cacheB"
# or "cache1" (per-token caches of batch B or 1), rotary_embedding_dim, unaligned x view)
CASES = [
    ("bnsh", "contrib", (2, 4, 6, 64), 0, "ids", 0, False),
    ("bsnh", "contrib", (2, 5, 96), 3, "ids", 0, False),
    ("bsnh_derived_heads", "contrib", (2, 5, 64), 0, "ids", 0, False),
    ("offset_bsnh", "contrib", (3, 4, 128), 2, "offset", 0, False),
    ("offset_bnsh", "contrib", (2, 4, 3, 32), 0, "offset", 0, False),
    ("ids_shared_by_batch", "onnx", (3, 2, 5, 32), 0, "ids1", 0, False),
    ("per_token_batch", "onnx", (2, 3, 7, 32), 0, "cacheB", 0, False),
    ("per_token_shared", "onnx", (3, 4, 7, 32), 0, "cache1", 0, False),
    ("per_token_bsnh_partial", "onnx", (2, 5, 192), 3, "cacheB", 32, False),
    ("partial", "contrib", (2, 6, 192), 3, "ids", 32, False),
    ("partial_8", "contrib", (2, 4, 64), 2, "ids", 8, False),  # R/2 = 4: half-split fp32 only
    ("head_12", "onnx", (2, 3, 5, 12), 0, "ids", 0, False),  # fp32 interleaved only
    ("odd_head", "contrib", (3, 2, 7, 10), 0, "ids", 0, False),  # never whole vectors
    ("unaligned", "contrib", (2, 4, 6, 64), 0, "ids", 0, True),
    ("grid_stride", "onnx", (4, 32, 320, 128), 0, "ids", 0, False),  # more vectors than threads
]
MAX_POS = 40


def _head_dim(x_shape, heads: int, half: int) -> int:
    if len(x_shape) == 4:
        return x_shape[3]
    return x_shape[2] // (heads or max(1, x_shape[2] // (2 * half)))


def _case_inputs(rng, dtype: str, member: str, x_shape, heads: int, positions: str, rotary_dim: int):
    """Host inputs in the member's order (bf16: ml_dtypes) and the attributes."""
    batch, tokens = x_shape[0], x_shape[2] if len(x_shape) == 4 else x_shape[1]
    head = x_shape[3] if len(x_shape) == 4 else x_shape[2] // (heads or 2)  # num_heads 0: 2 heads derived
    half = (rotary_dim or head) // 2
    cache_rows = {"cacheB": (batch, tokens), "cache1": (1, tokens)}.get(positions, (MAX_POS,))
    x, cos, sin = (
        _host(rng, x_shape, dtype),
        _host(rng, (*cache_rows, half), dtype),
        _host(rng, (*cache_rows, half), dtype),
    )
    ids = {
        "ids": lambda: rng.integers(0, MAX_POS, (batch, tokens)),
        "ids1": lambda: rng.integers(0, MAX_POS, (1, tokens)),
        "offset": lambda: np.array([MAX_POS - tokens - 1]),
    }.get(positions, lambda: None)()
    ids = None if ids is None else ids.astype(np.int64)
    attrs = {"num_heads": heads, "rotary_embedding_dim": rotary_dim}
    ordered = [x, ids, cos, sin] if member == "contrib" else [x, cos, sin] + ([] if ids is None else [ids])
    return ordered, attrs


def _device_inputs(cp, host: list, dtype: str, unaligned: bool) -> list:
    """Device copies: float tensors in the storage type (bf16: Bf16Device), x off alignment if asked."""
    out = []
    for k, a in enumerate(host):
        if a is None or a.dtype == np.int64:
            out.append(None if a is None else cp.asarray(a))
        else:
            out.append(_on_device(cp, a, dtype, unaligned and k == 0))
    return out


def _spy(monkeypatch) -> list[tuple]:
    """Records each form of the kernel taken (dtype, interleaved, bnsh)."""
    taken: list[tuple] = []
    real = gpu_rotary._rotary_kernel
    monkeypatch.setattr(gpu_rotary, "_rotary_kernel", lambda *form: taken.append(form) or real(*form))
    return taken


def _numpy_path(key: str, host: list, attrs: dict, shape) -> np.ndarray:
    want = np.full(shape, np.nan, np.float32)
    ins = [a if a is None or a.dtype == np.int64 else a.astype(np.float32) for a in host]
    members[key].forward(np, ins, [want], attrs)
    return want


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("interleaved", [0, 1])
@pytest.mark.parametrize(("name", "member", "x_shape", "heads", "positions", "rotary_dim", "unaligned"), CASES)
def test_fast_path_equals_the_numpy_path(
    cp, monkeypatch, dtype, interleaved, name, member, x_shape, heads, positions, rotary_dim, unaligned
):
    key = f"{member}_rotary_embedding"
    rng = np.random.default_rng(13)
    host, attrs = _case_inputs(rng, dtype, member, x_shape, heads, positions, rotary_dim)
    attrs["interleaved"] = interleaved
    want = _numpy_path(key, host, attrs, x_shape)
    out = _poisoned(cp, x_shape, dtype)
    taken = _spy(monkeypatch)
    members[key].forward(cp, _device_inputs(cp, host, dtype, unaligned), [out], attrs)
    half = host[2 if member == "contrib" else 1].shape[-1]
    head = _head_dim(x_shape, heads, half)
    per = 4 if dtype == "float32" else 8
    applies = not unaligned and head % per == 0 and (2 * half if interleaved else half) % per == 0
    assert ((dtype, bool(interleaved), len(x_shape) == 4) in taken) == applies, taken
    assert dtype == "bfloat16" or applies or not taken  # fp32/fp16 fallbacks take the array path
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(_to_float32(out), want, rtol=tol, atol=tol)


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("positions", ["ids", "offset"])
def test_positions_outside_the_cache_leave_their_rows_unrotated(cp, monkeypatch, dtype, positions):
    """A position outside [0, maxPos) must not read past the cache: its row is copied unrotated, as
    the CUDA plugin leaves it, every other row as the NumPy path computes it (given the same
    positions, bad ones replaced)."""
    rng = np.random.default_rng(17)
    x_shape = (2, 3, 4, 16)
    host, attrs = _case_inputs(rng, dtype, "contrib", x_shape, 0, positions, 0)
    if positions == "ids":
        host[1][0, 1], host[1][1, 3] = MAX_POS, -1
        every = host[1]
    else:
        host[1][0] = MAX_POS - 2  # tokens 2 and 3 of every batch fall past the cache
        every = np.broadcast_to(MAX_POS - 2 + np.arange(4), (2, 4))
    bad = (every < 0) | (every >= MAX_POS)
    want = _numpy_path("contrib_rotary_embedding", [host[0], np.where(bad, 0, every), *host[2:]], attrs, x_shape)
    out = _poisoned(cp, x_shape, dtype)
    taken = _spy(monkeypatch)
    members["contrib_rotary_embedding"].forward(cp, _device_inputs(cp, host, dtype, False), [out], attrs)
    assert taken
    got, rows_bad = _to_float32(out), np.broadcast_to(bad[:, None, :, None], x_shape)
    assert bad.sum() == (2 if positions == "ids" else 4)
    np.testing.assert_array_equal(got[rows_bad], host[0].astype(np.float32)[rows_bad])
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(got[~rows_bad], want[~rows_bad], rtol=tol, atol=tol)


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", DTYPES)
def test_vectors_off_takes_the_array_path(cp, monkeypatch, dtype):
    """TRTPLUG_PROTO_VECTOR=0 (to time the array path) computes the same values without the kernel."""
    monkeypatch.setenv("TRTPLUG_PROTO_VECTOR", "0")
    monkeypatch.setattr(gpu_rotary, "_rotary_kernel", None)  # any use would raise
    rng = np.random.default_rng(19)
    host, attrs = _case_inputs(rng, dtype, "contrib", (2, 4, 6, 64), 0, "offset", 0)
    want = _numpy_path("contrib_rotary_embedding", host, attrs, (2, 4, 6, 64))
    out = _poisoned(cp, (2, 4, 6, 64), dtype)
    members["contrib_rotary_embedding"].forward(cp, _device_inputs(cp, host, dtype, False), [out], attrs)
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(_to_float32(out), want, rtol=tol, atol=tol)
