"""Drift between each compiled creator and its spec: field names and types, defaults (a plugin
created with no fields serializes them), output count. Runs on the CPU through
trtplug._plugin_host; the comparison itself is unit-tested on a doctored spec so it can fail."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest

from tests.conftest import require_built
from tests.test_plugin_library import SPEC_TO_FIELD
from trtplug import native
from trtplug.registry import load_registry
from trtplug.spec import Attribute, OpSpec


def _same_value(expected: Any, actual: Any) -> bool:
    if isinstance(expected, list):
        return isinstance(actual, list) and len(expected) == len(actual) and all(map(_same_value, expected, actual))
    if isinstance(expected, float) or isinstance(actual, float):
        return math.isclose(float(expected), float(actual), rel_tol=1e-6)  # fields are float32
    return expected == actual


def _default_of(attr: Attribute) -> Any:
    if attr.default is not None:
        return attr.default
    return {"int": 0, "float": 0.0, "string": ""}.get(attr.type, [])


def creator_drift(spec: OpSpec, fields: list[dict], defaults: dict[str, Any], nb_outputs: int) -> list[str]:
    """Every difference between a compiled creator (its field table, the fields a default-built
    plugin serializes, its output count) and the spec; [] when they agree."""
    where = spec.path
    problems = []
    # Order is not compared: fields are looked up by name.
    actual = sorted((f["name"], f["type"], f["length"]) for f in fields)
    expected = sorted((a.name, *SPEC_TO_FIELD[a.type]) for a in spec.attributes)
    if actual != expected:
        problems.append(f"{where}: creator fields {actual} != spec {expected}")
    for attr in spec.attributes:
        if attr.required:
            continue
        if attr.name in defaults and not _same_value(_default_of(attr), defaults[attr.name]):
            problems.append(f"{where}: {attr.name} defaults to {defaults[attr.name]!r}, spec {_default_of(attr)!r}")
    if set(defaults) != {a.name for a in spec.attributes}:
        problems.append(f"{where}: serialized fields {sorted(defaults)} != spec attributes")
    counted = spec.derived_attribute("output_count")  # the plugin produces only the used outputs
    expected_outputs = defaults.get(counted.name) if counted else len(spec.plugin_outputs)
    if nb_outputs != expected_outputs:
        problems.append(f"{where}: {nb_outputs} outputs, spec {expected_outputs}")
    return problems


# Valid values for the spec attributes that are required (they have no default to send).
REQUIRED_SAMPLES = {
    "direction": "LEFT",
    "kernel_shape": [2, 2],
    "antialias": 1,
    "mode": "linear",
    "num_heads": 4,
    "kv_num_heads": 2,
    "q_num_heads": 2,
    "K": 32,
    "N": 8,
    "block_size": 16,
    "mrope_section": [2, 1, 1],
}


def _spec_defaults(spec: OpSpec) -> dict[str, Any]:
    return {a.name: REQUIRED_SAMPLES[a.name] if a.required else _default_of(a) for a in spec.attributes}


def _spec_fields(spec: OpSpec) -> list[dict]:
    return [
        {"name": a.name, "type": SPEC_TO_FIELD[a.type][0], "length": SPEC_TO_FIELD[a.type][1]} for a in spec.attributes
    ]


def _unique_spec() -> OpSpec:
    return load_registry().ops["unique"]


def test_comparison_accepts_a_matching_creator():
    spec = _unique_spec()
    defaults = _spec_defaults(spec)
    assert creator_drift(spec, _spec_fields(spec), defaults, len(spec.plugin_outputs)) == []


@pytest.mark.parametrize(
    "doctor, expected",
    [
        (lambda a: dataclasses.replace(a, default=0) if a.name == "sorted" else a, "sorted defaults to 1, spec 0"),
        (lambda a: dataclasses.replace(a, name="sort") if a.name == "sorted" else a, "creator fields"),
        (lambda a: dataclasses.replace(a, type="float") if a.name == "sorted" else a, "creator fields"),
    ],
)
def test_comparison_fails_on_a_doctored_spec(doctor, expected):
    spec = _unique_spec()
    fields = _spec_fields(spec)
    defaults = _spec_defaults(spec)
    doctored = dataclasses.replace(spec, attributes=tuple(doctor(a) for a in spec.attributes))
    problems = creator_drift(doctored, fields, defaults, len(spec.plugin_outputs))
    assert any(expected in p for p in problems), problems


def test_comparison_fails_on_output_count():
    spec = _unique_spec()
    defaults = _spec_defaults(spec)
    problems = creator_drift(spec, _spec_fields(spec), defaults, len(spec.plugin_outputs) - 1)
    assert problems and "outputs" in problems[0]


@pytest.mark.pluginlib
def test_compiled_creators_match_their_specs():
    host = native.plugin_host_module()
    require_built("trtplug._plugin_host", host is not None, native.native_status()["plugin_host"])
    path = native.plugin_library_path()
    require_built("libtrtplug_plugins.so", path is not None, native.native_status()["plugin_library"])
    library = host.PluginLibrary(str(path))
    creators = {(c["name"], c["version"], c["namespace"]): c for c in library.creators()}
    problems = []
    for spec in load_registry().ops.values():
        ident = (spec.plugin.name, spec.plugin.version, spec.plugin.namespace)
        # Creators that demand every field cannot show their C++ defaults: they must then accept
        # the spec's defaults and serialize them back unchanged.
        plugin = library.create(*ident, {}) or library.create(*ident, _spec_defaults(spec))
        assert plugin is not None, f"{spec.path}: the spec's defaults are refused: {host.messages()[-1:]}"
        problems += creator_drift(spec, creators[ident]["fields"], plugin.fields_to_serialize(), plugin.nb_outputs)
    assert problems == []


def _plugin_input_types(spec: OpSpec, dtype: str) -> list[str]:
    """The plugin's input types with every optional input present, in `dtype` where the spec allows
    it: shape inputs and inputs folded into fields are no plugin tensors; a data_copy input comes
    again as a tensor at the end."""
    typed = [dtype if dtype in spec.dtypes_of(t) else spec.dtypes_of(t)[0] for t in spec.inputs]
    regular = [d for t, d in zip(spec.inputs, typed, strict=True) if not t.shape_input and not t.fold_into]
    return regular + [d for t, d in zip(spec.inputs, typed, strict=True) if t.data_copy]


def _spec_output_types(spec: OpSpec, dtype: str, count: int, attrs: dict) -> list[str]:
    """Output types as the spec gives them: bound by an input's constraint, or (dtype_attr) the type
    the attribute the plugin was created with names."""
    by_constraint = {t.type: dtype if dtype in spec.dtypes_of(t) else spec.dtypes_of(t)[0] for t in spec.inputs}
    outputs = [spec.output_dtype(t, attrs, by_constraint) for t in spec.outputs][:count]
    return outputs + ["int32"] * len(spec.size_tensors)


@pytest.mark.pluginlib
@pytest.mark.parametrize("spec", list(load_registry().ops.values()), ids=lambda s: s.key)
def test_plugin_types_follow_the_spec(library, spec):
    """Every dtype a spec lists (bf16 included) is one the plugin takes, with the spec's output types."""
    plugin = library.create(spec.plugin.name, spec.plugin.version, spec.plugin.namespace, _spec_defaults(spec))
    assert plugin is not None
    for dtype in spec.dtypes:
        inputs = _plugin_input_types(spec, dtype)
        expected = _spec_output_types(spec, dtype, plugin.nb_outputs - len(spec.size_tensors), _spec_defaults(spec))
        try:
            got = plugin.output_types(inputs)
        except RuntimeError as exc:
            if "built without cuFFT" in str(exc):  # a toolkit without cuFFT: DFT/STFT refuse clearly
                pytest.skip(f"{spec.key}: {exc}")
            raise
        assert got == expected, f"{spec.key} in {dtype}"
        assert plugin.supports_format_combination(inputs + expected), f"{spec.key} in {dtype}: format refused"
