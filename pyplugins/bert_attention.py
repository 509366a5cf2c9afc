"""com.microsoft Attention prototype (the BERT/GPT-2 form): a fused QKV projection input @
weights + bias split by qkv_hidden_sizes into heads, past ++ new keys/values (present), the
mask_index forms (lengths [B], end+start [2B], 0/1 masks [B, T] / [B, S, T], Megatron
[B, 1, M, M]), attention_bias and unidirectional (causal, the new tokens last); then the shared
float32 core (trtplug/protolib/attention.py). As ONNX Runtime CPU does, a key mask_index masks
gets mask_filter_value added to its score (a fully masked row attends to all its keys shifted
alike; a small filter such as -1 lets masked keys contribute); unidirectional leaves out the
keys after the query (ONNX Runtime assigns them the lowest float). Findings:
plugins/bert_attention/bert_attention.cu."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from trtplug.protolib.attention import attention, key_mask_bias
from trtplug.protolib.dims import shape_only_hook


def qkv_sizes(weights_cols: int, attrs: Mapping[str, Any]) -> list[int]:
    """[Dq, Dk, Dv] from qkv_hidden_sizes, or three equal thirds of the weights' columns."""
    sizes = [int(s) for s in attrs.get("qkv_hidden_sizes") or []]
    return sizes or [weights_cols // 3] * 3


def _split_heads(x: Any, heads: int) -> Any:
    """[B, S, N*H] -> [B, N, S, H]."""
    batch, seq, hidden = x.shape
    return x.reshape(batch, seq, heads, hidden // heads).transpose(0, 2, 1, 3)


def project(xp: ModuleType, x: Any, weights: Any, bias: Any, attrs: Mapping[str, Any]) -> list[Any]:
    """q, k, v as float32 [B, N, S, head] from input @ weights + bias."""
    proj = xp.matmul(x.astype(xp.float32), weights.astype(xp.float32))
    if bias is not None:
        proj = proj + bias.astype(xp.float32)
    dq, dk, _ = qkv_sizes(weights.shape[1], attrs)
    parts = xp.split(proj, [dq, dq + dk], axis=-1)
    return [_split_heads(p, int(attrs["num_heads"])) for p in parts]


def mask_from_index(xp: ModuleType, mask_index: Any, batch: int, q_len: int, total: int) -> Any:
    """The attend-mask [B, 1, S|1, T] (True: the key is kept) from mask_index in any of its
    forms; None without mask_index."""
    if mask_index is None:
        return None
    m = xp.asarray(mask_index).astype(xp.int64)
    keys = xp.arange(total).reshape(1, total)
    if m.ndim == 1 and (m.shape[0] == batch or batch == 0):  # [B]: lengths (right padding)
        return (keys < m.reshape(-1, 1)).reshape(m.shape[0], 1, 1, total)
    if m.ndim == 1:  # [2B]: exclusive end positions, then inclusive start positions
        attend = (keys >= m[batch:].reshape(batch, 1)) & (keys < m[:batch].reshape(batch, 1))
        return attend.reshape(batch, 1, 1, total)
    if m.ndim == 4:  # Megatron [B, 1, M, M]: the rows of the new tokens, the first T keys
        m = m[:, 0, total - q_len : total, :total]
    return m.reshape(batch, 1, -1 if m.ndim == 3 else 1, total) != 0


def compute(xp: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> list[Any]:
    """[output, present] in float32."""
    x, weights, bias, mask_index, past, attention_bias = [*inputs, *[None] * 6][:6]
    q, k, v = project(xp, x, weights, bias, attrs)
    if past is not None:
        k = xp.concatenate([past[0].astype(xp.float32), k], axis=2)
        v = xp.concatenate([past[1].astype(xp.float32), v], axis=2)
    batch, q_len, total = q.shape[0], q.shape[2], k.shape[2]
    attend = mask_from_index(xp, mask_index, batch, q_len, total)
    bias = key_mask_bias(xp, attend, attention_bias, attrs.get("mask_filter_value", -10000.0))
    out = attention(
        xp,
        q,
        k,
        v,
        scale=float(attrs.get("scale", 0.0)),
        causal=bool(attrs.get("unidirectional", 0)),
        q_start=xp.full((batch,), total - q_len, dtype=xp.int64),
        bias=bias,
    )
    merged = out.transpose(0, 2, 1, 3).reshape(batch, q_len, out.shape[1] * out.shape[3])
    present = xp.stack([k, v]) if k.shape[-1] == v.shape[-1] else None  # ONNX Runtime: equal sizes
    return [merged, present]


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    for out, value in zip(outputs, compute(xp, inputs, attrs), strict=False):
        if out is not None and value is not None:
            out[...] = value.astype(out.dtype)


def output_shapes(inputs: Sequence[Any], attrs: Mapping[str, Any]) -> list[tuple[int, ...]]:
    """output [B, S, Dv] and present [2, B, N, P + S, head]."""
    x, weights, _, _, past = [*inputs, *[None] * 5][:5]
    heads = int(attrs["num_heads"])
    batch, seq, _ = x.shape
    dq, _, dv = qkv_sizes(weights.shape[1], attrs)
    total = seq + (0 if past is None else past.shape[3])
    return [(batch, seq, dv), (2, batch, heads, total, dq // heads)]


output_dims = shape_only_hook(output_shapes)  # the TensorRT plugin's symbolic output shapes


def bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    """A BERT-large layer (hidden 1024, bench_attrs: 16 heads of 64), batch 4, sequence sized to
    ~nbytes of input."""
    seq = max(16, min(8192, nbytes // itemsize // (4 * 1024)))
    return {"input": (4, seq, 1024), "weights": (1024, 3072), "bias": (3072,)}


def bench_attrs(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, Any]:
    return {"num_heads": 16}


def torch_equivalent(torch: ModuleType, inputs: Sequence[Any], attrs: Mapping[str, Any]) -> Any:
    x, weights, bias = inputs[:3]
    heads = int(attrs["num_heads"])
    proj = torch.addmm(bias, x.flatten(0, 1), weights).unflatten(0, x.shape[:2])
    dq, dk, dv = qkv_sizes(weights.shape[1], attrs)
    q, k, v = (p.unflatten(-1, (heads, -1)).transpose(1, 2) for p in proj.split([dq, dk, dv], dim=-1))
    out = torch.nn.functional.scaled_dot_product_attention(
        q, k, v, is_causal=bool(attrs["unidirectional"]), scale=float(attrs["scale"]) or None
    )
    return out.transpose(1, 2).flatten(2)
