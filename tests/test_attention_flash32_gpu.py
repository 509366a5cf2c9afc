"""The attention core's float32 prefill on tensor cores (plugins/common/attention_flash32.cuh,
3xTF32 mma.sync) on a GPU, through trtplug._native.attention_bsnh, against the core's float32
reference at the ops' float32 tolerance (1e-4: one TF32 product alone misses it): separate and
packed QKV, GQA 1 and 4, head 64 and 128, causal and not, query rows and keys around the 64-row,
32- and 64-key tile edges, per-batch key lengths (a batch with none) and query starts, large
logits, and the CUDA-core kernel that TRTPLUG_ATTENTION_FP32=cuda-cores keeps. Every case checks
which kernel ran (last_prefill_backend); outputs are poisoned with NaN first. The GroupQueryAttention
launcher's windows and softcap on this kernel: test_flash_prefill_tile_edges."""

from __future__ import annotations

import numpy as np
import pytest

from tests.attention_core_run import run_core

pytestmark = pytest.mark.gpu
TOL = 1e-4


@pytest.mark.parametrize("layout", ["separate", "packed"])
@pytest.mark.parametrize(("heads", "kv_heads"), [(8, 8), (8, 2)])
@pytest.mark.parametrize("head", [64, 128])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize(("seq", "batch"), [(32, 3), (97, 2), (1031, 1)])
def test_fp32_prefill_matches_the_reference(cp, ext, seed, seq, batch, causal, head, heads, kv_heads, layout):
    rng = np.random.default_rng([seed, seq, head, heads, kv_heads])
    packed = layout == "packed"
    kv_len = seq if packed else seq + 37  # more keys than rows: a ragged last key tile
    got, want = run_core(cp, ext, rng, "float32", batch, seq, kv_len, heads, kv_heads, head, causal, packed)
    assert ext.last_prefill_backend() == "fp32-tensor-cores"
    np.testing.assert_allclose(got, want, atol=TOL, rtol=TOL)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("head", [64, 128])
def test_fp32_prefill_key_lengths_and_query_starts(cp, ext, seed, head, causal):
    """Ragged key counts (one batch with none: NaN rows, as the core writes them, where not causal)
    and queries starting mid-cache (a chunk after a past)."""
    valid = np.array([300, 33, 0, 299], np.int32) if not causal else np.array([300, 64, 200, 299], np.int32)
    starts = np.array([0, 0, 0, 0], np.int32) if not causal else valid - 64
    rng = np.random.default_rng([seed, head, int(causal)])
    got, want = run_core(cp, ext, rng, "float32", 4, 64, 301, 8, 2, head, causal, False, lengths=(valid, starts))
    assert ext.last_prefill_backend() == "fp32-tensor-cores"
    np.testing.assert_allclose(got, want, atol=TOL, rtol=TOL)


def test_fp32_prefill_large_logits(cp, ext, seed):
    """A scale of 4 on unit-variance inputs: logits of +-100, a near one-hot softmax, where the
    split's dropped small x small term and the exponent's argument errors would show first."""
    rng = np.random.default_rng(seed)
    got, want = run_core(cp, ext, rng, "float32", 2, 200, 333, 4, 2, 64, False, False, scale=4.0)
    assert ext.last_prefill_backend() == "fp32-tensor-cores"
    np.testing.assert_allclose(got, want, atol=TOL, rtol=TOL)


@pytest.mark.parametrize("head", [64, 128])
def test_fp32_prefill_long_keys_with_offset_values(cp, ext, seed, head):
    """16,384 keys and values around 4 (a projection bias, as in BERT): the tensor core rounds each
    accumulation toward zero, and chained through O over the key loop that bias reached 5.8e-4 at
    8,192 keys (an H100, BERT's fp32 bench); an emulation of the truncation puts this case past the
    tolerance at thousands of elements, and under it 100-fold once each key tile's P V sums in a
    fresh accumulator added to O in float32. Against a float64 reference."""
    rng = np.random.default_rng([seed, head])
    shapes = [(1, 64, 2, head), (1, 16384, 2, head), (1, 16384, 2, head)]
    q, k, v = (rng.standard_normal(s).astype(np.float32) + off for s, off in zip(shapes, (0.5, 0.5, 4.0), strict=True))
    out = cp.full((1, 64, 2, head), cp.nan, dtype=cp.float32)
    ext.attention_bsnh(cp.asarray(q), cp.asarray(k), cp.asarray(v), out, 2, causal=False, scale=0.0)
    assert ext.last_prefill_backend() == "fp32-tensor-cores"
    q64, k64, v64 = (a.astype(np.float64).transpose(0, 2, 1, 3) for a in (q, k, v))
    s = q64 @ k64.transpose(0, 1, 3, 2) / np.sqrt(head)
    p = np.exp(s - s.max(-1, keepdims=True))
    want = ((p / p.sum(-1, keepdims=True)) @ v64).transpose(0, 2, 1, 3)
    np.testing.assert_allclose(out.get(), want, atol=TOL, rtol=TOL)


def test_cuda_cores_switch_keeps_the_tile_kernel(cp, ext, seed, monkeypatch):
    monkeypatch.setenv("TRTPLUG_ATTENTION_FP32", "cuda-cores")  # read at each launch
    got, want = run_core(cp, ext, np.random.default_rng(seed), "float32", 2, 100, 120, 8, 2, 128, True, False)
    assert ext.last_prefill_backend() == "kernel"
    np.testing.assert_allclose(got, want, atol=TOL, rtol=TOL)


@pytest.mark.parametrize("head", [32, 80])
def test_other_head_sizes_stay_on_the_tile_kernel(cp, ext, seed, head):
    got, want = run_core(cp, ext, np.random.default_rng(seed), "float32", 2, 64, 64, 4, 4, head, False, False)
    assert ext.last_prefill_backend() == "kernel"
    np.testing.assert_allclose(got, want, atol=TOL, rtol=TOL)
