"""The norm plugins (TrtplugSkipLayerNorm, TrtplugSkipSimplifiedLayerNorm, TrtplugEmbedLayerNorm)
driven on the CPU through trtplug._plugin_host: output count from the num_outputs field, type,
shape and format rules, the empty-tensor convention for absent middle inputs, and the checks
run() makes before any CUDA call. Numerics are in test_parity.py and test_norm_gpu.py."""

from __future__ import annotations

import pytest

from tests.fake_arrays import NULL_BUFFER_REFUSED, FakeCudaArray

pytestmark = pytest.mark.pluginlib

SKIP_NORMS = {"TrtplugSkipLayerNorm": 5, "TrtplugSkipSimplifiedLayerNorm": 4}  # plugin -> max inputs
EMBED = "TrtplugEmbedLayerNorm"
EMBED_TYPES = ["int32", "int32", "float16", "float16", "float16", "float16", "float16", "int32", "int32"]


def skip_norm(library, name: str, num_outputs: int = 4, epsilon: float = 1e-5):
    plugin = library.create(name, "1", "trtplug", {"epsilon": epsilon, "num_outputs": num_outputs})
    assert plugin is not None
    return plugin


def embed(library, num_outputs: int = 3):
    fields = {"epsilon": 1e-5, "mask_index_type": 1, "num_outputs": num_outputs}
    plugin = library.create(EMBED, "1", "trtplug", fields)
    assert plugin is not None
    return plugin


@pytest.mark.parametrize("name", [*SKIP_NORMS, EMBED])
def test_output_count_comes_from_the_num_outputs_field(library, name):
    most = 3 if name == EMBED else 4
    for count in range(1, most + 1):
        fields = {"epsilon": 1e-5, "num_outputs": count} | ({"mask_index_type": 1} if name == EMBED else {})
        plugin = library.create(name, "1", "trtplug", fields)
        assert plugin.nb_outputs == count
        runtime = plugin.round_trip()
        assert runtime.nb_outputs == count and runtime.fields_to_serialize() == plugin.fields_to_serialize()


@pytest.mark.parametrize("name", [*SKIP_NORMS, EMBED])
@pytest.mark.parametrize("count", [0, 5, -1])
def test_output_count_out_of_range_is_refused(library, host, name, count):
    host.clear_messages()
    fields = {"epsilon": 1e-5, "num_outputs": count} | ({"mask_index_type": 1} if name == EMBED else {})
    assert library.create(name, "1", "trtplug", fields) is None
    most = 3 if name == EMBED else 4
    bound = "below the minimum 1" if count < 1 else f"above the maximum {most}"  # the spec's min/max rule
    assert host.messages()[-1] == (
        "error",
        f"{name}::createPlugin: attribute 'num_outputs': {count} is {bound}",
    )


@pytest.mark.parametrize("name", SKIP_NORMS)
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_skip_norm_types_and_shapes(library, name, dtype):
    plugin = skip_norm(library, name)
    assert plugin.output_types([dtype] * SKIP_NORMS[name]) == [dtype, "float32", "float32", dtype]
    shapes = plugin.output_shapes([["B", "S", 768], ["S", 768], [768]])
    assert shapes == [["B", "S", 768], ["B", "S", 1], ["B", "S", 1], ["B", "S", 768]]
    assert skip_norm(library, name, 2).output_shapes([[7, 33], [7, 33], [33]]) == [[7, 33], [7, 1]]


@pytest.mark.parametrize("name", SKIP_NORMS)
@pytest.mark.parametrize(
    ("dtypes", "message"),
    [
        (["int32"] * 3, "input must be float32, float16 or bfloat16, got int32"),
        (["float16", "float16", "float32"], "gamma must have input's type float16, got float32"),
        (["float32"] * 2, "expected 3.."),
    ],
)
def test_skip_norm_rejects_types(library, name, dtypes, message):
    with pytest.raises(RuntimeError, match="getOutputDataTypes") as err:
        skip_norm(library, name).output_types(dtypes)
    assert message in str(err.value)


@pytest.mark.parametrize("name", SKIP_NORMS)
@pytest.mark.parametrize(
    ("shapes", "message"),
    [
        ([[768], [768], [768]], "input must have rank >= 2"),
        ([["B", "S", 768], [768], [768]], "skip must have rank 2..3"),
        ([["B", "S", 768], ["S", 768], [1, 768]], "gamma must be 1-D"),
    ],
)
def test_skip_norm_rejects_shapes(library, name, shapes, message):
    with pytest.raises(RuntimeError, match="getOutputShapes") as err:
        skip_norm(library, name).output_shapes(shapes)
    assert message in str(err.value)


@pytest.mark.parametrize("name", SKIP_NORMS)
def test_skip_norm_statistics_are_float32_whatever_the_input(library, name):
    plugin = skip_norm(library, name)
    ins = ["float16"] * 3
    assert plugin.supports_format_combination([*ins, "float16", "float32", "float32", "float16"])
    assert not plugin.supports_format_combination([*ins, "float16", "float16", "float32", "float16"])
    assert not plugin.supports_format_combination([*ins, "float32", "float32", "float32", "float16"])


@pytest.mark.parametrize("name", SKIP_NORMS)
@pytest.mark.parametrize(
    ("skip", "gamma", "message"),
    [
        ((2, 3, 8), (8,), None),
        ((1, 3, 8), (8,), None),
        ((3, 8), (8,), None),
        ((2, 1, 8), (8,), "skip shape (2, 1, 8) does not broadcast to input shape (2, 3, 8)"),
        ((4, 8), (8,), "does not broadcast"),
        ((2, 3, 8), (7,), "gamma must be 1-D of input's hidden size 8, got (7)"),
    ],
)
def test_skip_norm_checks_concrete_shapes_before_running(library, name, skip, gamma, message):
    plugin = skip_norm(library, name, 1)
    ins = [FakeCudaArray((2, 3, 8)), FakeCudaArray(skip), FakeCudaArray(gamma)]
    if message is None:  # accepted: configure passes; the null fake buffers stop before enqueue
        with pytest.raises(RuntimeError, match=NULL_BUFFER_REFUSED):
            plugin.run(ins, [FakeCudaArray((2, 3, 8))])
        return
    with pytest.raises(RuntimeError, match="configurePlugin") as err:
        plugin.run(ins, [FakeCudaArray((2, 3, 8))])
    assert message in str(err.value)


def test_skip_layer_norm_takes_an_empty_beta_as_absent(library):
    plugin = skip_norm(library, "TrtplugSkipLayerNorm", 1)
    ins = [FakeCudaArray((2, 8)), FakeCudaArray((2, 8)), FakeCudaArray((8,)), FakeCudaArray((0,)), FakeCudaArray((5,))]
    with pytest.raises(RuntimeError, match="bias must be 1-D of input's hidden size 8"):
        plugin.run(ins, [FakeCudaArray((2, 8))])


def test_embed_types_and_shapes(library):
    plugin = embed(library)
    assert plugin.output_types(EMBED_TYPES[:7]) == ["float16", "int32", "float16"]
    shapes = [["B", "S"], ["B", "S"], [30522, 768], [512, 768], [2, 768], [768], [768], ["B", "S"]]
    assert plugin.output_shapes(shapes) == [["B", "S", 768], ["B"], ["B", "S", 768]]
    assert embed(library, 1).output_shapes(shapes[:7]) == [["B", "S", 768]]


@pytest.mark.parametrize(
    ("position", "dtype", "message"),
    [
        (0, "float16", "input_ids must be int32, got float16"),
        (2, "int32", "word_embedding must be float32, float16 or bfloat16, got int32"),
        (5, "float32", "gamma must be word_embedding's type, got float32"),
        (7, "int64", "mask must be int32, got int64"),
    ],
)
def test_embed_rejects_types(library, position, dtype, message):
    types = list(EMBED_TYPES)
    types[position] = dtype
    with pytest.raises(RuntimeError, match="getOutputDataTypes") as err:
        embed(library).output_types(types)
    assert message in str(err.value)


def test_embed_formats(library):
    plugin = embed(library)
    assert plugin.supports_format_combination([*EMBED_TYPES[:7], "float16", "int32", "float16"])
    assert not plugin.supports_format_combination([*EMBED_TYPES[:7], "float16", "float16", "float16"])
    assert not plugin.supports_format_combination([*EMBED_TYPES[:7], "float32", "int32", "float16"])


def embed_inputs(overrides: dict[int, tuple]) -> list[FakeCudaArray]:
    shapes = [(2, 5), (2, 5), (30, 8), (16, 8), (2, 8), (8,), (8,), (2, 5), (2, 5)]
    shapes = [overrides.get(i, s) for i, s in enumerate(shapes)]
    return [FakeCudaArray(s, "<i4" if i in (0, 1, 7, 8) else "<f4") for i, s in enumerate(shapes)]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({8: (3, 5)}, "position_ids must have input_ids' shape, got (3, 5)"),
        ({7: (2, 4)}, "mask must have input_ids' shape"),
        ({3: (16, 9)}, "position_embedding must be 2-D with word_embedding's hidden size"),
        ({6: (9,)}, "beta must be 1-D of the hidden size"),
        ({4: (0,)}, "segment_ids needs segment_embedding"),
    ],
)
def test_embed_checks_concrete_shapes_before_running(library, overrides, message):
    outs = [FakeCudaArray((2, 5, 8))]
    with pytest.raises(RuntimeError, match="configurePlugin") as err:
        embed(library, 1).run(embed_inputs(overrides), outs)
    assert message in str(err.value)
