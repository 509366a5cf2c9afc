"""TrtplugLinearAttentionGate driven on the CPU through trtplug._plugin_host: output count from
num_outputs, types (float32 per-head vectors, everything else a's type), shapes, and the shape
checks made before any CUDA call. Numerics: test_parity.py, test_linear_attention_gate*.py."""

from __future__ import annotations

import pytest

from tests.conftest import require_creators
from tests.fake_arrays import NULL_BUFFER_REFUSED, FakeCudaArray

pytestmark = pytest.mark.pluginlib
NAME = "TrtplugLinearAttentionGate"


@pytest.fixture(autouse=True)
def built(library) -> None:
    require_creators(library, NAME)


def create(library, num_outputs: int = 2):
    plugin = library.create(NAME, "1", "trtplug", {"num_outputs": num_outputs})
    assert plugin is not None
    return plugin


def test_output_count_comes_from_num_outputs(library):
    assert create(library, 1).nb_outputs == 1
    assert create(library, 2).round_trip().nb_outputs == 2


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_types(library, dtype):
    assert create(library).output_types([dtype, "float32", "float32", dtype]) == [dtype, dtype]
    assert create(library, 1).output_types([dtype, "float32", "float32"]) == [dtype]
    plugin = create(library)
    assert plugin.supports_format_combination([dtype, "float32", "float32", dtype, dtype, dtype])
    other = "float16" if dtype != "float16" else "bfloat16"
    assert not plugin.supports_format_combination([dtype, other, "float32", dtype, dtype, dtype])
    assert not plugin.supports_format_combination([dtype, "float32", "float32", dtype, other, dtype])


@pytest.mark.parametrize(
    ("dtypes", "message"),
    [
        (["int32", "float32", "float32", "int32"], "a must be float32, float16 or bfloat16"),
        (["float16", "float16", "float32", "float16"], "dt_bias and decay_scale must be float32"),
        (["float16", "float32", "float32", "float32"], "b must have a's type"),
    ],
)
def test_types_are_refused(library, dtypes, message):
    with pytest.raises(RuntimeError, match="getOutputDataTypes") as err:
        create(library).output_types(dtypes)
    assert message in str(err.value)


def test_shapes_follow_a(library):
    a = ["B", "S", 32]
    assert create(library).output_shapes([a, [32], [32], a]) == [a, a]
    with pytest.raises(RuntimeError, match="getOutputShapes") as err:
        create(library).output_shapes([a, [32], [32]])
    assert "The b input is required" in str(err.value)


@pytest.mark.parametrize(
    ("shapes", "count", "message"),
    [
        ([(2, 5, 8), (8,), (8,), (2, 5, 8)], 2, None),
        ([(2, 5, 8), (8,), (8,)], 1, None),
        ([(2, 5, 8), (4,), (8,), (2, 5, 8)], 2, "dt_bias must have 8 elements, got 4"),
        ([(2, 5, 8), (8,), (1, 7), (2, 5, 8)], 2, "decay_scale must have 8 elements, got 7"),
        ([(2, 5, 8), (8,), (8,), (2, 1, 8)], 2, "b must have the same shape as a"),
    ],
)
def test_shapes_are_checked_before_running(library, shapes, count, message):
    ins = [FakeCudaArray(s) for s in shapes]
    outs = [FakeCudaArray(shapes[0]) for _ in range(count)]
    if message is None:  # accepted: the null fake buffers stop before enqueue
        with pytest.raises(RuntimeError, match=NULL_BUFFER_REFUSED):
            create(library, count).run(ins, outs)
        return
    with pytest.raises(RuntimeError, match="onShapeChange") as err:
        create(library, count).run(ins, outs)
    assert message in str(err.value)
