"""TrtplugGatedRMSNorm driven on the CPU through trtplug._plugin_host: types (scale and gate follow
X), formats, shapes, the activation rule, and the group checks made before any CUDA call.
Numerics are in test_parity.py and test_gated_rms_norm_gpu.py."""

from __future__ import annotations

import pytest

from tests.conftest import require_creators
from tests.fake_arrays import NULL_BUFFER_REFUSED, FakeCudaArray

pytestmark = pytest.mark.pluginlib
NAME = "TrtplugGatedRMSNorm"


@pytest.fixture(autouse=True)
def built(library) -> None:
    require_creators(library, NAME)


def create(library, **fields):
    plugin = library.create(NAME, "1", "trtplug", {"activation": "silu", "epsilon": 1e-6} | fields)
    assert plugin is not None
    return plugin


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_types_follow_x(library, dtype):
    plugin = create(library)
    assert plugin.output_types([dtype] * 3) == [dtype]
    assert plugin.round_trip().output_types([dtype] * 3) == [dtype]
    assert plugin.supports_format_combination([dtype] * 4)
    other = "float16" if dtype == "float32" else "float32"
    assert not plugin.supports_format_combination([dtype, dtype, other, dtype])
    assert not plugin.supports_format_combination([dtype, dtype, dtype, other])


@pytest.mark.parametrize(
    ("dtypes", "message"),
    [
        (["int32"] * 3, "X must be float32, float16 or bfloat16, got int32"),
        (["float16", "float32", "float16"], "scale"),
    ],
)
def test_types_are_refused(library, dtypes, message):
    with pytest.raises(RuntimeError, match="getOutputDataTypes") as err:
        create(library).output_types(dtypes)
    assert message in str(err.value)


def test_output_shape_is_x(library):
    assert create(library).output_shapes([["B", "S", 128], [32], ["B", "S", 128]]) == [["B", "S", 128]]


@pytest.mark.parametrize(
    ("x", "scale", "gate", "message"),
    [
        ((2, 8, 16), (4,), (2, 8, 16), None),
        ((2, 8, 16), (1, 16), (2, 8, 16), None),
        ((2, 8, 16), (5,), (2, 8, 16), "X last dimension (16) must be a multiple of the scale length (5)"),
        ((2, 8, 16), (4,), (2, 1, 16), "gate must have the same shape as X"),
    ],
)
def test_groups_are_checked_before_running(library, x, scale, gate, message):
    ins = [FakeCudaArray(x), FakeCudaArray(scale), FakeCudaArray(gate)]
    if message is None:  # accepted: the null fake buffers stop before enqueue
        with pytest.raises(RuntimeError, match=NULL_BUFFER_REFUSED):
            create(library).run(ins, [FakeCudaArray(x)])
        return
    with pytest.raises(RuntimeError, match="onShapeChange") as err:
        create(library).run(ins, [FakeCudaArray(x)])
    assert message in str(err.value)


@pytest.mark.parametrize("activation", ["relu", "gelu", ""])
def test_unknown_activation_is_refused(library, log, activation):
    assert library.create(NAME, "1", "trtplug", {"activation": activation, "epsilon": 1e-6}) is None
    assert any("attribute 'activation'" in text for _, text in log())
