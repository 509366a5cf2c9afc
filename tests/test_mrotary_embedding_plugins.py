"""MRotaryEmbedding's plugin through the plugin host on the CPU: output types and shapes, the
[3, B, S] position rule, the sections against the rotary width, and refusals before any launch.
The kernel's units are checked on the CPU by tests/rotary_emulation.cu and run on a GPU by
tests/test_rotary_embedding_gpu.py."""

from __future__ import annotations

import pytest

from tests.fake_arrays import fake_arrays

PLUGIN = ("TrtplugMRotaryEmbedding", "1", "trtplug")
# GenAI's Qwen3.5 q path: [B, S, N * H] with N = 4, H = 16, rotary dim 8 (sections 2 + 1 + 1 = 4 pairs).
FIELDS = {"num_heads": 4, "rotary_embedding_dim": 8, "mrope_section": [2, 1, 1], "mrope_layout": 1}


@pytest.fixture
def plugin(library):
    created = library.create(*PLUGIN, FIELDS)
    assert created is not None
    return created


@pytest.mark.pluginlib
@pytest.mark.parametrize("t", ["float32", "float16", "bfloat16"])
def test_output_type_and_shape_follow_the_input(plugin, t):
    assert plugin.output_types([t, "int64", t, t]) == [t]
    assert plugin.supports_format_combination([t, "int64", t, t, t])
    assert not plugin.supports_format_combination([t, "int32", t, t, t])
    assert plugin.output_shapes([[2, 5, 64], [3, 2, 5], [32, 4], [32, 4]]) == [[2, 5, 64]]
    assert plugin.output_shapes([["B", "S", 64], [3, "B", "S"], [32, 4], [32, 4]]) == [["B", "S", 64]]


@pytest.mark.pluginlib
def test_creator_refuses_packed_batching(library):
    assert library.create(*PLUGIN, {**FIELDS, "is_packed_batching": 1}) is None


def run(plugin, shapes: list[tuple[int, ...]], dtype: str = "float32") -> None:
    types = [dtype, "int64", dtype, dtype, dtype]
    arrays = fake_arrays(shapes, types)
    plugin.run(arrays[:4], arrays[4:])


@pytest.mark.pluginlib
@pytest.mark.parametrize(
    ("shapes", "match"),
    [
        ([(2, 5, 64), (2, 5), (32, 4), (32, 4), (2, 5, 64)], r"position_ids must be \[3, batch, seq\]"),  # rank 2
        (
            [(2, 5, 64), (3, 2, 4), (32, 4), (32, 4), (2, 5, 64)],
            r"position_ids must be \[3, batch, seq\]",
        ),  # S disagrees
        (
            [(2, 5, 64), (3, 2, 5), (32, 6), (32, 6), (2, 5, 64)],
            "cos_cache/sin_cache must be",
        ),  # 6 columns, rotary dim 8
    ],
)
def test_bad_shapes_are_refused_before_any_launch(plugin, shapes, match):
    with pytest.raises(Exception, match=match):
        run(plugin, shapes)
