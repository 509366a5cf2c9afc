"""TrtplugCausalConvWithState driven on the CPU through trtplug._plugin_host: output types,
present_state's shape from the weight's k and the dilation field (both layouts), formats, the
shape checks made before any CUDA call, and the fields the spec refuses. Numerics are in
test_parity.py and test_causal_conv_with_state_gpu.py."""

from __future__ import annotations

import pytest

from tests.conftest import require_creators
from tests.fake_arrays import NULL_BUFFER_REFUSED, FakeCudaArray

pytestmark = pytest.mark.pluginlib

NAME = "TrtplugCausalConvWithState"


@pytest.fixture(autouse=True)
def built(library) -> None:
    require_creators(library, NAME)


def create(library, **fields):
    plugin = library.create(NAME, "1", "trtplug", fields)
    assert plugin is not None
    return plugin


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_types_follow_input(library, dtype):
    plugin = create(library)
    assert plugin.nb_outputs == 2
    assert plugin.output_types([dtype, dtype, dtype, dtype]) == [dtype, dtype]
    assert plugin.output_types([dtype, dtype]) == [dtype, dtype]
    assert plugin.supports_format_combination([dtype] * 6)
    other = "float16" if dtype == "float32" else "float32"
    assert not plugin.supports_format_combination([dtype, other, dtype, dtype, dtype, dtype])
    assert not plugin.supports_format_combination([dtype, dtype, dtype, dtype, dtype, other])


@pytest.mark.parametrize(
    ("dtypes", "message"), [(["int32", "int32"], "unsupported type"), (["float16", "float32"], "input's type")]
)
def test_types_are_refused(library, dtypes, message):
    with pytest.raises(RuntimeError, match="getOutputDataTypes") as err:
        create(library).output_types(dtypes)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("fields", "x", "w", "state"),
    [
        ({}, ["B", 128, "S"], [128, 1, 3], ["B", 128, 2]),  # LFM2 as GenAI writes it
        ({"dilation": 3}, ["B", 8, "S"], [8, 1, 4], ["B", 8, 9]),
        ({"channels_last": 1}, ["B", "S", 12], [12, 1, 4], ["B", 3, 12]),
        ({"channels_last": 1, "dilation": 2}, ["B", "S", 3, 4], [12, 1, 3], ["B", 4, 3, 4]),
        ({}, ["B", 5, "S"], [5, 1, 1], ["B", 5, 0]),
    ],
)
def test_present_state_shape(library, fields, x, w, state):
    plugin = create(library, **fields).round_trip()
    assert plugin.output_shapes([x, w, [w[0]], state]) == [x, state]
    assert plugin.output_shapes([x, w]) == [x, state]


@pytest.mark.parametrize(
    ("shapes", "message"),
    [
        ([(2, 4, 5), (4, 1, 3), (0,), (2, 4, 2)], None),  # the rewrite's empty bias placeholder
        ([(2, 4, 5), (4, 1, 3), (4,)], None),
        ([(2, 4, 5), (5, 1, 3)], "weight must be (channels, 1, k)"),
        ([(2, 4, 5), (4, 2, 3)], "weight must be (channels, 1, k)"),
        ([(2, 4, 5), (4, 1, 3), (3,)], "bias must be (4)"),
        ([(2, 4, 5), (4, 1, 3), (4,), (2, 4, 3)], "past_state must be (batch, channels, (k - 1) * dilation)"),
        ([(2, 4, 5), (4, 1, 3), (4,), (2, 2, 4)], "with (k - 1) * dilation = 2"),
    ],
)
def test_shapes_are_checked_before_running(library, shapes, message):
    plugin = create(library)
    ins = [FakeCudaArray(s) for s in shapes]
    outs = [FakeCudaArray((2, 4, 5)), FakeCudaArray((2, 4, 2))]
    if message is None:  # accepted: the null fake buffers stop before enqueue
        with pytest.raises(RuntimeError, match=NULL_BUFFER_REFUSED):
            plugin.run(ins, outs)
        return
    with pytest.raises(RuntimeError, match="onShapeChange") as err:
        plugin.run(ins, outs)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"activation": "relu"}, "attribute 'activation'"),
        ({"ndim": 2}, "attribute 'ndim'"),
        ({"state_window": 2}, "attribute 'state_window'"),
        ({"dilation": 0}, "attribute 'dilation'"),
        ({"state_length": 4}, "attribute 'state_length'"),
        ({"channels_last": 2}, "attribute 'channels_last'"),
    ],
)
def test_bad_fields_are_refused(library, log, fields, message):
    assert library.create(NAME, "1", "trtplug", fields) is None
    assert any(message in text for _, text in log())
