"""GroupQueryAttention's windowed KV cache (sliding_window_cache = 1) in the compiled parts.

The plugin's shape rule through the plugin host, on the CPU (present keeps the past's capacity; no
past is refused). On a GPU: the CUDA launcher against the float32 prototype (which the parity suite
and tests/test_gqa_windowed_cache.py tie to ONNX Runtime) where ONNX Runtime cannot serve as the
reference (chunks onto a past in a batch of several) or on shapes the spec cases leave out (a
Gemma-sized buffer split across blocks, long prompts on the tensor-core tiles, the buffer wrapping
inside a step), and the plugin's decode and chunk steps through the plugin host. Outputs are
poisoned with NaN first, so present's rows after L(T) must be written (the prototype's zeros)."""

from __future__ import annotations

import numpy as np
import pytest

from pyplugins import group_query_attention as proto
from tests.test_group_query_attention_gpu import ATTRS, check, expected, gqa_inputs, run_cuda
from trtplug.parity.attention_inputs import rotary_caches

PLUGIN = ("TrtplugGroupQueryAttention", "1", "trtplug")


def windowed_inputs(rng, totals, seq, heads, kv_heads, head, capacity, dtype="float32"):
    """Separate q/k/v onto a full random buffer of `capacity` rows; present keeps `capacity` rows."""
    feeds, shapes = gqa_inputs(rng, len(totals), seq, heads, kv_heads, head, capacity, totals, dtype)
    cache = (len(totals), kv_heads, capacity, head)
    return feeds, [shapes[0], cache, cache]


def windowed_attrs(heads, kv_heads, window, **extra):
    shape = {"num_heads": heads, "kv_num_heads": kv_heads, "local_window_size": window}
    return {**ATTRS, **shape, "sliding_window_cache": 1, **extra}


# ---- the plugin's shape rule (plugin host, no GPU needed) ------------------------------------


@pytest.mark.pluginlib
def test_plugin_present_keeps_the_buffer_capacity(library):
    fields = {"num_heads": 4, "kv_num_heads": 2, "local_window_size": 4, "sliding_window_cache": 1}
    plugin = library.create(*PLUGIN, fields)
    assert plugin is not None
    decode = [[3, 1, 64], [3, 1, 32], [3, 1, 32], [3, 2, 12, 16], [3, 2, 12, 16], [3], [1]]
    assert plugin.output_shapes(decode, [[40]]) == [[3, 1, 64], [3, 2, 12, 16], [3, 2, 12, 16]]
    prompt = [[2, 20, 64], [2, 20, 32], [2, 20, 32], [2, 2, 16, 16], [2, 2, 16, 16], [2], [1]]
    assert plugin.output_shapes(prompt, [[20]])[1] == [2, 2, 16, 16]  # a prompt longer than the buffer
    cache = ["B", 2, "P", 16]
    symbolic = [["B", "S", 64], ["B", "S", 32], ["B", "S", 32], cache, cache, ["B"], [1]]
    assert plugin.output_shapes(symbolic, [["T"]])[1] == ["B", 2, "P", 16]


@pytest.mark.pluginlib
def test_plugin_refuses_a_windowed_cache_without_its_past(library):
    fields = {"num_heads": 4, "kv_num_heads": 2, "local_window_size": 4, "sliding_window_cache": 1}
    plugin = library.create(*PLUGIN, fields)
    with pytest.raises(Exception, match="sliding_window_cache = 1 needs past_key and past_value"):
        plugin.output_shapes([[2, 9, 128], [0], [0], [0], [0], [2], [1]], [[9]])


@pytest.mark.pluginlib
def test_plugin_creator_checks_the_attribute(library):
    assert library.create(*PLUGIN, {"num_heads": 4, "kv_num_heads": 2, "sliding_window_cache": 2}) is None


# ---- the CUDA launcher (GPU) -----------------------------------------------------------------

# (totals, seq, heads, kv_heads, head, capacity, window, dtype)
LAUNCHER_CASES = [
    ([3, 9, 20, 64], 1, 8, 2, 64, 8, 4, "float32"),  # decode: before, at and after wraps, ragged
    ([3, 9, 20, 64], 1, 8, 2, 64, 8, 4, "float16"),
    ([17, 30], 1, 4, 4, 32, 16, 16, "float32"),  # window = capacity
    ([9, 11], 1, 4, 2, 16, 8, 1, "float32"),  # window 1: the token itself
    ([9, 14, 40], 3, 8, 2, 64, 8, 4, "float32"),  # a batched chunk (ONNX Runtime takes batch 1 only)
    ([9, 14, 40], 3, 8, 2, 64, 8, 4, "float16"),
    ([100, 100], 100, 8, 2, 64, 64, 32, "float16"),  # a prompt beyond the buffer: the tensor-core tiles
    ([150, 300], 80, 8, 2, 128, 128, 64, "float16"),  # a chunk wrapping inside the step
    ([5000, 9000], 1, 32, 8, 128, 4096, 1024, "float16"),  # Gemma-sized decode: split across blocks
    ([5000, 9000], 1, 8, 2, 256, 4096, 1024, "float32"),  # head 256 (Gemma's), fp32 tiles
]


@pytest.mark.gpu
@pytest.mark.parametrize(("totals", "seq", "heads", "kv", "head", "capacity", "window", "dtype"), LAUNCHER_CASES)
def test_launcher_matches_the_prototype(cp, ext, seed, totals, seq, heads, kv, head, capacity, window, dtype):
    rng = np.random.default_rng([seed, seq, head, capacity, *totals])
    feeds, shapes = windowed_inputs(rng, totals, seq, heads, kv, head, capacity, dtype)
    attrs = windowed_attrs(heads, kv, window)
    check(run_cuda(cp, ext, feeds, shapes, attrs, dtype), expected(feeds, shapes, attrs), dtype)


@pytest.mark.gpu
@pytest.mark.parametrize("given", [False, True])
@pytest.mark.parametrize(("totals", "seq"), [([60, 23], 1), ([60, 41], 5)])
def test_launcher_rotates_at_the_absolute_position(cp, ext, seed, totals, seq, given):
    """do_rotary at positions past the buffer's capacity (C = 16), half split, derived from
    seqlens_k (T - S + s, not the buffer row) or given as position_ids; a batched chunk too."""
    rng = np.random.default_rng([seed, seq])
    feeds, shapes = windowed_inputs(rng, totals, seq, 4, 2, 64, 16)
    feeds["cos_cache"], feeds["sin_cache"] = rotary_caches(128, 32)
    if given:
        feeds["position_ids"] = np.asarray(totals, np.int64)[:, None] - seq + np.arange(seq)[None]
    attrs = windowed_attrs(4, 2, 8, do_rotary=1)
    check(run_cuda(cp, ext, feeds, shapes, attrs, "float32"), expected(feeds, shapes, attrs), "float32")


@pytest.mark.gpu
def test_launcher_refuses_a_window_beyond_the_capacity(cp, ext, seed):
    feeds, shapes = windowed_inputs(np.random.default_rng(seed), [9], 1, 4, 2, 16, 8)
    with pytest.raises(Exception, match="local_window_size <= past_key rows"):
        run_cuda(cp, ext, feeds, shapes, windowed_attrs(4, 2, 9), "float32")


# ---- the plugin (GPU, plugin host) -------------------------------------------------------------


@pytest.mark.gpu
@pytest.mark.pluginlib
@pytest.mark.parametrize("phase", ["build", "runtime"])
@pytest.mark.parametrize(("totals", "seq"), [([7, 30, 700], 1), ([700], 6)])
def test_plugin_step_matches_the_prototype(cp, library, seed, phase, totals, seq):
    """A decode step (ragged, before and after wraps) and a chunk onto a wrapped 256-row buffer."""
    rng = np.random.default_rng([seed, seq])
    feeds, shapes = windowed_inputs(rng, totals, seq, 8, 2, 64, 256)
    fields = {"num_heads": 8, "kv_num_heads": 2, "local_window_size": 128, "sliding_window_cache": 1}
    plugin = library.create(*PLUGIN, fields)
    plugin = plugin if phase == "build" else plugin.round_trip()
    regular = [cp.asarray(feeds[n]) for n in proto.INPUTS[:6]]
    total = cp.asarray(feeds["total_sequence_length"])
    outs = [cp.full(s, cp.nan, dtype="float32") for s in shapes]
    plugin.run([*regular, total], outs, cp.cuda.get_current_stream(), shape_inputs=[[int(total)]])
    check([o.get() for o in outs], expected(feeds, shapes, {**ATTRS, **fields}), "float32")
