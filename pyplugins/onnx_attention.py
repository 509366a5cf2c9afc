"""ai.onnx Attention (opset 23/24) prototype: Q, K, V as [batch, heads, seq, head] views (3-D
inputs split by q_num_heads / kv_num_heads), past K/V concatenated before the new ones, the
attn_mask / causal / nonpad_kv_seqlen masks, then the shared float32 core
(trtplug/protolib/attention.py). qk_matmul_output follows onnx.reference: modes 0 and 1 the
(softcapped) scaled scores, 2 with the mask bias added, 3 the softmax."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from trtplug.protolib.attention import attention, masked_softmax, score_stages
from trtplug.protolib.dims import shape_only_hook

NEG_INF = float("-inf")


def _heads(x: Any, heads: int) -> Any:
    """[batch, heads, seq, head] view of a 3-D [batch, seq, heads * head] or 4-D input."""
    if x.ndim == 4:
        return x
    return x.reshape(x.shape[0], x.shape[1], heads, -1).transpose(0, 2, 1, 3)


def _padded_mask(xp: ModuleType, mask: Any, kv_len: int) -> tuple[Any, Any]:
    """(additive bias, boolean attend-mask) from attn_mask, its last axis padded to kv_len with
    masked keys (onnx.reference pads a short mask with False / -inf)."""
    if mask is None:
        return None, None
    pad = kv_len - mask.shape[-1]
    widths = [(0, 0)] * (mask.ndim - 1) + [(0, max(pad, 0))]
    if mask.dtype == bool:
        return None, xp.pad(mask, widths, constant_values=False)
    return xp.pad(mask.astype(xp.float32), widths, constant_values=NEG_INF), None


def _present(xp: ModuleType, past: Any, new: Any) -> Any:
    return new if past is None else xp.concatenate([past, new], axis=2)


def compute(xp: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> list[Any]:
    """[Y, present_key, present_value, qk_matmul_output] in float32 (present in the input dtype)."""
    q, k, v, mask, past_key, past_value, nonpad = [*inputs, *[None] * 7][:7]
    rank3 = q.ndim == 3
    q4 = _heads(q, int(attrs.get("q_num_heads", 0)))
    k4 = _present(xp, past_key, _heads(k, int(attrs.get("kv_num_heads", 0))))
    v4 = _present(xp, past_value, _heads(v, int(attrs.get("kv_num_heads", 0))))
    batch, q_len, kv_len = q4.shape[0], q4.shape[2], k4.shape[2]
    past = 0 if past_key is None else past_key.shape[2]
    kv_valid = None if nonpad is None else xp.asarray(nonpad).astype(xp.int64).reshape(batch)
    q_start = kv_valid - q_len if kv_valid is not None else xp.full((batch,), past, dtype=xp.int64)
    bias, attend = _padded_mask(xp, mask, kv_len)
    options = {
        "scale": float(attrs.get("scale", 0.0)),
        "causal": bool(attrs.get("is_causal", 0)),
        "q_start": q_start,
        "kv_valid": kv_valid,
        "softcap": float(attrs.get("softcap", 0.0)),
        "bias": bias,
        "mask": attend,
    }
    y = attention(xp, q4, k4, v4, **options)
    if rank3:
        y = y.transpose(0, 2, 1, 3).reshape(batch, q_len, -1)
    capped, scores, masked = score_stages(xp, q4, k4, **options)
    mode = int(attrs.get("qk_matmul_output_mode", 0))
    if mode == 3:
        qk = masked_softmax(xp, scores, masked)
    elif mode == 2:
        qk = xp.where(masked, xp.float32(NEG_INF), scores)
    else:
        qk = capped
    return [y, k4, v4, qk]


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    for out, value in zip(outputs, compute(xp, inputs, attrs), strict=False):
        out[...] = value.astype(out.dtype)


def output_shapes(inputs: Sequence[Any], attrs: Mapping[str, Any]) -> list[tuple[int, ...]]:
    """Y, present_key, present_value, qk_matmul_output shapes from the input shapes."""
    q, k, v = inputs[:3]
    past = inputs[4] if len(inputs) > 4 and inputs[4] is not None else None
    kv_heads = k.shape[1] if k.ndim == 4 else int(attrs["kv_num_heads"])
    q_heads = q.shape[1] if q.ndim == 4 else int(attrs["q_num_heads"])
    kv_len = k.shape[-2] if k.ndim == 4 else k.shape[1]
    total = kv_len + (0 if past is None else past.shape[2])
    head, v_head = k.shape[-1] // (1 if k.ndim == 4 else kv_heads), v.shape[-1] // (1 if v.ndim == 4 else kv_heads)
    batch, q_len = q.shape[0], q.shape[-2] if q.ndim == 4 else q.shape[1]
    y = (batch, q_heads, q_len, v_head) if q.ndim == 4 else (batch, q_len, q_heads * v_head)
    return [y, (batch, kv_heads, total, head), (batch, kv_heads, total, v_head), (batch, q_heads, q_len, total)]


output_dims = shape_only_hook(output_shapes)  # the TensorRT plugin's symbolic output shapes


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """Causal-free prefill, 8 query heads over 2 KV heads of 128, sequence sized to ~nbytes of Q."""
    seq = max(16, min(4096, nbytes // itemsize // (8 * 128)))
    return {"Q": (1, 8, seq, 128), "K": (1, 2, seq, 128), "V": (1, 2, seq, 128)}


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    q, k, v = inputs[:3]
    return torch.nn.functional.scaled_dot_product_attention(
        q, k, v, is_causal=bool(attrs["is_causal"]), scale=float(attrs["scale"]) or None, enable_gqa=True
    )
