"""The IPluginV3 plugins executed on a GPU through trtplug._plugin_host, as an engine runs them:
configurePlugin, workspace, attachToContext, onShapeChange, enqueue, on both the build-phase
object and the one re-created from its serialized fields (runtime phase).

FastGelu is compared with a float64 NumPy evaluation of its formula at the spec's tolerances
(the parity suite ties that formula to ONNX Runtime); outputs are poisoned with NaN first so
an element the plugin fails to write cannot pass.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import require_built
from tests.device_arrays import FLOAT_DTYPES, as_float64, host_values, offset_view, poisoned_view
from trtplug.registry import load_registry

pytestmark = [pytest.mark.gpu, pytest.mark.pluginlib]

SHAPES = [(0,), (1,), (7,), (3, 5, 33), (2, 0, 8), (1024, 4096)]  # last: 4M elements


def fast_gelu_reference(x: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    v = x.astype(np.float64) + (0.0 if bias is None else bias.astype(np.float64))
    return 0.5 * v * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (v + 0.044715 * v**3)))


@pytest.fixture(scope="module")
def fast_gelu_spec():
    return next(s for s in load_registry().ops.values() if s.plugin.name == "TrtplugFastGelu")


@pytest.fixture(scope="module", params=["build", "runtime"])
def gelu(request, library):
    plugin = library.create("TrtplugFastGelu", "1", "trtplug", {})
    assert plugin is not None
    return plugin if request.param == "build" else plugin.round_trip()


def shape_id(shape: tuple[int, ...]) -> str:
    # "large" lets scripts/gpu_test.sh leave the 4M case out of its compute-sanitizer pass.
    return "large" if math.prod(shape) > 1 << 20 else "x".join(map(str, shape))


@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
@pytest.mark.parametrize("with_bias", [False, True], ids=["no-bias", "bias"])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_fast_gelu_matches_reference(cp, gelu, fast_gelu_spec, seed, shape, with_bias, dtype):
    """bf16 reaches the plugin as "<V2" arrays, which the host describes to it as kBF16."""
    rng = np.random.default_rng([seed, len(shape), shape[-1], int(with_bias)])
    x_host = host_values(rng.standard_normal(shape) * 3, dtype)
    b_host = host_values(rng.standard_normal(shape[-1]) * 3, dtype) if with_bias else None
    inputs = [offset_view(cp, x_host)] + ([offset_view(cp, b_host)] if with_bias else [])
    _, y = poisoned_view(cp, shape, dtype)
    gelu.run(inputs, [y], cp.cuda.get_current_stream())
    tol = fast_gelu_spec.tolerances[dtype]
    np.testing.assert_allclose(as_float64(y), fast_gelu_reference(x_host, b_host), atol=tol.atol, rtol=tol.rtol)


def test_fast_gelu_on_a_side_stream(cp, gelu):
    x = cp.linspace(-6, 6, 4096 * 3, dtype=cp.float32).reshape(3, 4096)
    bias = cp.full(4096, 0.5, dtype=cp.float32)
    y = cp.full(x.shape, cp.nan, dtype=cp.float32)
    cp.cuda.Device().synchronize()
    stream = cp.cuda.Stream(non_blocking=True)
    gelu.run([x, bias], [y], stream, synchronize=False)
    stream.synchronize()
    np.testing.assert_allclose(
        cp.asnumpy(y), fast_gelu_reference(cp.asnumpy(x), cp.asnumpy(bias)), atol=1e-5, rtol=1e-5
    )


def test_fast_gelu_rejects_wrong_output_before_running(cp, gelu):
    x = cp.ones((4, 8), dtype=cp.float16)
    y = cp.full((4, 9), cp.nan, dtype=cp.float16)
    with pytest.raises(ValueError, match="output 0 has shape"):
        gelu.run([x], [y])
    assert bool(cp.isnan(y).all())


@pytest.mark.parametrize("mode", ["copy", "zero"])
@pytest.mark.parametrize("count", [0, 1 << 20])
def test_probe_plugin_workspace_and_fields(cp, host, mode, count):
    """The field probe clears `count` bytes of workspace then copies or zeroes its input."""
    path = Path(host.__file__).with_name("libtrtplug_host_probe.so")
    require_built("libtrtplug_host_probe.so", path.is_file(), f"not found next to {host.__file__}")
    fields = {"alpha": 1.0, "count": count, "axes": [0], "scales": [1.0], "mode": mode}
    plugin = host.PluginLibrary(str(path)).create("TrtplugFieldProbe", fields=fields).round_trip()
    x = cp.arange(1000, dtype=cp.int32)
    y = cp.full(1000, -1, dtype=cp.int32)
    plugin.run([x], [y])
    cp.testing.assert_array_equal(y, x if mode == "copy" else cp.zeros_like(x))
