"""ONNX Runtime sessions on models whose IR version is newer than the installed ONNX Runtime reads
(what onnx 1.23 and ONNX Runtime's own quantizer write, read by ONNX Runtime 1.30)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from trtplug.parity.ort_session import cpu_session_noted

pytest.importorskip("onnxruntime")

FUTURE_IR = onnx.IR_VERSION + 7  # newer than any ONNX Runtime reads


def add_model(ir_version: int) -> onnx.ModelProto:
    weight = numpy_helper.from_array(np.arange(64, dtype=np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "w"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [64])],
        [weight],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=ir_version)


def test_future_ir_version_is_read_lowered_with_a_note() -> None:
    session, note = cpu_session_noted(add_model(FUTURE_IR).SerializeToString())
    x = np.random.default_rng(0).standard_normal(64).astype(np.float32)
    np.testing.assert_array_equal(session.run(None, {"x": x})[0], x + np.arange(64, dtype=np.float32))
    assert note.startswith(f"IR version {FUTURE_IR} read as ")


def test_readable_ir_version_gives_no_note() -> None:
    assert cpu_session_noted(add_model(9).SerializeToString())[1] == ""


def test_file_with_external_weights_keeps_them_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    onnx.save(add_model(FUTURE_IR), str(path), save_as_external_data=True, location="w.bin", size_threshold=0)
    before = path.read_bytes()
    session, note = cpu_session_noted(str(path))
    x = np.ones(64, dtype=np.float32)
    np.testing.assert_array_equal(session.run(None, {"x": x})[0], x + np.arange(64, dtype=np.float32))
    assert note and path.read_bytes() == before  # the file itself is unchanged


def test_other_load_errors_are_raised_unchanged() -> None:
    model = add_model(FUTURE_IR)
    model.graph.node[0].op_type = "NoSuchOp"
    with pytest.raises(Exception, match="NoSuchOp"):
        cpu_session_noted(model.SerializeToString())


def test_a_contrib_op_without_a_cpu_kernel_skips_its_reference(monkeypatch) -> None:
    """An onnxruntime older than the op (the GPU machine's 1.30 has no MoE) is a skip with the
    reason, not a failure; standard ops and contrib ops it has are unaffected."""
    from trtplug.parity import reference
    from trtplug.registry import load_registry

    registry = load_registry()
    moe, cum_sum = registry.get("moe"), registry.get("cum_sum")
    assert reference.reference_unavailable(moe) is None  # this onnxruntime has MoE's CPU kernel
    monkeypatch.setattr(reference, "_cpu_contrib_kernels", lambda: frozenset())
    reason = reference.reference_unavailable(moe)
    assert reason is not None and "no CPU kernel for com.microsoft::MoE" in reason
    assert reference.reference_unavailable(cum_sum) is None


def test_a_contrib_op_attribute_the_installed_schema_lacks_skips_its_reference(monkeypatch) -> None:
    """An onnxruntime whose schema lacks an attribute the case sets (the GPU machine's 1.30 has no
    GatedRMSNorm 'activation') is a skip naming it; attributes left at an absent-meaning default
    are not sent, so they do not count."""
    from trtplug.parity import reference
    from trtplug.parity.cases import default_cases
    from trtplug.registry import load_registry

    spec = load_registry().get("gated_rms_norm")
    case = default_cases(spec)[0]
    key = ("com.microsoft", "GatedRMSNorm")
    known = reference._contrib_attributes()[key]  # the installed schema's, with or without 'activation'
    monkeypatch.setattr(reference, "_contrib_attributes", lambda: {key: known | {"activation"}})
    assert reference.reference_unavailable(spec, case) is None
    monkeypatch.setattr(reference, "_contrib_attributes", lambda: {key: known - {"activation"}})
    reason = reference.reference_unavailable(spec, case)
    assert reason is not None and "has no attribute 'activation'" in reason
