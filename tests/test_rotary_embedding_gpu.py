"""The RotaryEmbedding family on a GPU beyond the parity suite: unaligned buffers (the
one-element kernel path) and aligned ones (16-byte groups), in place (output aliasing the
input), every member through its binding and its IPluginV3 plugin (build and runtime phase, on
a side stream), positions outside the cache (rows left unrotated), M-RoPE's token grid and the
row grid it replaced, and both grids for the single-stream members.
Results are compared with the op's parity reference (ONNX Runtime CPU, onnx.reference) at the
spec's tolerances; outputs are poisoned with NaN first."""

from __future__ import annotations

import numpy as np
import pytest

from tests.device_arrays import FLOAT_DTYPES, as_float64, host_values, offset_view, poisoned_view, untouched
from trtplug import native
from trtplug.parity.cases import Case, default_cases, make_inputs
from trtplug.parity.reference import run_reference
from trtplug.registry import load_registry

pytestmark = pytest.mark.gpu

CASES = {
    "contrib_rotary_embedding": ["bsh-1", "bsh_no_num_heads-0", "bnsh-0", "partial_rotary-1", "offset-0", "odd-1"],
    "onnx_rotary_embedding": [
        "bsh-1",
        "per_token_caches-0",
        "per_token_caches_shared_by_batch-1",
        "per_token_caches_bsh_partial-1",
        "odd-0",
    ],
    "mrotary_embedding": [
        "qwen3_5_q-0",
        "qwen2_vl_sectioned-1",
        "qwen3_vl_interleaved_bnsh-0",
        "interleaved_uneven_sections-1",
        "empty_sections_scale-0",
        "odd-1",
    ],
}
PARAMS = [(op, name) for op, names in CASES.items() for name in names]


def parity_case(op: str, name: str) -> Case:
    return next(c for c in default_cases(load_registry().get(op)) if c.name == name)


def run_case(cp, op: str, case: Case, dtype: str, offset: int, seed: int, execute, in_place: bool = False):
    spec = load_registry().get(op)
    host = make_inputs(spec, case, seed)
    inputs = {k: host_values(v, dtype) if v.dtype == np.float32 else v for k, v in host.items()}
    ins = [offset_view(cp, inputs[t.name], offset) for t in spec.inputs if t.name in inputs]
    buf, view = poisoned_view(cp, inputs[spec.inputs[0].name].shape, dtype, offset)
    out = ins[0] if in_place else view
    execute(spec, ins, [out], case.attrs)
    cp.cuda.get_current_stream().synchronize()
    (expected,) = run_reference(spec, case, inputs)
    tol = spec.tolerance(dtype)
    np.testing.assert_allclose(as_float64(out), expected, atol=tol.atol, rtol=tol.rtol)
    assert in_place or offset == 0 or untouched(buf)  # nothing written before the view


@pytest.mark.parametrize(("op", "name"), PARAMS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("offset", [0, 1], ids=["aligned", "misaligned"])
def test_binding(cp, ext, op, name, dtype, offset, seed) -> None:
    def execute(spec, ins, outs, attrs):
        native.run_binding(spec, ext, ins, outs, attrs, cp.cuda.get_current_stream())

    run_case(cp, op, parity_case(op, name), dtype, offset, seed, execute)


@pytest.mark.parametrize(("op", "name"), PARAMS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_binding_in_place(cp, ext, op, name, dtype, seed) -> None:
    """Output aliasing the input: every thread reads what it writes before writing it."""

    def execute(spec, ins, outs, attrs):
        native.run_binding(spec, ext, ins, outs, attrs, cp.cuda.get_current_stream())

    run_case(cp, op, parity_case(op, name), dtype, 0, seed, execute, in_place=True)


@pytest.mark.parametrize(("op", "name"), [p for p in PARAMS if p[0] != "mrotary_embedding"])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("in_place", [False, True])
@pytest.mark.parametrize("grid", ["tokens", "tokens-1", "rows"])
def test_single_stream_grids(cp, ext, monkeypatch, op, name, dtype, in_place, grid, seed) -> None:
    """RotaryEmbedding on the token grid (its default since run 19, read per launch) in the chunks
    the launcher picks and in chunks of one head, and on the row grid (TRTPLUG_ROTARY_TOKENS=0)."""
    monkeypatch.setenv("TRTPLUG_ROTARY_TOKENS", "0" if grid == "rows" else "all")
    if grid == "tokens-1":
        monkeypatch.setenv("TRTPLUG_ROTARY_TOKEN_HEADS", "1")

    def execute(spec, ins, outs, attrs):
        native.run_binding(spec, ext, ins, outs, attrs, cp.cuda.get_current_stream())

    run_case(cp, op, parity_case(op, name), dtype, 0, seed, execute, in_place=in_place)


@pytest.mark.parametrize("name", CASES["mrotary_embedding"])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("in_place", [False, True])
@pytest.mark.parametrize("grid", ["tokens", "tokens-1", "tokens-2", "rows"])
def test_mrope_grids(cp, ext, monkeypatch, name, dtype, in_place, grid, seed) -> None:
    """M-RoPE in 16-byte groups on the token grid (the default, read per launch: rotary_tokens.cuh,
    a token's cos/sin gathered once for a chunk of its heads) in the chunks the launcher picks and
    in fixed chunks of 1 and 2 heads, and on the row grid (TRTPLUG_ROTARY_TOKENS=0), aligned, in
    place or not."""
    if grid == "rows":
        monkeypatch.setenv("TRTPLUG_ROTARY_TOKENS", "0")
    elif grid != "tokens":
        monkeypatch.setenv("TRTPLUG_ROTARY_TOKEN_HEADS", grid.split("-")[1])

    def execute(spec, ins, outs, attrs):
        native.run_binding(spec, ext, ins, outs, attrs, cp.cuda.get_current_stream())

    case = parity_case("mrotary_embedding", name)
    run_case(cp, "mrotary_embedding", case, dtype, 0, seed, execute, in_place=in_place)


@pytest.mark.pluginlib
@pytest.mark.parametrize(("op", "name"), PARAMS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("phase", ["build", "runtime"])
def test_plugin(cp, library, op, name, dtype, phase, seed) -> None:
    def execute(spec, ins, outs, attrs):
        plugin = library.create(spec.plugin.name, "1", "trtplug", attrs)
        assert plugin is not None
        plugin = plugin if phase == "build" else plugin.round_trip()
        stream = cp.cuda.Stream(non_blocking=True)  # a side stream: the plugin must use the one it is given
        cp.cuda.get_current_stream().synchronize()
        plugin.run(ins, outs, stream, synchronize=False)
        stream.synchronize()

    run_case(cp, op, parity_case(op, name), dtype, 1 if phase == "runtime" else 0, seed, execute)


def test_positions_outside_the_cache_leave_their_row_unrotated(cp, ext) -> None:
    spec = load_registry().get("contrib_rotary_embedding")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 2, 3, 8), dtype=np.float32)
    cos = rng.standard_normal((4, 4), dtype=np.float32)
    positions = np.array([[0, 4, -1]], dtype=np.int64)  # 4 and -1 are outside the 4-row cache
    y = cp.full(x.shape, cp.nan, dtype=cp.float32)
    ins = [cp.asarray(x), cp.asarray(positions), cp.asarray(cos), cp.asarray(cos)]
    native.run_binding(spec, ext, ins, [y], {"interleaved": 0}, cp.cuda.get_current_stream())
    got = y.get()
    np.testing.assert_array_equal(got[:, :, 1:], x[:, :, 1:])
    assert not np.allclose(got[:, :, 0], x[:, :, 0])  # position 0 is rotated


@pytest.mark.parametrize(
    ("shapes", "attrs", "message"),
    [
        ({"x": (2, 3, 10), "cos": (8, 2)}, {"num_heads": 4}, "not a multiple of num_heads"),
        ({"x": (2, 3, 16), "cos": (8, 3)}, {"num_heads": 2}, "rotary_embedding_dim / 2 = 4"),
        ({"x": (2, 3, 16), "cos": (8, 2)}, {"num_heads": 2, "rotary_embedding_dim": 5}, "must be even"),
    ],
)
def test_binding_refuses_shapes_that_do_not_fit(cp, ext, shapes, attrs, message) -> None:
    spec = load_registry().get("contrib_rotary_embedding")
    x = cp.zeros(shapes["x"], dtype=cp.float32)
    cos = cp.zeros(shapes["cos"], dtype=cp.float32)
    positions = cp.zeros(shapes["x"][:2], dtype=cp.int64)
    y = cp.full(shapes["x"], cp.nan, dtype=cp.float32)
    with pytest.raises(ValueError, match=message):
        native.run_binding(spec, ext, [x, positions, cos, cos], [y], attrs, cp.cuda.get_current_stream())
    assert bool(cp.isnan(y).all())  # nothing was launched


def test_mrope_token_with_any_stream_outside_the_cache_is_unrotated(cp, ext) -> None:
    """M-RoPE: a token is rotated only when its T, H and W positions all index the cache."""
    spec = load_registry().get("mrotary_embedding")
    rng = np.random.default_rng(4)
    x = rng.standard_normal((1, 3, 16), dtype=np.float32)
    cos = rng.standard_normal((4, 4), dtype=np.float32)
    positions = np.array([[[0, 1, 2]], [[0, 4, 1]], [[0, 1, -1]]], dtype=np.int64)  # tokens 1, 2: H or W outside
    y = cp.full(x.shape, cp.nan, dtype=cp.float32)
    ins = [cp.asarray(x), cp.asarray(positions), cp.asarray(cos), cp.asarray(cos)]
    attrs = {"num_heads": 2, "mrope_section": [2, 1, 1], "mrope_layout": 1}
    native.run_binding(spec, ext, ins, [y], attrs, cp.cuda.get_current_stream())
    got = y.get()
    np.testing.assert_array_equal(got[:, 1:], x[:, 1:])
    assert not np.allclose(got[:, 0], x[:, 0])


@pytest.mark.parametrize(
    ("pos_shape", "attrs", "message"),
    [
        ((2, 3), {"mrope_section": [2, 1, 1], "num_heads": 2}, "position_ids must be [3, batch, seq]"),
        ((3, 2, 3), {"mrope_section": [2, 1, 0], "num_heads": 2}, "sum of mrope_section"),
        ((3, 2, 3), {"mrope_section": [2, 1, 1]}, "num_heads must be greater than 0"),
        ((3, 2, 3), {"mrope_section": [2, 1, 1], "num_heads": 2, "is_packed_batching": 1}, "is_packed_batching"),
    ],
)
def test_mrope_binding_refuses_what_does_not_fit(cp, ext, pos_shape, attrs, message) -> None:
    spec = load_registry().get("mrotary_embedding")
    x = cp.zeros((2, 3, 16), dtype=cp.float32)
    cos = cp.zeros((8, 4), dtype=cp.float32)
    y = cp.full(x.shape, cp.nan, dtype=cp.float32)
    ins = [x, cp.zeros(pos_shape, dtype=cp.int64), cos, cos]
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        native.run_binding(spec, ext, ins, [y], attrs, cp.cuda.get_current_stream())
    assert bool(cp.isnan(y).all())  # nothing was launched
