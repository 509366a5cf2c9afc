"""The attention core's workspace for decode-shaped problems (at most 8 query rows per KV head):
room for as many key splits as 1584 blocks and 256 keys per split allow (up to 64), so that the
tensor-core decode can choose its split count at launch, and one 4-byte counter per (batch, KV
head) after them (its last block of a group merges the splits); the plugins' bound covers that
room for every extent up to the built one. Pure host arithmetic: no GPU needed."""

from __future__ import annotations

import pytest

FLOAT = 4
DECODE = {"dtype": "bfloat16", "batch": 4, "q_heads": 32, "kv_heads": 8, "q_len": 1, "head_dim": 128}


def partial_bytes(rows: int, splits: int, dim: int) -> int:
    return rows * splits * (2 + dim) * FLOAT  # per (row, split): max, sum and the accumulator


COUNTERS = 4 * 8 * 4  # DECODE's batch x kv_heads split counters of 4 bytes


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
    assert size == max(partial_bytes(4 * 32, splits, 128) + COUNTERS, reserve)
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


def test_bound_of_a_prefill_profile_covers_its_decodes(ext):
    """A profile up to 512 query rows is not decode-shaped, but its decodes (one row) are: the bound
    holds their split room and counters."""
    _, bound = ext.attention_workspace_size({**DECODE, "q_len": 512, "kv_len": 32768})
    for batch in (1, 4):
        for kv_len in (4096, 32768):
            size, _ = ext.attention_workspace_size({**DECODE, "batch": batch, "kv_len": kv_len})
            assert size <= bound, (batch, kv_len)
