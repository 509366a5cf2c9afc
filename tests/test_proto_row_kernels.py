"""The row-norm prototypes' GPU kernels (trtplug/protolib/gpu_rows.py): the register-held vector
kernel's launch shape for each row length, every source form compiling with nvcc (CI has nvcc, no
GPU), and on a GPU both kernels equal to the NumPy path on poisoned outputs for fp32/fp16/bf16,
each optional input and output, broadcast skips, rows the vector kernel cannot take (odd, too
long, unaligned), with a spy checking which kernel ran."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.test_proto_vector_kernels import TOLERANCE, _host, _on_device, _poisoned, _to_float32, assert_compiles
from trtplug.protolib import gpu_rows
from trtplug.protolib.norm import skip_norm_forward


@pytest.mark.parametrize(
    ("vectors", "layout"),
    [
        (1, (32, 1)),
        (16, (32, 1)),
        (33, (64, 1)),
        (256, (256, 1)),
        (257, (256, 2)),
        (1024, (256, 4)),
        (1025, (256, 8)),
        (2048, (256, 8)),
        (2049, None),
        (0, None),
    ],
)
def test_vector_layout(vectors: int, layout) -> None:
    assert gpu_rows.vector_layout(vectors) == layout


@pytest.mark.parametrize("ctype", ["float", "__half", "trtplug_bf16"])
@pytest.mark.parametrize("per_thread", [0, 1, 2, 4, 8])
def test_every_form_compiles(tmp_path: Path, ctype: str, per_thread: int) -> None:
    assert_compiles(tmp_path, gpu_rows.row_norm_source(ctype, per_thread))


CASES = [  # (x shape, skip rows or None for no skip, beta, bias, rms, sliced, vector kernel expected)
    ((4, 1024), 4, True, True, False, False, True),
    ((3, 5, 4096), 5, True, False, False, False, True),  # skip [5, H] repeats over the batch
    ((2, 8192), 2, False, True, True, False, True),
    ((7, 64), None, False, False, True, False, True),  # the RMS-norm form: no skip
    ((3, 1004), 3, True, True, False, False, None),  # 1004: whole vectors in fp32 only
    ((2, 40000), 2, True, False, False, False, False),  # too long to hold: the loop kernel
    ((5, 17), 5, True, True, True, False, False),
    ((4, 256), 4, True, True, False, True, False),  # unaligned x: the loop kernel
    ((1, 1), 1, True, True, False, False, False),
]


def _numpy_norm(x, skip, gamma, beta, bias, rms: bool) -> list[np.ndarray]:
    hidden, rows = x.shape[-1], x.size // x.shape[-1]
    f32 = [None if a is None else a.astype(np.float32) for a in (x, skip, gamma, beta, bias)]
    if f32[1] is None:
        f32[1] = np.zeros((1, hidden), np.float32)
    ins = (
        f32[0].reshape(rows, hidden),
        np.broadcast_to(np.tile(f32[1].reshape(-1, hidden), (rows // (f32[1].size // hidden), 1)), (rows, hidden)),
        *f32[2:],
    )
    outs = [
        np.empty((rows, hidden), np.float32),
        np.empty((rows, 1), np.float32),
        np.empty((rows, 1), np.float32),
        np.empty((rows, hidden), np.float32),
    ]
    skip_norm_forward(np, ins, outs, 1e-5, rms)
    return outs


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize(("shape", "skip_rows", "with_beta", "with_bias", "rms", "sliced", "vector"), CASES)
def test_row_norm_equals_the_numpy_path(
    cp, monkeypatch, dtype, shape, skip_rows, with_beta, with_bias, rms, sliced, vector
):
    rng = np.random.default_rng(5)
    hidden = shape[-1]
    x = _host(rng, shape, dtype)
    skip = None if skip_rows is None else _host(rng, (skip_rows, hidden), dtype)
    gamma = _host(rng, (hidden,), dtype)
    beta, bias = (_host(rng, (hidden,), dtype) if on else None for on in (with_beta, with_bias))
    want = _numpy_norm(x, skip, gamma, beta, bias, rms)
    rows = x.size // hidden
    device = [None if a is None else _on_device(cp, a, dtype, sliced and a is x) for a in (x, skip, gamma, beta, bias)]
    outs = [
        _poisoned(cp, shape, dtype),
        cp.full((rows,), cp.nan, cp.float32),
        cp.full((rows,), cp.nan, cp.float32),
        _poisoned(cp, shape, dtype),
    ]
    used = []
    real = gpu_rows._kernel
    monkeypatch.setattr(gpu_rows, "_kernel", lambda dt, per: used.append(per) or real(dt, per))
    assert gpu_rows.row_norm(cp, tuple(device), hidden, outs, 1e-5, rms)
    expected_vector = vector if vector is not None else dtype == "float32"
    assert used and (used[0] > 0) == expected_vector
    tol = TOLERANCE[dtype] * 4
    for got, ref in zip(outs, want, strict=True):
        np.testing.assert_allclose(_to_float32(got).reshape(ref.shape), ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("ctype", ["float", "__half", "trtplug_bf16"])
@pytest.mark.parametrize("per_thread", [1, 8])
def test_embed_source_compiles(tmp_path: Path, ctype: str, per_thread: int) -> None:
    assert_compiles(tmp_path, gpu_rows.embed_norm_source(ctype, per_thread))


EMBED_CASES = [  # (batch, seq, hidden, segments, position_ids, an out-of-range id, vector kernel expected)
    (2, 16, 1024, True, False, False, True),
    (3, 7, 768, False, True, True, True),
    (1, 5, 1001, True, True, False, False),  # odd hidden: the array path
]


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize(("batch", "seq", "hidden", "segments", "positions", "outside", "vector"), EMBED_CASES)
def test_embed_norm_equals_the_numpy_path(
    cp, monkeypatch, dtype, batch, seq, hidden, segments, positions, outside, vector
):
    from pyplugins import embed_layer_norm as embed

    rng = np.random.default_rng(9)
    ids = rng.integers(0, 50, (batch, seq)).astype(np.int32)
    if outside:
        ids[0, 1] = 50  # one past the word table: a NaN row
    named = {
        "input_ids": ids,
        "segment_ids": rng.integers(0, 2, (batch, seq)).astype(np.int32) if segments else None,
        "word_embedding": _host(rng, (50, hidden), dtype),
        "position_embedding": _host(rng, (seq + 3, hidden), dtype),
        "segment_embedding": _host(rng, (2, hidden), dtype) if segments else None,
        "gamma": _host(rng, (hidden,), dtype),
        "beta": _host(rng, (hidden,), dtype),
        "mask": rng.integers(0, 2, (batch, seq)).astype(np.int32),
        "position_ids": rng.integers(0, seq + 3, (batch, seq)).astype(np.int32) if positions else None,
    }
    inputs = [named[k] for k in embed.NAMES]
    host_floats = [None if a is None or a.dtype.kind == "i" else a.astype(np.float32) for a in inputs]
    want = [
        np.empty((batch, seq, hidden), np.float32),
        np.empty((batch,), np.int32),
        np.empty((batch, seq, hidden), np.float32),
    ]
    embed.forward(
        np, [f if f is not None else a for f, a in zip(host_floats, inputs, strict=True)], want, {"epsilon": 1e-5}
    )
    device = [
        None if a is None else cp.asarray(a) if a.dtype.kind == "i" else _on_device(cp, a, dtype, False) for a in inputs
    ]
    outs = [_poisoned(cp, want[0].shape, dtype), cp.full((batch,), -7, cp.int32), _poisoned(cp, want[2].shape, dtype)]
    used = []
    real = gpu_rows._embed_kernel
    monkeypatch.setattr(gpu_rows, "_embed_kernel", lambda dt, per: used.append(per) or real(dt, per))
    embed.forward(cp, device, outs, {"epsilon": 1e-5})
    assert bool(used) == vector
    tol = TOLERANCE[dtype] * 4
    np.testing.assert_array_equal(outs[1].get(), want[1])
    for got, ref in ((outs[0], want[0]), (outs[2], want[2])):
        np.testing.assert_allclose(_to_float32(got), ref, rtol=tol, atol=tol)
