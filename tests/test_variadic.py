"""Variadic inputs (trtplug/variadic.py): the spec field, its validation, the glue's input counts,
and the binding's input list."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_generate_op_glue import generate
from tests.test_spec import VALID, write_op
from trtplug.errors import SpecError
from trtplug.spec import load_spec
from trtplug.variadic import MAX_VARIADIC_INPUTS, expanded_inputs, parity_counts, variadic_input

# A Concat-like op: a fixed input, then a variadic one.
WEIGHT_THEN_DATA = VALID.replace(
    '[[inputs]]\nname = "X"\ntype = "T"\n',
    '[[inputs]]\nname = "X"\ntype = "T"\n\n[[inputs]]\nname = "data"\ntype = "T"\nvariadic = true\nmin_count = 2\n',
)


def variadic_spec(tmp_path: Path, key: str = "thing", text: str = WEIGHT_THEN_DATA):
    return load_spec(write_op(tmp_path, key, text.format(name="ThingPlugin")))


def test_variadic_last_input_is_parsed_with_its_minimum(tmp_path: Path) -> None:
    spec = variadic_spec(tmp_path)
    data = variadic_input(spec)
    assert data is not None and (data.name, data.min_count) == ("data", 2)
    assert not spec.inputs[0].variadic and variadic_input(variadic_spec(tmp_path, "b", VALID)) is None
    names = [t.name for t in expanded_inputs(spec, 3)]
    assert names == ["X", "data", "data#1", "data#2"]
    assert parity_counts(spec) == (2, 3, 5)  # 1 is below min_count


def test_min_count_defaults_to_one(tmp_path: Path) -> None:
    spec = variadic_spec(tmp_path, text=WEIGHT_THEN_DATA.replace("min_count = 2\n", ""))
    assert variadic_input(spec).min_count == 1 and parity_counts(spec) == (1, 2, 3, 5)


@pytest.mark.parametrize(
    ("old", "new", "field", "problem"),
    [
        ("min_count = 2", "min_count = 0", "inputs[1].min_count", "at least 1"),
        ("min_count = 2", "min_count = 2\noptional = true", "inputs[1].variadic", "cannot be optional"),
        ("variadic = true\nmin_count = 2", "min_count = 2", "inputs[1].min_count", "variadic input only"),
        ("variadic = true", 'variadic = "yes"', "inputs[1].variadic", "expected bool"),
        ('name = "X"\ntype = "T"\n', 'name = "X"\ntype = "T"\nvariadic = true\n', "inputs[0].variadic", "last input"),
        ('name = "X"\ntype = "T"\n', 'name = "X"\ntype = "T"\noptional = true\n', "inputs[1].variadic", "optional"),
        ('type = "T"\nshape', 'type = "T"\nvariadic = true\nshape', "outputs[0].variadic", "last input"),
    ],
)
def test_invalid_variadic_names_file_and_field(tmp_path: Path, old: str, new: str, field: str, problem: str) -> None:
    text = WEIGHT_THEN_DATA.format(name="ThingPlugin")
    assert old in text
    path = write_op(tmp_path, "thing", text.replace(old, new, 1))
    with pytest.raises(SpecError) as info:
        load_spec(path)
    message = str(info.value)
    assert str(path) in message and field in message and problem in message and "\n" not in message


def glue_text(tmp_path: Path, spec_text: str) -> str:
    spec = write_op(tmp_path, "glued", spec_text.format(name="ThingPlugin"))
    out = tmp_path / "glued_glue.h"
    done = generate(spec, out)
    assert done.returncode == 0, done.stderr
    return out.read_text()


def test_glue_counts_a_variadic_input_as_min_count_to_the_cap(tmp_path: Path) -> None:
    text = glue_text(tmp_path, WEIGHT_THEN_DATA)
    assert "kMinInputs = 3;" in text and f"kMaxInputs = {1 + MAX_VARIADIC_INPUTS};" in text
    assert "kVariadicMin = 2;" in text and f"kVariadicMax = {MAX_VARIADIC_INPUTS};" in text
    assert 'kInputNames[] = {"X", "data"};' in text  # the binding names data[k] from the last name


def test_glue_of_a_fixed_op_has_no_variadic_range(tmp_path: Path) -> None:
    text = glue_text(tmp_path, VALID)
    assert "kMinInputs = 1;" in text and "kMaxInputs = 1;" in text
    assert "kVariadicMin = 0;" in text and "kVariadicMax = 0;" in text


def test_glue_cap_is_the_one_trtplug_documents() -> None:
    from tests.test_generate_op_glue import GENERATOR

    assert f"MAX_VARIADIC_INPUTS = {MAX_VARIADIC_INPUTS}\n" in GENERATOR.read_text()


def test_prototype_plugin_serves_a_variadic_op(tmp_path: Path) -> None:
    """tests/test_protoplugin_variadic.py tests how (the positions past X are data's tensors)."""
    from trtplug.protoplugin.plugin import regular_inputs, unsupported_reason

    spec = variadic_spec(tmp_path)
    assert unsupported_reason(spec) is None and unsupported_reason(variadic_spec(tmp_path, "fixed", VALID)) is None
    assert [t.name for t in regular_inputs(spec, 4)] == ["X", "data", "data#1", "data#2"]
