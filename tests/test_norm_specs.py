"""The norm ops' specs and what derives from them: shape rules, `[parity]` case hints, parity
inputs (integer indices inside their tables), used outputs, and that a wrong implementation of
any output fails parity."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from trtplug.errors import SpecError
from trtplug.parity.cases import default_cases, make_inputs
from trtplug.parity.impls import fill_absent, output_specs, pyplugin_module
from trtplug.parity.runner import run_one
from trtplug.registry import load_registry
from trtplug.shape_rules import apply_rule, check_rule
from trtplug.spec import load_spec

NORM_OPS = ("skip_layer_norm", "skip_simplified_layer_norm", "embed_layer_norm")


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("rows_of:X", (2, 5, 1)),
        ("first_dim_of:X", (2,)),
        ("append_last_dim_of:I,W", (2, 5, 768)),
    ],
)
def test_new_shape_rules(rule: str, expected: tuple) -> None:
    assert check_rule(rule, ["X", "I", "W"]) is None
    assert apply_rule(rule, {"X": (2, 5, 8), "I": (2, 5), "W": (100, 768)}) == expected


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ("append_last_dim_of:I", "takes 2 input name(s)"),
        ("rows_of:X,I", "takes 1"),
        ("append_last_dim_of:I,Z", "names no input"),
    ],
)
def test_bad_shape_rules(rule: str, problem: str) -> None:
    assert problem in check_rule(rule, ["X", "I", "W"])


def write_spec(tmp_path: Path, old: str, new: str) -> Path:
    text = load_registry().get("skip_layer_norm").path.read_text()
    assert old in text
    path = tmp_path / "skip_layer_norm" / "spec.toml"
    path.parent.mkdir()
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "field", "problem"),
    [
        (
            "shapes = { input = [1, 1, 1] }",
            "shapes = { inptu = [1, 1, 1] }",
            "parity.cases[1].shapes.inptu",
            "names no",
        ),
        ("shapes = { input = [1, 1, 1] }", "shapes = { skip = [1, 1, 1] }", "shapes.input", "first input's shape"),
        ("shapes = { input = [1, 1, 1] }", "shapes = { input = [1, -1, 1] }", "shapes.input", "dimensions >= 0"),
        ('omit = ["beta"]', 'omit = ["gamma"]', "parity.cases[6].omit", "not an optional input"),
        ("attrs = { epsilon = 1e-5 }", "attrs = { epsilom = 1e-5 }", "attrs.epsilom", "unknown attribute"),
        ('name = "one"', 'name = "empty"', "parity.cases", "duplicate case name"),
        (
            '[[parity.cases]]\nname = "one"',
            '[parity.values]\ninput = { low = 0, high = "gamma(0)" }\n[[parity.cases]]\nname = "one"',
            "parity.values.input.high",
            "expected an int or",
        ),
    ],
)
def test_bad_case_hints_name_file_and_field(tmp_path: Path, old: str, new: str, field: str, problem: str) -> None:
    path = write_spec(tmp_path, old, new)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert str(path) in str(info.value) and field in str(info.value) and problem in str(info.value)


@pytest.mark.parametrize("key", NORM_OPS)
def test_cases_cover_hidden_sizes_and_edges(key: str) -> None:
    spec = load_registry().get(key)
    cases = default_cases(spec)
    first = spec.inputs[0].name
    table = "word_embedding" if key == "embed_layer_norm" else first
    hidden = {c.shapes[table][-1] for c in cases}
    assert {1, 7, 768, 1024, 4096} <= hidden and any(h % 2 for h in hidden if h > 7)
    tokens = [math.prod(c.shapes[first][:2] if key == "embed_layer_norm" else c.shapes[first][:-1]) for c in cases]
    assert 0 in tokens and 1 in tokens and max(tokens) >= 4096
    counter = spec.derived_attribute("output_count").name
    assert {c.attrs[counter] for c in cases} >= {1, len(spec.outputs)}
    assert any(not any(t.name in c.shapes for t in spec.inputs if t.optional) for c in cases)


def test_embed_indices_stay_inside_their_tables(seed: int) -> None:
    spec = load_registry().get("embed_layer_norm")
    for case in default_cases(spec):
        inputs = make_inputs(spec, case, seed)
        for ids, table in [("input_ids", "word_embedding"), ("segment_ids", "segment_embedding")]:
            if ids in inputs:
                assert inputs[ids].dtype == np.int32
                assert inputs[ids].size == 0 or 0 <= inputs[ids].min() <= inputs[ids].max() < inputs[table].shape[0]
        if "mask" in inputs:
            assert set(np.unique(inputs["mask"])) <= {0, 1}


def test_embed_runs_in_float_types_with_an_int32_mask_index() -> None:
    spec = load_registry().get("embed_layer_norm")
    assert spec.dtypes == ("float32", "float16", "bfloat16")
    case = next(c for c in default_cases(spec) if c.name == "h7")
    assert output_specs(spec, case, "float16") == [
        ("output", (3, 5, 7), "float16"),
        ("mask_index", (3,), "int32"),
        ("embedding_sum", (3, 5, 7), "float16"),
    ]
    one = next(c for c in default_cases(spec) if c.name == "h7-required_only")
    assert [name for name, _, _ in output_specs(spec, one, "float32")] == ["output"]


def test_absent_middle_inputs_reach_the_plugin_as_empty_tensors() -> None:
    spec = load_registry().get("skip_layer_norm")
    x = np.zeros((2, 8), np.float16)
    filled = fill_absent(np, spec, [x, x, x[0], None, x[0]])
    assert filled[3].shape == (0,) and filled[3].dtype == np.float16
    assert [f.shape for f in filled] == [(2, 8), (2, 8), (8,), (0,), (8,)]


@pytest.mark.parametrize(
    ("key", "case_name", "output", "change"),
    [
        ("skip_layer_norm", "h7", 0, lambda a: a * 1.001),
        ("skip_layer_norm", "h7", 1, lambda a: a + 1e-3),  # mean
        ("skip_layer_norm", "h7", 2, lambda a: a * 1.001),  # inv_std_var
        ("skip_layer_norm", "h7", 3, lambda a: a + 1e-3),  # input_skip_bias_sum
        ("skip_simplified_layer_norm", "h7", 1, lambda a: a + 1e-3),  # mean must stay 0
        ("embed_layer_norm", "h7", 1, lambda a: a + 1),  # mask_index
        ("embed_layer_norm", "h7", 2, lambda a: a * 1.001),  # embedding_sum
    ],
)
def test_a_wrong_output_fails_parity(monkeypatch, seed, key, case_name, output, change) -> None:
    spec = load_registry().get(key)
    module = pyplugin_module(spec)
    real = module.forward

    def broken(xp, inputs, outputs, attrs):
        real(xp, inputs, outputs, attrs)
        outputs[output][...] = change(outputs[output])

    case = next(c for c in default_cases(spec) if c.name == case_name)
    assert run_one(spec, "numpy", "float32", case, seed).status == "pass"
    monkeypatch.setattr(module, "forward", broken)
    assert run_one(spec, "numpy", "float32", case, seed).status == "fail"
