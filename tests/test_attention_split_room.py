"""The attention core's workspace for decode-shaped problems (at most 8 query rows per KV head):
room for as many key splits as 1584 blocks and 256 keys per split allow (up to 64), so that the
tensor-core decode can choose its split count at launch; the plugins' bound covers that room for
every extent up to the built one. Pure host arithmetic: no GPU needed."""

from __future__ import annotations

import pytest

FLOAT = 4
DECODE = {"dtype": "bfloat16", "batch": 4, "q_heads": 32, "kv_heads": 8, "q_len": 1, "head_dim": 128}


def partial_bytes(rows: int, splits: int, dim: int) -> int:
    return rows * splits * (2 + dim) * FLOAT  # per (row, split): max, sum and the accumulator


@pytest.mark.parametrize(
    ("kv_len", "splits"),
    [
        (8192, 32),  # 256 keys per split
        (16384, 50),  # ceil(1584 / 32 blocks)
        (300, 2),  # 256 keys per split at least
        (40000, 50),
    ],
)
def test_decode_room(ext, kv_len, splits):
    size, bound = ext.attention_workspace_size({**DECODE, "kv_len": kv_len})
    reserve = 1 << 20 if ext.cudnn_attention_compiled() else 0
    assert size == max(partial_bytes(4 * 32, splits, 128), reserve)
    assert bound >= size


def test_prefill_keeps_its_split_count(ext):
    """Nine rows per KV head is not decode-shaped: the tile kernels' split count alone."""
    problem = {**DECODE, "q_heads": 36, "kv_heads": 4, "q_len": 1, "kv_len": 8192}  # GQA 9
    size, _ = ext.attention_workspace_size({**problem, "dtype": "float32"})
    # 9 rows -> 2 row tiles x 4 heads x 4 batch = 32 blocks: min(32 by keys, 17 by grid) = 17 splits
    assert size == partial_bytes(4 * 36, 17, 128)


def test_bound_covers_every_smaller_decode(ext):
    """An engine built for batch 4 x 32k keys must hold the room of any smaller decode."""
    _, bound = ext.attention_workspace_size({**DECODE, "kv_len": 32768})
    for batch in (1, 2, 3, 4):
        for kv_len in (256, 4096, 8192, 20000, 32768):
            size, _ = ext.attention_workspace_size({**DECODE, "batch": batch, "kv_len": kv_len})
            assert size <= bound, (batch, kv_len)
