"""The norm launchers and plugins on a GPU beyond the parity cases: unaligned buffers (scalar
path), rows too long for registers (streaming path), skip broadcast, each output count, absent
middle inputs as empty tensors, out-of-range embedding indices. Reference: float64 NumPy of the
formulas (the parity suite ties those to ONNX Runtime). Outputs are poisoned with NaN first."""

from __future__ import annotations

import numpy as np
import pytest

from tests.device_arrays import FLOAT_DTYPES, as_float64, offset_view, poisoned_view
from trtplug.protolib.dtypes import Bf16Device

pytestmark = pytest.mark.gpu
TOL = {"float32": 1e-4, "float16": 4e-3, "bfloat16": 2e-2}


def skip_norm_reference(x, skip, gamma, beta, bias, eps, rms):
    s = x.astype(np.float64) + skip.astype(np.float64) + (0 if bias is None else bias.astype(np.float64))
    mean = np.zeros((*s.shape[:-1], 1)) if rms else s.mean(-1, keepdims=True)
    inv = 1 / np.sqrt(((s - mean) ** 2).mean(-1, keepdims=True) + eps)
    y = (s - mean) * inv * gamma.astype(np.float64) + (0 if beta is None else beta.astype(np.float64))
    return [y, mean, inv, s]


def on_device(cp, host: np.ndarray, offset: int):
    """A device copy starting `offset` elements into its allocation (offset 1: not 16-byte aligned)."""
    return offset_view(cp, host, offset)


def poisoned_outputs(cp, shape, dtype, count, offset):
    stats = (*shape[:-1], 1)
    specs = [(shape, dtype), (stats, "float32"), (stats, "float32"), (shape, dtype)][:count]
    return [on_device(cp, np.full(s, np.nan, dtype=d), offset) for s, d in specs]


def check(outputs, expected, dtype):
    for i, (got, want) in enumerate(zip(outputs, expected, strict=False)):
        tol = TOL["float32"] if i in (1, 2) else TOL[dtype]
        np.testing.assert_allclose(as_float64(got), want, atol=tol, rtol=tol, err_msg=f"output {i}")


@pytest.mark.parametrize("rms", [False, True], ids=["layer", "rms"])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize(
    ("shape", "skip_shape"),
    [
        ((1, 1), (1, 1)),
        ((5, 7), (5, 7)),
        ((3, 4, 768), (4, 768)),
        ((2, 3, 4104), (1, 3, 4104)),
        ((3, 20000), (3, 20000)),
    ],
    ids=["one", "h7", "h768-skip2d", "h4104-skip1SH", "h20000-stream"],
)
@pytest.mark.parametrize("offset", [0, 1], ids=["aligned", "unaligned"])
def test_skip_norm_launcher(cp, ext, rms, dtype, shape, skip_shape, offset):
    rng = np.random.default_rng([len(shape), shape[-1], offset, int(rms)])
    hidden = shape[-1]
    x, skip = (rng.standard_normal(s).astype(dtype) for s in (shape, skip_shape))
    gamma, beta, bias = (rng.standard_normal(hidden).astype(dtype) for _ in range(3))
    x = x + 3  # a large mean: two-pass variance must not cancel
    outs = poisoned_outputs(cp, shape, dtype, 4, offset)
    args = [on_device(cp, a, offset) for a in (x, skip, gamma)]
    attrs = {"epsilon": 1e-5, "num_outputs": 4}
    if rms:
        ext.skip_simplified_layer_norm([*args, on_device(cp, bias, offset)], outs, attrs)
    else:
        ext.skip_layer_norm([*args, on_device(cp, beta, offset), on_device(cp, bias, offset)], outs, attrs)
    cp.cuda.get_current_stream().synchronize()
    check(outs, skip_norm_reference(x, skip, gamma, None if rms else beta, bias, 1e-5, rms), dtype)


@pytest.mark.parametrize("name", ["TrtplugSkipLayerNorm", "TrtplugSkipSimplifiedLayerNorm"])
@pytest.mark.parametrize("count", [1, 2, 3, 4])
@pytest.mark.parametrize("phase", ["build", "runtime"])
def test_skip_norm_plugin_output_counts(cp, library, name, count, phase):
    rms = "Simplified" in name
    rng = np.random.default_rng(count)
    x, skip = rng.standard_normal((2, 3, 1024)).astype("float16"), rng.standard_normal((3, 1024)).astype("float16")
    gamma, bias = rng.standard_normal(1024).astype("float16"), rng.standard_normal(1024).astype("float16")
    plugin = library.create(name, "1", "trtplug", {"epsilon": 1e-6, "num_outputs": count})
    plugin = plugin if phase == "build" else plugin.round_trip()
    middle = [cp.empty((0,), "float16")] if not rms else []  # beta absent before a present bias
    outs = poisoned_outputs(cp, x.shape, "float16", count, 0)
    plugin.run([cp.asarray(a) for a in (x, skip, gamma)] + middle + [cp.asarray(bias)], outs)
    check(outs, skip_norm_reference(x, skip, gamma, None, bias, 1e-6, rms), "float16")


def embed_reference(ids, seg, word, pos_table, seg_table, gamma, beta, positions, eps):
    e = word[ids].astype(np.float64) + pos_table[positions].astype(np.float64)
    e = e + (seg_table[seg].astype(np.float64) if seg is not None else 0)
    mean = e.mean(-1, keepdims=True)
    y = (e - mean) / np.sqrt(((e - mean) ** 2).mean(-1, keepdims=True) + eps) * gamma + beta
    return y, e


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("hidden", [1, 33, 768, 1000])
def test_embed_plugin_with_absent_segments_and_out_of_range_ids(cp, library, dtype, hidden):
    rng = np.random.default_rng(hidden)
    batch, seq, vocab = 3, 9, 50
    ids = rng.integers(0, vocab, (batch, seq)).astype(np.int32)
    ids[1, 2], ids[2, 0] = vocab, -1  # outside the table: NaN rows
    word, pos_table = (rng.standard_normal((n, hidden)).astype(dtype) for n in (vocab, 16))
    gamma, beta = (rng.standard_normal(hidden).astype(dtype) for _ in range(2))
    mask = (rng.random((batch, seq)) < 0.7).astype(np.int32)
    positions = rng.integers(0, 16, (1, seq)).astype(np.int32)  # (1, seq): broadcast over batch
    empty_ids, empty_table = cp.empty((0,), np.int32), offset_view(cp, np.empty((0,), dtype))
    fields = {"epsilon": 1e-5, "mask_index_type": 1, "num_outputs": 3}
    plugin = library.create("TrtplugEmbedLayerNorm", "1", "trtplug", fields).round_trip()
    ins = [ids, empty_ids, word, pos_table, empty_table, gamma, beta, mask, positions]
    outs = [poisoned_view(cp, (batch, seq, hidden), dtype)[1], cp.full(batch, -7, np.int32)]
    outs.append(poisoned_view(cp, (batch, seq, hidden), dtype)[1])
    plugin.run([a if isinstance(a, (cp.ndarray, Bf16Device)) else offset_view(cp, a) for a in ins], outs)
    y, e = embed_reference(np.clip(ids, 0, vocab - 1), None, word, pos_table, None, gamma, beta, positions, 1e-5)
    bad = (ids < 0) | (ids >= vocab)
    got_y, got_e = as_float64(outs[0]), as_float64(outs[2])
    assert np.isnan(got_y[bad]).all() and np.isnan(got_e[bad]).all()
    np.testing.assert_allclose(got_y[~bad], y[~bad], atol=TOL[dtype], rtol=TOL[dtype])
    np.testing.assert_allclose(got_e[~bad], e[~bad], atol=TOL[dtype], rtol=TOL[dtype])
    np.testing.assert_array_equal(outs[1].get(), (mask == 1).sum(1))


def test_embed_launcher_unaligned_tables_and_no_mask(cp, ext):
    rng = np.random.default_rng(7)
    ids = cp.asarray(rng.integers(0, 20, (2, 5)).astype(np.int32))
    seg = cp.asarray(rng.integers(0, 2, (2, 5)).astype(np.int32))
    word, pos_table, seg_table = (on_device(cp, rng.standard_normal((n, 64)).astype("float16"), 1) for n in (20, 5, 2))
    gamma, beta = (on_device(cp, rng.standard_normal(64).astype("float16"), 1) for _ in range(2))
    outs = [cp.full((2, 5, 64), cp.nan, "float16"), cp.full(2, -7, np.int32)]
    ext.embed_layer_norm([ids, seg, word, pos_table, seg_table, gamma, beta], outs, {"epsilon": 1e-12})
    cp.cuda.get_current_stream().synchronize()
    args = [a.get() for a in (ids, seg, word, pos_table, seg_table, gamma, beta)]
    y, _ = embed_reference(*args, np.arange(5)[None, :], 1e-12)
    np.testing.assert_allclose(outs[0].get().astype(np.float64), y, atol=4e-3, rtol=4e-3)
    np.testing.assert_array_equal(outs[1].get(), [0, 0])


def test_bad_arguments_are_errors_not_crashes(cp, ext):
    x = cp.zeros((2, 8), cp.float32)
    with pytest.raises(ValueError, match="skip must have input's dtype and shape"):
        ext.skip_layer_norm([x, cp.zeros((3, 8), cp.float32), cp.zeros(8, cp.float32)], [cp.empty_like(x)])
    with pytest.raises(ValueError, match=r"outputs\[1\] has the wrong shape or dtype"):
        ext.skip_layer_norm([x, x, cp.zeros(8, cp.float32)], [cp.empty_like(x), cp.empty((2, 8), cp.float32)])
    with pytest.raises(ValueError, match="attribute 'num_outputs'"):  # the spec's bounds, from the glue
        ext.skip_layer_norm([x, x, cp.zeros(8, cp.float32)], [cp.empty_like(x)], {"num_outputs": 5})
    with pytest.raises(ValueError, match="inputs 'gamma' is required"):
        ext.skip_layer_norm([x, x], [cp.empty_like(x)])
