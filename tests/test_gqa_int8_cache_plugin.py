"""GroupQueryAttention's int8 KV cache in the compiled plugin, through the plugin host on the CPU:
the type rules (int8 past and present beside a 16-bit query, float32 scales), present's shape,
and configurePlugin + getWorkspaceSize for GenAI's first prompt (a zero-row int8 past) and a
decode step. The kernels' numbers are checked on a GPU (tests/test_gqa_int8_cache_gpu.py)."""

from __future__ import annotations

import pytest

from tests.fake_arrays import fake_arrays

PLUGIN = ("TrtplugGroupQueryAttention", "1", "trtplug")
HEADS, KV_HEADS, HEAD = 4, 2, 16
FIELDS = {
    "num_heads": HEADS,
    "kv_num_heads": KV_HEADS,
    "kv_cache_bit_width": 8,
    "k_quant_type": "PER_TENSOR",
    "v_quant_type": "PER_CHANNEL",
}


def dtypes(t: str, cache: str = "int8") -> list[str]:
    """The plugin's regular inputs: query, key, value, past_key, past_value, seqlens_k, cos, sin,
    position_ids, attention_bias, head_sink (those five empty stand-ins), k_scale, v_scale, and
    total_sequence_length as a device tensor (the spec's data_copy; TensorRT passes the shape
    input itself apart); then output, present_key, present_value."""
    inputs = [t, t, t, cache, cache, "int32", t, t, "int64", t, t, "float32", "float32", "int32"]
    return [*inputs, t, cache, cache]


def shapes(batch: int, seq: int, past: int, total: int) -> list[list[int]]:
    cache_in, cache_out = [batch, KV_HEADS, past, HEAD], [batch, KV_HEADS, max(past, total), HEAD]
    absent = [[0]] * 5
    inputs = [[batch, seq, HEADS * HEAD], [batch, seq, KV_HEADS * HEAD], [batch, seq, KV_HEADS * HEAD]]
    inputs += [cache_in, cache_in, [batch], *absent, [1], [KV_HEADS * HEAD], [1]]
    return [*inputs, [batch, seq, HEADS * HEAD], cache_out, cache_out]


@pytest.fixture
def plugin(library):
    created = library.create(*PLUGIN, FIELDS)
    assert created is not None
    return created


@pytest.mark.pluginlib
@pytest.mark.parametrize("t", ["float32", "float16", "bfloat16"])
def test_present_is_int8_beside_the_query_type(plugin, t):
    assert plugin.output_types(dtypes(t)[:14]) == [t, "int8", "int8"]
    assert plugin.supports_format_combination(dtypes(t))


@pytest.mark.pluginlib
def test_a_float_cache_is_refused_when_quantized(plugin):
    assert not plugin.supports_format_combination(dtypes("float16", cache="float16"))


@pytest.mark.pluginlib
def test_present_rows_follow_total_sequence_length(plugin):
    first = shapes(2, 7, 0, 7)[:14]
    assert plugin.output_shapes(first, [[7]])[1:] == [[2, KV_HEADS, 7, HEAD]] * 2


@pytest.mark.pluginlib
@pytest.mark.parametrize(("seq", "past", "total"), [(7, 0, 7), (1, 40, 41), (5, 32, 37)])
def test_configures_and_sizes_its_workspace(plugin, seq, past, total):
    """A zero-row int8 past (GenAI's first prompt) is a present past, not an absent one; the
    workspace holds the dequantized present (2 x B x Nk x rows x H x 2 bytes in fp16) and more."""
    need = plugin.workspace_size(dtypes("float16"), shapes(2, seq, past, total))
    assert need >= 2 * 2 * KV_HEADS * max(past, total) * HEAD * 2


@pytest.mark.pluginlib
def test_scales_of_the_wrong_size_are_refused_before_any_launch(plugin):
    bad = shapes(2, 1, 40, 41)
    bad[12] = [3]  # PER_CHANNEL needs kv_num_heads * head_size = 32 elements
    arrays = fake_arrays(bad, dtypes("float16"))
    with pytest.raises(Exception, match="k_scale/v_scale must have 1 element"):
        plugin.run(arrays[:14], arrays[14:], shape_inputs=[[41]])
