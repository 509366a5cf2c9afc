"""Op families (trtplug/spec_family.py): one folder, one spec, several ops that load exactly as
single-op specs would (keys, plugin identities, replaced ops), and errors naming file and member."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trtplug.errors import SpecError
from trtplug.prototypes import pyplugin_module
from trtplug.registry import load_registry
from trtplug.spec import load_spec, load_specs

ROOT = Path(__file__).resolve().parents[1]
BITWISE = ROOT / "plugins" / "bitwise" / "spec.toml"
MEMBERS = {
    "bitwise_and": ("TrtplugBitwiseAnd", "BitwiseAnd", ["A", "B"]),
    "bitwise_or": ("TrtplugBitwiseOr", "BitwiseOr", ["A", "B"]),
    "bitwise_xor": ("TrtplugBitwiseXor", "BitwiseXor", ["A", "B"]),
    "bitwise_not": ("TrtplugBitwiseNot", "BitwiseNot", ["X"]),
}


def test_family_members_register_under_their_own_keys():
    registry = load_registry()
    for key, (plugin, op_type, inputs) in MEMBERS.items():
        spec = registry.get(key)
        assert (spec.plugin.name, spec.plugin.version, spec.plugin.namespace) == (plugin, "1", "trtplug")
        assert (spec.path, spec.folder) == (BITWISE, "bitwise")
        assert [t.name for t in spec.inputs] == inputs
        assert registry.covering("", op_type, 18) is spec
    assert "bitwise" not in registry.ops


def test_gelu_family_members_keep_their_own_inputs_and_attributes():
    registry = load_registry()
    specs = {key: registry.get(key) for key in ("gelu", "fast_gelu", "bias_gelu", "quick_gelu")}
    assert {s.folder for s in specs.values()} == {"gelu_family"}
    assert [(t.name, t.optional) for t in specs["fast_gelu"].inputs] == [("X", False), ("bias", True)]
    assert [t.name for t in specs["bias_gelu"].inputs + specs["bias_gelu"].outputs] == ["A", "B", "C"]
    assert [(a.name, a.default) for a in specs["quick_gelu"].attributes] == [("alpha", 1.702)]
    assert not specs["gelu"].attributes and registry.get("bias_split_gelu").folder == "bias_split_gelu"


def test_member_override_replaces_the_whole_table():
    specs = {s.key: s for s in load_specs(BITWISE)}
    assert [c.name for c in specs["bitwise_not"].parity.cases] == ["rank0", "rank5_odd"]
    assert "bcast_4v3" in [c.name for c in specs["bitwise_or"].parity.cases]
    assert specs["bitwise_not"].tolerances == specs["bitwise_and"].tolerances  # shared


def test_load_spec_refuses_a_family():
    with pytest.raises(SpecError, match=r"declares 4 ops .*use load_specs"):
        load_spec(BITWISE)


def doctored(tmp_path: Path, old: str, new: str) -> Path:
    text = BITWISE.read_text()
    assert old in text
    path = tmp_path / "bitwise" / "spec.toml"
    path.parent.mkdir()
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "field", "problem"),
    [
        ('name = "TrtplugBitwiseOr"', 'name = "Trtplug-Or"', "members[1] (bitwise_or).plugin.name", "identifier"),
        ('op_type = "BitwiseNot"', 'op_kind = "BitwiseNot"', "members[3] (bitwise_not).replaces[0].op_kind", "unknown"),
        ('key = "bitwise_xor"', 'key = "bitwise_xor"\ncolour = 1', "members[2] (bitwise_xor).colour", "unknown field"),
        ('key = "bitwise_xor"', 'key = "bitwise_or"', "members[2] (bitwise_or).key", "duplicate member key"),
        ('key = "bitwise_xor"', 'key = "Bitwise-Xor"', "members[2].key", "expected an op key"),
        ('key = "bitwise_xor"', 'key = "bitwise"', "members[2] (bitwise).key", "named like its family's folder"),
        ('name = "X"\ntype = "T"', 'name = "X"\ntype = "T9"', "members[3] (bitwise_not).inputs[0].type", ""),
        ("[[members]]\nkey", "[plugin]\nname = 'X'\n\n[[members]]\nkey", "plugin", "not allowed at the top"),
    ],
)
def test_bad_member_names_file_and_member(tmp_path, old, new, field, problem):
    path = doctored(tmp_path, old, new)
    with pytest.raises(SpecError) as info:
        load_specs(path)
    message = str(info.value)
    assert message.startswith(f"{path}: {field}: ") and problem in message


def test_family_prototypes_are_per_member():
    registry = load_registry()
    a, b = np.array([12, 10, -1], dtype=np.int32), np.array([10, 6, 3], dtype=np.int32)
    expected = {"bitwise_and": a & b, "bitwise_or": a | b, "bitwise_xor": a ^ b, "bitwise_not": ~a}
    for key, want in expected.items():
        out = np.zeros(3, dtype=np.int32)
        inputs = [a] if key == "bitwise_not" else [a, b]
        pyplugin_module(registry.get(key)).forward(np, inputs, [out], {})
        np.testing.assert_array_equal(out, want, err_msg=key)
