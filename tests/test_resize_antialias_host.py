"""The antialiased Resize launcher's algorithm without a GPU: tests/fixtures/resize_antialias/
host_check.cu compiles the op's .cu files with nvcc and runs its planning (planResize, pass order,
per-pass geometry) and its per-output functions (resizedValue, the per-element path; fillTapRow
and tabledValue, the tap-table path) on the host, over every parity case of the spec, against
the op's reference (onnx.reference).
What it cannot check (device index math, scratch buffers, dtypes) the GPU tests do."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from trtplug.parity.cases import default_cases, make_inputs
from trtplug.parity.reference import run_reference
from trtplug.registry import load_registry

pytestmark = pytest.mark.slow  # an nvcc build (~15 s)

ROOT = Path(__file__).parent.parent
SPEC = load_registry().get("resize_antialias")
CASES = {c.name: c for c in default_cases(SPEC)}


def build_host_check(build: Path) -> Path:
    """tests/fixtures/resize_antialias/host_check.cu built into `build` (skips without nvcc)."""
    if not shutil.which("nvcc"):
        pytest.skip("nvcc is needed to build the host check")
    glue = build / "generated" / "resize_antialias" / "op_glue.h"
    spec = ROOT / "plugins" / "resize_antialias" / "spec.toml"
    subprocess.run([sys.executable, str(ROOT / "cmake" / "generate_op_glue.py"), str(spec), str(glue)], check=True)
    binary = build / "host_check"
    source = ROOT / "tests" / "fixtures" / "resize_antialias" / "host_check.cu"
    command = [
        "nvcc",
        "-std=c++17",
        "-w",
        f"-I{ROOT / 'plugins'}",
        f"-I{build / 'generated'}",
        str(source),
        "-o",
        str(binary),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=600)
    return binary


@pytest.fixture(scope="module")
def host_check(tmp_path_factory) -> Path:
    return build_host_check(tmp_path_factory.mktemp("resize_host"))


def run_host(
    binary: Path, tmp_path: Path, x: np.ndarray, fields: dict, path: str = "element", out: str = "float32"
) -> tuple[np.ndarray | None, str]:
    """The host check on x (passed as float32); `out` "uint8": the last pass stored as uint8 kernels do."""
    lines = [
        f"path {path}",
        f"out {out}",
        f"mode {fields['mode']}",
        f"coord {fields.get('coordinate_transformation_mode', 'half_pixel')}",
        f"policy {fields.get('keep_aspect_ratio_policy', 'stretch')}",
        f"a {float(fields.get('cubic_coeff_a', -0.75))!r}",
        f"exclude {int(fields.get('exclude_outside', 0))}",
        f"extrapolation {float(fields.get('extrapolation_value', 0.0))!r}",
        "dims " + " ".join(map(str, x.shape)),
    ]
    lines += [f"{k} " + " ".join(map(str, fields[k])) for k in ("axes", "sizes", "scales", "roi") if fields.get(k)]
    (tmp_path / "params.txt").write_text("\n".join(lines) + "\n")
    x.astype(np.float32).tofile(tmp_path / "x.bin")
    done = subprocess.run(
        [str(binary), str(tmp_path / "params.txt"), str(tmp_path / "x.bin"), str(tmp_path / "y.bin")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        return None, done.stdout + done.stderr
    shape = tuple(int(v) for v in done.stdout.split(" out")[1].split())
    return np.fromfile(tmp_path / "y.bin", np.float32).reshape(shape), done.stdout


@pytest.mark.parametrize("path", ["element", "table"])
@pytest.mark.parametrize("name", list(CASES))
def test_launcher_algorithm_matches_the_reference(
    host_check: Path, tmp_path: Path, name: str, path: str, seed: int
) -> None:
    """Both paths of the launcher: per-element weights (resizedValue) and the tap tables."""
    case = CASES[name]
    inputs = make_inputs(SPEC, case, seed)
    (expected,) = run_reference(SPEC, case, inputs)
    fields = {**case.attrs, **{k: np.asarray(v).tolist() for k, v in inputs.items() if k != "X"}}
    y, report = run_host(host_check, tmp_path, inputs["X"], fields, path)
    assert y is not None, report
    assert f"tables {int(path == 'table')}" in report
    assert y.shape == expected.shape, report
    tol = SPEC.tolerance("float32")
    np.testing.assert_allclose(y, expected, rtol=tol.rtol, atol=tol.atol)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"mode": "linear", "sizes": [3], "scales": [0.5]}, "exactly one of scales and sizes"),
        ({"mode": "linear", "sizes": [3, 3]}, "one value per resized axis"),
        ({"mode": "nearest", "sizes": [3]}, "attribute 'mode' must be linear or cubic"),
        ({"mode": "linear", "sizes": [3], "axes": [1]}, "attribute 'axes': axis 1 out of range"),
        ({"mode": "linear", "scales": [-1.0]}, "scales must be > 0"),
        ({"mode": "linear", "sizes": [3], "coordinate_transformation_mode": "tf_crop_and_resize"}, "needs roi"),
    ],
)
def test_planning_refuses_bad_fields(host_check: Path, tmp_path: Path, fields: dict, message: str) -> None:
    y, report = run_host(host_check, tmp_path, np.zeros(7, np.float32), fields)
    assert y is None and message in report


@pytest.mark.parametrize(
    ("shape", "fields"),
    [
        ((2, 3, 37, 53), {"scales": [1.45, 0.31], "coordinate_transformation_mode": "half_pixel_symmetric"}),
        ((2, 3, 37, 53), {"scales": [0.37, 1.7], "coordinate_transformation_mode": "asymmetric"}),
        (
            (2, 3, 37, 53),
            {
                "scales": [0.37, 1.7],
                "coordinate_transformation_mode": "tf_crop_and_resize",
                "roi": [0.1, -0.2, 0.8, 1.15],
                "extrapolation_value": 0.25,
            },
        ),
        ((3, 45, 19), {"sizes": [7, 61], "exclude_outside": 1, "cubic_coeff_a": -0.3}),
        ((1000,), {"scales": [0.137], "coordinate_transformation_mode": "align_corners"}),
        ((6, 70, 3), {"scales": [0.45], "axes": [1], "coordinate_transformation_mode": "pytorch_half_pixel"}),
    ],
)
@pytest.mark.parametrize("mode", ["linear", "cubic"])
def test_table_path_on_the_gpu_tests_geometry(host_check: Path, tmp_path: Path, shape, fields, mode) -> None:
    """The tap tables over tests/test_resize_antialias_tables_gpu.py's cases (host, float32)."""
    from tests.test_resize_antialias_gpu import onnx_reference

    fields = {"antialias": 1, "mode": mode, "axes": list(range(len(shape)))[-2:], **fields}
    x = np.random.default_rng(0).uniform(-1.0, 1.0, shape).astype(np.float32)
    expected = onnx_reference(x, fields)
    y, report = run_host(host_check, tmp_path, x, fields, "table")
    assert y is not None and "tables 1" in report, report
    tol = SPEC.tolerance("float32")
    np.testing.assert_allclose(y, expected, rtol=tol.rtol, atol=tol.atol)
