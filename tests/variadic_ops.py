"""Two test-local variadic ops as a plugin project (spec, CuPy/NumPy prototype, reference), for the
prototype plugin's variadic tests (tests/test_protoplugin_variadic*.py): no built-in op is
variadic. `test_sum` is ai.onnx Sum (data_0: 1..64 tensors; reference onnx.reference);
`test_scaled_sum` has a fixed int32 input before its variadic one (y = alpha
* scale * sum(data); reference: NumPy in float64, below), so positions past the first map to
the copies."""

from __future__ import annotations

from pathlib import Path

from tests.test_spec import write_op
from tests.test_variadic_rewrite import SUM_SPEC
from trtplug.registry import load_registry
from trtplug.spec import OpSpec

BF16_TOLERANCE = "\n[tolerances.bfloat16]\natol = 2e-2\nrtol = 2e-2\n"
SUM = (
    SUM_SPEC.replace("min_count = 2", "min_count = 1")
    .replace('T = ["float32", "float16"]', 'T = ["float32", "float16", "bfloat16"]')
    .replace("\n[reference]", BF16_TOLERANCE + "\n[reference]")
)

SCALED_SUM = (
    """
[plugin]
name = "TrtplugTestScaledSum"
version = "1"
namespace = "trtplug_test"

[[replaces]]
domain = "com.example"
op_type = "ScaledSum"
since_version = 1

[type_constraints]
T = ["float32", "float16", "bfloat16"]

[[attributes]]
name = "alpha"
type = "float"
default = 0.5

[[inputs]]
name = "scale"
type = "int32"

[[inputs]]
name = "data"
type = "T"
variadic = true
min_count = 1

[[outputs]]
name = "y"
type = "T"
shape = "same_as:data"

# float32: scale's integers (tens) magnify the float32 sum's rounding past 1e-5.
[tolerances.float32]
atol = 1e-4
rtol = 1e-5

[tolerances.float16]
atol = 2e-3
rtol = 2e-3
"""
    + BF16_TOLERANCE
    + """
[reference]
kind = "numpy"
"""
)

# The prototypes get the variadic tensors as the tail of `inputs`, as parity passes them.
SUM_PROTOTYPE = """
def forward(xp, inputs, outputs, attrs):
    total = inputs[0].astype(xp.float32)
    for x in inputs[1:]:
        total = total + x.astype(xp.float32)
    outputs[0][...] = total.astype(outputs[0].dtype)


def output_dims(inputs, attrs, builder):
    # Broadcast over every tensor (the spec rule follows the first): proves the hook gets them all.
    rank = max(len(d) for d in inputs)
    padded = [[None] * (rank - len(d)) + list(d) for d in inputs]
    dims = []
    for column in zip(*padded):
        present = [d for d in column if d is not None]
        extent = present[0]
        for d in present[1:]:
            extent = extent.maximum(d)
        dims.append(extent)
    return [tuple(dims)]
"""

SCALED_SUM_PROTOTYPE = """
def forward(xp, inputs, outputs, attrs):
    scale, data = inputs[0], inputs[1:]
    total = data[0].astype(xp.float32)
    for x in data[1:]:
        total = total + x.astype(xp.float32)
    outputs[0][...] = (xp.float32(attrs["alpha"]) * scale.astype(xp.float32) * total).astype(outputs[0].dtype)
"""

SCALED_SUM_REFERENCE = """
import numpy as np


def reference(inputs, attrs):
    data = [inputs["data"]] + [inputs[f"data#{i}"] for i in range(1, len(inputs) - 1)]
    total = sum(x.astype(np.float64) for x in data)
    return [attrs["alpha"] * inputs["scale"].astype(np.float64) * total]
"""


def variadic_project(root: Path) -> dict[str, OpSpec]:
    """Writes the two ops under root (plugins/, pyplugins/); key -> spec."""
    write_op(root / "plugins", "test_sum", SUM)
    scaled = write_op(root / "plugins", "test_scaled_sum", SCALED_SUM)
    (scaled.parent / "reference.py").write_text(SCALED_SUM_REFERENCE)
    (root / "pyplugins").mkdir()
    (root / "pyplugins" / "test_sum.py").write_text(SUM_PROTOTYPE)
    (root / "pyplugins" / "test_scaled_sum.py").write_text(SCALED_SUM_PROTOTYPE)
    registry = load_registry([root / "plugins"])
    return {key: registry.get(key) for key in ("test_sum", "test_scaled_sum")}
