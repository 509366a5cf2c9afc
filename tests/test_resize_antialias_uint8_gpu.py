"""uint8 images through the antialiased Resize on a GPU (the launcher and the plugin): onnx.reference's
semantics (float interpolation, rounded half to even and clamped to 0..255 once), exact except by 1
within 1e-3 of a .5 (tests/test_resize_antialias_uint8.py). Every geometry of that file, random
bytes and hard 0/255 edges (cubic overshoot), float32 intermediates over three passes, an unaligned
input view, a table too large for the tap-table room (per-element path), exact halves, and a pass
past 2**31 elements (int64 indices). Outputs are poisoned with a value off the expected one."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import require_built
from tests.device_arrays import offset_view
from tests.test_resize_antialias_uint8 import (
    GEOMETRIES,
    assert_matches_reference,
    image,
    poisoned,
    uint8_reference,
)

pytestmark = pytest.mark.gpu


def run_launcher(ext, cp, x: np.ndarray, fields: dict, offset: int = 0) -> np.ndarray:
    y = cp.asarray(poisoned(x, fields))
    ext.resize_antialias([offset_view(cp, x, offset)], [y], fields)
    cp.cuda.get_current_stream().synchronize()
    return cp.asnumpy(y)


@pytest.mark.parametrize("kind", ["bytes", "edges"])
@pytest.mark.parametrize("mode", ["linear", "cubic"])
@pytest.mark.parametrize("name", list(GEOMETRIES))
def test_launcher_matches_onnx_reference(ext, cp, name: str, mode: str, kind: str) -> None:
    shape, given = GEOMETRIES[name]
    fields = {"antialias": 1, "mode": mode, **given}
    x = image(shape, 17, kind)
    assert_matches_reference(run_launcher(ext, cp, x, fields, offset=3), x, fields)


@pytest.mark.parametrize("mode", ["linear", "cubic"])
def test_per_element_path_and_exact_halves(ext, cp, mode: str) -> None:
    """150001 outputs x 4+ taps of weights pass the 512 KiB table room: the per-element path."""
    fields = {"antialias": 1, "mode": mode, "axes": [1], "sizes": [150001]}
    x = image((2, 200003), 5, "edges")
    assert_matches_reference(run_launcher(ext, cp, x, fields), x, fields)
    halves = {"antialias": 1, "mode": "linear", "scales": [1.0, 0.5]}
    x = image((64, 96), 6, "bytes")
    np.testing.assert_array_equal(run_launcher(ext, cp, x, halves), uint8_reference(x, halves))


def test_pass_past_int32_elements(ext, cp) -> None:
    """2**28 + 3 rows of 8 bytes (2**31 + 24 inputs) resized to 5 columns: the int64-index kernel.
    Rows are random, so an index wrapped by 2**31 or 2**32 reads another row's bytes."""
    rows = 2**28 + 3
    fields = {"antialias": 1, "mode": "cubic", "axes": [1], "sizes": [5]}
    x = cp.random.randint(0, 256, (rows, 8), dtype=cp.int32).astype(cp.uint8)
    y = cp.zeros((rows, 5), dtype=cp.uint8)
    ext.resize_antialias([x], [y], fields)
    cp.cuda.get_current_stream().synchronize()
    for window in (slice(0, 64), slice(rows - 64, rows)):
        head = cp.asnumpy(x[window])
        assert_matches_reference(cp.asnumpy(y[window]), head, fields)


@pytest.mark.pluginlib
def test_plugin_through_the_host(library, cp) -> None:
    """The IPluginV3 plugin in uint8, round-tripped, with TensorRT's workspace (three passes)."""
    shape, given = GEOMETRIES["rank5"]
    fields = {"antialias": 1, "mode": "cubic", **given}
    plugin = library.create("TrtplugResizeAntialias", "1", "trtplug", fields)
    # an old library without the plugin skips with that reason, and fails under TRTPLUG_REQUIRE_NATIVE=1
    require_built("TrtplugResizeAntialias", plugin is not None, "libtrtplug_plugins.so predates it: rebuild it")
    assert plugin.output_types(["uint8"]) == ["uint8"]
    x = image(shape, 9, "edges")
    y = cp.asarray(poisoned(x, fields))
    plugin.round_trip().run([cp.asarray(x)], [y])
    assert_matches_reference(cp.asnumpy(y), x, fields)
