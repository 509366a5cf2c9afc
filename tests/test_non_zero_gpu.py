"""NonZero on a GPU beyond the parity cases: the CUDA launcher through its binding and the IPluginV3
plugin through the plugin host, each against onnx.reference, in every type (NaN and -0.0 in the
floats), ranks 0 to 5, empty, odd and past-2**24 sizes, unaligned inputs, outputs at their upper
bounds poisoned (what TensorRT allocates) with the count read from the size tensor, a CUDA graph
replay (no host synchronization inside), and bad arguments refused before any launch; all of it on
both launch paths (non_zero_path)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import require_creators
from tests.device_arrays import offset_view
from tests.test_non_zero import DTYPES, run_onnx_reference, sparse
from trtplug.protolib.size_tensors import check_counts, count_buffer

pytestmark = pytest.mark.gpu
SHAPES = [(), (1,), (0,), (3, 0, 2), (1001,), (33, 17), (7, 5, 3), (3, 1, 5, 7), (2, 3, 1, 4, 5), (257, 129)]
POISON = -7


@pytest.fixture(params=["list-unravel", "count-first"], autouse=True)
def non_zero_path(request, monkeypatch) -> str:
    """Every case on both launch paths (TRTPLUG_NON_ZERO, read per launch): the flat list then its
    unravel (the default), and count-first (opt-in until these cases have run on a GPU)."""
    if request.param == "count-first":
        monkeypatch.setenv("TRTPLUG_NON_ZERO", "count-first")
    else:
        monkeypatch.delenv("TRTPLUG_NON_ZERO", raising=False)
    return request.param


def device_input(cp, x: np.ndarray, offset: int = 0):
    """`x` on the device (bf16 as its uint16 storage wrapped in Bf16Device), `offset` elements in."""
    return offset_view(cp, x, offset)


def run_launcher(ext, cp, x: np.ndarray, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The launcher on `x` into a poisoned buffer of the upper bound (rank * size, one more to see
    an overrun); returns the packed [rank, N] front of it and the rest."""
    bound = x.ndim * x.size
    y = cp.full(bound + 1, POISON, dtype=cp.int64)
    count = count_buffer(cp)
    ext.non_zero([device_input(cp, x, offset)], [y, count])
    expected = run_onnx_reference(x)
    check_counts(cp, count, [expected.shape[1]], "non_zero")
    host = cp.asnumpy(y)
    return host[: expected.size].reshape(expected.shape), host[expected.size :]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_launcher_matches_onnx_reference(ext, cp, dtype: str, shape: tuple, seed: int) -> None:
    x = sparse(np.random.default_rng([seed, len(shape), sum(shape)]), shape, dtype)
    for offset in (0, 1):  # 1: the input not 16-byte aligned
        got, rest = run_launcher(ext, cp, x, offset)
        np.testing.assert_array_equal(got, run_onnx_reference(x))
        assert (rest == POISON).all(), "written past the packed [rank, N] output"


@pytest.mark.parametrize(
    ("shape", "dtype"), [((4099, 4097), "float16"), ((16777259,), "bool"), ((65, 513, 509), "int8")]
)
def test_launcher_past_2_24_elements(ext, cp, shape: tuple, dtype: str, seed: int) -> None:
    x = sparse(np.random.default_rng(seed), shape, dtype)
    got, rest = run_launcher(ext, cp, x)
    np.testing.assert_array_equal(got, np.stack(np.nonzero(x)))
    assert (rest == POISON).all()


def test_launcher_replays_in_a_cuda_graph(ext, cp) -> None:
    x = cp.asarray(np.array([[0, 3], [0, 0], [5, 0]], dtype=np.int32))
    y, count = cp.full(6, POISON, dtype=cp.int64), cp.zeros(1, dtype=cp.int32)
    workspace = cp.empty(ext.non_zero_workspace_bytes(x.size), dtype=cp.uint8)
    stream = cp.cuda.Stream(non_blocking=True)
    with stream:
        stream.begin_capture()
        ext.non_zero([x], [y, count], {}, stream, workspace)
        graph = stream.end_capture()
        x[...] = cp.asarray(np.array([[1, 0], [0, 2], [0, 4]], dtype=np.int32))  # new values before the replay
    graph.launch(stream)
    stream.synchronize()
    assert int(count[0]) == 3
    np.testing.assert_array_equal(cp.asnumpy(y[:6]).reshape(2, 3), [[0, 1, 2], [0, 1, 1]])


def test_launcher_rejects_bad_arguments(ext, cp) -> None:
    x = cp.zeros((3, 4), dtype=cp.float32)
    y, count = cp.zeros(24, dtype=cp.int64), cp.zeros(1, dtype=cp.int32)
    with pytest.raises(ValueError, match="Y must be int64"):
        ext.non_zero([x], [y.astype(cp.int32), count])
    with pytest.raises(ValueError, match="Y_count must be an int32"):
        ext.non_zero([x], [y, y])
    small = cp.zeros(ext.non_zero_workspace_bytes(x.size) - 1, dtype=cp.uint8)
    with pytest.raises(ValueError, match="workspace smaller"):
        ext.non_zero([x], [y, count], {}, None, small)
    with pytest.raises(ValueError, match="unknown attribute 'axis'"):
        ext.non_zero([x], [y, count], {"axis": 0})
    with pytest.raises(ValueError, match="outputs 'Y_count' is required"):
        ext.non_zero([x], [y])
    with pytest.raises(ValueError, match="unsupported array dtype"):
        ext.non_zero([x.astype(cp.float64)], [y, count])


@pytest.mark.pluginlib
@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "bool", "uint8"])
@pytest.mark.parametrize("shape", [(), (0, 5), (9,), (6, 7, 5)], ids=str)
def test_plugin_runs_at_upper_bounds_and_reads_the_count(library, cp, dtype: str, shape: tuple, seed: int) -> None:
    require_creators(library, "TrtplugNonZero")
    x = sparse(np.random.default_rng(seed), shape, dtype)
    expected = run_onnx_reference(x)
    plugin = library.create("TrtplugNonZero", "1", "trtplug", {}).round_trip()
    bounds = plugin.output_bounds([list(shape)])
    y, count = cp.full(tuple(bounds[0]), POISON, dtype=cp.int64), cp.full((), -1, dtype=cp.int32)
    shapes = plugin.run([device_input(cp, x)], [y, count])
    assert [tuple(s) for s in shapes] == [expected.shape, ()] and int(count) == expected.shape[1]
    np.testing.assert_array_equal(cp.asnumpy(y).ravel()[: expected.size].reshape(expected.shape), expected)
