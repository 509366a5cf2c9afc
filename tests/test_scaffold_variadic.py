"""`trtplug new` for an op with a variadic input (Concat, Sum): the spec marks it, the glue counts
it, the binding gathers every array, the plugin takes every input from the variadic position on,
the prototype is told it gets the list, and parity skips it as "not implemented yet". The C++
compiles (tests/test_scaffold_shapes.py) and builds (tests/test_scaffold_shapes_build.py) with Sum
in their op sets."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.test_scaffold_glue import GXX, _includes, _tensorrt_headers, generate_glue
from trtplug.cli import main
from trtplug.parity.cases import default_cases
from trtplug.parity.runner import run_one
from trtplug.registry import load_registry
from trtplug.variadic import MAX_VARIADIC_INPUTS, variadic_input

# A described op with a fixed input before the variadic one (the plugin's position 1 onwards).
WEIGHTED = """
domain = "com.example"
op_type = "WeightedSum"
[type_constraints]
T = ["float32", "float16"]
[[inputs]]
name = "weights"
[[inputs]]
name = "terms"
variadic = true
min_count = 2
[[outputs]]
name = "Y"
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("variadic") / "proj"
    for key, source in {"concat": "ai.onnx::Concat", "sum": "ai.onnx::Sum"}.items():
        assert main(["new", key, "--from", source, "--project", str(root)]) == 0
    description = root.parent / "weighted.toml"
    description.write_text(WEIGHTED)
    assert main(["new", "weighted", "--spec-file", str(description), "--project", str(root)]) == 0
    return root


def read(project: Path, key: str, name: str) -> str:
    return (project / "plugins" / key / name).read_text()


@pytest.mark.parametrize(
    ("key", "name", "position", "least"), [("concat", "inputs", 0, 1), ("weighted", "terms", 1, 2)]
)
def test_spec_marks_the_last_input_variadic(project: Path, key: str, name: str, position: int, least: int) -> None:
    spec = load_registry([project / "plugins"]).get(key)
    last = variadic_input(spec)
    assert last is not None and (last.name, last.min_count) == (name, least) and len(spec.inputs) == position + 1
    assert "TODO: the real output shape rule" in read(project, key, "spec.toml")  # follows every tensor


def test_glue_takes_min_count_to_the_cap(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "weighted" / "op_glue.h"
    assert generate_glue(project / "plugins" / "weighted" / "spec.toml", out).returncode == 0
    text = out.read_text()
    assert "kMinInputs = 3;" in text and f"kMaxInputs = {1 + MAX_VARIADIC_INPUTS};" in text


def test_binding_and_plugin_pass_every_tensor(project: Path) -> None:
    binding = read(project, "weighted", "binding.cpp")
    assert "for (size_t i = 1; i < call.inputs.size(); ++i)" in binding
    assert "launchWeighted(weightsArray.dtype, reinterpret_cast<void const*>(weightsArray.ptr)," in binding
    assert "termsPtrs.data(), termsDims.data()" in binding
    plugin = read(project, "weighted", "plugin.cpp")
    assert "if (pos > 1 && pos < nbInputs)" in plugin and "switch (pos < nbInputs ? pos : 2 + pos - nbInputs)" in plugin
    assert "for (int32_t i = 1; i < in.size(); ++i)" in plugin and "inputs + 1, termsDims.data()" in plugin
    header = read(project, "weighted", "weighted.h")
    flat = " ".join(header.split())  # the declaration is wrapped
    assert "void const* const* terms, TensorShape const* termsDims, int32_t termsCount" in flat


def test_prototype_is_told_it_gets_the_list(project: Path) -> None:
    prototype = (project / "pyplugins" / "sum.py").read_text()
    assert "data_0 is variadic: inputs[0:] holds its 1 or more tensors" in prototype
    assert "NOT_IMPLEMENTED_YET" in prototype


@pytest.mark.skipif(GXX is None, reason="no g++ to compile the generated sources")
@pytest.mark.parametrize("key", ["concat", "weighted"])  # sum: tests/test_scaffold_shapes.py
def test_generated_sources_compile_against_the_glue(project: Path, key: str, tmp_path: Path) -> None:
    glue = tmp_path / "generated"
    assert generate_glue(project / "plugins" / key / "spec.toml", glue / key / "op_glue.h").returncode == 0
    flags = [GXX, "-std=c++17", "-fsyntax-only", "-Wall", "-Wextra", *_includes(project, glue)]
    trt = _tensorrt_headers()
    sources = ["binding.cpp"] + (["plugin.cpp"] if trt is not None else [])
    flags += [f"-isystem{trt}"] if trt is not None else []
    for source in sources:
        path = project / "plugins" / key / source
        compiled = subprocess.run([*flags, str(path)], capture_output=True, text=True, timeout=300)
        assert compiled.returncode == 0, f"{source}:\n{compiled.stderr[-3000:]}"


@pytest.mark.parametrize("key", ["concat", "sum", "weighted"])
def test_parity_says_not_implemented_yet(project: Path, key: str, seed: int) -> None:
    spec = load_registry([project / "plugins"]).get(key)
    cases = default_cases(spec)
    assert {c.variadic_count for c in cases} >= {2, 3, 5}
    results = [run_one(spec, "numpy", dtype, case, seed) for dtype in spec.dtypes for case in cases]
    assert results and all(r.status == "skip" for r in results), [(r.case, r.detail) for r in results]
    assert all(r.detail.startswith("not implemented yet:") for r in results)


def test_in_repository_scaffold_writes_the_op_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside a checkout (no --project) the op lands in plugins/ and pyplugins/ as a built-in."""
    for marker in ("plugins/common/plugin_base.h", "trtplug/__init__.py"):
        (tmp_path / marker).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / marker).write_text("")
    monkeypatch.chdir(tmp_path)
    assert main(["new", "concat", "--from", "ai.onnx::Concat"]) == 0
    assert "variadic = true" in (tmp_path / "plugins" / "concat" / "spec.toml").read_text()
    assert "inputs is variadic" in (tmp_path / "pyplugins" / "concat.py").read_text()


def test_variadic_before_the_last_input_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    description = tmp_path / "bad.toml"
    description.write_text(WEIGHTED.replace('name = "weights"', 'name = "weights"\nvariadic = true'))
    assert main(["new", "bad", "--spec-file", str(description), "--project", str(tmp_path / "proj")]) == 2
    err = capsys.readouterr().err
    assert "'weights': only the last input can be variadic" in err and err.count("\n") == 1, err
    assert not (tmp_path / "proj").exists()
