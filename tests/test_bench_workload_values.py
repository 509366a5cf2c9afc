"""What the H200 run of `trtplug bench` over every op found wrong in its workloads (stop 28):
- value-dependent ops (Compress, Unique) drew other values per buffer set, so the launcher's counts
  differed from set 0's, which sized the outputs (and a bigger count writes past them);
- bf16 value-dependent shapes were asked of bf16 arrays the prototypes never see;
- BERT Attention's bench weights were N(0, 4): a one-hot softmax, where rounding picks the key;
- STFT's launcher got its folded frame_step input as a tensor ("3 inputs given, the op has 2");
- the timed launcher calls poisoned and read back size tensors (kernels and a sync in its time);
- torch's 16-bit CumSum and torchvision's fp16 DeformConv disagreed with the plugin.
All on NumPy: the workload code takes NumPy for CuPy."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from trtplug import native
from trtplug.bench import runner
from trtplug.bench.workload import bench_shapes, make_workload, traffic_bytes
from trtplug.parity.impl_base import pyplugin_module
from trtplug.protolib.dtypes import numpy_dtype
from trtplug.registry import load_registry

SMALL = 256 << 10


def _workload(key: str, dtype: str, sets: int, seed: int = 5):
    spec = load_registry().get(key)
    shapes = bench_shapes(spec, pyplugin_module(spec), SMALL, numpy_dtype(dtype).itemsize)
    return spec, make_workload(np, spec, shapes, dtype, sets, seed=seed)


@pytest.mark.parametrize("key", ["compress", "unique"])
def test_value_dependent_ops_get_the_same_values_in_distinct_buffers(key: str) -> None:
    _, w = _workload(key, "float32", 3)
    for other in w.inputs[1:]:
        for a, b in zip(w.inputs[0], other, strict=True):
            if a is not None:
                assert a is not b and np.array_equal(a, b)


def test_other_ops_get_copies_too_and_enough_sets_to_exceed_l2_by_default() -> None:
    """Distinct buffers are what keeps the rotation out of L2; drawing every set anew only cost
    host time (seconds of RNG per op at 256 MB)."""
    spec, w = _workload("fast_gelu", "float32", 2)
    assert w.inputs[1][0] is not w.inputs[0][0] and np.array_equal(w.inputs[0][0], w.inputs[1][0])
    shapes = bench_shapes(spec, pyplugin_module(spec), SMALL, 4)
    assert len(make_workload(np, spec, shapes, "float32", None, seed=1).inputs) == 8  # 256 MB / 0.5 MB, at most 8


def test_bf16_value_dependent_shapes_come_from_the_float32_values() -> None:
    _, w32 = _workload("unique", "float32", 1)
    _, w16 = _workload("unique", "bfloat16", 1)
    assert w16.outputs[0].shape[0] <= w32.outputs[0].shape[0] and w16.outputs[0].shape[0] > 0


def test_bert_weights_come_from_the_parity_generator() -> None:
    _, w = _workload("bert_attention", "float32", 1)
    weights = w.inputs[0][1]
    assert abs(float(weights.std()) * np.sqrt(weights.shape[0]) - 1.0) < 0.05


def test_generated_float_inputs_take_the_run_dtype() -> None:
    _, w = _workload("bert_attention", "float16", 1)
    assert w.inputs[0][1].dtype == np.float16


@pytest.mark.parametrize("key", ["onnx_roi_align", "mmcv_roi_align"])
def test_prototype_bench_inputs_take_the_run_dtype(key: str) -> None:
    """The H200 run of stop 41: RoiAlign's bench rois came from bench_inputs in float32, which its
    fp16/bf16 launchers refuse ("rois and Y must have X's dtype")."""
    _, w = _workload(key, "float16", 1)
    assert [a.dtype for a in w.inputs[0][:2]] == [np.float16, np.float16]


def test_compress_bench_selects_half_the_rows_and_counts_only_those() -> None:
    spec, w = _workload("compress", "float32", 1)
    rows, width = w.case.shapes["input"]
    assert int(w.inputs[0][1].sum()) == rows // 2
    assert traffic_bytes(pyplugin_module(spec), w, "float32") == rows + 2 * (rows // 2) * width * 4


def test_the_launcher_gets_plugin_inputs_and_checks_sizes_only_when_asked(monkeypatch) -> None:
    calls = []
    monkeypatch.setattr(native, "native_module", lambda: SimpleNamespace(ops={"stft", "unique"}))
    monkeypatch.setattr(
        native,
        "run_binding",
        lambda spec, ext, ins, outs, attrs, stream, check_sizes: calls.append((len(ins), check_sizes)),
    )
    cp = SimpleNamespace(cuda=SimpleNamespace(get_current_stream=lambda: None))
    for key, expected in (("stft", 2), ("unique", 1)):
        spec, w = _workload(key, "float32", 1)
        runner._runners(cp, spec, pyplugin_module(spec), w, None, checked=True)["cuda"](0)
        runner._runners(cp, spec, pyplugin_module(spec), w, None)["cuda"](0)
        assert calls[-2:] == [(expected, True), (expected, False)], key


def _as_torch(torch, array, dtype: str | None):
    tensor = None if array is None else torch.as_tensor(array)
    return tensor if tensor is None or dtype is None else tensor.to(getattr(torch, dtype))


@pytest.mark.parametrize("key", ["cum_sum", "onnx_deform_conv"])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_torch_side_of_16_bit_runs_computes_in_float32(key: str, dtype: str) -> None:
    torch = pytest.importorskip("torch")
    spec, w = _workload(key, "float32", 1)
    proto = pyplugin_module(spec)
    inputs = w.inputs[0]  # positional, None for absent optional inputs, as the bench runner passes them
    want = proto.torch_equivalent(torch, [_as_torch(torch, a, None) for a in inputs], w.case.attrs)
    low = [_as_torch(torch, a, dtype if a is not None and a.dtype == np.float32 else None) for a in inputs]
    got = proto.torch_equivalent(torch, low, w.case.attrs)
    assert got.dtype == getattr(torch, dtype)
    scale = float(want.abs().max())
    assert float((got.float() - want).abs().max()) <= 2e-2 * scale
    assert "fp32" in runner.row_note(proto, "torch", 0.5)
