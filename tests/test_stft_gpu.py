"""STFT on a GPU: the binding and the IPluginV3 plugin (build and runtime phase, side stream)
against onnx.reference, real ([batch, length, 1] and torch.onnx's [batch, length]) and complex
signals, with and without a window, onesided or not, fp32/fp16/bf16, a Whisper-sized signal
(400-sample frames every 160); outputs poisoned first."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

from trtplug import native
from trtplug.protolib.dtypes import BFLOAT16, Bf16Device, to_bfloat16, to_device, to_host
from trtplug.registry import load_registry

pytestmark = pytest.mark.gpu

# (signal shape, frame_step, frame_length, with a window)
GEOMETRIES = [
    ((2, 64, 1), 8, 16, True),
    ((2, 50, 2), 7, 15, True),
    ((3, 40, 1), 5, 12, False),
    ((1, 10, 1), 3, 10, True),  # one frame
    ((0, 32, 1), 4, 8, True),  # empty batch
    ((4, 16000, 1), 160, 400, True),
    ((3, 100), 6, 20, True),  # real [batch, length]: torch.onnx's TorchScript export of torch.stft
]


def reference(x: np.ndarray, step: int, length: int, window, onesided: int) -> np.ndarray:
    feeds = {"x": x, "step": np.array(step, np.int64), "length": np.array(length, np.int64)}
    names = ["x", "step", "", "length"]
    if window is not None:
        feeds["window"], names[2] = window, "window"
    present = [n for n in names if n]
    inputs = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(feeds[n].dtype), None) for n in present]
    node = helper.make_node("STFT", names, ["y"], onesided=onesided)
    graph = helper.make_graph([node], "r", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)
    return ReferenceEvaluator(model).run(None, feeds)[0]


def run_case(cp, geometry, onesided, dtype, execute, seed) -> None:
    shape, step, length, windowed = geometry
    spec = load_registry().get("stft")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    window = np.hanning(length).astype(np.float32) if windowed else None
    if dtype == BFLOAT16:
        x, window = to_bfloat16(x), None if window is None else to_bfloat16(window)
    else:
        x, window = x.astype(dtype), None if window is None else window.astype(dtype)
    up = None if window is None else window.astype(np.float32)
    as_rank3 = x.astype(np.float32).reshape(*x.shape[:2], int(np.prod(x.shape[2:])))  # onnx.reference: rank 3 only
    expected = reference(as_rank3, step, length, up, onesided)
    y = Bf16Device.poisoned(cp, expected.shape) if dtype == BFLOAT16 else cp.full(expected.shape, np.nan, dtype=dtype)
    attrs = {"frame_step": step, "frame_length": length, "onesided": onesided}
    execute(spec, to_device(cp, x), None if window is None else to_device(cp, window), y, attrs)
    tol = spec.tolerance(dtype)
    np.testing.assert_allclose(to_host(cp, y).astype(np.float64), expected, atol=tol.atol, rtol=tol.rtol)


def geometry_id(g) -> str:
    # "large" lets scripts/gpu_test.sh leave the big cases out of its memcheck pass.
    return ("large-" if np.prod(g[0]) >= 1 << 16 else "") + "x".join(map(str, g[0])) + f"-{g[1]}-{g[2]}"


@pytest.mark.parametrize("geometry", GEOMETRIES, ids=geometry_id)
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("onesided", [1, 0])
def test_binding(cp, ext, geometry, dtype, onesided, seed) -> None:
    def execute(spec, x, window, y, attrs):
        # The binding takes the plugin's inputs: frame_step is folded into its field.
        native.run_binding(spec, ext, [x, window], [y], attrs, cp.cuda.get_current_stream())
        cp.cuda.get_current_stream().synchronize()

    run_case(cp, geometry, onesided, dtype, execute, seed)


@pytest.mark.parametrize("geometry", [*GEOMETRIES[:3], GEOMETRIES[-1]], ids=geometry_id)
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("phase", ["build", "runtime"])
def test_plugin(cp, library, geometry, dtype, phase, seed) -> None:
    def execute(spec, x, window, y, attrs):
        plugin = library.create(spec.plugin.name, "1", "trtplug", attrs)
        assert plugin is not None
        plugin = plugin if phase == "build" else plugin.round_trip()
        stream = cp.cuda.Stream(non_blocking=True)
        cp.cuda.get_current_stream().synchronize()
        plugin.run([x] if window is None else [x, window], [y], stream, synchronize=False)
        stream.synchronize()

    for onesided in (1, 0):
        run_case(cp, geometry, onesided, dtype, execute, seed)
