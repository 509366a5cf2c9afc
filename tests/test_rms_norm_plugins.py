"""The RMS-norm plugins (TrtplugSimplifiedLayerNorm, TrtplugRMSNormalization) driven on the CPU
through trtplug._plugin_host: output count, types (statistics in float32 whatever X is), shapes
by the axis field, and the scale and axis checks made before any CUDA call. Numerics are in
test_parity.py and test_rms_norm_gpu.py."""

from __future__ import annotations

import pytest

from tests.conftest import require_built
from tests.fake_arrays import NULL_BUFFER_REFUSED, FakeCudaArray

pytestmark = pytest.mark.pluginlib

SIMPLIFIED = "TrtplugSimplifiedLayerNorm"
RMS = "TrtplugRMSNormalization"


@pytest.fixture(autouse=True)
def built(library) -> None:
    """A library built before the family has no creators for it: skip (fail in CI), like a missing build."""
    names = {c["name"] for c in library.creators()}
    require_built(f"{SIMPLIFIED}/{RMS}", {SIMPLIFIED, RMS} <= names, "the plugin library predates them: rebuild it")


def create(library, name: str, num_outputs: int = 2, **fields):
    base = {"axis": -1, "epsilon": 1e-5, "stash_type": 1} | ({"num_outputs": num_outputs} if name == SIMPLIFIED else {})
    plugin = library.create(name, "1", "trtplug", base | fields)
    assert plugin is not None
    return plugin


def test_output_count_comes_from_num_outputs(library):
    assert create(library, SIMPLIFIED, 1).nb_outputs == 1
    assert create(library, SIMPLIFIED, 2).round_trip().nb_outputs == 2
    assert create(library, RMS).nb_outputs == 1


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_types_statistics_in_float32(library, dtype):
    assert create(library, SIMPLIFIED).output_types([dtype, dtype]) == [dtype, "float32"]
    assert create(library, RMS).output_types([dtype, dtype]) == [dtype]
    plugin = create(library, SIMPLIFIED)
    assert plugin.supports_format_combination([dtype, dtype, dtype, "float32"])
    assert not plugin.supports_format_combination([dtype, dtype, dtype, dtype if dtype != "float32" else "float16"])


@pytest.mark.parametrize(
    ("dtypes", "message"),
    [(["int32", "int32"], "X must be float32, float16 or bfloat16, got int32"), (["float16", "float32"], "scale")],
)
def test_types_are_refused(library, dtypes, message):
    with pytest.raises(RuntimeError, match="getOutputDataTypes") as err:
        create(library, SIMPLIFIED).output_types(dtypes)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("axis", "stats"), [(-1, ["B", "S", 4, 1]), (-2, ["B", "S", 1, 1]), (1, ["B", 1, 1, 1]), (0, [1, 1, 1, 1])]
)
def test_inv_std_var_shape_follows_axis(library, axis, stats):
    x = ["B", "S", 4, 64]
    scale = [1, *x[axis:]]  # a leading 1, as some exporters write it
    shapes = create(library, SIMPLIFIED, axis=axis).output_shapes([x, scale])
    assert shapes == [x, stats]


def test_axis_out_of_range_is_refused(library):
    with pytest.raises(RuntimeError, match="getOutputShapes") as err:
        create(library, RMS, axis=3).output_shapes([["B", 8, 16], [16]])
    assert "axis 3 is out of range for X of rank 3" in str(err.value)


@pytest.mark.parametrize("name", [SIMPLIFIED, RMS])
@pytest.mark.parametrize(
    ("axis", "scale", "message"),
    [
        (-1, (16,), None),
        (-1, (1, 1, 16), None),
        (-2, (8, 16), None),
        (-2, (16,), "scale must have X's 2 normalized dims"),
        (-1, (15,), "scale must have X's 1 normalized dims"),
        (-1, (2, 16), "scale must have X's 1 normalized dims"),
    ],
)
def test_scale_shape_is_checked_before_running(library, name, axis, scale, message):
    plugin = create(library, name, 1, axis=axis)
    ins = [FakeCudaArray((2, 8, 16), "<f2"), FakeCudaArray(scale, "<f2")]
    if message is None:  # accepted: configure passes; the null fake buffers stop before enqueue
        with pytest.raises(RuntimeError, match=NULL_BUFFER_REFUSED):
            plugin.run(ins, [FakeCudaArray((2, 8, 16), "<f2")])
        return
    with pytest.raises(RuntimeError, match="configurePlugin") as err:
        plugin.run(ins, [FakeCudaArray((2, 8, 16), "<f2")])
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("fields", "message"),
    [({"stash_type": 0}, "attribute 'stash_type'"), ({"num_outputs": 3}, "attribute 'num_outputs'")],
)
def test_bad_fields_are_refused(library, log, fields, message):
    base = {"axis": -1, "epsilon": 1e-5, "stash_type": 1, "num_outputs": 1}
    assert library.create(SIMPLIFIED, "1", "trtplug", base | fields) is None
    assert any(message in text for _, text in log())
