"""The GELU-family and bias-op IPluginV3 plugins on the CPU, through trtplug._plugin_host: the
rules TensorRT sees before any kernel runs (input counts, types, shapes, formats, fields, the
serialize -> re-create round trip). Kernels run in tests/test_gelu_family_gpu.py and the parity suite."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.pluginlib

# plugin -> (fields, input count range, input names)
PLUGINS = {
    "TrtplugGelu": ({}, (1, 1), ["X"]),
    "TrtplugBiasGelu": ({}, (2, 2), ["A", "B"]),
    "TrtplugFastGelu": ({}, (1, 2), ["X", "bias"]),
    "TrtplugQuickGelu": ({"alpha": 1.702}, (1, 1), ["X"]),
    "TrtplugBiasAdd": ({}, (3, 3), ["X", "bias", "skip"]),
    "TrtplugBiasSplitGelu": ({}, (2, 2), ["X", "bias"]),
}


def make(library, name: str, fields: dict | None = None):
    plugin = library.create(name, "1", "trtplug", PLUGINS[name][0] if fields is None else fields)
    assert plugin is not None
    return plugin


def example_shapes(name: str, count: int) -> list[list[int]]:
    return [[2, 3, 8], [8], [2, 3, 8]][:count]


@pytest.mark.parametrize("name", PLUGINS)
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_output_types_and_round_trip(library, name: str, dtype: str) -> None:
    fields, (low, high), _ = PLUGINS[name]
    plugin = make(library, name)
    for count in range(low, high + 1):
        assert plugin.output_types([dtype] * count) == [dtype]
    runtime = plugin.round_trip()
    assert (runtime.name, runtime.phase) == (name, "runtime")
    assert runtime.fields_to_serialize() == pytest.approx(fields)
    assert runtime.output_types([dtype] * high) == [dtype]


@pytest.mark.parametrize("name", PLUGINS)
def test_wrong_input_count_is_refused(library, log, name: str) -> None:
    _, (low, high), _ = PLUGINS[name]
    plugin = make(library, name)
    for count in {low - 1, high + 1} - {0}:
        with pytest.raises(RuntimeError, match=f"expected {low}..{high} inputs, got {count}"):
            plugin.output_types(["float32"] * count)
    assert all(severity == "error" and name in message for severity, message in log())


@pytest.mark.parametrize("name", [n for n in PLUGINS if PLUGINS[n][1][1] >= 2])
def test_mixed_types_are_refused_naming_the_inputs(library, name: str) -> None:
    _, (_, high), names = PLUGINS[name]
    plugin = make(library, name)
    with pytest.raises(RuntimeError, match=f"{names[1]} must have {names[0]}'s type float32, got float16"):
        plugin.output_types(["float32", "float16"] + ["float32"] * (high - 2))
    with pytest.raises(RuntimeError, match=f"{names[0]} must be float32, float16 or bfloat16, got int32"):
        plugin.output_types(["int32"] * high)


@pytest.mark.parametrize(
    ("name", "shapes", "expected"),
    [
        ("TrtplugGelu", [[7]], [[7]]),
        ("TrtplugGelu", [["B", "S", 64]], [["B", "S", 64]]),
        ("TrtplugQuickGelu", [[0, 3]], [[0, 3]]),
        ("TrtplugBiasGelu", [["B", "S", "H"], ["H"]], [["B", "S", "H"]]),
        ("TrtplugBiasAdd", [["B", "S", 8], [8], ["B", "S", 8]], [["B", "S", 8]]),
        ("TrtplugBiasAdd", [[2, 0, 8], [8], [2, 0, 8]], [[2, 0, 8]]),
        ("TrtplugBiasSplitGelu", [[2, 3, 8], [8]], [[2, 3, 4]]),
        ("TrtplugBiasSplitGelu", [[1, 1, 2], [2]], [[1, 1, 1]]),
        ("TrtplugBiasSplitGelu", [["B", "S", "D"], ["D"]], [["B", "S", "floordiv(D, 2)"]]),
        ("TrtplugBiasSplitGelu", [["B", 5120], [5120]], [["B", 2560]]),
    ],
)
def test_output_shapes(library, name: str, shapes, expected) -> None:
    assert make(library, name).output_shapes(shapes) == expected


@pytest.mark.parametrize(
    ("name", "shapes", "message"),
    [
        ("TrtplugGelu", [[]], "X must have rank >= 1, got rank 0"),
        ("TrtplugBiasGelu", [[2, 8], [7]], "B length 7 differs from A's last dimension 8"),
        ("TrtplugBiasGelu", [[2, 8], [1, 8]], "B must be 1-D, got rank 2"),
        ("TrtplugBiasAdd", [[2, 3, 8], [8], [2, 4, 8]], "skip dimension 1 is 4, X's is 3"),
        ("TrtplugBiasAdd", [[2, 3, 8], [8], [6, 8]], "skip must have X's rank 3, got 2"),
        ("TrtplugBiasSplitGelu", [[2, 3, 7], [7]], "X's last dimension must be even, got 7"),
        ("TrtplugBiasSplitGelu", [[2, 3, 8], [4]], "bias length 4 differs from X's last dimension 8"),
    ],
)
def test_bad_shapes_are_refused(library, name: str, shapes, message: str) -> None:
    with pytest.raises(RuntimeError, match="getOutputShapes") as err:
        make(library, name).output_shapes(shapes)
    assert message in str(err.value)


@pytest.mark.parametrize("name", ["TrtplugBiasAdd", "TrtplugBiasSplitGelu", "TrtplugBiasGelu"])
def test_format_combinations(library, name: str) -> None:
    _, (_, high), _ = PLUGINS[name]
    plugin = make(library, name)
    for dtype in ("float32", "float16"):
        assert plugin.supports_format_combination([dtype] * (high + 1))
    assert not plugin.supports_format_combination(["float32"] * high + ["float16"])
    assert not plugin.supports_format_combination(["int32"] * (high + 1))
    assert not plugin.supports_format_combination(["float16"] * (high + 1), formats=["chw2"] * (high + 1))


@pytest.mark.parametrize("alpha", [1.702, -0.5, 0.0])
def test_quick_gelu_alpha_survives_serialization(library, alpha: float) -> None:
    plugin = make(library, "TrtplugQuickGelu", {"alpha": alpha})
    for copy in (plugin.round_trip(), plugin.clone(), plugin.round_trip().attach_to_context()):
        assert copy.fields_to_serialize()["alpha"] == pytest.approx(alpha)


def test_a_field_left_out_takes_the_spec_default(library) -> None:
    """As an ONNX attribute left out does (and TensorRT's plugin override passes only the node's)."""
    plugin = make(library, "TrtplugQuickGelu", {})
    assert plugin.fields_to_serialize()["alpha"] == pytest.approx(1.702)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"alpha": 1}, "field 'alpha': expected float32[1], got int32[1]"),
        ({"alpha": 1.0, "beta": 2.0}, "unknown field 'beta'"),
    ],
)
def test_quick_gelu_bad_fields_are_refused(library, log, fields: dict, message: str) -> None:
    assert library.create("TrtplugQuickGelu", "1", "trtplug", fields) is None
    assert log()[-1] == ("error", f"TrtplugQuickGelu::createPlugin: {message}")
