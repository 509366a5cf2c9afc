"""`trtplug bench`: a clear exit without a GPU; sizes, shapes and reports from fake timings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.test_cli import run_cli
from trtplug import native
from trtplug.bench import report
from trtplug.bench.runner import Roofline, Timing, _runners, over_roofline_note, row_note
from trtplug.bench.timing import L2_ROTATION_BYTES, buffer_sets
from trtplug.bench.workload import bench_shapes, make_workload
from trtplug.parity.impl_base import pyplugin_module
from trtplug.registry import load_registry


def test_without_a_gpu_bench_exits_2_with_a_reason() -> None:
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() > 0:
            pytest.skip("a GPU is present: bench runs in scripts/gpu_test.sh")
    except Exception:
        pass
    done = run_cli("bench", "--op", "fast_gelu", "--sizes", "1")
    assert done.returncode == 2 and "needs a CUDA GPU" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("sizes", ["x", "0", "-4,8"])
def test_bad_sizes_exit_2(sizes: str) -> None:
    done = run_cli("bench", "--sizes", sizes)
    assert done.returncode == 2 and "--sizes" in done.stderr


def test_buffer_sets_exceed_l2_for_small_inputs() -> None:
    assert buffer_sets(1 << 20) * (1 << 20) >= min(L2_ROTATION_BYTES, 8 << 20) and buffer_sets(1 << 30) == 2


def test_row_wise_workload_is_sized_random_and_counts_its_traffic() -> None:
    spec = load_registry().get("fast_gelu")
    shapes = bench_shapes(spec, pyplugin_module(spec), 4 << 20, 4)
    assert shapes == {"X": (1024, 1024), "bias": (1024,)}
    w = make_workload(np, spec, shapes, "float16", 2, seed=1)
    x = w.inputs[0][0]
    assert x.dtype == np.float16 and np.count_nonzero(x) > 0.99 * x.size
    assert not np.shares_memory(w.inputs[0][0], w.inputs[1][0])  # buffer sets are distinct buffers
    assert w.nbytes == 2 * x.nbytes + w.inputs[0][1].nbytes


def test_torch_equivalent_matches_the_prototype() -> None:
    torch = pytest.importorskip("torch")
    spec = load_registry().get("fast_gelu")
    proto = pyplugin_module(spec)
    x, b = np.random.default_rng(0).standard_normal((2, 3, 8)).astype(np.float32), np.ones(8, np.float32)
    y = np.empty_like(x)
    proto.forward(np, [x, b], [y], {})
    got = proto.torch_equivalent(torch, [torch.as_tensor(x), torch.as_tensor(b)], {}).numpy()
    np.testing.assert_allclose(got, y, rtol=1e-5, atol=1e-6)


def test_reports_from_timings(tmp_path: Path) -> None:
    timings = [
        Timing("fast_gelu", "float16", mb, impl, ms, 2 * mb / ms, 0.9, 1.0 if impl == "torch" else 1.1)
        for mb in (16, 64)
        for impl, ms in (("cuda", 0.5), ("torch", 0.55))
    ] + [Timing("x", "float32", 16, "all", None, None, None, None, "cuda disagrees with cupy: not timed")]
    env = {"device": "Fake GPU", "driver": "1.0", "copy_gbs": 100.0}
    path = tmp_path / "bench.md"
    report.write_markdown(path, env, timings)
    text = path.read_text()
    assert "device: Fake GPU" in text and "not timed" in text and text.count("fast_gelu") == 4
    pytest.importorskip("matplotlib")
    report.write_plot(tmp_path / "bench.png", timings, 100.0)
    assert (tmp_path / "bench.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(("key", "dtype"), [("bitwise_and", "int64"), ("bit_shift", "uint8"), ("inverse", "float16")])
def test_workloads_take_the_run_dtype_and_the_op_shapes(key: str, dtype: str) -> None:
    spec = load_registry().get(key)
    shapes = bench_shapes(spec, pyplugin_module(spec), 1 << 20, np.dtype(dtype).itemsize)
    w = make_workload(np, spec, shapes, dtype, 1, seed=0)
    assert all(a.dtype == np.dtype(dtype) for a in w.inputs[0] if a is not None)
    assert all(len(s) < 3 or s[-1] == s[-2] for s in shapes.values())  # matrices stay square


def test_rows_above_the_copy_roofline_are_flagged() -> None:
    assert over_roofline_note(0.97) == "" and over_roofline_note(1.0) == ""
    assert "OVER COPY ROOFLINE (115%)" in over_roofline_note(1.15)


def test_the_read_write_roofline_sits_between_reads_and_a_fill() -> None:
    roof = Roofline(copy_gbs=3000.0, fill_gbs=3300.0)
    assert roof.ceiling_gbs(500, 500) == pytest.approx(3000.0)  # a copy's mix: the copy
    assert roof.ceiling_gbs(0, 1000) == pytest.approx(3300.0)  # write-only: the fill
    read_only = roof.ceiling_gbs(1000, 0)
    assert read_only == pytest.approx(1 / (2 / 3000 - 1 / 3300)) and read_only < 3000  # reads pay the rest
    assert 3000 < roof.ceiling_gbs(1, 1000) < 3300
    assert Roofline(3000.0).ceiling_gbs(0, 1000) == 3000.0  # no fill measured: the copy
    assert Roofline(3000.0, 1000.0).ceiling_gbs(1000, 0) == pytest.approx(6000.0)  # read cost floored


def test_a_measured_read_stream_lifts_the_read_heavy_side_only() -> None:
    roof = Roofline(copy_gbs=3000.0, fill_gbs=3300.0, read_gbs=3400.0)
    assert roof.ceiling_gbs(1000, 0) == pytest.approx(3400.0)  # read-only: the read stream
    assert roof.ceiling_gbs(500, 500) == pytest.approx(3000.0)  # the copy's mix
    assert roof.ceiling_gbs(0, 1000) == pytest.approx(3300.0)  # write-only: the fill, as before
    assert roof.ceiling_gbs(300, 700) == Roofline(3000.0, 3300.0).ceiling_gbs(300, 700)
    two_reads = roof.ceiling_gbs(2000, 1000)  # BiasSplitGelu's mix: time per byte 2/3 of the way
    assert two_reads == pytest.approx(1 / ((2 / 3) / 3000 + (1 / 3) / 3400)) and 3000 < two_reads < 3400


def test_a_one_sided_row_above_copy_is_named_not_flagged() -> None:
    assert over_roofline_note(1.04, 0.97).startswith("above copy, one-sided traffic: 97%")
    assert "OVER COPY ROOFLINE (110%)" in over_roofline_note(1.10, 1.05)


@pytest.mark.parametrize("key", ["det", "inverse"])
def test_torch_rows_say_when_torch_computes_in_fp32(key: str) -> None:
    proto = pyplugin_module(load_registry().get(key))
    assert "fp32" in row_note(proto, "torch", 0.5) and row_note(proto, "cuda", 0.5) == ""
    assert "fp32" in row_note(proto, "torch", 1.2) and "ROOFLINE" in row_note(proto, "torch", 1.2)


def test_embed_layer_norm_bytes_count_what_the_bench_call_moves() -> None:
    """The floor of the bench's call: two ids read and one output row written per token (its
    workload asks for `output` alone: no mask read, no embedding_sum row), each distinct word row
    once (the expected count of uniform ids, checked against the generated ids), the shared tables
    once."""
    spec = load_registry().get("embed_layer_norm")
    proto = pyplugin_module(spec)
    shapes = proto.bench_shapes(16 << 20, 2)
    w = make_workload(np, spec, shapes, "float16", 2, seed=1)
    assert [tuple(o.shape) for o in w.outputs] == [(*shapes["input_ids"], 1024)]
    names = [t.name for t in spec.inputs]
    tokens = int(np.prod(shapes["input_ids"]))
    distinct = np.unique(w.inputs[0][names.index("input_ids")]).size
    fixed = (512 + 2 + 2) * 1024 * 2  # position and segment tables, gamma and beta
    floor = proto.bench_bytes(shapes, 2)
    assert floor == pytest.approx(tokens * (2 * 4 + 1024 * 2) + distinct * 1024 * 2 + fixed, rel=0.01)
    large = proto.bench_bytes(proto.bench_shapes(1024 << 20, 2), 2)
    assert large < tokens * 64 * (2 * 4 + 1024 * 2) + 30522 * 1024 * 2 + fixed  # never more rows than the vocabulary


def test_host_ints_reads_each_tensor_once_and_forgets_it_when_freed() -> None:
    from trtplug.protolib import torch_host

    sizes = np.array([2, 3, 5], dtype=np.int64)
    assert torch_host.host_ints(sizes) == (2, 3, 5)
    sizes[:] = 0  # the bench's shape inputs never change: the first read is kept
    assert torch_host.host_ints(sizes) == (2, 3, 5)
    key = id(sizes)
    del sizes
    assert key not in torch_host._HOST_INTS


def test_committed_results_have_no_error_rows() -> None:
    """A row without a time (an op the bench could not run) is fixed before results are committed."""
    docs = Path(__file__).resolve().parent.parent / "docs" / "benchmarks"
    for path in docs.glob("*.md"):
        text = path.read_text()
        if "Generated by `trtplug bench" not in text:
            continue
        table = text.split("```")[1].splitlines()
        untimed = [line for line in table[3:] if line.split() and line.split()[4] == "-"]
        assert not untimed, f"{path.name}: untimed rows, e.g. {untimed[0]}"


def test_torch_is_not_timed_where_its_side_is_a_token_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = load_registry().get("linear_attention")
    proto = pyplugin_module(spec)
    prefill, decode = (bench_shapes(spec, proto, mb << 20, 2) for mb in (256, 16))
    assert prefill["query"][1] > 1 and not proto.torch_timed(prefill)
    assert decode["query"][1] == 1 and proto.torch_timed(decode)
    w = make_workload(np, spec, bench_shapes(spec, proto, 1 << 20, 4), "float32", 1, seed=0)
    w.case.shapes["query"] = prefill["query"]  # the hook reads the case's shapes
    monkeypatch.setattr(native, "native_module", lambda: None)  # only the cupy and torch runners
    assert set(_runners(np, spec, proto, w, torch=object())) == {"cupy"}


@pytest.mark.parametrize("torch_says", ["agrees", "disagrees", "unchecked", "raises"])
def test_torch_is_left_out_where_it_disagrees_and_timed_unchecked_where_the_prototype_says(
    torch_says: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """trtplug's rows are timed whatever torch computes: a torch equivalent outside TORCH_SLACK times
    the tolerance is left out and the other rows say why; a dtype in the prototype's TORCH_UNCHECKED
    is timed, its row saying it was not compared (NumPy stands in for CuPy)."""
    from trtplug.bench.runner import torch_verdict

    spec = load_registry().get("fast_gelu")
    proto = pyplugin_module(spec)
    w = make_workload(np, spec, {"X": (4, 64), "bias": (64,)}, "float32", 2, seed=3)
    unchecked = {"float32": "measured elsewhere"} if torch_says == "unchecked" else {}
    monkeypatch.setattr(proto, "TORCH_UNCHECKED", unchecked, raising=False)

    def cuda(i: int) -> None:
        proto.forward(np, w.inputs[i], w.outputs, {})

    def torch(i: int) -> np.ndarray:
        if torch_says == "raises":
            raise NotImplementedError('"kernel" not implemented for this dtype')
        y = np.empty(w.outputs[0].shape, np.float32)
        proto.forward(np, w.inputs[i], [y], {})
        return y + (1.0 if torch_says != "agrees" else 0.0)

    timed, said = torch_verdict(np, spec, proto, "float32", {"cuda": cuda}, torch, w)
    if torch_says == "agrees":
        assert timed and said == ""
    elif torch_says == "disagrees":
        assert not timed and said.startswith("torch disagrees with cuda: 256 of 256 elements")
        assert said.endswith("torch not timed")
    elif torch_says == "raises":
        assert not timed and said.startswith("torch not timed: NotImplementedError:")
    else:
        assert timed and said == "not compared: measured elsewhere"
    assert torch_verdict(np, spec, proto, "float32", {"cuda": cuda}, None, w) == (False, "")
