"""AffineGrid, Det and Inverse beyond the parity cases: the adapters' shape and type rules on
the CPU (AffineGrid's output dims come from its shape input `size`), and on a GPU the
launchers on structured inputs whose results are known exactly (permutations, singular and
triangular matrices, identity transforms) plus torch as a second independent reference."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tests.device_arrays import FLOAT_DTYPES, as_float64, host_values, offset_view, poisoned_view

# ---- shape and type rules on the CPU ----------------------------------------------------------------


@pytest.mark.pluginlib
@pytest.mark.parametrize(
    ("theta", "size", "expected"),
    [
        ([2, 2, 3], [2, 3, 5, 7], [2, 5, 7, 2]),
        ([2, 3, 4], [2, 1, 3, 5, 7], [2, 3, 5, 7, 3]),
        (["N", 2, 3], ["N", "C", "H", "W"], ["N", "H", "W", 2]),
    ],
)
def test_affine_grid_shape_from_shape_input(library, theta, size, expected):
    plugin = library.create("TrtplugAffineGrid", "1", "trtplug", {"align_corners": 1})
    assert plugin.output_shapes([theta], [size]) == [expected]


@pytest.mark.pluginlib
@pytest.mark.parametrize(
    ("theta", "size", "message"),
    [
        ([2, 2, 3], None, "expected the shape input 'size'"),
        ([2, 2, 3], [2, 3, 5], "size must have 4 (2-D) or 5 (3-D) elements, got 3"),
        ([2, 3, 4], [2, 3, 5, 7], "theta must be N x 2 x 3 for a 2-D size"),
    ],
)
def test_affine_grid_rejects_shapes(library, theta, size, message):
    plugin = library.create("TrtplugAffineGrid", "1", "trtplug", {"align_corners": 0})
    with pytest.raises(RuntimeError) as err:
        plugin.output_shapes([theta], None if size is None else [size])
    assert message in str(err.value)


@pytest.mark.pluginlib
def test_affine_grid_align_corners_field(library):
    assert library.create("TrtplugAffineGrid", "1", "trtplug", {"align_corners": 2}) is None
    runtime = library.create("TrtplugAffineGrid", "1", "trtplug", {"align_corners": 1}).round_trip()
    assert runtime.fields_to_serialize() == {"align_corners": 1}


@pytest.mark.pluginlib
@pytest.mark.parametrize(("name", "per_matrix"), [("TrtplugDet", True), ("TrtplugInverse", False)])
def test_matrix_shapes_and_types(library, name, per_matrix):
    plugin = library.create(name, "1", "trtplug", {})
    expected = [["B", 3]] if per_matrix else [["B", 3, 4, 4]]
    assert plugin.output_shapes([["B", 3, 4, 4]]) == expected
    assert plugin.output_shapes([[5, 5]]) == ([[]] if per_matrix else [[5, 5]])
    assert plugin.output_types(["float16"]) == ["float16"]
    assert plugin.supports_format_combination(["float32", "float32"])
    assert not plugin.supports_format_combination(["float32", "float16"])
    for shape, message in (([3, 4], "square matrices, got 3 x 4"), ([2, 65, 65], "above 64 x 64"), ([4], "rank >= 2")):
        with pytest.raises(RuntimeError) as err:
            plugin.output_shapes([shape])
        assert message in str(err.value)
    with pytest.raises(RuntimeError, match="float32, float16 or bfloat16, got int32"):
        plugin.output_types(["int32"])


# ---- launchers on a GPU -----------------------------------------------------------------------------


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("m", [1, 2, 3, 5, 8, 9, 16, 64])
def test_det_of_permuted_triangular_matrices(ext, dtype, m):
    """det(P L U) = sign(P) prod(diag(L U)): exact in every dtype for small integer diagonals."""
    import cupy as cp

    rng = np.random.default_rng(m)
    batch = 6
    mats, dets = [], []
    for b in range(batch):
        diag = rng.choice([-1.0, 1.0, 2.0, 0.5], size=m) if b else np.ones(m)
        upper = np.triu(rng.integers(-2, 3, (m, m)).astype(np.float64), 1) + np.diag(diag)
        perm = rng.permutation(m)
        sign = np.linalg.det(np.eye(m)[perm])
        mats.append(np.eye(m)[perm] @ upper)
        dets.append(sign * np.prod(diag))
    x = offset_view(cp, host_values(np.stack(mats), dtype))
    _, y = poisoned_view(cp, (batch,), dtype)
    ext.det([x], [y])
    np.testing.assert_allclose(as_float64(y), dets, rtol=1e-5 if dtype == "float32" else 1e-3)


@pytest.mark.gpu
@pytest.mark.parametrize("m", [2, 4, 12])
def test_det_of_singular_matrices_is_zero(ext, m):
    import cupy as cp

    x = np.ones((3, m, m), dtype=np.float32)  # rank 1
    x[1] = 0.0
    x[2, :, 0] = 0.0
    y = cp.full(3, cp.nan, dtype=cp.float32)
    ext.det([cp.asarray(x)], [y])
    np.testing.assert_array_equal(cp.asnumpy(y), np.zeros(3, dtype=np.float32))


@pytest.mark.gpu
@pytest.mark.parametrize("m", [1, 3, 4, 8, 9, 33, 64])
def test_inverse_matches_torch_and_inverts(ext, m):
    import cupy as cp

    rng = np.random.default_rng(m)
    x_host = (rng.standard_normal((50, m, m)) * 0.25 + 8 * np.eye(m)).astype(np.float32)
    y = cp.full(x_host.shape, cp.nan, dtype=cp.float32)
    ext.inverse([cp.asarray(x_host)], [y])
    result = cp.asnumpy(y).astype(np.float64)
    eye = np.broadcast_to(np.eye(m), x_host.shape)
    np.testing.assert_allclose(x_host.astype(np.float64) @ result, eye, atol=2e-5)
    torch = pytest.importorskip("torch")
    expected = torch.linalg.inv(torch.as_tensor(x_host, device="cuda")).cpu().numpy()
    np.testing.assert_allclose(result, expected, atol=1e-5, rtol=1e-4)


@pytest.mark.gpu
def test_inverse_pivots_where_the_diagonal_is_zero(ext):
    import cupy as cp

    perms = [np.eye(5)[list(p)] for p in itertools.islice(itertools.permutations(range(5)), 1, 40)]
    x = np.stack(perms).astype(np.float32)  # zero diagonals: fails without pivoting
    y = cp.zeros_like(cp.asarray(x))
    ext.inverse([cp.asarray(x)], [y])
    np.testing.assert_array_equal(cp.asnumpy(y), np.transpose(x, (0, 2, 1)))


@pytest.mark.gpu
def test_matrix_launchers_reject_bad_arguments(ext):
    import cupy as cp

    with pytest.raises(ValueError, match="square"):
        ext.det([cp.zeros((2, 3, 4), dtype=cp.float32)], [cp.zeros(2, dtype=cp.float32)])
    with pytest.raises(ValueError, match="above 64"):
        ext.inverse([cp.zeros((1, 65, 65), dtype=cp.float32)], [cp.zeros((1, 65, 65), dtype=cp.float32)])
    with pytest.raises(ValueError, match="batch shape"):
        ext.det([cp.zeros((2, 3, 3), dtype=cp.float32)], [cp.zeros(3, dtype=cp.float32)])
    # The glue: the spec's required tensors must be given.
    with pytest.raises(ValueError, match="det: inputs 'X' is required"):
        ext.det([None], [cp.zeros(2, dtype=cp.float32)])
    with pytest.raises(ValueError, match="inverse: outputs 'Y' is required"):
        ext.inverse([cp.zeros((1, 2, 2), dtype=cp.float32)], [])


@pytest.mark.gpu
@pytest.mark.parametrize("align_corners", [0, 1])
@pytest.mark.parametrize("size", [(4, 3, 37, 65), (2, 1, 5, 9, 17)], ids=["2d", "3d"])
def test_affine_grid_matches_torch(ext, align_corners, size):
    import cupy as cp

    torch = pytest.importorskip("torch")
    k = len(size) - 2
    rng = np.random.default_rng(k)
    theta = rng.standard_normal((size[0], k, k + 1)).astype(np.float32)
    grid = cp.full((size[0], *size[2:], k), cp.nan, dtype=cp.float32)
    ext.affine_grid([cp.asarray(theta), cp.asarray(size, dtype=cp.int64)], [grid], {"align_corners": align_corners})
    expected = torch.nn.functional.affine_grid(
        torch.as_tensor(theta, device="cuda"), list(size), align_corners=bool(align_corners)
    )
    np.testing.assert_allclose(cp.asnumpy(grid), expected.cpu().numpy(), atol=1e-5, rtol=1e-5)


@pytest.mark.gpu
def test_affine_grid_binding_rejects_what_the_spec_forbids(ext):
    """The glue checks align_corners against the spec's choices (0, 1) before any launch."""
    import cupy as cp

    theta = cp.asarray(np.tile(np.eye(2, 3, dtype=np.float32), (2, 1, 1)))
    size = cp.asarray([2, 1, 3, 5], dtype=cp.int64)
    grid = cp.full((2, 3, 5, 2), cp.nan, dtype=cp.float32)
    with pytest.raises(ValueError, match="affine_grid: attribute 'align_corners'"):
        ext.affine_grid([theta, size], [grid], {"align_corners": 2})
    assert bool(cp.isnan(grid).all())
    with pytest.raises(ValueError, match="affine_grid: size must be int64"):
        ext.affine_grid([theta, size[:3]], [grid])


@pytest.mark.gpu
@pytest.mark.pluginlib
def test_affine_grid_plugin_takes_size_as_shape_input(library):
    """The host passes `size` only to getOutputShapes, as TensorRT does with shape inputs."""
    import cupy as cp

    plugin = library.create("TrtplugAffineGrid", "1", "trtplug", {"align_corners": 1})
    theta = cp.asarray(np.array([[[1, 0, 0], [0, 1, 0]]] * 2, dtype=np.float32))  # identity
    grid = cp.full((2, 3, 5, 2), cp.nan, dtype=cp.float32)
    plugin.run([theta], [grid], shape_inputs=[[2, 7, 3, 5]])
    xs, ys = np.meshgrid(np.linspace(-1, 1, 5), np.linspace(-1, 1, 3))
    np.testing.assert_allclose(cp.asnumpy(grid)[1], np.stack([xs, ys], -1), atol=1e-6)
    with pytest.raises(ValueError, match="shape"):
        plugin.run([theta], [grid], shape_inputs=[[2, 7, 3, 6]])  # size and the output disagree


@pytest.mark.gpu
@pytest.mark.pluginlib
def test_affine_grid_3d_with_zero_depth_writes_nothing(ext, library):
    """size (N, C, 0, H, W): an empty 3-D grid. The launcher once took D = 0 for the 2-D form and
    wrote N x H x W x 2 values into it; here the bytes after the empty view must stay poisoned."""
    import cupy as cp

    theta = cp.asarray(np.tile(np.eye(3, 4, dtype=np.float32), (2, 1, 1)))
    backing = cp.full(2 * 5 * 7 * 3, cp.nan, dtype=cp.float32)
    grid = backing[:0].reshape(2, 0, 5, 7, 3)
    ext.affine_grid([theta, cp.asarray([2, 1, 0, 5, 7], dtype=cp.int64)], [grid])
    plugin = library.create("TrtplugAffineGrid", "1", "trtplug", {"align_corners": 0})
    plugin.run([theta], [grid], shape_inputs=[[2, 1, 0, 5, 7]])
    cp.cuda.Device().synchronize()
    assert bool(cp.isnan(backing).all())


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("size", [(3, 1, 7, 5), (2, 1, 3, 5, 7)], ids=["2d", "3d"])
def test_affine_grid_unaligned_output_stores_element_by_element(ext, dtype, size):
    """An output one element past a 16-byte boundary takes the element-store path: every point
    written, nothing before or after the output."""
    import cupy as cp

    torch = pytest.importorskip("torch")
    k = len(size) - 2
    theta = np.random.default_rng(5).standard_normal((size[0], k, k + 1)).astype(dtype)
    shape = (size[0], *size[2:], k)
    flat = cp.full(int(np.prod(shape)) + 2, cp.nan, dtype=dtype)
    grid = flat[1:-1].reshape(shape)
    ext.affine_grid([cp.asarray(theta), cp.asarray(size, dtype=cp.int64)], [grid], {"align_corners": 0})
    theta32 = torch.as_tensor(theta.astype(np.float32))
    expected = torch.nn.functional.affine_grid(theta32, list(size), align_corners=False)
    tol = 1e-5 if dtype == "float32" else 2e-3
    np.testing.assert_allclose(cp.asnumpy(grid).astype(np.float32), expected.numpy(), atol=tol, rtol=tol)
    assert bool(cp.isnan(flat[0])) and bool(cp.isnan(flat[-1]))
