"""MelWeightMatrix beyond the spec's parity cases, on the CPU: the NumPy prototype against
onnx.reference on random settings (int32/int64 scalars, fp32/fp16/bf16 outputs, outputs
poisoned first), the ONNX conformance case through `trtplug parity`, one-line errors for the
inputs the reference refuses or cannot index with, and the shape hooks."""

from __future__ import annotations

import json

import ml_dtypes
import numpy as np
import pytest
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator
from trtplug.pyplugins import mel_weight_matrix as proto

from trtplug.cli import main

NAMES = ["num_mel_bins", "dft_length", "sample_rate", "lower_edge_hertz", "upper_edge_hertz"]
OUTPUT_TYPES = {1: np.float32, 10: np.float16, 16: ml_dtypes.bfloat16}


def scalars(mels, dft, rate, lower, upper, int_type=np.int64) -> list[np.ndarray]:
    ints = [np.array(v, int_type) for v in (mels, dft, rate)]
    return [*ints, np.array(lower, np.float32), np.array(upper, np.float32)]


def reference(values: list[np.ndarray], output_datatype: int) -> np.ndarray:
    node = helper.make_node("MelWeightMatrix", NAMES, ["y"], output_datatype=output_datatype)
    inputs = [
        helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(v.dtype), [])
        for n, v in zip(NAMES, values, strict=True)
    ]
    graph = helper.make_graph([node], "mel", inputs, [helper.make_tensor_value_info("y", TensorProto.UNDEFINED, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)
    return ReferenceEvaluator(model).run(None, dict(zip(NAMES, values, strict=True)))[0]


def prototype(values: list[np.ndarray], output_datatype: int) -> np.ndarray:
    (shape,) = proto.output_shapes(values, {"output_datatype": output_datatype})
    out = np.full(shape, np.nan, OUTPUT_TYPES[output_datatype])  # poisoned: every element must be written
    proto.forward(np, values, [out], {"output_datatype": output_datatype})
    return out


def random_settings(rng: np.random.Generator, count: int):
    for k in range(count):
        rate = int(rng.integers(100, 96000))
        lower = np.float32(0.0) if k % 3 == 0 else np.float32(rng.uniform(0, rate / 4))
        upper = np.float32(rate / 2) if k % 4 == 0 else np.float32(rng.uniform(lower, rate / 2))
        mels = int(rng.integers(1, 130))
        dft = int(rng.integers(2, 4096)) if k % 5 else int(rng.integers(2, 8))  # some tiny DFTs
        yield scalars(mels, dft, rate, lower, upper, np.int32 if k % 2 else np.int64)


@pytest.mark.parametrize("output_datatype", [1, 10, 16])
def test_prototype_matches_reference_on_random_settings(output_datatype) -> None:
    compared = 0
    for values in random_settings(np.random.default_rng(output_datatype), 150):
        try:
            expected = reference(values, output_datatype)
        except IndexError:  # a filter past the last bin (odd DFT, upper edge at Nyquist): refused
            with pytest.raises(ValueError, match="past the"):
                prototype(values, output_datatype)
            continue
        got = prototype(values, output_datatype)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_array_equal(got.astype(np.float64), expected.astype(np.float64), err_msg=str(values))
        compared += 1
    assert compared >= 120


def test_edge_shapes() -> None:
    """One mel bin, the smallest DFT, odd DFT lengths, equal edges (every filter one spike)."""
    for values in (
        scalars(1, 2, 100, 0.0, 50.0),
        scalars(7, 3, 1000, 0.0, 300.0),
        scalars(5, 64, 1000, 200.0, 200.0),
        scalars(13, 511, 22050, 125.5, 7600.0),
    ):
        np.testing.assert_array_equal(prototype(values, 1), reference(values, 1))


def test_conformance_case_and_spec_cases_pass_in_parity(capsys) -> None:
    assert main(["parity", "--op", "mel_weight_matrix", "--impl", "numpy", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    cases = {r["case"]: r["status"] for r in results}
    assert cases.pop("onnx:test_melweightmatrix") == "pass"
    assert len(cases) == 18 and set(cases.values()) == {"pass"}  # 6 cases x output_datatype 1, 10, 16


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (scalars(0, 16, 8192, 0.0, 4096.0), "num_mel_bins must be >= 1, got 0"),
        (scalars(8, 1, 8192, 0.0, 4096.0), "dft_length must be >= 2, got 1"),
        (scalars(8, 16, 0, 0.0, 4096.0), "sample_rate must be >= 1, got 0"),
        (scalars(8, 16, 8192, 1000.0, 500.0), "need 0 <= lower_edge_hertz <= upper_edge_hertz"),
        (scalars(8, 16, 8192, -10.0, 500.0), "need 0 <= lower_edge_hertz <= upper_edge_hertz"),
        (scalars(8, 16, 8192, 0.0, np.nan), "must be finite"),
        (scalars(8, 16, 8192, 0.0, 16000.0), "upper_edge_hertz 16000.0 puts a filter in row"),
    ],
)
def test_bad_inputs_raise_one_line(values, message) -> None:
    mels, dft = max(int(values[0]), 1), max(int(values[1]), 2)
    out = np.zeros((dft // 2 + 1, mels), np.float32)
    with pytest.raises(ValueError, match=message) as info:
        proto.forward(np, values, [out], {"output_datatype": 1})
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("values", [scalars(0, 16, 8192, 0.0, 4096.0), scalars(8, 1, 8192, 0.0, 4096.0)])
def test_output_shapes_refuse_bad_shape_inputs(values) -> None:
    with pytest.raises(ValueError, match="need num_mel_bins >= 1 and dft_length >= 2"):
        proto.output_shapes(values, {})


def test_output_shapes_and_dims_hook() -> None:
    assert proto.output_shapes(scalars(80, 400, 16000, 0.0, 8000.0), {}) == [(201, 80)]
    assert proto.output_shapes(scalars(3, 9, 100, 0.0, 50.0), {}) == [(5, 3)]
    # On plain ints the hook's arithmetic is the same dimension arithmetic the plugin declares.
    assert proto.output_dims([(80,), (401,), (16000,), (), ()], {}, None) == [(201, 80)]


@pytest.mark.parametrize(("output_datatype", "name"), [(1, "FLOAT"), (10, "HALF"), (16, "BF16")])
def test_prototype_plugin_output_type_follows_output_datatype(output_datatype, name) -> None:
    """The prototype plugin declares, and accepts only, the type output_datatype names (no
    input binds it); regular inputs: the two float32 edges, then the dft_length/sample_rate copies."""
    from types import SimpleNamespace

    from trtplug.protoplugin.plugin import ProtoLogic
    from trtplug.protoplugin.standin import TRT
    from trtplug.registry import load_registry

    spec = next(s for s in load_registry() if s.key == "mel_weight_matrix")
    logic = ProtoLogic(TRT, spec, {"output_datatype": output_datatype})
    f32, i64, want = TRT.DataType.FLOAT, TRT.DataType.INT64, getattr(TRT.DataType, name)
    assert logic.output_types([f32, f32, i64, i64]) == [want]

    def desc(t):
        return SimpleNamespace(desc=SimpleNamespace(type=t, format=TRT.TensorFormat.LINEAR, dims=()))

    others = [t for t in (TRT.DataType.FLOAT, TRT.DataType.HALF, TRT.DataType.BF16) if t != want]
    assert logic.supports(4, [desc(f32), desc(f32), desc(i64), desc(i64), desc(want)], 4)
    assert not any(logic.supports(4, [desc(f32), desc(f32), desc(i64), desc(i64), desc(t)], 4) for t in others)
