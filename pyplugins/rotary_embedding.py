"""RotaryEmbedding prototypes (plugins/rotary_embedding/spec.toml), keyed by op key:

- contrib_rotary_embedding: com.microsoft RotaryEmbedding(input, position_ids, cos_cache,
  sin_cache); position_ids [B, S] or one offset [1] (token s at offset + s). `scale` and
  `is_packed_batching` are accepted and, as in ONNX Runtime's CPU kernel, change nothing.
- onnx_rotary_embedding: ai.onnx RotaryEmbedding-23(X, cos_cache, sin_cache, position_ids?);
  without position_ids the caches are per token, [B, S, rotary_dim / 2].
- mrotary_embedding: com.microsoft MRotaryEmbedding(input, position_ids [3, B, S], cos_cache,
  sin_cache): each cache column gathered at the T, H or W position its mrope_section and
  mrope_layout name, times `scale`, then the same rotation on those per-token caches (a token
  with a position outside the cache keeps cos 1, sin 0: unrotated, as the kernel leaves it).
Both: input [B, N, S, H] or [B, S, N * H]; the core is trtplug/protolib/rotary.py, and on a GPU
one RawKernel (trtplug/protolib/gpu_rotary.py) where the tensors are dense, aligned and whole
16-byte vectors per head. Both take bf16 (`takes_bf16`): a Bf16Device on the GPU, which the kernel
reads and rounds itself, ml_dtypes.bfloat16 on the CPU.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType, SimpleNamespace
from typing import Any

from trtplug.protolib import gpu_rotary
from trtplug.protolib.dtypes import on_float32_stand_ins
from trtplug.protolib.gpu_source import has_bf16, is_cupy
from trtplug.protolib.rotary import rotary_embedding

Attrs = Mapping[str, Any]


def _heads(x: Any, cos: Any, attrs: Attrs) -> int:
    """num_heads of a 3-D input: the attribute, else hidden / (2 * cos_cache's last dim)."""
    if x.ndim == 4:
        return x.shape[1]
    heads = int(attrs.get("num_heads", 0))
    if heads <= 0:
        heads = max(1, x.shape[2] // max(1, 2 * cos.shape[-1]))
    return heads


def _positions(xp: ModuleType, position_ids: Any, x: Any) -> Any:
    """[B, S] positions: the ids themselves, or a [1] offset + 0..S-1 for every batch."""
    batch, tokens = x.shape[0], x.shape[2] if x.ndim == 4 else x.shape[1]
    if position_ids.ndim == 1:
        offset = int(position_ids.reshape(-1)[0])
        return xp.broadcast_to(xp.arange(tokens, dtype=xp.int64) + offset, (batch, tokens))
    return position_ids.astype(xp.int64)


def _forward(xp: ModuleType, x: Any, cos: Any, sin: Any, position_ids: Any | None, out: Any, attrs: Attrs) -> None:
    """out = RotaryEmbedding(x): the one-kernel fast path on CuPy; else, with bf16 on the GPU
    (Bf16Device), float32 stand-ins; else the array path (NumPy: the CPU path, ml_dtypes bf16
    included, as it computes on astype(float32) copies)."""
    heads, rotary_dim = _heads(x, cos, attrs), int(attrs.get("rotary_embedding_dim", 0))
    interleaved = bool(attrs.get("interleaved", 0))
    if is_cupy(xp) and gpu_rotary.rotary(xp, x, cos, sin, position_ids, out, heads, rotary_dim, interleaved):
        return
    if has_bf16([x, cos, sin, out]):

        def on_float32(ins: list[Any], outs: list[Any]) -> None:
            _forward(xp, *ins, outs[0], attrs)

        on_float32_stand_ins(xp, [x, cos, sin, position_ids], [out], on_float32)
        return
    positions = None if position_ids is None else _positions(xp, position_ids, x)
    y = rotary_embedding(xp, x, cos, sin, positions, heads, rotary_dim, interleaved)
    out[...] = y.astype(out.dtype)


def _contrib_forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Attrs) -> None:
    x, position_ids, cos, sin = inputs[:4]
    _forward(xp, x, cos, sin, position_ids, outputs[0], attrs)


def _onnx_forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Attrs) -> None:
    x, cos, sin = inputs[:3]
    position_ids = inputs[3] if len(inputs) > 3 else None
    _forward(xp, x, cos, sin, position_ids, outputs[0], attrs)


def mrope_streams(section: Sequence[int], interleaved: bool, half: int) -> list[int]:
    """The position stream (0 T, 1 H, 2 W) of each of the `half` cache columns: chunks, or
    interleaved (H at 1, 4, .. below 3 * section[1], W at 2, 5, .. below 3 * section[2])."""
    if not interleaved:
        return [0] * section[0] + [1] * section[1] + [2] * section[2]
    return [k if k and c % 3 == k and c < 3 * section[k] else 0 for c in range(half) for k in [c % 3]]


def mrope_caches(xp: ModuleType, cos: Any, sin: Any, position_ids: Any, attrs: Attrs) -> tuple[Any, Any]:
    """Per-token float32 caches [B, S, half] of M-RoPE: column c from its stream's row, times scale."""
    half = cos.shape[1]
    streams = xp.asarray(mrope_streams(list(attrs["mrope_section"]), int(attrs.get("mrope_layout", 0)) == 1, half))
    pos = position_ids.astype(xp.int64)  # [3, B, S]
    valid = ((pos >= 0) & (pos < cos.shape[0])).all(axis=0)[..., None]  # [B, S, 1]
    rows = xp.clip(pos, 0, max(cos.shape[0] - 1, 0))
    picked = xp.moveaxis(rows, 0, -1)[..., streams]  # [B, S, half]: the row each column reads
    columns = xp.arange(half)
    scale = xp.float32(attrs.get("scale", 1.0))
    c = xp.where(valid, cos.astype(xp.float32)[picked, columns] * scale, 1.0).astype(xp.float32)
    s = xp.where(valid, sin.astype(xp.float32)[picked, columns] * scale, 0.0).astype(xp.float32)
    return c, s


def _mrope_forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Attrs) -> None:
    """Float32 or float16 arrays (bf16 arrives as float32 stand-ins): per-token caches, then the
    rotation with position_ids left out (onnx_rotary_embedding's per-token form)."""
    x, position_ids, cos, sin = inputs[:4]
    if x.size == 0:
        return
    c, s = mrope_caches(xp, cos, sin, position_ids, attrs)
    heads = x.shape[1] if x.ndim == 4 else int(attrs["num_heads"])
    y = rotary_embedding(
        xp,
        x.astype(xp.float32),
        c,
        s,
        None,
        heads,
        int(attrs.get("rotary_embedding_dim", 0)),
        bool(attrs.get("interleaved", 0)),
    )
    outputs[0][...] = y.astype(outputs[0].dtype)


def _mrope_torch(torch: ModuleType, inputs: Sequence[Any], attrs: Attrs) -> Any:
    """transformers' Qwen2-VL/Qwen3-VL form: per-column stream choice, then rotate_half; for a 4-D
    input with the full head rotated (the bench's shape)."""
    x, position_ids, cos, sin = inputs[:4]
    half = cos.shape[1]
    streams = mrope_streams(list(attrs["mrope_section"]), int(attrs.get("mrope_layout", 0)) == 1, half)
    picked = position_ids.permute(1, 2, 0)[..., streams]
    columns = torch.arange(half)
    scale = float(attrs.get("scale", 1.0))
    return _torch_rotary(torch, x, cos[picked, columns] * scale, sin[picked, columns] * scale, attrs)


def _mrope_bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    tokens, cache = _bench_tokens(nbytes, itemsize), (_BENCH_MAX_POS, _BENCH_HEAD_DIM // 2)
    x = (4, _BENCH_HEADS, tokens, _BENCH_HEAD_DIM)
    return {"input": x, "position_ids": (3, 4, tokens), "cos_cache": cache, "sin_cache": cache}


def _mrope_bench_attrs(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, Any]:
    """Qwen3-VL's sections of a 128-dim head, interleaved."""
    return {"mrope_section": [24, 20, 20], "mrope_layout": 1}


def _torch_rotary(torch: ModuleType, x: Any, cos: Any, sin: Any, attrs: Attrs) -> Any:
    """What a torch user writes (the Llama rotate_half form) for 4-D [B, N, S, H] input and
    per-token caches [B, S, H / 2], full rotary dim."""
    cos = torch.cat([cos, cos], dim=-1).unsqueeze(1)
    sin = torch.cat([sin, sin], dim=-1).unsqueeze(1)
    lo, hi = x.chunk(2, dim=-1)
    return x * cos + torch.cat([-hi, lo], dim=-1) * sin


def _contrib_torch(torch: ModuleType, inputs: Sequence[Any], attrs: Attrs) -> Any:
    x, position_ids, cos, sin = inputs[:4]
    return _torch_rotary(torch, x, cos[position_ids], sin[position_ids], attrs)


def _onnx_torch(torch: ModuleType, inputs: Sequence[Any], attrs: Attrs) -> Any:
    x, cos, sin = inputs[:3]
    if len(inputs) > 3 and inputs[3] is not None:
        cos, sin = cos[inputs[3]], sin[inputs[3]]
    return _torch_rotary(torch, x, cos, sin, attrs)


# The LLM shape: batch 4, 32 heads of 128, tokens scaled to ~nbytes of input.
_BENCH_HEADS, _BENCH_HEAD_DIM, _BENCH_MAX_POS = 32, 128, 8192


def _bench_tokens(nbytes: int, itemsize: int) -> int:
    return max(1, min(_BENCH_MAX_POS, nbytes // itemsize // (4 * _BENCH_HEADS * _BENCH_HEAD_DIM)))


def _contrib_bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    tokens, cache = _bench_tokens(nbytes, itemsize), (_BENCH_MAX_POS, _BENCH_HEAD_DIM // 2)
    x = (4, _BENCH_HEADS, tokens, _BENCH_HEAD_DIM)
    return {"input": x, "position_ids": (4, tokens), "cos_cache": cache, "sin_cache": cache}


def _onnx_bench_shapes(nbytes: int, itemsize: int) -> dict[str, tuple[int, ...]]:
    tokens, cache = _bench_tokens(nbytes, itemsize), (_BENCH_MAX_POS, _BENCH_HEAD_DIM // 2)
    x = (4, _BENCH_HEADS, tokens, _BENCH_HEAD_DIM)
    return {"X": x, "cos_cache": cache, "sin_cache": cache, "position_ids": (4, tokens)}


def _bench_bytes(shapes: dict[str, tuple[int, ...]], itemsize: int) -> int:
    """Traffic floor: the input read and the output written once (cache rows stay in L2)."""
    x = shapes.get("input", shapes.get("X"))
    count = 1
    for d in x:
        count *= d
    return 2 * count * itemsize


members = {
    "contrib_rotary_embedding": SimpleNamespace(
        forward=_contrib_forward,
        torch_equivalent=_contrib_torch,
        bench_shapes=_contrib_bench_shapes,
        bench_bytes=_bench_bytes,
        takes_bf16=True,
    ),
    "mrotary_embedding": SimpleNamespace(
        forward=_mrope_forward,
        torch_equivalent=_mrope_torch,
        bench_shapes=_mrope_bench_shapes,
        bench_attrs=_mrope_bench_attrs,
        bench_bytes=_bench_bytes,
    ),
    "onnx_rotary_embedding": SimpleNamespace(
        forward=_onnx_forward,
        torch_equivalent=_onnx_torch,
        bench_shapes=_onnx_bench_shapes,
        bench_bytes=_bench_bytes,
        takes_bf16=True,
    ),
}
