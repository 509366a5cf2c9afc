"""The IPluginV3 plugin library, driven on the CPU through trtplug._plugin_host.

Covers what TensorRT sees before any kernel runs: the exported entry points, each creator's
name/version/namespace/fields against its spec (drift fails here), field validation, the
type, shape and format rules, and the serialize -> re-create round trip. The field machinery
is exercised through TrtplugFieldProbe (libtrtplug_host_probe.so, built next to the host),
a test plugin with one field of every supported type, since FastGelu has no attributes.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import require_built
from tests.fake_arrays import FakeCudaArray
from trtplug import native
from trtplug.registry import load_registry

pytestmark = pytest.mark.pluginlib

FAST_GELU = "TrtplugFastGelu"
PROBE = "TrtplugFieldProbe"
PROBE_LIBRARY = "libtrtplug_host_probe.so"
# Spec attribute type -> (creator field type, advertised length: 1 scalar, 0 variable).
SPEC_TO_FIELD = {
    "int": ("int32", 1),
    "ints": ("int32", 0),
    "float": ("float32", 1),
    "floats": ("float32", 0),
    "string": ("char", 0),
}
PROBE_FIELDS = {"alpha": 0.5, "count": 64, "axes": [1, -2, 3], "scales": [0.25, 2.0, -8.0], "mode": "zero"}


@pytest.fixture(scope="module")
def host() -> ModuleType:
    module = native.plugin_host_module()
    require_built("trtplug._plugin_host", module is not None, native.native_status()["plugin_host"])
    return module


@pytest.fixture(scope="module")
def library_path() -> Path:
    path = native.plugin_library_path()
    require_built("libtrtplug_plugins.so", path is not None, native.native_status()["plugin_library"])
    return path


@pytest.fixture(scope="module")
def library(host, library_path):
    return host.PluginLibrary(str(library_path))


@pytest.fixture(scope="module")
def probe(host):
    path = Path(host.__file__).with_name(PROBE_LIBRARY)
    require_built(PROBE_LIBRARY, path.is_file(), f"not found next to {host.__file__}")
    return host.PluginLibrary(str(path))


@pytest.fixture
def gelu(library):
    plugin = library.create(FAST_GELU, "1", "trtplug", {})
    assert plugin is not None
    return plugin


# ---- the library as TensorRT loads it --------------------------------------------------------


def test_library_exports_tensorrt_entry_points(library_path):
    lib = ctypes.CDLL(str(library_path))
    assert hasattr(lib, "getCreators")
    assert hasattr(lib, "setLoggerFinder")


@pytest.mark.skipif(shutil.which("nm") is None, reason="binutils nm not installed")
def test_library_exports_nothing_else(library_path):
    out = subprocess.run(["nm", "-D", "--defined-only", str(library_path)], capture_output=True, text=True, check=True)
    symbols = {line.split()[-1] for line in out.stdout.splitlines() if line.strip()}
    assert symbols == {"getCreators", "setLoggerFinder"}


def test_creators_match_specs(library):
    """Every spec has its creator and every creator its spec, with the spec's attributes."""
    specs = {(s.plugin.name, s.plugin.version, s.plugin.namespace): s for s in load_registry().ops.values()}
    creators = {(c["name"], c["version"], c["namespace"]): c for c in library.creators()}
    assert set(creators) == set(specs)
    assert library.other_creators == []
    for key, spec in specs.items():
        fields = {f["name"]: (f["type"], f["length"]) for f in creators[key]["fields"]}
        expected = {a.name: SPEC_TO_FIELD[a.type] for a in spec.attributes}
        assert fields == expected, f"{spec.path}: creator fields drifted from the spec"


def test_unknown_creator_raises(library):
    with pytest.raises(KeyError, match="TrtplugNoSuchOp"):
        library.create("TrtplugNoSuchOp")
    with pytest.raises(KeyError, match="version 2"):
        library.create(FAST_GELU, "2")


def test_extra_field_is_rejected_and_logged(library, log):
    assert library.create(FAST_GELU, fields={"alpha": 1.0}) is None
    messages = [m for severity, m in log() if severity == "error"]
    assert any(FAST_GELU in m and "unknown field 'alpha'" in m for m in messages), messages


def test_plugin_identity_and_capabilities(gelu):
    assert (gelu.name, gelu.version, gelu.namespace, gelu.phase) == (FAST_GELU, "1", "trtplug", "build")
    assert gelu.capabilities == ["core", "build", "runtime"]
    assert gelu.nb_outputs == 1


# ---- field machinery, through the probe plugin ----------------------------------------------


def test_probe_field_table(probe):
    (creator,) = probe.creators()
    assert creator["name"] == PROBE
    assert [(f["name"], f["type"], f["length"]) for f in creator["fields"]] == [
        ("alpha", "float32", 1),
        ("count", "int32", 1),
        ("axes", "int32", 0),
        ("scales", "float32", 0),
        ("mode", "char", 0),
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"extra": 3}, "unknown field 'extra'"),
        ({"axes": None}, "missing field 'axes'"),
        ({"mode": None}, "missing field 'mode'"),
        ({"alpha": 1}, "field 'alpha': expected float32[1], got int32[1]"),
        ({"alpha": [0.5, 1.5]}, "field 'alpha': expected float32[1], got float32[2]"),
        ({"count": [1, 2]}, "field 'count': expected int32[1], got int32[2]"),
        ({"count": 1.0}, "field 'count': expected int32[1], got float32[1]"),
        ({"axes": ("int64", [1, 2])}, "field 'axes': expected int32[n], got int64[2]"),
        ({"scales": [1, 2]}, "field 'scales': expected float32[n], got int32[2]"),
        ({"mode": ("int8", [99])}, "field 'mode': expected char[n], got int8[1]"),
        ({"mode": "nope"}, "field 'mode': expected 'copy' or 'zero', got 'nope'"),
        ({"count": -1}, "field 'count': must be >= 0, got -1"),
    ],
)
def test_probe_rejects_bad_fields(probe, log, change, message):
    fields = {k: v for k, v in {**PROBE_FIELDS, **change}.items() if v is not None}
    for phase in ("build", "runtime"):
        assert probe.create(PROBE, fields=fields, phase=phase) is None
    errors = [m for severity, m in log() if severity == "error"]
    assert len(errors) == 2
    assert all(m == f"{PROBE}::createPlugin: {message}" for m in errors), errors


def test_a_required_field_left_out_is_refused(library, log):
    """The spec's required attributes (BitShift's direction) have no default to fall back to."""
    assert library.create("TrtplugBitShift", "1", "trtplug", {}) is None
    assert log()[-1] == ("error", "TrtplugBitShift::createPlugin: missing field 'direction'")


def test_probe_duplicate_field_is_rejected(probe, log):
    fields = [*PROBE_FIELDS.items(), ("count", 1)]
    assert probe.create(PROBE, fields=fields) is None
    assert log()[-1] == ("error", f"{PROBE}::createPlugin: duplicate field 'count'")


@pytest.mark.parametrize(
    "fields",
    [
        PROBE_FIELDS,
        {**PROBE_FIELDS, "axes": [], "scales": [], "mode": "copy", "count": 0},
        {**PROBE_FIELDS, "alpha": -3.25, "axes": [2**31 - 1, -(2**31)]},
    ],
    ids=["all", "empty-vectors", "extremes"],
)
def test_probe_serialization_round_trip(probe, fields):
    plugin = probe.create(PROBE, fields=fields)
    assert plugin is not None
    assert plugin.fields_to_serialize() == fields
    runtime = plugin.round_trip()
    assert runtime is not None and runtime.phase == "runtime"
    assert runtime.fields_to_serialize() == fields
    assert runtime.round_trip().fields_to_serialize() == fields
    for copy in (plugin.clone(), plugin.attach_to_context(), runtime.attach_to_context()):
        assert copy.fields_to_serialize() == fields


def test_numpy_field_values(probe):
    np = pytest.importorskip("numpy")
    fields = {**PROBE_FIELDS, "axes": np.array([4, 5], dtype=np.int64), "alpha": np.float32(0.5)}
    plugin = probe.create(PROBE, fields=fields)
    assert plugin is not None
    assert plugin.fields_to_serialize()["axes"] == [4, 5]


def test_workspace_size_is_the_build_phase_answer(probe):
    """workspace_size: configurePlugin then getWorkspaceSize, no GPU (the probe asks for `count`)."""
    plugin = probe.create(PROBE, fields={**PROBE_FIELDS, "count": 4096})
    assert plugin.workspace_size(["float32", "float32"], [[3, 5], [3, 5]]) == 4096
    assert plugin.workspace_size(["int32", "int32"], [[1], [1]], [[8], [8]]) == 4096
    with pytest.raises(ValueError, match="one dtype and shape per input and output"):
        plugin.workspace_size(["float32", "float32"], [[3, 5]])


def test_field_value_out_of_int32_range_is_refused_by_the_host(probe):
    with pytest.raises(ValueError, match="does not fit"):
        probe.create(PROBE, fields={**PROBE_FIELDS, "count": 2**31})


# ---- FastGelu rules: types, shapes, formats ---------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("with_bias", [False, True], ids=["no-bias", "bias"])
def test_fast_gelu_output_types(gelu, dtype, with_bias):
    assert gelu.output_types([dtype] * (2 if with_bias else 1)) == [dtype]


@pytest.mark.parametrize(
    ("dtypes", "message"),
    [
        (["float32", "float16"], "bias must have X's type float32, got float16"),
        (["int32"], "X must be float32, float16 or bfloat16, got int32"),
        (["int8"], "X must be float32, float16 or bfloat16, got int8"),
        (["float32"] * 3, "expected 1..2 inputs, got 3"),
    ],
)
def test_fast_gelu_rejects_types(gelu, log, dtypes, message):
    with pytest.raises(RuntimeError, match="getOutputDataTypes") as err:
        gelu.output_types(dtypes)
    assert message in str(err.value)
    assert log()[-1] == ("error", f"{FAST_GELU}::getOutputDataTypes: {message}")


@pytest.mark.parametrize(
    ("shapes", "expected"),
    [
        ([[7]], [[7]]),
        ([[2, 3, 8]], [[2, 3, 8]]),
        ([[2, 3, 8], [8]], [[2, 3, 8]]),
        ([[0, 8], [8]], [[0, 8]]),
        ([["B", "S", 64], [64]], [["B", "S", 64]]),
        ([["B", "S", "H"], ["H"]], [["B", "S", "H"]]),
        ([[4, "H"], [16]], [[4, "H"]]),  # checked once H is known (onShapeChange)
    ],
)
def test_fast_gelu_output_shapes(gelu, shapes, expected):
    assert gelu.output_shapes(shapes) == expected


@pytest.mark.parametrize(
    ("shapes", "message"),
    [
        ([[]], "X must have rank >= 1, got rank 0"),
        ([[2, 8], [7]], "bias length 7 differs from X's last dimension 8"),
        ([[2, 8], [1, 8]], "bias must be 1-D, got rank 2"),
        ([[2, 8], []], "bias must be 1-D, got rank 0"),
    ],
)
def test_fast_gelu_rejects_shapes(gelu, shapes, message):
    with pytest.raises(RuntimeError, match="getOutputShapes") as err:
        gelu.output_shapes(shapes)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("dtypes", "supported"),
    [
        (["float32", "float32"], True),
        (["float16", "float16"], True),
        (["float32", "float32", "float32"], True),
        (["float16", "float16", "float16"], True),
        (["float32", "float16"], False),
        (["float16", "float32"], False),
        (["float32", "float16", "float32"], False),
        (["float16", "float16", "float32"], False),
        (["int32", "int32"], False),
        (["bfloat16", "bfloat16"], True),
        (["bfloat16", "float16"], False),
        (["int8", "int8", "int8"], False),
    ],
)
def test_fast_gelu_format_combinations(gelu, dtypes, supported):
    assert gelu.supports_format_combination(dtypes) is supported


def test_fast_gelu_requires_linear_format(gelu):
    assert gelu.supports_format_combination(["float16", "float16"], formats=["linear", "linear"])
    assert not gelu.supports_format_combination(["float16", "float16"], formats=["chw2", "chw2"])
    assert not gelu.supports_format_combination(["float32", "float32"], formats=["linear", "hwc"])


def test_fast_gelu_round_trip(gelu):
    assert gelu.fields_to_serialize() == {}
    runtime = gelu.round_trip()
    assert runtime is not None
    assert (runtime.name, runtime.version, runtime.namespace, runtime.phase) == (FAST_GELU, "1", "trtplug", "runtime")
    assert "runtime" in runtime.capabilities
    assert runtime.fields_to_serialize() == {}
    assert runtime.output_shapes([["B", 8], [8]]) == [["B", 8]]


# ---- run(): validation that happens before any CUDA call ---------------------------------------


@pytest.mark.parametrize(
    ("inputs", "output", "message"),
    [
        ([((2, 8), "<f4")], ((2, 9), "<f4"), r"output 0 has shape \(2, 9\) but the plugin declares \(2, 8\)"),
        ([((2, 8), "<f4")], ((2, 8), "<f2"), "output 0 is float16 but the plugin declares float32"),
        ([((2, 8), "<f4"), ((8,), "<f4")], ((16,), "<f4"), "output 0 has shape"),
    ],
)
def test_run_checks_outputs_against_the_plugin_rules(gelu, inputs, output, message):
    with pytest.raises(ValueError, match=message):
        gelu.run([FakeCudaArray(*i) for i in inputs], [FakeCudaArray(*output)])


def test_run_rejects_unsupported_types(gelu):
    with pytest.raises(RuntimeError, match="bias must have X's type"):
        gelu.run([FakeCudaArray((2, 8), "<f4"), FakeCudaArray((8,), "<f2")], [FakeCudaArray((2, 8), "<f4")])
    with pytest.raises(RuntimeError, match="X must be float32, float16 or bfloat16, got int32"):
        gelu.run([FakeCudaArray((2, 8), "<i4")], [FakeCudaArray((2, 8), "<i4")])


# ---- the host's expression builder -------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "a", "b", "expected"),
    [
        ("sum", 3, 4, 7),
        ("prod", 3, 4, 12),
        ("max", 3, 4, 4),
        ("min", 3, 4, 3),
        ("sub", 3, 4, -1),
        ("equal", 3, 3, 1),
        ("equal", 3, 4, 0),
        ("less", 3, 4, 1),
        ("less", 4, 3, 0),
        ("floor_div", 7, 2, 3),
        ("floor_div", -7, 2, -4),
        ("floor_div", 7, -2, -4),
        ("ceil_div", 7, 2, 4),
        ("ceil_div", -7, 2, -3),
        ("ceil_div", 8, 2, 4),
        ("prod", "B", 1, "B"),
        ("sum", 0, "S", "S"),
        ("sub", "S", "S", 0),
        ("equal", "S", "S", 1),
        ("max", "H", "H", "H"),
        ("sum", "B", "S", "(B + S)"),
        ("prod", "B", 8, "(B * 8)"),
        ("ceil_div", "S", 64, "ceildiv(S, 64)"),
        ("min", "S", 5, "min(S, 5)"),
    ],
)
def test_dimension_operations(host, op, a, b, expected):
    assert host.dimension_operation(op, a, b) == expected


@pytest.mark.parametrize("op", ["floor_div", "ceil_div"])
def test_dimension_division_by_zero(host, op):
    with pytest.raises(ValueError, match="division by zero"):
        host.dimension_operation(op, 4, 0)
