"""MelWeightMatrix on a GPU: the binding and the IPluginV3 plugin (build and runtime phase, shape
inputs through the plugin host) against onnx.reference, int32/int64 scalars, fp32/fp16/bf16
outputs poisoned first; the binding's one-line refusals; NaN where the filters pass the spectrum.
The plugin's output shape from the shape inputs needs no GPU, only a library built with this op."""

from __future__ import annotations

import numpy as np
import pytest

from tests.device_arrays import as_float64, poisoned_view
from tests.test_mel_weight_matrix import reference, scalars
from trtplug import native
from trtplug.registry import load_registry

DTYPES = {1: "float32", 10: "float16", 16: "bfloat16"}
SETTINGS = [  # (num_mel_bins, dft_length, sample_rate, lower, upper)
    (8, 16, 8192, 0.0, 4096.0),  # the ONNX conformance case
    (80, 400, 16000, 0.0, 8000.0),  # Whisper
    (13, 511, 22050, 125.5, 7600.0),  # odd DFT
    (1, 2, 100, 0.0, 50.0),  # one bin, the smallest DFT
    (5, 64, 1000, 200.0, 200.0),  # equal edges
    (128, 2048, 48000, 20.0, 20000.0),
    (256, 65536, 96000, 0.0, 48000.0),  # 32769 x 256 weights: many blocks
]


def spec():
    return load_registry().get("mel_weight_matrix")


def device_scalars(cp, values):
    return [cp.asarray(v) for v in values]


def check(got, expected, output_datatype) -> None:
    tol = spec().tolerance(DTYPES[output_datatype])
    np.testing.assert_allclose(as_float64(got), expected.astype(np.float64), atol=tol.atol, rtol=tol.rtol)


@pytest.mark.gpu
@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: "x".join(map(str, s[:3])))
@pytest.mark.parametrize("output_datatype", [1, 10, 16])
@pytest.mark.parametrize("int_type", [np.int32, np.int64])
def test_binding_matches_reference(cp, ext, setting, output_datatype, int_type) -> None:
    values = scalars(*setting, int_type)
    expected = reference(values, output_datatype)
    _, y = poisoned_view(cp, expected.shape, DTYPES[output_datatype], offset=1)
    attrs = {"output_datatype": output_datatype}
    native.run_binding(spec(), ext, device_scalars(cp, values), [y], attrs, cp.cuda.get_current_stream())
    cp.cuda.get_current_stream().synchronize()
    check(y, expected, output_datatype)


@pytest.mark.gpu
def test_binding_matches_reference_on_random_settings(cp, ext, seed) -> None:
    rng = np.random.default_rng(seed)
    compared = 0
    for _ in range(60):
        rate = int(rng.integers(100, 96000))
        lower = np.float32(rng.uniform(0, rate / 4))
        setting = (int(rng.integers(1, 130)), int(rng.integers(2, 4096)), rate, lower, rng.uniform(lower, rate / 2))
        values = scalars(*setting)
        try:
            expected = reference(values, 1)
        except IndexError:
            continue
        _, y = poisoned_view(cp, expected.shape, "float32")
        native.run_binding(spec(), ext, device_scalars(cp, values), [y], {}, cp.cuda.get_current_stream())
        cp.cuda.get_current_stream().synchronize()
        np.testing.assert_array_equal(y.get(), expected, err_msg=str(setting))
        compared += 1
    assert compared >= 50


@pytest.mark.gpu
@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ((0, 16, 8192, 0.0, 4096.0), "num_mel_bins must be >= 1"),
        ((9, 16, 8192, 0.0, 4096.0), "output must have num_mel_bins columns"),
        ((8, 1, 8192, 0.0, 4096.0), "dft_length must be >= 2"),
        ((8, 16, 0, 0.0, 4096.0), "sample_rate must be >= 1"),
        ((8, 16, 8192, 100.0, 50.0), "lower_edge_hertz <= upper_edge_hertz"),
        ((8, 16, 8192, -1.0, 50.0), "lower_edge_hertz <= upper_edge_hertz"),
    ],
)
def test_binding_refuses_bad_inputs_in_one_line(cp, ext, setting, message) -> None:
    _, y = poisoned_view(cp, (9, 8), "float32")
    with pytest.raises(ValueError, match=message) as info:
        native.run_binding(spec(), ext, device_scalars(cp, scalars(*setting)), [y], {}, None)
    assert "\n" not in str(info.value)


@pytest.mark.gpu
def test_filters_past_the_spectrum_are_nan(cp, ext) -> None:
    """An upper edge above Nyquist: the reference raises IndexError, the kernel (which cannot
    raise) writes NaN everywhere rather than a truncated bank."""
    values = scalars(8, 16, 8192, 0.0, 8000.0)
    with pytest.raises(IndexError):
        reference(values, 1)
    y = cp.zeros((9, 8), dtype=cp.float32)
    native.run_binding(spec(), ext, device_scalars(cp, values), [y], {}, cp.cuda.get_current_stream())
    cp.cuda.get_current_stream().synchronize()
    assert np.isnan(y.get()).all()


@pytest.mark.gpu  # no GPU needed, but a plugin library built with this op (the GPU machine's fresh build)
@pytest.mark.pluginlib
def test_plugin_output_shape_from_the_shape_inputs(library) -> None:
    plugin = library.create("TrtplugMelWeightMatrix", "1", "trtplug", {"output_datatype": 10})
    assert plugin.output_types(["float32", "float32", "int64", "int64"]) == ["float16"]
    assert plugin.output_shapes([[], [], [], []], [[80], [400], [16000]]) == [[201, 80]]
    assert plugin.output_shapes([[], [], [], []], [[3], [9], [100]]) == [[5, 3]]


@pytest.mark.gpu
@pytest.mark.pluginlib
@pytest.mark.parametrize("setting", SETTINGS[:4], ids=lambda s: "x".join(map(str, s[:3])))
@pytest.mark.parametrize("output_datatype", [1, 10, 16])
@pytest.mark.parametrize("phase", ["build", "runtime"])
def test_plugin_matches_reference(cp, library, setting, output_datatype, phase) -> None:
    values = scalars(*setting, np.int32)
    expected = reference(values, output_datatype)
    plugin = library.create("TrtplugMelWeightMatrix", "1", "trtplug", {"output_datatype": output_datatype})
    plugin = plugin if phase == "build" else plugin.round_trip()
    _, y = poisoned_view(cp, expected.shape, DTYPES[output_datatype])
    _, dft, rate, lower, upper = device_scalars(cp, values)  # num_mel_bins: a shape input only
    stream = cp.cuda.Stream(non_blocking=True)
    cp.cuda.get_current_stream().synchronize()
    shape_values = [[int(values[0])], [int(values[1])], [int(values[2])]]
    plugin.run([lower, upper, dft, rate], [y], stream, synchronize=False, shape_inputs=shape_values)
    stream.synchronize()
    check(y, expected, output_datatype)
