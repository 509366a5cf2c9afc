"""The prototype plugin's enqueue for variadic ops on the GPU: the `protoplugin` parity
implementation (TensorRT's device pointers, descriptors and stream; trtplug.protoplugin's
ProtoLogic) against the ops' references, every parity case at 1, 2, 3 and 5 tensors, fp32, fp16
and bf16, on poisoned outputs. Ops: tests/variadic_ops.py."""

from __future__ import annotations

import pytest

from tests.variadic_ops import variadic_project
from trtplug.parity.cases import default_cases
from trtplug.parity.runner import run_one
from trtplug.variadic import PARITY_COUNTS

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def specs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return variadic_project(tmp_path_factory.mktemp("variadic_proto_gpu") / "proj")


@pytest.mark.parametrize("key", ["test_sum", "test_scaled_sum"])
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_protoplugin_enqueue_matches_the_reference_at_every_count(specs: dict, key: str, dtype: str, seed: int) -> None:
    spec = specs[key]
    cases = [c for c in default_cases(spec) if not c.strided]
    results = [run_one(spec, "protoplugin", dtype, case, seed) for case in cases]
    bad = [(r.case, r.status, r.detail, r.comparisons) for r in results if r.status != "pass"]
    assert not bad, bad  # a skip fails too: the plugin must run every case here
    assert {c.variadic_count for c in cases} == set(PARITY_COUNTS)
