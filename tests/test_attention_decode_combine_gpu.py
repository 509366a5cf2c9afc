"""The tensor-core decode's fused split-KV combine (plugins/common/attention_combine.cuh): the last
block of each (batch, KV head) group to finish merges the group's partials, its count kept in the
workspace after them, which the core zeroes at each launch. Through trtplug._native.attention_bsnh
on a caller's workspace filled with 0xFF bytes first (TensorRT's holds anything) and reused by
back-to-back launches: against the core's float32 reference and against the separate combine
kernel (TRTPLUG_ATTENTION_DECODE_COMBINE=kernel, the same per-row merge), with forced split counts
up to 64, ragged key counts (all keys, fewer keys than one split's share, none), GQA 1, 4 and 8,
head 64 and 128, fp16 and bf16. Outputs are poisoned with NaN first."""

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
