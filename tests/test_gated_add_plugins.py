"""TrtplugGatedAdd driven on the CPU through trtplug._plugin_host: one output, types (X, Y and gate of
one float type, the output X's), formats, symbolic output shapes, and the shape checks made before
any CUDA call (ONNX Runtime's wording, with the shapes). Numerics: test_parity.py, test_gated_add*.py."""

from __future__ import annotations

import pytest

from tests.conftest import require_creators
from tests.fake_arrays import NULL_BUFFER_REFUSED, FakeCudaArray

pytestmark = pytest.mark.pluginlib
NAME = "TrtplugGatedAdd"
DTYPES = ["float32", "float16", "bfloat16"]


@pytest.fixture(autouse=True)
def built(library) -> None:
    require_creators(library, NAME)


def create(library):
    plugin = library.create(NAME, "1", "trtplug", {})
    assert plugin is not None
    return plugin


def test_one_output(library):
    assert create(library).nb_outputs == 1
    assert create(library).round_trip().nb_outputs == 1


@pytest.mark.parametrize("dtype", DTYPES)
def test_types(library, dtype):
    plugin = create(library)
    assert plugin.output_types([dtype] * 3) == [dtype]
    assert plugin.supports_format_combination([dtype] * 4)
    other = "float16" if dtype != "float16" else "bfloat16"
    for pos in range(4):  # any tensor of another type
        combination = [dtype] * 4
        combination[pos] = other
        assert not plugin.supports_format_combination(combination), pos
    assert not plugin.supports_format_combination(["int32"] * 4)


@pytest.mark.parametrize(
    ("dtypes", "message"),
    [
        (["int32", "int32", "int32"], "X must be float32, float16 or bfloat16, got int32"),
        (["float16", "float32", "float16"], "Y must have X's type float16, got float32"),
        (["bfloat16", "bfloat16", "float32"], "gate must have X's type bfloat16, got float32"),
    ],
)
def test_types_are_refused(library, dtypes, message):
    with pytest.raises(RuntimeError, match="getOutputDataTypes") as err:
        create(library).output_types(dtypes)
    assert message in str(err.value)


def test_shapes_follow_x(library):
    x = ["B", "S", 2048]
    assert create(library).output_shapes([x, x, ["B", "S", 1]]) == [x]
    assert create(library).output_shapes([[7], [7], [1]]) == [[7]]


@pytest.mark.parametrize(
    ("shapes", "message"),
    [
        ([[], [], []], "X must have rank >= 1"),
        ([["B", 8], ["B", "S", 8], ["B", 1]], "Y must have the same shape as X (rank 3, X's is 2)"),
        ([["B", "S", 8], ["B", "S", 8], ["B", 1]], "gate must have the same rank as X (rank 2, X's is 3)"),
        ([["B", "S", 8], ["B", "S", 8], ["B", "S", 8]], "gate last dimension must be 1, got 8"),
    ],
    ids=["rank_0", "y_rank", "gate_rank", "gate_last_dim"],
)
def test_output_shapes_refuse(library, shapes, message):
    with pytest.raises(RuntimeError, match="getOutputShapes") as err:
        create(library).output_shapes(shapes)
    assert message in str(err.value)


RUN = "onShapeChange"  # dims known only when the plugin runs
EXPRS = "getOutputShapes"  # constant dims, refused before


@pytest.mark.parametrize(
    ("shapes", "phase", "message"),
    [
        ([(2, 5, 8), (2, 5, 8), (2, 5, 1)], None, None),
        ([(9, 3), (9, 3), (9, 1)], None, None),
        ([(2, 5, 8), (2, 5, 4), (2, 5, 1)], RUN, "Y must have the same shape as X (X [2, 5, 8], Y [2, 5, 4])"),
        ([(2, 5, 8), (2, 5, 8), (2, 1, 1)], RUN, "gate dimension 1 must match X (X [2, 5, 8], gate [2, 1, 1])"),
        ([(2, 5, 8), (2, 5, 8), (1, 5, 1)], RUN, "gate dimension 0 must match X (X [2, 5, 8], gate [1, 5, 1])"),
        ([(3, 0), (3, 0), (3, 1)], RUN, "X last dimension must be positive, got 0"),
        ([(2, 5, 8), (2, 5, 8), (2, 5, 2)], EXPRS, "gate last dimension must be 1, got 2"),
        ([(2, 5, 8), (2, 5, 8), (10, 1)], EXPRS, "gate must have the same rank as X (rank 2, X's is 3)"),
    ],
    ids=["qwen", "rank2", "y_shape", "gate_dim_1", "gate_dim_0", "c_0", "gate_last_dim", "gate_rank"],
)
def test_shapes_are_checked_before_running(library, shapes, phase, message):
    ins = [FakeCudaArray(s) for s in shapes]
    outs = [FakeCudaArray(shapes[0])]
    if message is None:  # accepted: the null fake buffers stop before enqueue
        with pytest.raises(RuntimeError, match=NULL_BUFFER_REFUSED):
            create(library).run(ins, outs)
        return
    with pytest.raises(RuntimeError, match=phase) as err:
        create(library).run(ins, outs)
    assert message in str(err.value)
