"""The known cubic half_pixel_symmetric mismatch (issue 18): a length of 53 resized by 0.29.

The middle output (o = 7 of 15) samples the input's centre, exactly 26: the output centre 7.5
maps to the input centre 26.5 (the mode's purpose), minus the half pixel. In float64 the formula
gives 26.000000000000004, one ulp above. onnx.reference (1.23) weighs its 14 taps at
floor(x) - 6 .. floor(x) + 7 = 20..33 but picks the pixels from x + 7 (its edge padding), which
rounds to 33.0, an integer, whose tie-break starts the window at 19: every weight lands one pixel
to the left. On N(0, 1) data the output is off by ~0.26 (0.31 on the GPU test's uniform data).
Ours (prototype, and the kernel's shared coordinate code, resize_math.cuh) take the 14 taps
from ceil(x) - 7 = 20 with the same weights; at an exact 26 the window would be 19..32, but the
window's end taps always weigh 0 there (n / 2 = ceil(2 / s) taps away: t >= 2), so both windows
give one value. ONNX Runtime CPU agrees with us to ~1e-6 at every output; so does the
definition evaluated at the exact coordinate (below). This case is therefore pinned to ONNX
Runtime, not onnx.reference (the op's parity reference, which stays right elsewhere): here and
as the spec's parity case "half_pixel_symmetric_centre" (reference = "onnxruntime"), which the
host check and the GPU parity run (launcher, plugin) take too.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.test_resize_antialias_gpu import onnx_reference
from trtplug.parity.impl_base import pyplugin_module
from trtplug.registry import load_registry

SPEC = load_registry().get("resize_antialias")
# 2-D: ONNX Runtime's antialiased cubic takes 2-D (or NCHW) inputs only.
SHAPE = (53, 3)
FIELDS = {
    "antialias": 1,
    "mode": "cubic",
    "coordinate_transformation_mode": "half_pixel_symmetric",
    "scales": [0.29, 1.0],
}
CENTRE = 7  # the output sampling input 26


def onnxruntime_resize(x: np.ndarray, fields: dict) -> np.ndarray:
    ort = pytest.importorskip("onnxruntime")
    attrs = {k: v for k, v in fields.items() if k != "scales"}
    node = helper.make_node("Resize", ["x", "", "scales"], ["y"], **attrs)
    graph = helper.make_graph(
        [node],
        "r",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.array(fields["scales"], np.float32), "scales")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)], ir_version=9)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def prototype_resize(x: np.ndarray, fields: dict) -> np.ndarray:
    module = pyplugin_module(SPEC)
    (shape,) = module.output_shapes([x], fields)
    y = np.full(shape, np.nan, np.float32)
    module.forward(np, [x], [y], fields)
    return y


def centre_from_the_definition(x: np.ndarray) -> np.ndarray:
    """Output CENTRE from the ONNX formulas with the coordinate in exact rationals (float64 weights)."""
    scale = Fraction(float(np.float32(0.29)))
    width = scale * SHAPE[0]
    out_len = int(width)  # floor(15.37) = 15
    coordinate = Fraction(SHAPE[0], 2) * (1 - out_len / width) + (CENTRE + Fraction(1, 2)) / scale - Fraction(1, 2)
    assert coordinate == 26
    s, a = float(scale), -0.75
    taps = np.arange(19, 34)  # every pixel within the support (t < 2) and the zero-weight ends
    t = np.abs(taps - 26) * s
    far = np.where(t < 2, ((a * t - 5 * a) * t + 8 * a) * t - 4 * a, 0.0)
    w = np.where(t <= 1, ((a + 2) * t - (a + 3)) * t * t + 1, far)
    w = w / w.sum()
    return w @ x[np.clip(taps, 0, SHAPE[0] - 1)].astype(np.float64)


@pytest.fixture
def x(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1.0, 1.0, SHAPE).astype(np.float32)


def test_prototype_matches_onnxruntime_and_the_definition(x: np.ndarray) -> None:
    tol = SPEC.tolerance("float32")
    y = prototype_resize(x, FIELDS)
    np.testing.assert_allclose(y, onnxruntime_resize(x, FIELDS), rtol=tol.rtol, atol=tol.atol)
    np.testing.assert_allclose(y[CENTRE], centre_from_the_definition(x), rtol=1e-5, atol=1e-6)


def test_onnx_reference_misplaces_the_centre_window(x: np.ndarray) -> None:
    """Why this case is pinned to ONNX Runtime: onnx.reference differs at the centre output only.
    When this fails, onnx.reference has been fixed: the case can move back to it."""
    ours, theirs = prototype_resize(x, FIELDS), onnx_reference(x, FIELDS)
    differs = ~np.isclose(ours, theirs, rtol=1e-4, atol=3e-4)
    # any, not all, centre columns: on some random columns the misplaced window lands close by chance
    assert differs[CENTRE].any() and not np.delete(differs, CENTRE, axis=0).any()
    shifted = x.copy()  # its pixels one to the left of ours: ours on x moved right by one
    shifted[1:] = x[:-1]
    np.testing.assert_allclose(prototype_resize(shifted, FIELDS)[CENTRE], theirs[CENTRE], rtol=1e-4, atol=3e-4)


@pytest.mark.slow
@pytest.mark.parametrize("path", ["element", "table"])
def test_kernel_coordinate_code_matches_onnxruntime(tmp_path: Path, x: np.ndarray, path: str) -> None:
    """The kernel's coordinate, window and weights (resize_math.cuh, both paths) on the host."""
    from tests.test_resize_antialias_host import build_host_check, run_host

    binary = build_host_check(tmp_path)
    y, report = run_host(binary, tmp_path, x, {**FIELDS, "axes": [0, 1]}, path)
    assert y is not None, report
    tol = SPEC.tolerance("float32")
    np.testing.assert_allclose(y, onnxruntime_resize(x, FIELDS), rtol=tol.rtol, atol=tol.atol)
