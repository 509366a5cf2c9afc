"""One launch of the attention core through trtplug._native.attention_bsnh (BSNH or packed-QKV
views) next to the core's float32 reference (trtplug.protolib.attention, the one the
GroupQueryAttention prototype computes with, tied to ONNX Runtime by the parity suite): shared by
the cuDNN prefill and float32 tensor-core prefill GPU tests."""

from __future__ import annotations

import numpy as np

from tests.device_arrays import poisoned, rounded, to_device, to_host32
from trtplug.protolib.attention import attention


def run_core(cp, ext, rng, dtype, batch, seq, kv_len, heads, kv_heads, head, causal, packed, scale=0.0, lengths=None):
    """One launch of the core; returns (got, want) as float32 [batch, seq, heads, head]. `lengths`:
    (kv_valid, q_start) int32 host arrays or None each (q_start of zeros is flagged as such)."""
    if packed:
        host, f32 = rounded(rng, (batch, seq, heads + 2 * kv_heads, head), dtype)
        q, k, v = f32[:, :, :heads], f32[:, :, heads : heads + kv_heads], f32[:, :, heads + kv_heads :]
        args = [to_device(cp, host, dtype), None, None]
    else:
        hosts = [
            rounded(rng, (batch, n, h, head), dtype) for n, h in ((seq, heads), (kv_len, kv_heads), (kv_len, kv_heads))
        ]
        (q, k, v) = (f for _, f in hosts)
        args = [to_device(cp, h, dtype) for h, _ in hosts]
    out = poisoned(cp, (batch, seq, heads, head), dtype)
    kv_valid, q_start = lengths or (None, None)
    zero_starts = q_start is not None and not q_start.any()
    on_device = [None if a is None else cp.asarray(a, dtype=cp.int32) for a in (kv_valid, q_start)]
    ext.attention_bsnh(
        *args,
        out,
        kv_heads,
        causal=causal,
        scale=scale,
        kv_valid=on_device[0],
        q_start=on_device[1],
        q_start_zero=zero_starts,
    )
    cp.cuda.get_current_stream().synchronize()
    bnsh = [cp.asarray(np.ascontiguousarray(a.transpose(0, 2, 1, 3))) for a in (q, k, v)]
    masks = {"kv_valid": on_device[0], "q_start": on_device[1]}
    want = attention(cp, *bnsh, scale=scale, causal=causal, **masks).transpose(0, 2, 1, 3).get()
    return to_host32(out, dtype), want
