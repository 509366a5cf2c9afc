"""TrtplugQMoE driven on the CPU through trtplug._plugin_host: output types and the uint8 formats
of the codes and zero points, the output shape (input's), the shape checks (on the weights unpacked
at each projection's bits, the scales and zero points per block or per column, router_weights) made
before any CUDA call, and the fields the spec refuses. Numerics: test_qmoe.py, test_parity.py and
test_qmoe_gpu.py."""

from __future__ import annotations

import pytest

from tests.conftest import require_creators
from tests.fake_arrays import NULL_BUFFER_REFUSED, FakeCudaArray, fake_arrays

pytestmark = pytest.mark.pluginlib

NAME = "TrtplugQMoE"
GPTOSS = {"activation_type": "swiglu", "k": 2, "swiglu_fusion": 1, "normalize_routing_weights": 1}
E, H, I, BS = 4, 64, 32, 32  # noqa: E741
# input, router, fc1 codes/scales/bias, fc2 codes/scales/bias at 4 bits, block 32
GOOD = [(3, H), (3, E), (E, 2 * I, H // 2), (E, 2 * I, H // BS), (E, 2 * I), (E, H, I // 2), (E, H, I // BS), (E, H)]
UINT8 = {2, 5, 8, 11, 12, 13}


@pytest.fixture(autouse=True)
def built(library) -> None:
    require_creators(library, NAME)


def create(library, **fields):
    plugin = library.create(NAME, "1", "trtplug", {**GPTOSS, "block_size": BS, **fields})
    assert plugin is not None
    return plugin


def types(dtype, count):
    return ["uint8" if i in UINT8 else dtype for i in range(count)]


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_types_follow_input_and_codes_are_uint8(library, dtype):
    plugin = create(library)
    assert plugin.output_types(types(dtype, 8)) == [dtype]
    assert plugin.supports_format_combination([*types(dtype, 8), dtype])
    assert plugin.supports_format_combination([*types(dtype, 15), dtype])
    assert not plugin.supports_format_combination([*([dtype] * 8), dtype])  # float codes
    other = "float16" if dtype == "float32" else "float32"
    scales_other = types(dtype, 8)
    scales_other[3] = other
    assert not plugin.supports_format_combination([*scales_other, dtype])


@pytest.mark.parametrize("x", [["B", "S", 64], ["T", 64]])
def test_output_has_the_input_shape(library, x):
    plugin = create(library).round_trip()
    assert plugin.output_shapes([x, ["T", E], *[list(s) for s in GOOD[2:]]]) == [x]


def run(plugin, shapes, dtype="float32"):
    dtypes = types(dtype, len(shapes))
    plugin.run(fake_arrays(shapes, dtypes), [FakeCudaArray((3, H))])


@pytest.mark.parametrize(
    ("fields", "shapes", "message"),
    [
        ({}, GOOD, None),
        ({}, [*GOOD[:4], (0,), *GOOD[5:]], None),  # an empty fc1 bias: absent
        # fc1, fc2 zero points: 2 blocks of 4 bits a row in one byte; router_weights
        ({}, [*GOOD, (0,), (0,), (0,), (E, 2 * I, 1), (E, H, 1), (0,), (3, E)], None),
        ({"block_size": 0}, [*GOOD[:3], (E, 2 * I), GOOD[4], GOOD[5], (E, H), GOOD[7]], None),
        # column-wise zero points are packed along the columns: 2 * I codes of 4 bits
        (
            {"block_size": 0},
            [*GOOD[:3], (E, 2 * I), GOOD[4], GOOD[5], (E, H), GOOD[7], (0,), (0,), (0,), (E, I), (E, H // 2)],
            None,
        ),
        ({"expert_weight_bits": 8}, [*GOOD[:2], (E, 2 * I, H), GOOD[3], GOOD[4], (E, H, I), *GOOD[6:]], None),
        ({"fc2_expert_weight_bits": 8}, [*GOOD[:5], (E, H, I), *GOOD[6:]], None),
        # fc2's 16 bytes a row are 16 codes at 8 bits: inter 16, which fc1's 64 rows contradict
        ({"fc2_expert_weight_bits": 8}, GOOD, "expected [4, 32, 64] (codes unpacked at 4/8/4 bits for fc1/fc2/fc3)"),
        ({}, [*GOOD[:3], (E, 2 * I, 3), *GOOD[4:]], "fc1_scales has shape [4, 64, 3], expected [4, 64, 2]"),
        ({}, [*GOOD[:2], (E, 2 * I, H), *GOOD[3:]], "fc1_experts_weights has shape [4, 64, 128]"),
        (
            {"block_size": 64},
            [*GOOD[:3], (E, 2 * I, 1), GOOD[4], GOOD[5], (E, H, 1), GOOD[7]],
            "fc2_experts_weights' input size 32 is not a multiple of block_size 64",
        ),
        ({}, [*GOOD, (0,), (0,), (0,), (E, 2 * I, 2)], "fc1_zero_points has shape [4, 64, 2], expected [4, 64, 1]"),
        ({}, [*GOOD, (0,), (0,), (0,), (0,), (0,), (0,), (3, E + 1)], "router_weights has shape [3, 5]"),
        ({"swiglu_fusion": 0}, GOOD, "fc3_experts_weights, which is absent"),
    ],
)
def test_shapes_are_checked_before_running(library, fields, shapes, message):
    plugin = create(library, **fields)
    if message is None:  # accepted: the null fake buffers stop before enqueue
        with pytest.raises(RuntimeError, match=NULL_BUFFER_REFUSED):
            run(plugin, shapes)
        return
    with pytest.raises(RuntimeError, match="onShapeChange") as err:
        run(plugin, shapes)
    assert message in str(err.value)


def test_fc3_needs_its_scales(library):
    plugin = create(library, activation_type="silu", swiglu_fusion=0)
    shapes = [*GOOD[:2], (E, I, H // 2), (E, I, H // BS), (E, I), *GOOD[5:], (E, I, H // 2)]
    with pytest.raises(RuntimeError, match="onShapeChange") as err:
        run(plugin, shapes)
    assert "fc3_experts_weights is given without fc3_scales" in str(err.value)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"quant_type": "nvfp4"}, "attribute 'quant_type'"),
        ({"weights_prepacked": 1}, "attribute 'weights_prepacked'"),
        ({"expert_weight_bits": 3}, "attribute 'expert_weight_bits'"),
        ({"fc1_expert_weight_bits": 3}, "attribute 'fc1_expert_weight_bits'"),
        ({"block_size": 8}, "attribute 'block_size'"),
        ({"use_sparse_mixer": 1}, "attribute 'use_sparse_mixer'"),
        ({"swiglu_limit_after_activation": 1}, "attribute 'swiglu_limit_after_activation'"),
    ],
)
def test_bad_fields_are_refused(library, log, fields, message):
    assert library.create(NAME, "1", "trtplug", fields) is None
    assert any(message in text for _, text in log())
