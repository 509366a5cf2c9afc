"""EmbedLayerNormalization prototype: E = word[ids] + position[pos or s] (+ segment[seg]);
output = LayerNorm(E) * gamma + beta; mask_index = count of mask == 1 per row (0 without mask);
embedding_sum = E. Out-of-range indices give a NaN row, as the CUDA kernel does."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from trtplug.protolib.norm import normalize_rows

NAMES = ("input_ids", "segment_ids", "word_embedding", "position_embedding", "segment_embedding", "gamma", "beta")
NAMES += ("mask", "position_ids")


def _named(inputs: Sequence[Any]) -> dict[str, Any]:
    return dict(zip(NAMES, [*inputs, *[None] * (len(NAMES) - len(inputs))], strict=True))


def _lookup(xp: ModuleType, table: Any, index: Any) -> tuple[Any, Any]:
    """table[index] in float32 and whether each index was inside the table."""
    inside = (index >= 0) & (index < table.shape[0])
    safe = xp.where(inside, index, 0) if table.shape[0] > 0 else xp.zeros_like(index)
    rows = table[safe].astype(xp.float32) if table.shape[0] > 0 else xp.zeros((*index.shape, table.shape[1]), "f4")
    return rows, inside


def forward(xp: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any]) -> None:
    a = _named(inputs)
    ids = a["input_ids"]
    batch, seq = ids.shape
    positions = a["position_ids"]
    if positions is None:
        positions = xp.arange(seq, dtype=xp.int32)[None, :]
    positions = xp.broadcast_to(positions, ids.shape)
    e, valid = _lookup(xp, a["word_embedding"], ids)
    pe, inside = _lookup(xp, a["position_embedding"], positions)
    e, valid = e + pe, valid & inside
    if a["segment_ids"] is not None:
        se, inside = _lookup(xp, a["segment_embedding"], a["segment_ids"])
        e, valid = e + se, valid & inside
    e = xp.where(valid[..., None], e, xp.float32(xp.nan))
    y, _, _ = normalize_rows(xp, e, a["gamma"], a["beta"], attrs["epsilon"], rms=False)
    mask = a["mask"]
    mask_index = (mask == 1).sum(axis=1) if mask is not None else xp.zeros(batch)
    for out, value in zip(outputs, (y, mask_index, e), strict=False):
        out[...] = value.astype(out.dtype)


def native(
    ext: ModuleType, inputs: Sequence[Any], outputs: Sequence[Any], attrs: Mapping[str, Any], stream: Any = None
) -> None:
    ext.embed_layer_norm(*[_named(inputs)[n] for n in NAMES], list(outputs), float(attrs["epsilon"]), stream)
