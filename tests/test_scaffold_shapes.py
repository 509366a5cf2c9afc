"""`trtplug new` for ops beyond fixed-shape elementwise ones: optional inputs and outputs,
several outputs of different types, integer (shape-like) inputs, data-dependent outputs, variadic
inputs. Each
scaffold's spec loads, its glue generates, and parity skips it as "not implemented yet"."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.test_scaffold_glue import GXX, _includes, _tensorrt_headers, generate_glue
from trtplug.cli import main
from trtplug.parity.cases import default_cases
from trtplug.parity.runner import run_one
from trtplug.registry import load_registry

OPS = {
    "layer_norm": "ai.onnx::LayerNormalization",  # optional input B, optional outputs Mean, InvStdDev
    "topk": "ai.onnx::TopK",  # two outputs (T, int64), an int64 K input
    "nonzero_demo": "ai.onnx::NonZero",  # a data-dependent int64 output
    "sum": "ai.onnx::Sum",  # a variadic input (tests/test_scaffold_variadic.py)
}
# Plugin names apart from a built-in op's (TrtplugNonZero is the built-in NonZero's).
PLUGIN_NAMES = {"nonzero_demo": "TrtplugNonZeroDemo"}


def new_op_args(key: str, source: str, project: Path) -> list[str]:
    """`trtplug new` arguments scaffolding OPS[key] into `project`."""
    named = ["--plugin-name", PLUGIN_NAMES[key]] if key in PLUGIN_NAMES else []
    return ["new", key, "--from", source, "--project", str(project), *named]


# A custom op described by file: an optional input before a required one, a shape input, an
# optional output, a data-dependent output of another type constraint.
MIXED = """
domain = "com.example"
op_type = "Mixed"
[type_constraints]
T = ["float32", "float16"]
I = ["int32", "int64"]
[[inputs]]
name = "X"
[[inputs]]
name = "bias"
optional = true
[[inputs]]
name = "weight"
[[inputs]]
name = "K"
type = "int64"
shape_input = true
[[outputs]]
name = "Y"
[[outputs]]
name = "picked"
type = "I"
data_dependent = true
[[outputs]]
name = "extra"
optional = true
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("shapes") / "proj"
    for key, source in OPS.items():
        assert main(new_op_args(key, source, root)) == 0
    description = root.parent / "mixed.toml"
    description.write_text(MIXED)
    assert main(["new", "mixed", "--spec-file", str(description), "--project", str(root)]) == 0
    return root


def test_optional_outputs_get_a_derived_output_count(project: Path) -> None:
    spec = load_registry([project / "plugins"]).get("layer_norm")
    count = spec.derived_attribute("output_count")
    assert count is not None and (count.default, count.max) == (1, 3)
    assert [t.optional for t in spec.inputs] == [False, False, True]
    assert [t.optional for t in spec.outputs] == [False, True, True]
    plugin = (project / "plugins" / "layer_norm" / "plugin.cpp").read_text()
    assert "return params().num_outputs;" in plugin and "out.size() > 1 ? outputs[1] : nullptr" in plugin
    binding = (project / "plugins" / "layer_norm" / "binding.cpp").read_text()
    assert "call.hasOut(1) ? call.out(1) : DeviceArray{}" in binding


def test_outputs_of_different_types(project: Path) -> None:
    spec = load_registry([project / "plugins"]).get("topk")
    assert [t.type for t in spec.outputs] == ["T", "I"] and spec.type_constraints["I"] == ("int64",)
    plugin = (project / "plugins" / "topk" / "plugin.cpp").read_text()
    assert "out[1] = DataType::kINT64;" in plugin


def test_shape_inputs_reach_output_shapes_only(project: Path) -> None:
    spec = load_registry([project / "plugins"]).get("topk")
    assert [t.shape_input for t in spec.inputs] == [False, True]
    plugin = (project / "plugins" / "topk" / "plugin.cpp").read_text()
    assert "shape input K's values are shapeIn[0]" in plugin
    assert "inputs[0], TensorShape::of(in[0].dims), nullptr, TensorShape{}, outputs[0]" in plugin


def test_data_dependent_output_gets_a_size_tensor(project: Path) -> None:
    spec = load_registry([project / "plugins"]).get("nonzero_demo")
    assert spec.outputs[0].shape == "dynamic:X" and [t.name for t in spec.size_tensors] == ["Y_count"]
    plugin = (project / "plugins" / "nonzero_demo" / "plugin.cpp").read_text()
    assert "declareCount(expr, out.data, 1, *volumeExpr(in[0], expr))" in plugin
    assert "case 2: return d.type == DataType::kINT32; // Y_count" in plugin
    prototype = (project / "pyplugins" / "nonzero_demo.py").read_text()
    assert "def output_shapes(" in prototype and "def size_tensor_values(" in prototype


def test_described_op_mixes_every_shape(project: Path) -> None:
    spec = load_registry([project / "plugins"]).get("mixed")
    assert [(t.name, t.optional, t.shape_input) for t in spec.inputs] == [
        ("X", False, False),
        ("bias", True, False),
        ("weight", False, False),
        ("K", False, True),
    ]
    assert [t.shape for t in spec.outputs][1] == "dynamic:X" and spec.outputs[2].optional
    assert spec.derived_attribute("output_count") is None  # size tensors: every output is produced
    plugin = (project / "plugins" / "mixed" / "plugin.cpp").read_text()
    assert "case 2: return d.type == inOut[0].desc.type; // weight" in plugin
    assert "case 3: return d.type == inOut[0].desc.type; // Y" in plugin  # K is no plugin input
    assert "case 6: return d.type == DataType::kINT32; // picked_count" in plugin


@pytest.mark.skipif(GXX is None, reason="no g++ to compile the generated sources")
@pytest.mark.parametrize("key", [*sorted(OPS), "mixed"])
def test_generated_sources_compile_against_the_glue(project: Path, key: str, tmp_path: Path) -> None:
    glue = tmp_path / "generated"
    done = generate_glue(project / "plugins" / key / "spec.toml", glue / key / "op_glue.h")
    assert done.returncode == 0, done.stderr
    flags = [GXX, "-std=c++17", "-fsyntax-only", "-fvisibility=hidden", "-Wall", "-Wextra", *_includes(project, glue)]
    sources = [project / "plugins" / key / "binding.cpp"]
    trt = _tensorrt_headers()
    if trt is not None:
        flags.append(f"-isystem{trt}")
        sources.append(project / "plugins" / key / "plugin.cpp")
    for source in sources:
        compiled = subprocess.run([*flags, str(source)], capture_output=True, text=True, timeout=300)
        assert compiled.returncode == 0, f"{source.name}:\n{compiled.stderr[-3000:]}"


@pytest.mark.parametrize("key", [*sorted(OPS), "mixed"])
def test_parity_says_not_implemented_yet(project: Path, key: str, seed: int) -> None:
    spec = load_registry([project / "plugins"]).get(key)
    results = [run_one(spec, "numpy", dtype, case, seed) for dtype in spec.dtypes for case in default_cases(spec)]
    assert results and all(r.status == "skip" for r in results), [(r.case, r.detail) for r in results]
    assert all(r.detail.startswith("not implemented yet:") for r in results)


def test_scaffolds_run_as_prototype_plugins_and_say_what_is_missing(project: Path) -> None:
    """Registered as TensorRT plugins without further code; the data-dependent op's output_dims
    stub answers get_output_shapes with one line until it is written. The variadic Sum takes its
    tensors as the inputs past the fixed ones (none here): 3 of them shape the output as data_0."""
    from tests.test_protoplugin_dims import TRT, Builder, Const
    from trtplug.errors import TrtplugError
    from trtplug.protoplugin import shapes
    from trtplug.protoplugin.plugin import ProtoLogic, unsupported_reason
    from trtplug.protoplugin.standin import TRT as STANDIN

    registry = load_registry([project / "plugins"])
    for key in (*OPS, "mixed"):
        assert unsupported_reason(registry.get(key)) is None, key
    with pytest.raises(TrtplugError, match=r"^TrtplugNonZeroDemo: output shapes: NonZero: kernel not implemented"):
        shapes.output_shapes(TRT, registry.get("nonzero_demo"), [[Const(3), Const(4)]], Builder(), {})
    summed = registry.get("sum")
    three = [[Const(2), Const(5)], [Const(2), Const(5)], [Const(2), Const(5)]]
    ((dims,),) = [ProtoLogic(TRT, summed, {}).output_shapes(three, [], Builder())]
    assert [d.value for d in dims] == [2, 5]
    half = STANDIN.DataType.HALF
    assert ProtoLogic(STANDIN, summed, {}).output_types([half] * 3) == [half]
    with pytest.raises(TrtplugError, match=r"^TrtplugSum: 0 inputs: 0 tensors for variadic input 'data_0'"):
        ProtoLogic(STANDIN, summed, {}).output_types([])


def test_variadic_scaffold_is_created_by_its_tensorrt_rtx_creator(project: Path) -> None:
    trt = pytest.importorskip("tensorrt_rtx", reason="pip install tensorrt-rtx to test against TensorRT's Python API")
    from trtplug.protoplugin.plugin import plugin_classes

    _, creator_class = plugin_classes(trt)
    creator = creator_class(load_registry([project / "plugins"]).get("sum"))
    plugin = creator.create_plugin("summed", trt.PluginFieldCollection([]), trt.TensorRTPhase.BUILD)
    assert plugin.plugin_name == "TrtplugSum" and plugin.num_outputs == 1
    assert plugin.get_output_data_types([trt.DataType.FLOAT] * 5) == [trt.DataType.FLOAT]
