"""The spec's [parity] table: its own cases, attribute variants, value hints; errors name the field."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.test_spec import VALID, write_op
from trtplug.errors import SpecError
from trtplug.parity.cases import PRIMARY_SHAPES, default_cases, make_inputs
from trtplug.parity.reference import reference_kind
from trtplug.spec import load_spec

INT_OP = VALID.replace('T = ["float32", "float16"]', 'T = ["float32", "float16"]\nI = ["int32"]').replace(
    "[[outputs]]", '[[inputs]]\nname = "K"\ntype = "I"\noptional = true\nshape = "same_as:X"\n\n[[outputs]]', 1
)


def spec_with(tmp_path: Path, table: str, base: str = VALID):
    return load_spec(write_op(tmp_path, "thing", base.format(name="ThingPlugin") + table))


def test_own_cases_replace_the_generic_shapes_unless_asked(tmp_path: Path) -> None:
    case = '[[parity.cases]]\nname = "mine"\nshapes = { X = [2, 3] }\n'
    names = [c.name for c in default_cases(spec_with(tmp_path / "a", "[parity]\n" + case))]
    assert "mine" in names and "odd" not in names
    kept = spec_with(tmp_path / "b", "[parity]\ndefault_shapes = true\n" + case)
    assert {"mine", "odd"} <= {c.name for c in default_cases(kept)}


def test_an_input_only_with_some_attribute_values_is_left_out_of_the_other_cases(tmp_path: Path) -> None:
    gain = '[[inputs]]\nname = "gain"\ntype = "T"\noptional = true\nonly_with = { alpha = 2.0 }\n'
    cases = '[[parity.cases]]\nname = "{0}"\nshapes = { X = [2, 3] }\nattrs = { alpha = {1} }\n'
    table = (
        "[parity]\n"
        + cases.replace("{0}", "other").replace("{1}", "1.5")
        + cases.replace("{0}", "taken").replace("{1}", "2.0")
    )
    found = {c.name: set(c.shapes) for c in default_cases(spec_with(tmp_path, gain + table))}
    assert found["other"] == {"X"} and found["taken"] == {"X", "gain"}


def test_attribute_variants_multiply_the_generic_cases(tmp_path: Path) -> None:
    spec = spec_with(tmp_path, "[parity]\nattr_variants = [{ alpha = 0.5 }, { alpha = 3.0 }]\n")
    cases = {c.name: c for c in default_cases(spec)}
    assert cases["odd-0.5"].attrs["alpha"] == 0.5 and cases["odd-3.0"].attrs["alpha"] == 3.0
    assert len([n for n in cases if n.startswith("odd")]) == 2 and len(PRIMARY_SHAPES) * 2 <= len(cases)


def test_value_hints_shape_the_random_inputs(tmp_path: Path) -> None:
    table = (
        '[parity.values]\nX = { scale = 0.001, add_identity = 5.0 }\nK = { low = 3, high = "X[0]" }\n'
        '[[parity.cases]]\nname = "square"\nshapes = { X = [4, 6, 6] }\n'
    )
    spec = spec_with(tmp_path, table, INT_OP)
    case = next(c for c in default_cases(spec) if c.name == "square")
    inputs = make_inputs(spec, case, seed=1)
    x, k = inputs["X"], inputs["K"]
    assert np.allclose(x, 5.0 * np.eye(6), atol=0.01) and k.dtype == np.int32
    assert k.min() >= 3 and k.max() < 4  # high = X's first dimension


def test_fixed_values_set_the_input_and_its_shape(tmp_path: Path) -> None:
    table = '[[parity.cases]]\nname = "fixed"\nshapes = { X = [2, 2] }\nvalues = { K = [7, 8, 9] }\n'
    spec = spec_with(tmp_path, table, INT_OP)
    case = next(c for c in default_cases(spec) if c.name == "fixed")
    assert case.shapes["K"] == (3,) and make_inputs(spec, case, 0)["K"].tolist() == [7, 8, 9]


def test_a_case_pins_its_own_reference(tmp_path: Path) -> None:
    """[[parity.cases]] reference: that case's reference kind; the others keep the spec's."""
    table = (
        '[[parity.cases]]\nname = "pinned"\nshapes = { X = [2] }\nreference = "onnx-reference"\n'
        '[[parity.cases]]\nname = "plain"\nshapes = { X = [2] }\n'
    )
    spec = spec_with(tmp_path, table)
    cases = {c.name: c for c in default_cases(spec)}
    assert reference_kind(spec, cases["pinned"]) == "onnx-reference"
    assert reference_kind(spec, cases["plain"]) == spec.reference == "onnxruntime"


@pytest.mark.parametrize(
    ("table", "field", "problem"),
    [
        ("[parity]\ncolour = 1\n", "parity.colour", "unknown field"),
        ("[parity]\nattr_variants = [{ beta = 1 }]\n", "parity.attr_variants[0].beta", "unknown attribute"),
        ("[parity.values]\nZ = { scale = 1.0 }\n", "parity.values.Z", "names no input"),
        ('[parity.values]\nX = { high = "Q[0]" }\n', "parity.values.X.high", "expected an int or"),
        ('[[parity.cases]]\nname = "a"\nshapes = { X = [1] }\nvalues = { Z = [1] }\n', "values.Z", "names no input"),
        ('[[parity.cases]]\nname = "a"\nshapes = { X = [1] }\nreference = "pil"\n', "reference", "unknown case"),
        (
            '[[parity.cases]]\nname = "a"\nshapes = { X = [1] }\n[[parity.cases]]\nname = "a"\nshapes = { X = [2] }\n',
            "parity.cases",
            "duplicate case name",
        ),
    ],
)
def test_bad_hints_name_file_and_field(tmp_path: Path, table: str, field: str, problem: str) -> None:
    with pytest.raises(SpecError) as info:
        spec_with(tmp_path, table)
    assert field in str(info.value) and problem in str(info.value)


def test_every_ops_inputs_stay_finite_in_fp16(seed: int) -> None:
    """Generated inputs round to fp16 for fp16 runs: none may overflow there (Unique's large case
    once drew integers up to 2**19, which became inf)."""
    from trtplug.registry import load_registry

    for spec in load_registry():
        fp16_inputs = {t.name for t in spec.inputs if "float16" in spec.dtypes_of(t)}
        for case in default_cases(spec) if fp16_inputs else ():
            for name, value in make_inputs(spec, case, seed).items():
                if name in fp16_inputs and np.isfinite(value).all():
                    assert np.isfinite(value.astype(np.float16)).all(), f"{spec.key} {case.name}: {name}"


def _ops_with_node_problem() -> list:
    from trtplug.prototypes import pyplugin_module
    from trtplug.registry import load_registry

    return [s for s in load_registry([]).select(None) if hasattr(pyplugin_module(s), "node_problem")]


@pytest.mark.parametrize("spec", _ops_with_node_problem(), ids=lambda s: s.key)
def test_every_parity_case_is_a_node_the_rewrite_takes(spec) -> None:
    """A case the op's own node_problem refuses is a broken case, not a test: the bindings and
    plugins refuse it too (QMoE's integer cases once carried MXFP4's global scales, which only the
    GPU impls rejected)."""
    from trtplug.prototypes import pyplugin_module

    check = pyplugin_module(spec).node_problem
    problems = {c.name: check(c.shapes, c.attrs) for c in default_cases(spec)}
    assert {name: p for name, p in problems.items() if p} == {}
