"""What `trtplug new` generates follows the one binding convention: the binding is a
TRTPLUG_OP_BINDING body over the glue's checked call, the plugin a GluePlugin, the launcher takes
the generated Params, the prototype has no native() shim; the spec states the value rules the
scaffold knows. The generated C++ is compiled (syntax only) against the glue the build writes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from trtplug.attr_rules import spec_value_problems
from trtplug.cli import main
from trtplug.scaffold.describe import from_file
from trtplug.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]
GXX = shutil.which("g++")
SCALE = ["--input", "X", "--input", "bias?", "--output", "Y", "--attr", "alpha:float=0.5"]
SCALE += ["--attr", "mode:string=fast", "--attr", "axes:ints=1,2"]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with a TODO op with an optional input and attributes (scale), a unary op with an
    attribute (leaky_relu), a binary op (add) and an op with a schema enum (conv)."""
    root = tmp_path_factory.mktemp("glue") / "proj"
    for key, args in {
        "scale": ["--from", "com.example::Scale", *SCALE],
        "leaky_relu": ["--from", "ai.onnx::LeakyRelu"],
        "add": ["--from", "ai.onnx::Add"],
        "conv": ["--from", "ai.onnx::Conv"],
    }.items():
        assert main(["new", key, *args, "--project", str(root)]) == 0
    return root


def generate_glue(spec: Path, out: Path, generator_dir: Path = ROOT / "cmake") -> subprocess.CompletedProcess:
    """Runs the glue generator as the build does (-I: no PYTHONPATH, no user site)."""
    cmd = [sys.executable, "-I", str(generator_dir / "generate_op_glue.py"), str(spec), str(out)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def test_binding_is_an_op_binding_over_the_checked_call(project: Path) -> None:
    text = (project / "plugins" / "scale" / "binding.cpp").read_text()
    assert '#include "scale/op_glue.h"' in text and "TRTPLUG_OP_BINDING(scale)" in text
    assert "DeviceArray const& xArray = call.in(0);" in text and "call.out(0)" in text
    assert "call.hasIn(1) ? call.in(1) : DeviceArray{}" in text  # the optional bias
    assert "call.check(!call.hasIn(1) || biasArray.dtype == xArray.dtype" in text
    assert "launchScale(xArray.dtype, call.params," in text and "call.stream)" in text
    for gone in ("py::handle", "paramsFromDict", "attrs", "m.def", "toStream"):
        assert gone not in text, gone


def test_plugin_and_launcher_take_identity_and_params_from_the_glue(project: Path) -> None:
    plugin = (project / "plugins" / "leaky_relu" / "plugin.cpp").read_text()
    assert "class LeakyReluPlugin : public GluePlugin<LeakyReluPlugin, glue_leaky_relu::Glue>" in plugin
    for gone in ("kName", "kVersion", "kMinInputs", "kNbOutputs", "PluginBase<"):
        assert gone not in plugin, gone
    header = (project / "plugins" / "leaky_relu" / "leaky_relu.h").read_text()
    assert '#include "leaky_relu/op_glue.h"' in header and "glue_leaky_relu::Params const& p" in header
    assert "struct" not in header and "visit" not in header
    no_attrs = (project / "plugins" / "add" / "add.h").read_text()
    assert "op_glue.h" not in no_attrs and "Params" not in no_attrs


def test_prototypes_have_no_native_shim(project: Path) -> None:
    for key in ("scale", "leaky_relu", "add"):
        text = (project / "pyplugins" / f"{key}.py").read_text()
        assert "def forward(" in text and "native" not in text and "ext." not in text


def test_schema_enums_become_choices_and_the_rest_a_commented_example(project: Path) -> None:
    spec = load_spec(project / "plugins" / "conv" / "spec.toml")
    auto_pad = next(a for a in spec.attributes if a.name == "auto_pad")
    assert auto_pad.choices == ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")
    assert spec_value_problems(spec, {"auto_pad": "SAME"}) == [
        "attribute 'auto_pad': 'SAME' is not one of 'NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'"
    ]
    assert all(a.choices is None for a in spec.attributes if a.name != "auto_pad")
    text = (project / "plugins" / "leaky_relu" / "spec.toml").read_text()
    assert "# values the op accepts, checked by the plugin and the binding: e.g. min = 0.0" in text


def test_spec_file_choices_reach_the_spec(tmp_path: Path) -> None:
    described = tmp_path / "op.toml"
    described.write_text(
        'op_type = "Pick"\ndomain = "com.example"\n[type_constraints]\nT = ["float32"]\n'
        '[[inputs]]\nname = "X"\n[[outputs]]\nname = "Y"\n'
        '[[attributes]]\nname = "how"\ntype = "string"\ndefault = "a"\nchoices = ["a", "b"]\n'
    )
    assert from_file(described).attributes[0].choices == ("a", "b")
    assert main(["new", "pick", "--spec-file", str(described), "--project", str(tmp_path / "p")]) == 0
    spec = load_spec(tmp_path / "p" / "plugins" / "pick" / "spec.toml")
    assert spec.attributes[0].choices == ("a", "b")


def test_glue_generator_runs_from_the_installed_layout(project: Path, tmp_path: Path) -> None:
    """CMakeLists.txt installs cmake/ as trtplug/cmake; a project's build runs the generator there."""
    assert "install(DIRECTORY cmake/ DESTINATION trtplug/cmake)" in (ROOT / "CMakeLists.txt").read_text()
    installed = tmp_path / "site" / "trtplug" / "cmake"
    shutil.copytree(ROOT / "cmake", installed, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "generated" / "conv" / "op_glue.h"
    done = generate_glue(project / "plugins" / "conv" / "spec.toml", out, installed)
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "namespace glue_conv" in text and 'std::string auto_pad{"NOTSET"};' in text
    assert "attr_check::scalarProblem(p.auto_pad" in text  # the choices rule, checked in C++


def _cuda_include() -> Path | None:
    nvcc = shutil.which("nvcc")
    homes = [os.environ.get("CUDA_HOME", ""), os.environ.get("CUDA_PATH", ""), "/usr/local/cuda"]
    homes += [str(Path(nvcc).resolve().parents[1])] if nvcc else []
    folders = [Path(h) / "include" for h in homes if h]
    return next((f for f in folders if (f / "cuda_runtime_api.h").is_file()), None)


def _includes(project: Path, glue: Path) -> list[str]:
    pybind11 = pytest.importorskip("pybind11")
    cuda = _cuda_include()
    if cuda is None:
        pytest.skip("no CUDA headers to compile the generated sources against")
    dirs = [project / "plugins", ROOT / "plugins", glue, Path(pybind11.get_include()), cuda]
    return [f"-I{d}" for d in [*dirs, Path(sysconfig.get_paths()["include"])]]


def _tensorrt_headers() -> Path | None:
    from trtplug import native

    for folder in (native.build_info().get("tensorrt_include_dir", ""), ROOT / ".cache" / "tensorrt-headers"):
        if folder and (Path(folder) / "NvInferRuntime.h").is_file():
            return Path(folder)
    return None


@pytest.mark.skipif(GXX is None, reason="no g++ to compile the generated sources")
@pytest.mark.parametrize("key", ["scale", "leaky_relu", "add"])
def test_generated_sources_compile_against_the_glue(project: Path, tmp_path: Path, key: str) -> None:
    glue = tmp_path / "generated"
    done = generate_glue(project / "plugins" / key / "spec.toml", glue / key / "op_glue.h")
    assert done.returncode == 0, done.stderr
    # As the build compiles them: hidden visibility (pybind11 needs it), warnings on.
    flags = [GXX, "-std=c++17", "-fsyntax-only", "-fvisibility=hidden", "-Wall", "-Wextra", *_includes(project, glue)]
    sources = [project / "plugins" / key / "binding.cpp"]
    trt = _tensorrt_headers()
    if trt is not None:
        flags.append(f"-isystem{trt}")
        sources.append(project / "plugins" / key / "plugin.cpp")
    for source in sources:
        compiled = subprocess.run([*flags, str(source)], capture_output=True, text=True, timeout=300)
        assert compiled.returncode == 0, f"{source.name}:\n{compiled.stderr[-3000:]}"
        ours = [line for line in compiled.stderr.splitlines() if line.startswith(str(project)) and "warning:" in line]
        assert not ours, compiled.stderr[-3000:]  # warnings of the generated sources (not the shared headers)
