"""ONNX conformance node cases as the primary reference: every implementation of every spec
that replaces an ai.onnx op, on the cases shipped with the installed onnx package (their
inputs, their expected outputs). Cases a spec cannot run are skips that say why.
"""

from __future__ import annotations

import pytest

from trtplug.parity.conformance import conformance_cases
from trtplug.parity.impls import IMPLS, pyplugin_module
from trtplug.parity.runner import run_one
from trtplug.registry import default_registry, load_registry


def conformance_params() -> list:
    params = []
    for spec in load_registry():
        for conf in conformance_cases(spec):
            for impl_name, impl in IMPLS.items():
                marks = [pytest.mark.gpu] if impl.on_gpu else []
                case_id = f"{spec.key}-{impl_name}-{conf.case.name}"
                params.append(pytest.param(spec.key, impl_name, conf.case.name, id=case_id, marks=marks))
    return params


def find_case(op: str, name: str):
    spec = default_registry().get(op)  # cached: one registry load for all the cases
    return spec, next(c for c in conformance_cases(spec) if c.case.name == name)


@pytest.mark.parametrize(("op", "impl", "case_name"), conformance_params())
def test_conformance(op: str, impl: str, case_name: str, seed: int) -> None:
    spec, conf = find_case(op, case_name)
    if conf.skip:
        pytest.skip(conf.skip)
    result = run_one(spec, impl, conf.dtype, conf.case, seed, (conf.inputs, conf.expected))
    if result.status == "skip":
        pytest.skip(result.detail)
    assert result.status == "pass", f"{result.detail} {[c.as_dict() for c in result.comparisons]}"


def test_every_standard_op_has_runnable_conformance_cases() -> None:
    """A spec replacing an ai.onnx op must match some conformance case it can run (ONNX Runtime
    registers a few ops of its own in domain "", such as SimplifiedLayerNormalization: no schema
    in ai.onnx, no conformance case)."""
    import onnx

    for spec in load_registry():
        if not any(r.domain in ("", "ai.onnx") and onnx.defs.has(r.op_type) for r in spec.replaces):
            assert conformance_cases(spec) == []
            continue
        cases = conformance_cases(spec)
        if all(r.until_version is not None for r in spec.replaces) and cases:
            continue  # an old opset's member (RoiAlign opset 10): the data are of the current opset
        runnable = [c for c in cases if c.skip is None]
        assert runnable, f"{spec.key}: no runnable ONNX conformance case"


def test_unsupported_dtype_is_a_skip_with_reason() -> None:
    _, conf = find_case("bitwise_and", "onnx:test_bitwise_and_i16_3d")
    assert conf.skip is not None and "int16" in conf.skip and "TrtplugBitwiseAnd" in conf.skip


def test_inputs_and_attributes_map_onto_the_spec() -> None:
    _, conf = find_case("bit_shift", "onnx:test_bitshift_right_int32_negative_input")
    assert conf.skip is None and conf.dtype == "int32"
    assert set(conf.inputs) == {"X", "Y"} and conf.case.attrs == {"direction": "RIGHT"}
    assert [e.dtype.name for e in conf.expected] == ["int32"]


def test_wrong_implementation_fails_a_conformance_case(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    spec, conf = find_case("bitwise_and", "onnx:test_bitwise_and_ui8_bcast_4v3d")
    module = pyplugin_module(spec)

    def bitwise_or_instead(xp, inputs, outputs, attrs):
        outputs[0][...] = xp.bitwise_or(inputs[0], inputs[1])

    monkeypatch.setattr(module, "forward", bitwise_or_instead)
    assert run_one(spec, "numpy", conf.dtype, conf.case, seed, (conf.inputs, conf.expected)).status == "fail"
