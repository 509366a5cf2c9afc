"""The tensor-core decode's fused split-KV combine (plugins/common/attention_combine.cuh): the last
block of each (batch, KV head) group to finish merges the group's partials, its count kept in the
workspace after them, which the core zeroes at each launch. Through trtplug._native.attention_bsnh
on a caller's workspace filled with 0xFF bytes first (TensorRT's holds anything) and reused by
back-to-back launches: against the core's float32 reference and against the separate combine
kernel (TRTPLUG_ATTENTION_DECODE_COMBINE=kernel, the same per-row merge), with forced split counts
up to 64, ragged key counts (all keys, fewer keys than one split's share, none), GQA 1, 4 and 8,
head 64 and 128, fp16 and bf16. Outputs are poisoned with NaN first. Then GQA 32/8 head 128 at
forced split counts 1, 2, 8, 12 and 64 over 1, 63, 64, 65 and 8192 keys (as kv_valid of a longer
cache, and as the cache's own extent) against a float64 softmax attention. The host emulation of
the same merge is tests/test_attention_combine_emulation.py."""

from __future__ import annotations

import numpy as np
import pytest

from tests.device_arrays import poisoned, rounded, to_device, to_host32
from trtplug.protolib.attention import attention

pytestmark = pytest.mark.gpu
TOL = {"float16": 4e-3, "bfloat16": 5e-2}
# The fused and the separate combine merge in the same order; allow a rounding step of the output.
ULPS = {"float16": 2.0**-9, "bfloat16": 2.0**-6}
BATCH = 3
KV_LEN = 16400  # room for 64 splits; 64 splits of 320 keys leave the last 12 without keys
TAIL = 4096  # bytes past the workspace that no launch may write


class Decode:
    """One decode problem (BSNH: q [b, 1, heads, head], k/v [b, KV_LEN, kv_heads, head]) and a
    workspace of exactly the core's size inside a larger buffer of 0xFF bytes."""

    def __init__(self, cp, ext, rng, dtype, heads, kv_heads, head, kv_valid):
        self.cp, self.ext, self.dtype, self.kv_heads = cp, ext, dtype, kv_heads
        shapes = [(BATCH, 1, heads, head), (BATCH, KV_LEN, kv_heads, head), (BATCH, KV_LEN, kv_heads, head)]
        hosts = [rounded(rng, s, dtype) for s in shapes]
        self.args = [to_device(cp, low, dtype) for low, _ in hosts]
        self.f32 = [f for _, f in hosts]
        self.kv_valid = cp.asarray(np.array(kv_valid, np.int32))
        problem = {"dtype": dtype, "batch": BATCH, "q_heads": heads, "kv_heads": kv_heads, "q_len": 1, "kv_valid": True}
        self.size, _ = ext.attention_workspace_size({**problem, "kv_len": KV_LEN, "head_dim": head})
        self.buffer = cp.full(self.size + TAIL, 0xFF, dtype=cp.uint8)

    def run(self):
        """One launch on the workspace as the previous one left it: the output as float32."""
        out = poisoned(self.cp, self.args[0].shape, self.dtype)
        workspace = self.buffer[: self.size]
        self.ext.attention_bsnh(*self.args, out, self.kv_heads, kv_valid=self.kv_valid, workspace=workspace)
        self.cp.cuda.get_current_stream().synchronize()
        assert bool((self.buffer[self.size :] == 0xFF).all()), "a launch wrote past the workspace"
        return to_host32(out, self.dtype)

    def reference(self):
        bnsh = [self.cp.asarray(np.ascontiguousarray(a.transpose(0, 2, 1, 3))) for a in self.f32]
        want = attention(self.cp, *bnsh, kv_valid=self.kv_valid)
        return want.transpose(0, 2, 1, 3).get()


@pytest.mark.parametrize("splits", [2, 7, 33, 64])
@pytest.mark.parametrize(("heads", "kv_heads"), [(8, 8), (32, 8), (16, 2)])
@pytest.mark.parametrize("head", [64, 128])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_fused_combine_on_a_poisoned_reused_workspace(cp, ext, seed, monkeypatch, dtype, head, heads, kv_heads, splits):
    """Batches of 16400 keys (64 splits: the last 12 without keys), 100 keys (every split past the
    first without keys) and none (zeros): the first launch finds 0xFF counters, the second the
    counters the first left; both give the reference, the same bits as each other, and the separate
    combine's output to a rounding step."""
    monkeypatch.delenv("TRTPLUG_ATTENTION_DECODE", raising=False)  # the tensor-core decode
    monkeypatch.delenv("TRTPLUG_ATTENTION_DECODE_COMBINE", raising=False)  # fused
    monkeypatch.setenv("TRTPLUG_ATTENTION_DECODE_SPLITS", str(splits))
    rng = np.random.default_rng([seed, splits, heads, kv_heads, head])
    decode = Decode(cp, ext, rng, dtype, heads, kv_heads, head, [KV_LEN, 100, 0])
    first = decode.run()
    np.testing.assert_allclose(first, decode.reference(), atol=TOL[dtype], rtol=TOL[dtype])
    assert not first[2].any(), "a batch without keys gives zeros"
    np.testing.assert_array_equal(decode.run(), first)  # back to back on the same workspace
    monkeypatch.setenv("TRTPLUG_ATTENTION_DECODE_COMBINE", "kernel")
    np.testing.assert_allclose(decode.run(), first, rtol=ULPS[dtype], atol=1e-6)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_fused_combine_after_other_split_counts(cp, ext, seed, monkeypatch, dtype):
    """One workspace through launches of 64, 5, 64 and the policy's own splits, refilled with 0xFF
    between some: each launch zeroes the counters for its own groups, whatever the last left."""
    monkeypatch.delenv("TRTPLUG_ATTENTION_DECODE", raising=False)
    monkeypatch.delenv("TRTPLUG_ATTENTION_DECODE_COMBINE", raising=False)
    decode = Decode(cp, ext, np.random.default_rng([seed, 5]), dtype, 32, 8, 128, [KV_LEN, 3000, 1])
    want = decode.reference()
    for splits, refill in ((64, False), (5, True), (64, False), (0, True)):
        if refill:
            decode.buffer[: decode.size] = 0xFF
        monkeypatch.setenv("TRTPLUG_ATTENTION_DECODE_SPLITS", str(splits))  # 0: the split policy's
        np.testing.assert_allclose(decode.run(), want, atol=TOL[dtype], rtol=TOL[dtype], err_msg=f"{splits} splits")


SPLITS = [1, 2, 8, 12, 64]
LENGTHS = [1, 63, 64, 65, 8192]
ROOM = 16384  # 16384 keys and batch 2 x 8 KV heads: room for 64 splits (splitRoom)
_INPUTS: dict = {}
_WANT: dict = {}


def _inputs(cp, seed, dtype, kv_len):
    """Batch 2, GQA 32/8, head 128, one new token (BSNH): device arrays and their float32 host
    values, made once per (dtype, kv_len) for the module."""
    key = (dtype, kv_len)
    if key not in _INPUTS:
        rng = np.random.default_rng([seed, kv_len])
        shapes = [(2, 1, 32, 128), (2, kv_len, 8, 128), (2, kv_len, 8, 128)]
        hosts = [rounded(rng, s, dtype) for s in shapes]
        _INPUTS[key] = ([to_device(cp, low, dtype) for low, _ in hosts], [f for _, f in hosts])
    return _INPUTS[key]


def _float64_attention(dtype, host, valid):
    """Softmax attention of each batch's query over its first valid[b] keys, in float64 (BSNH;
    query head h reads KV head h // 4), once per (dtype, kv_len, valid) for the module."""
    key = (dtype, host[1].shape[1], tuple(valid))
    if key not in _WANT:
        q, k, v = host
        out = np.zeros(q.shape)
        for b, n in enumerate(valid):
            queries = q[b, 0].astype(np.float64).reshape(8, 4, 128)
            scores = np.einsum("gjd,ngd->gjn", queries, k[b, :n].astype(np.float64)) / np.sqrt(128.0)
            weights = np.exp(scores - scores.max(axis=2, keepdims=True))
            weights /= weights.sum(axis=2, keepdims=True)
            out[b, 0] = np.einsum("gjn,ngd->gjd", weights, v[b, :n].astype(np.float64)).reshape(32, 128)
        _WANT[key] = out
    return _WANT[key]


def _launch(cp, ext, dtype, args, kv_valid, size):
    """One launch on a workspace of 0xFF bytes (size: the core's, for the problem's kv_len)."""
    buffer = cp.full(size + TAIL, 0xFF, dtype=cp.uint8)
    out = poisoned(cp, args[0].shape, dtype)
    valid = None if kv_valid is None else cp.asarray(np.array(kv_valid, np.int32))
    ext.attention_bsnh(*args, out, 8, kv_valid=valid, workspace=buffer[:size] if size > 0 else None)
    cp.cuda.get_current_stream().synchronize()
    assert bool((buffer[size:] == 0xFF).all()), "a launch wrote past the workspace"
    return to_host32(out, dtype)


def _size(ext, dtype, kv_len, kv_valid):
    problem = {"dtype": dtype, "batch": 2, "q_heads": 32, "kv_heads": 8, "q_len": 1, "head_dim": 128}
    return ext.attention_workspace_size({**problem, "kv_len": kv_len, "kv_valid": kv_valid})[0]


@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize("splits", SPLITS)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_forced_splits_over_ragged_lengths_against_float64(cp, ext, seed, monkeypatch, dtype, splits, length):
    """GQA 32/8, head 128: batch 0 attends to `length` of a 16384-key cache (kv_valid), batch 1 to
    16383 keys, at every forced split count (1: no combine; 64 over 65 keys leaves 63 splits
    empty); the fused combine and the separate one against a float64 softmax attention."""
    monkeypatch.delenv("TRTPLUG_ATTENTION_DECODE", raising=False)  # the tensor-core decode
    monkeypatch.delenv("TRTPLUG_ATTENTION_DECODE_COMBINE", raising=False)  # fused
    monkeypatch.setenv("TRTPLUG_ATTENTION_DECODE_SPLITS", str(splits))
    args, host = _inputs(cp, seed, dtype, ROOM)
    valid = [length, ROOM - 1]
    want = _float64_attention(dtype, host, valid)
    size = _size(ext, dtype, ROOM, True)
    fused = _launch(cp, ext, dtype, args, valid, size)
    np.testing.assert_allclose(fused, want, atol=TOL[dtype], rtol=TOL[dtype])
    monkeypatch.setenv("TRTPLUG_ATTENTION_DECODE_COMBINE", "kernel")
    np.testing.assert_allclose(_launch(cp, ext, dtype, args, valid, size), fused, rtol=ULPS[dtype], atol=1e-6)


@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize("splits", SPLITS)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_forced_splits_over_a_cache_of_the_length_against_float64(cp, ext, seed, monkeypatch, dtype, splits, length):
    """The cache's extent is the length itself (no kv_valid): the split chunks come from kv_len, the
    last tile's keys past it are zeros. The forced count is clamped to the workspace's room (one
    split up to 256 keys; 32 at 8192 keys and batch 2 x 8 KV heads)."""
    monkeypatch.delenv("TRTPLUG_ATTENTION_DECODE", raising=False)
    monkeypatch.delenv("TRTPLUG_ATTENTION_DECODE_COMBINE", raising=False)
    monkeypatch.setenv("TRTPLUG_ATTENTION_DECODE_SPLITS", str(splits))
    args, host = _inputs(cp, seed, dtype, length)
    want = _float64_attention(dtype, host, [length, length])
    fused = _launch(cp, ext, dtype, args, None, _size(ext, dtype, length, False))
    np.testing.assert_allclose(fused, want, atol=TOL[dtype], rtol=TOL[dtype])
