"""GatherBlockQuantized's float32 row kernel with whole-sector stores (the default: lane pairs swap
chunk halves through a shuffle) on every parity case, through the binding, against the op's parity
reference; and the half-sector kernel TRTPLUG_GBQ_STORES=halves keeps, on the same cases, so that
both are held to the same results. Outputs are poisoned with NaN first."""

from __future__ import annotations

import numpy as np
import pytest

from tests.device_arrays import as_float64, poisoned_view
from trtplug import native
from trtplug.parity.cases import default_cases, make_inputs
from trtplug.parity.reference import run_reference
from trtplug.registry import load_registry

pytestmark = pytest.mark.gpu
SPEC = load_registry().get("gather_block_quantized")
CASES = [c for c in default_cases(SPEC) if not c.name.startswith("large")]


@pytest.mark.parametrize("stores", ["default", "halves"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_float32_rows(cp, ext, monkeypatch, seed, case, stores) -> None:
    if stores == "halves":
        monkeypatch.setenv("TRTPLUG_GBQ_STORES", "halves")  # read per launch
    inputs = make_inputs(SPEC, case, seed)
    ins = [cp.asarray(inputs[t.name]) for t in SPEC.inputs if t.name in inputs]
    (expected,) = run_reference(SPEC, case, inputs)
    _, out = poisoned_view(cp, expected.shape, "float32", 0)
    native.run_binding(SPEC, ext, ins, [out], case.attrs, cp.cuda.get_current_stream())
    cp.cuda.get_current_stream().synchronize()
    tol = SPEC.tolerance("float32")
    np.testing.assert_allclose(as_float64(out), expected, atol=tol.atol, rtol=tol.rtol)
