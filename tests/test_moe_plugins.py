"""TrtplugMoE driven on the CPU through trtplug._plugin_host: output types and formats, the
output shape (input's), the shape checks made before any CUDA call, and the fields the spec
refuses. Numerics are in test_moe.py, test_parity.py and test_moe_gpu.py."""

from __future__ import annotations

import pytest

from tests.conftest import require_creators
from tests.fake_arrays import NULL_BUFFER_REFUSED, FakeCudaArray

pytestmark = pytest.mark.pluginlib

NAME = "TrtplugMoE"
GPTOSS = {"activation_type": "swiglu", "k": 2, "swiglu_fusion": 1, "normalize_routing_weights": 1}


@pytest.fixture(autouse=True)
def built(library) -> None:
    require_creators(library, NAME)


def create(library, **fields):
    plugin = library.create(NAME, "1", "trtplug", fields or GPTOSS)
    assert plugin is not None
    return plugin


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_types_follow_input(library, dtype):
    plugin = create(library)
    assert plugin.nb_outputs == 1
    assert plugin.output_types([dtype] * 6) == [dtype]
    assert plugin.supports_format_combination([dtype] * 7)
    other = "float16" if dtype == "float32" else "float32"
    assert not plugin.supports_format_combination([dtype, other, dtype, dtype, dtype, dtype, dtype])


def test_int_input_is_refused(library):
    with pytest.raises(RuntimeError, match="getOutputDataTypes"):
        create(library).output_types(["int32"] * 6)


@pytest.mark.parametrize("x", [["B", "S", 64], ["T", 64]])
def test_output_has_the_input_shape(library, x):
    plugin = create(library).round_trip()
    shapes = [x, ["T", 8], [8, 96, 64], [8, 96], [8, 64, 48], [8, 64]]
    assert plugin.output_shapes(shapes) == [x]


E, H, I = 4, 16, 8  # noqa: E741
GOOD = [(3, H), (3, E), (E, 2 * I, H), (E, 2 * I), (E, H, I), (E, H)]


@pytest.mark.parametrize(
    ("shapes", "message"),
    [
        (GOOD, None),
        ([*GOOD[:2], GOOD[2], (0,), GOOD[4]], None),  # an empty fc1 bias: absent
        ([GOOD[0], (3, 5), *GOOD[2:]], "router_probs has shape [3, 5], expected [3, 4]"),
        ([*GOOD[:2], (E, I, H), *GOOD[3:]], "fc1_experts_weights has shape"),
        ([*GOOD[:4], (E, H, I), (E, H + 1)], "fc2_experts_bias has shape"),
        ([*GOOD, (E, I, H)], "fc3_experts_weights must be absent"),
    ],
)
def test_shapes_are_checked_before_running(library, shapes, message):
    plugin = create(library)
    ins = [FakeCudaArray(s) for s in shapes]
    outs = [FakeCudaArray((3, H))]
    if message is None:  # accepted: the null fake buffers stop before enqueue
        with pytest.raises(RuntimeError, match=NULL_BUFFER_REFUSED):
            plugin.run(ins, outs)
        return
    with pytest.raises(RuntimeError, match="onShapeChange") as err:
        plugin.run(ins, outs)
    assert message in str(err.value)


def test_geglu_needs_fused_fc1(library):
    plugin = create(library, activation_type="geglu", k=2)
    with pytest.raises(RuntimeError, match="onShapeChange") as err:
        plugin.run([FakeCudaArray(s) for s in GOOD], [FakeCudaArray((3, H))])
    assert "geglu takes its gate and linear halves from fc1_experts_weights" in str(err.value)


def test_swiglu_without_fusion_needs_fc3(library):
    plugin = create(library, activation_type="swiglu", k=2)
    shapes = [(3, H), (3, E), (E, I, H), (E, I), (E, H, I), (E, H)]
    with pytest.raises(RuntimeError, match="onShapeChange") as err:
        plugin.run([FakeCudaArray(s) for s in shapes], [FakeCudaArray((3, H))])
    assert "fc3_experts_weights, which is absent" in str(err.value)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"use_sparse_mixer": 1}, "attribute 'use_sparse_mixer'"),
        ({"activation_type": "relu2"}, "attribute 'activation_type'"),
        ({"swiglu_limit_after_activation": 1}, "attribute 'swiglu_limit_after_activation'"),
        ({"swiglu_fusion": 3}, "attribute 'swiglu_fusion'"),
        ({"k": 0}, "attribute 'k'"),
    ],
)
def test_bad_fields_are_refused(library, log, fields, message):
    assert library.create(NAME, "1", "trtplug", fields) is None
    assert any(message in text for _, text in log())
