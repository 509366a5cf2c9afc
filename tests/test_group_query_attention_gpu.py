"""GroupQueryAttention on a GPU beyond the parity cases: the CUDA launcher (and so the attention
core: tiled kernel and split-KV decode) against the float32 prototype on shapes the spec cases
leave out (long caches that split the keys, head sizes 64/80/96/128/256, a cache longer than
total_sequence_length), and the plugin through the plugin host: the KV-cache size rules
(present rows = max(past rows, total_sequence_length)) and a decode step. The prototype is tied
to ONNX Runtime by the parity suite. Outputs are poisoned with NaN first."""

from __future__ import annotations

import numpy as np
import pytest

from pyplugins import group_query_attention as proto
from trtplug.parity.attention_inputs import cache_totals

pytestmark = pytest.mark.gpu
TOL = {"float32": 2e-4, "float16": 4e-3}
ATTRS = {"scale": 0.0, "softcap": 0.0, "local_window_size": -1, "do_rotary": 0, "rotary_interleaved": 0}
ATTRS |= {"smooth_softmax": 0, "qk_output": 0, "causal": 1}


def gqa_inputs(rng, batch, seq, heads, kv_heads, head, past, totals=None, dtype="float32"):
    """Separate q/k/v, a past of `past` rows, ragged totals (or `totals`); present rows max(past, total)."""
    totals = cache_totals(batch, seq, past) if totals is None else np.array(totals, np.int64)
    total = int(totals.max()) if totals.size else seq
    feeds = {
        "query": rng.standard_normal((batch, seq, heads * head)),
        "key": rng.standard_normal((batch, seq, kv_heads * head)),
        "value": rng.standard_normal((batch, seq, kv_heads * head)),
        "past_key": rng.standard_normal((batch, kv_heads, past, head)),
        "past_value": rng.standard_normal((batch, kv_heads, past, head)),
    }
    feeds = {k: v.astype(dtype) for k, v in feeds.items()}
    feeds["seqlens_k"] = (totals - 1).astype(np.int32)
    feeds["total_sequence_length"] = np.array(total, np.int32)
    rows = max(past, total)
    shapes = [(batch, seq, heads * head), (batch, kv_heads, rows, head), (batch, kv_heads, rows, head)]
    return feeds, shapes


def expected(feeds, shapes, attrs):
    ordered = [
        None if feeds.get(n) is None else feeds[n].astype(np.float32) if feeds[n].dtype.kind == "f" else feeds[n]
        for n in proto.INPUTS
    ]
    outs = [np.full(s, np.nan, np.float32) for s in shapes]
    proto.forward(np, ordered, outs, attrs)
    return outs


def check(got, want, dtype):
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        np.testing.assert_allclose(g.astype(np.float64), w, atol=TOL[dtype], rtol=TOL[dtype], err_msg=f"output {i}")


def run_cuda(cp, ext, feeds, shapes, attrs, dtype):
    ins = [None if feeds.get(n) is None else cp.asarray(feeds[n]) for n in proto.INPUTS]
    while ins[-1] is None:
        ins.pop()
    outs = [cp.full(s, cp.nan, dtype=dtype) for s in shapes]
    ext.group_query_attention(ins, outs, attrs)
    cp.cuda.get_current_stream().synchronize()
    return [o.get() for o in outs]


@pytest.mark.parametrize("head", [64, 80, 96, 128, 256])
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_decode_on_a_long_cache_splits_the_keys(cp, ext, seed, head, dtype):
    """One token onto 3000 cached rows: few blocks, so the keys are split and combined."""
    rng = np.random.default_rng([seed, head])
    feeds, shapes = gqa_inputs(rng, 2, 1, 8, 2, head, 3000, dtype=dtype)
    attrs = {**ATTRS, "num_heads": 8, "kv_num_heads": 2}
    check(run_cuda(cp, ext, feeds, shapes, attrs, dtype), expected(feeds, shapes, attrs), dtype)


@pytest.mark.parametrize(("window", "softcap"), [(-1, 0.0), (64, 0.0), (-1, 20.0)])
@pytest.mark.parametrize(("head", "dtype"), [(h, d) for d in ("float32", "float16") for h in (64, 128, 80)])
def test_prefill_causal_window_softcap_ratio8(cp, ext, seed, window, softcap, head, dtype):
    """Head 64/128 takes the tensor-core tiles (sm_80+; fp32 as 3xTF32), head 80 the generic kernel."""
    rng = np.random.default_rng(seed)
    empty_past = 0
    feeds, shapes = gqa_inputs(rng, 2, 300, 16, 2, head, empty_past, dtype=dtype)
    attrs = {**ATTRS, "num_heads": 16, "kv_num_heads": 2, "local_window_size": window, "softcap": softcap}
    check(run_cuda(cp, ext, feeds, shapes, attrs, dtype), expected(feeds, shapes, attrs), dtype)


def test_cache_longer_than_the_total_keeps_zero_rows(cp, ext, seed):
    """A past buffer of 20 rows holding 9 tokens (total 10): present keeps 20 rows, zeros past the written ones."""
    rng = np.random.default_rng(seed)
    feeds, shapes = gqa_inputs(rng, 1, 1, 4, 4, 32, 20, totals=[10])
    assert shapes[1][2] == 20
    attrs = {**ATTRS, "num_heads": 4, "kv_num_heads": 4}
    got = run_cuda(cp, ext, feeds, shapes, attrs, "float32")
    check(got, expected(feeds, shapes, attrs), "float32")
    assert not got[1][:, :, 10:].any()


@pytest.mark.pluginlib
@pytest.mark.parametrize(
    ("shapes", "total", "expected"),
    [
        # packed QKV prefill, no past: present rows = total
        ([[2, 9, 128], [0], [0], [0], [0], [2], [1]], 9, [[2, 9, 64], [2, 2, 9, 16], [2, 2, 9, 16]]),
        # decode onto 12 rows: present grows to 13
        (
            [[3, 1, 64], [3, 1, 32], [3, 1, 32], [3, 2, 12, 16], [3, 2, 12, 16], [3], [1]],
            13,
            [[3, 1, 64], [3, 2, 13, 16], [3, 2, 13, 16]],
        ),
        # a past buffer longer than the total (shared-buffer style): present keeps its rows
        (
            [[1, 1, 64], [1, 1, 32], [1, 1, 32], [1, 2, 40, 16], [1, 2, 40, 16], [1], [1]],
            13,
            [[1, 1, 64], [1, 2, 40, 16], [1, 2, 40, 16]],
        ),
    ],
)
def test_plugin_present_rows_follow_total_sequence_length(library, shapes, total, expected):
    plugin = library.create("TrtplugGroupQueryAttention", "1", "trtplug", {"num_heads": 4, "kv_num_heads": 2})
    assert plugin is not None
    assert plugin.output_shapes(shapes, [[total]]) == expected


@pytest.mark.pluginlib
def test_plugin_present_rows_are_max_of_past_and_total(library):
    plugin = library.create("TrtplugGroupQueryAttention", "1", "trtplug", {"num_heads": 4, "kv_num_heads": 2})
    cache = ["B", 2, "P", 16]
    shapes = [["B", "S", 64], ["B", "S", 32], ["B", "S", 32], cache, cache, ["B"], [1]]
    assert plugin.output_shapes(shapes, [["T"]])[1] == ["B", 2, "max(P, T)", 16]


@pytest.mark.pluginlib
@pytest.mark.parametrize("phase", ["build", "runtime"])
def test_plugin_decode_step_matches_the_prototype(cp, library, seed, phase):
    rng = np.random.default_rng(seed)
    feeds, shapes = gqa_inputs(rng, 3, 1, 8, 2, 64, 700)
    attrs = {"num_heads": 8, "kv_num_heads": 2}
    plugin = library.create("TrtplugGroupQueryAttention", "1", "trtplug", attrs)
    plugin = plugin if phase == "build" else plugin.round_trip()
    regular = [cp.asarray(feeds[n]) for n in proto.INPUTS[:6]]
    total = cp.asarray(feeds["total_sequence_length"])
    outs = [cp.full(s, cp.nan, dtype="float32") for s in shapes]
    plugin.run([*regular, total], outs, cp.cuda.get_current_stream(), shape_inputs=[[int(total)]])
    check([o.get() for o in outs], expected(feeds, shapes, {**ATTRS, **attrs}), "float32")


@pytest.mark.pluginlib
def test_plugin_fp16_decode_steps_on_poisoned_workspaces(cp, library, seed):
    """The plugin host hands enqueue a workspace of 0xFF bytes (TensorRT's holds anything): the
    tensor-core decode's split counters in it (12 splits here) start from zero at every launch;
    two steps in a row, each on its own poisoned workspace."""
    rng = np.random.default_rng([seed, 3000])
    feeds, shapes = gqa_inputs(rng, 3, 1, 32, 8, 128, 3000, dtype="float16")
    attrs = {"num_heads": 32, "kv_num_heads": 8}
    want = expected(feeds, shapes, {**ATTRS, **attrs})
    plugin = library.create("TrtplugGroupQueryAttention", "1", "trtplug", attrs)
    regular = [cp.asarray(feeds[n]) for n in proto.INPUTS[:6]]
    total = cp.asarray(feeds["total_sequence_length"])
    for _ in range(2):
        outs = [cp.full(s, cp.nan, dtype="float16") for s in shapes]
        plugin.run([*regular, total], outs, cp.cuda.get_current_stream(), shape_inputs=[[int(total)]])
        check([o.get() for o in outs], want, "float16")


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_chunk_onto_a_long_cache_with_a_window(cp, ext, seed, dtype):
    """40 new tokens onto 3000 cached rows, window 500: fp32 splits the keys across blocks (causal and
    window bounds per split), fp16 takes the tensor-core tiles over the same long cache."""
    rng = np.random.default_rng(seed)
    feeds, shapes = gqa_inputs(rng, 1, 40, 8, 2, 64, 3000, dtype=dtype)
    attrs = {**ATTRS, "num_heads": 8, "kv_num_heads": 2, "local_window_size": 500}
    check(run_cuda(cp, ext, feeds, shapes, attrs, dtype), expected(feeds, shapes, attrs), dtype)


def test_empty_batch_launches_nothing(cp, ext):
    """Batch 0 (no reference: ONNX Runtime's CPU kernel crashes on it): no error, nothing written."""
    feeds, shapes = gqa_inputs(np.random.default_rng(0), 0, 5, 4, 2, 16, 0, totals=[])
    feeds["total_sequence_length"] = np.array(5, np.int32)
    shapes = [(0, 5, 64), (0, 2, 5, 16), (0, 2, 5, 16)]
    outs = run_cuda(cp, ext, feeds, shapes, {**ATTRS, "num_heads": 4, "kv_num_heads": 2}, "float32")
    assert [o.shape for o in outs] == shapes


# (seq, heads, kv_heads, head, window, softcap, dtype): query rows per KV head (group x seq) 1..8
# take the key-parallel decode kernel when the head size splits into 16-byte slices; the rest
# (head 20 in fp16, head 256 in fp32) stay on the tile kernel.
DECODE_SHAPES = [
    (1, 8, 8, 128, -1, 0.0, "float16"),  # one row per KV head
    (1, 3, 1, 64, -1, 0.0, "float32"),  # 3 rows in the 4-row kernel (one inactive)
    (1, 32, 4, 128, -1, 0.0, "float16"),  # 8 rows (GQA 8)
    (2, 8, 2, 96, 700, 0.0, "float16"),  # a 2-token chunk: 8 rows at two positions, window
    (3, 4, 2, 80, -1, 30.0, "float32"),  # 6 rows in the 8-row kernel, softcap
    (1, 4, 2, 256, -1, 0.0, "float16"),  # 32 lanes per key
    (1, 4, 2, 256, -1, 0.0, "float32"),  # 64 slices: the tile kernel
    (1, 4, 2, 20, -1, 0.0, "float16"),  # head 20: no 16-byte slices, the tile kernel
    (1, 4, 1, 8, -1, 0.0, "float16"),  # one slice per key (8 lanes, 7 idle)
]


@pytest.mark.parametrize(("seq", "heads", "kv", "head", "window", "softcap", "dtype"), DECODE_SHAPES)
@pytest.mark.parametrize("past", [0, 31, 2999])
def test_decode_kernel_rows_heads_and_cache_lengths(cp, ext, seed, seq, heads, kv, head, window, softcap, dtype, past):
    """The decode kernel's boundaries: rows per KV head 1..8, head sizes 8..256, ragged totals over
    caches from empty to long (one block or split across blocks), window and softcap masks."""
    rng = np.random.default_rng([seed, heads, head, past])
    feeds, shapes = gqa_inputs(rng, 3, seq, heads, kv, head, past, dtype=dtype)
    attrs = {**ATTRS, "num_heads": heads, "kv_num_heads": kv, "local_window_size": window, "softcap": softcap}
    check(run_cuda(cp, ext, feeds, shapes, attrs, dtype), expected(feeds, shapes, attrs), dtype)


# The decode kernels, each forced by TRTPLUG_ATTENTION_DECODE: the tensor-core one (the default,
# attention_decode_mma.cuh: fp16/bf16, head 64/128, 1..8 rows per KV head padded to one 16-row
# tile, 16 keys per warp of each 64-key tile) and the key-parallel one (attention_decode.cuh).
DECODE_MMA_SHAPES = [
    (1, 8, 8, 128, -1, 0.0),  # one row per KV head
    (1, 32, 8, 128, -1, 0.0),  # GQA 4, the benchmark's
    (1, 32, 4, 64, -1, 0.0),  # 8 rows
    (2, 8, 2, 128, 700, 0.0),  # a 2-token chunk: rows at two positions, a window
    (3, 4, 2, 64, -1, 30.0),  # 6 rows, softcap
    (1, 4, 2, 128, 40, 0.0),  # a window shorter than a tile
]


@pytest.mark.parametrize(("seq", "heads", "kv", "head", "window", "softcap"), DECODE_MMA_SHAPES)
@pytest.mark.parametrize("past", [0, 15, 63, 64, 65, 2999])
@pytest.mark.parametrize("kernel", ["mma", "key-parallel"])
def test_decode_kernels(cp, ext, seed, monkeypatch, kernel, seq, heads, kv, head, window, softcap, past):
    """Caches from empty through one 64-key tile and its edges to a split across blocks (split
    boundaries on 64-key tiles), ragged totals, against the float32 prototype."""
    monkeypatch.setenv("TRTPLUG_ATTENTION_DECODE", kernel)  # read at each launch
    rng = np.random.default_rng([seed, heads, head, past, 1])
    feeds, shapes = gqa_inputs(rng, 3, seq, heads, kv, head, past, dtype="float16")
    attrs = {**ATTRS, "num_heads": heads, "kv_num_heads": kv, "local_window_size": window, "softcap": softcap}
    check(run_cuda(cp, ext, feeds, shapes, attrs, "float16"), expected(feeds, shapes, attrs), "float16")


@pytest.mark.parametrize("head", [64, 128])
def test_decode_splits_fitted_to_waves(cp, ext, seed, head):
    """Batch 4, GQA 32/8, 9000 cached keys: 32 blocks x 17 splits. At head 128 (74 KB of shared
    memory, 3 blocks per SM on an H100/H200) the tensor-core decode refits them to 12 splits, one
    full wave, inside the workspace sized for 17; at head 64 they stay 17."""
    rng = np.random.default_rng([seed, head, 9000])
    feeds, shapes = gqa_inputs(rng, 4, 1, 32, 8, head, 9000, dtype="float16")
    attrs = {**ATTRS, "num_heads": 32, "kv_num_heads": 8}
    check(run_cuda(cp, ext, feeds, shapes, attrs, "float16"), expected(feeds, shapes, attrs), "float16")


@pytest.mark.parametrize("splits", [1, 5, 33, 64])
def test_decode_forced_split_counts(cp, ext, seed, monkeypatch, splits):
    """TRTPLUG_ATTENTION_DECODE_SPLITS forces the tensor-core decode's split count within the
    workspace's room (a decode-shaped problem's: up to 64 here): one split (no combine), ragged
    last splits, and more than 32, where the combine reads a second split's statistics per lane."""
    monkeypatch.setenv("TRTPLUG_ATTENTION_DECODE_SPLITS", str(splits))
    rng = np.random.default_rng([seed, splits, 17000])
    feeds, shapes = gqa_inputs(rng, 2, 1, 32, 8, 128, 17000, dtype="float16")
    attrs = {**ATTRS, "num_heads": 32, "kv_num_heads": 8}
    check(run_cuda(cp, ext, feeds, shapes, attrs, "float16"), expected(feeds, shapes, attrs), "float16")


FLASH_EDGES = [(37, 0, 64, -1), (64, 0, 128, -1), (65, 130, 128, -1), (200, 0, 64, 50), (129, 1000, 128, 300)]


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize(("seq", "past", "head", "window"), FLASH_EDGES)
def test_flash_prefill_tile_edges(cp, ext, seed, monkeypatch, dtype, seq, past, head, window):
    """The register-resident prefill (head 64/128, no mask tensor): query rows and keys around the
    64-row / 32- and 64-key tile edges, after a past, with a window; GQA 8/2; fp16 and bf16 (the
    binding's bf16 transport) against the float32 prototype on the rounded inputs, and fp32 (the
    3xTF32 kernel, attention_flash32.cuh). The kernels only: a first prompt would go to cuDNN
    (test_attention_cudnn_gpu.py covers that)."""
    monkeypatch.setenv("TRTPLUG_ATTENTION_PREFILL", "kernel")
    got, want = run_rounded_prompt(cp, ext, np.random.default_rng([seed, seq, head]), dtype, seq, past, head, window)
    assert ext.last_prefill_backend() == ("fp32-tensor-cores" if dtype == "float32" else "kernel")
    tol = 5e-2 if dtype == "bfloat16" else TOL[dtype]
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        np.testing.assert_allclose(g, w, atol=tol, rtol=tol, err_msg=f"output {i}")


# (seq, past, head, forced splits): one token or a 2-token chunk (8 rows per KV head) onto caches
# within one tile, across a tile edge, and split across blocks at forced and fitted counts.
PAST_COPY_CASES = [(1, 15, 128, 0), (1, 64, 64, 0), (1, 65, 128, 3), (2, 2999, 128, 0), (1, 2999, 64, 7)]


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize(("seq", "past", "head", "splits"), PAST_COPY_CASES)
def test_decode_copies_the_past_it_reads(cp, ext, seed, monkeypatch, dtype, seq, past, head, splits):
    """The tensor-core decode writes the past rows into present as it reads them (PastCopy,
    TRTPLUG_ATTENTION_PAST_COPY=decode): every output, present's zero rows after ragged totals
    included, equals bit for bit the run with the separate copy (=separate), and matches the
    prototype."""
    if not hasattr(ext, "last_attention_copied_past"):
        pytest.skip("this build's binding has no last_attention_copied_past")
    if splits:
        monkeypatch.setenv("TRTPLUG_ATTENTION_DECODE_SPLITS", str(splits))
    runs = {}
    for choice in ("separate", "decode"):
        monkeypatch.setenv("TRTPLUG_ATTENTION_PAST_COPY", choice)  # read per launch
        rng = np.random.default_rng([seed, past, head])
        runs[choice] = run_rounded_prompt(cp, ext, rng, dtype, seq, past, head, -1)
        assert ext.last_attention_copied_past() == (choice == "decode")
    (fused, want), (separate, _) = runs["decode"], runs["separate"]
    tol = 5e-2 if dtype == "bfloat16" else TOL["float16"]
    for i, (f, s, w) in enumerate(zip(fused, separate, want, strict=True)):
        np.testing.assert_array_equal(f, s, err_msg=f"output {i}: fused against separate copy")
        np.testing.assert_allclose(f, w, atol=tol, rtol=tol, err_msg=f"output {i}")


def run_rounded_prompt(cp, ext, rng, dtype, seq, past, head, window):
    """The GroupQueryAttention binding on 2 ragged batches (GQA 8/2) in fp16 or bf16, and the
    float32 prototype on the same rounded inputs: (got, want) lists of float32 outputs."""
    from trtplug import native
    from trtplug.protolib.dtypes import to_bfloat16
    from trtplug.registry import load_registry

    feeds, shapes = gqa_inputs(rng, 2, seq, 8, 2, head, past, dtype="float32")
    bf16 = dtype == "bfloat16"
    rounded = {
        k: (to_bfloat16(v) if bf16 else v.astype(dtype)) if v.dtype == np.float32 else v for k, v in feeds.items()
    }
    as32 = {k: v.astype(np.float32) if v.dtype.itemsize == 2 else v for k, v in rounded.items()}
    # bf16 arrays travel from the host (the binding copies them); everything else is a device array
    ins = [
        None if n not in rounded else rounded[n] if bf16 and rounded[n].dtype.itemsize == 2 else cp.asarray(rounded[n])
        for n in proto.INPUTS
    ]
    while ins[-1] is None:
        ins.pop()
    outs = [
        np.full(s, np.nan, dtype=to_bfloat16(np.zeros(1)).dtype) if bf16 else cp.full(s, cp.nan, dtype=dtype)
        for s in shapes
    ]
    attrs = {**ATTRS, "num_heads": 8, "kv_num_heads": 2, "local_window_size": window}
    spec = load_registry().get("group_query_attention")
    native.run_binding(spec, ext, ins, outs, attrs, cp.cuda.get_current_stream())
    cp.cuda.get_current_stream().synchronize()
    got = [np.asarray(o, dtype=np.float32) if bf16 else o.get().astype(np.float32) for o in outs]
    return got, expected(as32, shapes, attrs)
