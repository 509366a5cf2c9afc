"""Spec format and registry: discovery, validation errors naming file and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from trtplug.errors import SpecError, TrtplugError
from trtplug.registry import load_registry
from trtplug.spec import load_spec

VALID = """
[plugin]
name = "{name}"
version = "1"
namespace = "trtplug"

[[replaces]]
domain = "com.example"
op_type = "Thing"
since_version = 1

[type_constraints]
T = ["float32", "float16"]

[[attributes]]
name = "alpha"
type = "float"
default = 1.0

[[inputs]]
name = "X"
type = "T"

[[outputs]]
name = "Y"
type = "T"
shape = "same_as:X"

[tolerances.float32]
atol = 1e-6
rtol = 1e-6

[tolerances.float16]
atol = 1e-3
rtol = 1e-3

[reference]
kind = "onnxruntime"
"""


def write_op(root: Path, key: str, text: str) -> Path:
    path = root / key / "spec.toml"
    path.parent.mkdir(parents=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_fast_gelu_spec_is_complete() -> None:
    spec = load_registry().get("fast_gelu")
    assert spec.plugin.name == "TrtplugFastGelu"
    assert spec.plugin.version == "1" and spec.plugin.namespace == "trtplug"
    assert [(r.domain, r.op_type) for r in spec.replaces] == [("com.microsoft", "FastGelu")]
    assert spec.dtypes == ("float32", "float16", "bfloat16")
    assert [t.name for t in spec.inputs] == ["X", "bias"] and spec.inputs[1].optional
    assert spec.outputs[0].shape == "same_as:X"
    assert spec.tolerance("bfloat16").atol > spec.tolerance("float16").atol > spec.tolerance("float32").atol
    assert spec.reference == "onnxruntime"


def test_registry_covers_replaced_op_only() -> None:
    registry = load_registry()
    assert registry.covering("com.microsoft", "FastGelu", 1).key == "fast_gelu"
    assert registry.covering("", "FastGelu", 1) is None
    assert registry.covering("com.microsoft", "NoSuchGelu", 1) is None


def test_registry_discovers_extra_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_op(tmp_path, "thing", VALID.format(name="ThingPlugin"))
    monkeypatch.setenv("TRTPLUG_PLUGIN_PATH", str(tmp_path))
    registry = load_registry()
    assert {"fast_gelu", "thing"} <= set(registry.ops)
    assert registry.get("thing").attributes[0].default == 1.0


@pytest.mark.parametrize(
    ("old", "new", "field", "problem"),
    [
        ('T = ["float32", "float16"]', 'T = ["float32", "float128"]', "type_constraints.T", "unknown dtype"),
        ('version = "1"\n', "", "plugin.version", "missing required field"),
        ('type = "float"', 'type = "complex"', "attributes[0].type", "unknown value"),
        ('shape = "same_as:X"', 'shape = "same_as:Z"', "outputs[0].shape", "names no input"),
        ('shape = "same_as:X"', 'shape = "teleport:X"', "outputs[0].shape", "unknown shape rule"),
        ("since_version = 1", 'since_version = "1"', "replaces[0].since_version", "expected int"),
        ('kind = "onnxruntime"', 'kind = "oracle"', "reference.kind", "unknown value"),
        ("[tolerances.float16]\natol = 1e-3\nrtol = 1e-3\n", "", "tolerances", "no tolerance for dtype"),
        ('name = "X"\ntype = "T"', 'name = "X"\ntype = "T"\ncolour = "red"', "inputs[0].colour", "unknown field"),
        ("default = 1.0", 'default = 1.0\nderived = "magic"', "attributes[0].derived", "unknown value"),
        ("default = 1.0", 'default = 1.0\nderived = "output_count"', "attributes[0].type", "must be an int"),
        ('type = "T"\nshape', 'type = "T"\noptional = true\nshape', "outputs[0].optional", "cannot be optional"),
    ],
)
def test_invalid_spec_names_file_and_field(tmp_path: Path, old: str, new: str, field: str, problem: str) -> None:
    text = VALID.format(name="ThingPlugin")
    assert old in text
    path = write_op(tmp_path, "thing", text.replace(old, new, 1))
    with pytest.raises(SpecError) as info:
        load_spec(path)
    message = str(info.value)
    assert str(path) in message and field in message and problem in message


def test_optional_outputs_with_and_without_an_output_count_attribute(tmp_path: Path) -> None:
    text = (
        VALID.format(name="ThingPlugin") + '[[outputs]]\nname = "Z"\ntype = "T"\noptional = true\nshape = "same_as:X"\n'
    )
    always = load_spec(write_op(tmp_path, "a", text))  # produced always; the rewrite names it when unused
    assert always.derived_attribute("output_count") is None and always.outputs[1].optional
    counted = text + '[[attributes]]\nname = "num_outputs"\ntype = "int"\ndefault = 1\nderived = "output_count"\n'
    spec = load_spec(write_op(tmp_path, "b", counted))
    assert [a.name for a in spec.onnx_attributes] == ["alpha"]
    assert spec.derived_attribute("output_count").name == "num_outputs"


def test_size_tensors_follow_the_outputs(tmp_path: Path) -> None:
    text = VALID.format(name="ThingPlugin").replace('shape = "same_as:X"', 'shape = "dynamic:X"')
    spec = load_spec(write_op(tmp_path, "a", text + '[[size_tensors]]\nname = "count"\n'))
    assert [t.name for t in spec.plugin_outputs] == [t.name for t in spec.outputs] + ["count"]
    assert spec.size_tensors[0].type == "int32"
    with pytest.raises(SpecError, match=r"size_tensors.*value-dependent"):
        load_spec(write_op(tmp_path, "b", VALID.format(name="ThingPlugin") + '[[size_tensors]]\nname = "count"\n'))
    with pytest.raises(SpecError, match="duplicate name 'Y'"):
        load_spec(write_op(tmp_path, "c", text + '[[size_tensors]]\nname = "Y"\n'))
    with pytest.raises(SpecError, match=r"size_tensors\[0\]\.shape.*unknown field"):
        load_spec(write_op(tmp_path, "d", text + '[[size_tensors]]\nname = "n"\nshape = "x"\n'))


def test_broken_toml_names_file(tmp_path: Path) -> None:
    path = write_op(tmp_path, "thing", "[plugin\nname=")
    with pytest.raises(SpecError, match=str(path)):
        load_spec(path)


def test_duplicate_plugin_name_fails_registry_load(tmp_path: Path) -> None:
    write_op(tmp_path, "thing", VALID.format(name="TrtplugFastGelu"))
    with pytest.raises(SpecError) as info:
        load_registry([tmp_path])
    assert "plugin.name" in str(info.value) and "duplicate plugin name" in str(info.value)
    assert str(tmp_path / "thing" / "spec.toml") in str(info.value)


def test_duplicate_op_key_fails_registry_load(tmp_path: Path) -> None:
    write_op(tmp_path, "fast_gelu", VALID.format(name="Other"))
    with pytest.raises(SpecError, match="already defined"):
        load_registry([tmp_path])


def test_missing_plugin_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TrtplugError, match="does not exist"):
        load_registry([tmp_path / "nowhere"])


def onnx_op_names() -> set[str]:
    import onnx.defs

    names = {s.name for s in onnx.defs.get_all_schemas_with_history()}
    try:
        from onnxruntime.capi import onnxruntime_pybind11_state as ort_state

        names |= {s.name for s in ort_state.get_all_operator_schema()}
    except (ImportError, AttributeError):
        pass
    return names


def test_plugin_names_do_not_collide_with_onnx_ops() -> None:
    # The parser dispatches built-in importers by op_type alone, whatever the domain.
    collisions = {s.plugin.name for s in load_registry()} & onnx_op_names()
    assert not collisions


SHAPE_AND_FOLD = """
[[inputs]]
name = "shape"
type = "int64"
optional = true
shape_input = true

[[inputs]]
name = "gain"
type = "T"
optional = true
fold_into = "alpha"
"""


def test_shape_input_and_fold_into(tmp_path: Path) -> None:
    path = write_op(tmp_path, "thing", VALID.format(name="ThingPlugin") + SHAPE_AND_FOLD)
    spec = load_spec(path)
    assert [t.name for t in spec.inputs] == ["X", "shape", "gain"]
    assert spec.inputs[1].shape_input and spec.inputs[2].fold_into == "alpha"
    assert [t.name for t in spec.plugin_inputs] == ["X", "shape"]


@pytest.mark.parametrize(
    ("old", "new", "field", "problem"),
    [
        ('type = "int64"', 'type = "T"', "inputs[1].shape_input", "int32 or int64"),
        ('fold_into = "alpha"', 'fold_into = "beta"', "inputs[2].fold_into", "not a (non-derived) attribute"),
        ('fold_into = "alpha"', 'fold_into = "alpha"\nshape_input = true', "inputs[2].shape_input", "int32 or int64"),
        ("optional = true\nshape_input = true", 'optional = true\nfold_into = "alpha"', "inputs", "same attribute"),
    ],
)
def test_invalid_input_roles(tmp_path: Path, old: str, new: str, field: str, problem: str) -> None:
    text = VALID.format(name="ThingPlugin") + SHAPE_AND_FOLD
    assert old in text
    with pytest.raises(SpecError) as info:
        load_spec(write_op(tmp_path, "thing", text.replace(old, new, 1)))
    assert field in str(info.value) and problem in str(info.value)


@pytest.mark.parametrize(
    ("only_with", "optional", "problem"),
    [("{ beta = 2.0 }", "true", "'beta' is not an attribute"), ("{ alpha = 2.0 }", "false", "optional input only")],
)
def test_only_with_names_an_attribute_on_an_optional_input(tmp_path: Path, only_with, optional, problem) -> None:
    text = VALID.format(name="ThingPlugin") + f'[[inputs]]\nname = "gain"\ntype = "T"\noptional = {optional}\n'
    with pytest.raises(SpecError) as info:
        load_spec(write_op(tmp_path, "thing", text + f"only_with = {only_with}\n"))
    assert "inputs[1].only_with" in str(info.value) and problem in str(info.value)


def test_output_cannot_be_a_shape_input(tmp_path: Path) -> None:
    text = VALID.format(name="ThingPlugin").replace('shape = "same_as:X"', 'shape = "same_as:X"\nshape_input = true')
    with pytest.raises(SpecError, match="inputs only"):
        load_spec(write_op(tmp_path, "thing", text))


ALPHA = 'name = "alpha"\ntype = "float"\ndefault = 1.0'


@pytest.mark.parametrize(
    ("attribute", "field", "problem"),
    [
        ('name = "m"\ntype = "string"\ndefault = "a"\nchoices = ["a", 1]', "attributes[0].choices", "list of str"),
        ('name = "k"\ntype = "int"\ndefault = 0\nchoices = []', "attributes[0].choices", "non-empty list of int"),
        ('name = "f"\ntype = "float"\ndefault = 0.5\nchoices = [0.5]', "attributes[0].choices", "choices apply to"),
        ('name = "m"\ntype = "string"\ndefault = "c"\nchoices = ["a", "b"]', "attributes[0].default", "not one of"),
        ('name = "s"\ntype = "ints"\ndefault = [1, 0]\nmin = 1', "attributes[0].default", "element 1 (0) is below"),
        ('name = "s"\ntype = "ints"\ndefault = []\nmin_length = 2', "attributes[0].default", "at least 2 needed"),
        ('name = "k"\ntype = "int"\ndefault = 0\nmax_length = 2', "attributes[0].min_length", "lengths apply to"),
        ('name = "a"\ntype = "int"\ndefault = 0\naxis_of = "Z"', "attributes[0].axis_of", "naming one of the op's"),
        ('name = "a"\ntype = "float"\ndefault = 0.0\naxis_of = "X"', "attributes[0].axis_of", "an int or ints"),
        ('name = "m"\ntype = "string"\ndefault = "a"\nmin = 0', "attributes[0].min", "bounds apply to numeric"),
        ('name = "p"\ntype = "ints"\ndefault = []\nlength_of = "p"', "attributes[0].length_of", "another list"),
        ('name = "p"\ntype = "int"\ndefault = 0\nlength_of = "q"', "attributes[0].length_of", "another list"),
        ('name = "p"\ntype = "ints"\ndefault = []\nlength_factor = 0', "attributes[0].length_factor", "at least 1"),
        ('name = "w"\ntype = "int"\ndefault = 0\nwhen_set_needs = ["X"]', "attributes[0].when_set_needs", "optional"),
        (
            'name = "w"\ntype = "int"\ndefault = 0\nwhen_set_min = { w = 1 }',
            "attributes[0].when_set_min",
            "another int",
        ),
    ],
)
def test_invalid_value_rules_name_file_and_field(tmp_path: Path, attribute: str, field: str, problem: str) -> None:
    text = VALID.format(name="ThingPlugin")
    path = write_op(tmp_path, "thing", text.replace(ALPHA, attribute, 1))
    with pytest.raises(SpecError) as info:
        load_spec(path)
    message = str(info.value)
    assert str(path) in message and field in message and problem in message, message


def test_when_set_rules_name_the_attribute_and_what_the_node_lacks() -> None:
    """GroupQueryAttention's windowed cache needs its past and a window, and takes no bias."""
    from trtplug.attr_rules import when_set_problems

    spec = load_registry().ops["group_query_attention"]
    windowed = {"sliding_window_cache": 1, "local_window_size": 4}
    past = {"query", "seqlens_k", "total_sequence_length", "past_key", "past_value"}
    assert when_set_problems(spec, windowed, past) == []
    assert when_set_problems(spec, {**windowed, "sliding_window_cache": 0}, set()) == []
    assert when_set_problems(spec, windowed, past - {"past_value"}) == [
        "attribute 'sliding_window_cache' = 1 needs input 'past_value'"
    ]
    assert "not covered with input 'attention_bias'" in when_set_problems(spec, windowed, past | {"attention_bias"})[0]
    unbounded = when_set_problems(spec, {**windowed, "local_window_size": -1}, past)
    assert unbounded == ["attribute 'sliding_window_cache' = 1 needs local_window_size >= 1, got -1"]


def test_every_builtin_default_obeys_its_own_rules() -> None:
    from trtplug.attr_rules import spec_value_problems

    registry = load_registry()
    for key, spec in registry.ops.items():
        defaults = {a.name: a.default for a in spec.attributes if a.default is not None and not a.derived}
        assert spec_value_problems(spec, defaults) == [], key


def test_builtin_specs_state_the_rules_their_plugins_checked_by_hand() -> None:
    registry = load_registry()
    rules = {
        (key, a.name): (a.choices, a.min, a.min_length, a.max_length, a.axis_of)
        for key, spec in registry.ops.items()
        for a in spec.attributes
    }
    assert rules[("col2im", "strides")][1] == 1 and rules[("col2im", "pads")][1] == 0
    assert rules[("unique", "sorted")][0] == (0, 1) and rules[("unique", "axis")][4] == "X"
    assert rules[("bit_shift", "direction")][0] == ("LEFT", "RIGHT")
    assert rules[("max_pool_with_indices", "kernel_shape")][1:4] == (1, 1, 3)
    assert rules[("compress", "axis")][4] == "input" and rules[("center_crop_pad", "axes")][4] == "input_data"


def test_output_dtype_from_an_attribute(tmp_path: Path) -> None:
    """dtype_attr: the output's dtype is the ONNX element type an int attribute holds (its default
    when absent), not the input's; every allowed value must be a type of the output's constraint."""
    base = VALID.format(name="ThingPlugin").replace('name = "Y"\ntype = "T"', 'name = "Y"\ntype = "U"')
    base = base.replace('T = ["float32", "float16"]', 'T = ["float32", "float16"]\nU = ["float32", "float16"]')
    attr = '[[attributes]]\nname = "to"\ntype = "int"\ndefault = 1\nchoices = {choices}\n'
    typed = base.replace('shape = "same_as:X"', 'shape = "same_as:X"\ndtype_attr = "to"')
    spec = load_spec(write_op(tmp_path, "a", typed + attr.format(choices="[1, 10]")))
    out = spec.outputs[0]
    assert spec.output_dtype(out, {"to": 10}, {"U": "float32", "T": "float32"}) == "float16"
    assert spec.output_dtype(out, {}, {}) == "float32" and spec.output_elem_type(out, {"to": 10}) == 10
    plain = spec.inputs[0]  # without dtype_attr: the constraint's bound dtype
    assert spec.output_dtype(plain, {"to": 10}, {"T": "float16"}) == "float16"
    with pytest.raises(SpecError, match=r"outputs\[0\]\.dtype_attr.*to = 16 is bfloat16"):
        load_spec(write_op(tmp_path, "b", typed + attr.format(choices="[1, 16]")))
    with pytest.raises(SpecError, match=r"outputs\[0\]\.dtype_attr.*'alpha' must be an int attribute"):
        load_spec(write_op(tmp_path, "c", typed.replace('dtype_attr = "to"', 'dtype_attr = "alpha"')))
