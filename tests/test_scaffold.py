"""`trtplug new` without a build: op descriptions, names, generated files, bad input, never
destroying work, and the naive elementwise bodies against the ONNX reference."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from trtplug.cli import main
from trtplug.parity.cases import default_cases
from trtplug.parity.runner import run_one
from trtplug.registry import load_registry
from trtplug.scaffold.describe import from_file, from_flags, select_dtypes
from trtplug.scaffold.elementwise import BINARY, UNARY
from trtplug.scaffold.from_onnx import find_schema, from_schema
from trtplug.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]


def new(*args: str, cwd: Path | None = None, monkeypatch: pytest.MonkeyPatch | None = None) -> int:
    if cwd is not None and monkeypatch is not None:
        monkeypatch.chdir(cwd)
    return main(["new", *args])


def project_op(tmp_path: Path, key: str, source: str, *extra: str) -> Path:
    """Scaffolds `source` as op `key` into a new project under tmp_path; returns the project."""
    project = tmp_path / "proj"
    assert main(["new", key, "--from", source, "--project", str(project), *extra]) == 0
    return project


# ---- op descriptions ---------------------------------------------------------------------------


def test_schema_gives_inputs_attributes_and_types() -> None:
    desc = select_dtypes(from_schema(find_schema("", "Col2Im", None)), None)
    assert [(t.name, t.type) for t in desc.inputs] == [
        ("input", "T"),
        ("image_shape", "int64"),
        ("block_shape", "int64"),
    ]
    assert desc.type_constraints["T"] == ("float32", "float16", "bfloat16")
    assert {a.name: (a.type, a.required) for a in desc.attributes} == {
        "dilations": ("ints", False),
        "pads": ("ints", False),
        "strides": ("ints", False),
    }


def test_onnx_runtime_contrib_schema_scaffolds_a_com_microsoft_op(tmp_path: Path) -> None:
    """com.microsoft ops (ONNX Runtime's quantizer writes GatherBlockQuantized) come from ONNX
    Runtime's own schema: inputs, optional ones, typed attributes with their defaults."""
    pytest.importorskip("onnxruntime", reason="ONNX Runtime holds the com.microsoft schemas")
    desc = from_schema(find_schema("com.microsoft", "GatherBlockQuantized", None))
    assert [(t.name, t.type, t.optional) for t in desc.inputs] == [
        ("data", "T1", False),
        ("indices", "Tind", False),
        ("scales", "T2", False),
        ("zero_points", "T1", True),
    ]
    assert {a.name: (a.type, a.default) for a in desc.attributes} == {
        "bits": ("int", 4),
        "block_size": ("int", 128),
        "gather_axis": ("int", 0),
        "quantize_axis": ("int", 1),
    }
    assert desc.type_constraints["Tind"] == ("int32", "int64")
    spec = load_spec(
        project_op(tmp_path, "gather_block_quantized", "com.microsoft::GatherBlockQuantized")
        / "plugins"
        / "gather_block_quantized"
        / "spec.toml"
    )
    assert (spec.replaces[0].domain, spec.replaces[0].op_type) == ("com.microsoft", "GatherBlockQuantized")
    assert find_schema("com.microsoft", "NoSuchContribOp", None) is None


def test_schema_opset_selects_the_version() -> None:
    assert from_schema(find_schema("", "Softplus", 1)).since_version == 1
    assert from_schema(find_schema("", "Softplus", None)).since_version >= 22


def test_flags_describe_an_op_without_schema() -> None:
    desc = from_flags(
        "com.example", "Scale", ["X", "bias?"], ["Y"], ["alpha:float=0.5", "axes:ints=1,2", "mode:string"], []
    )
    assert [(t.name, t.optional) for t in desc.inputs] == [("X", False), ("bias", True)]
    assert [(a.name, a.default, a.required) for a in desc.attributes] == [
        ("alpha", 0.5, False),
        ("axes", [1, 2], False),
        ("mode", None, True),
    ]
    assert desc.type_constraints == {"T": ("float32", "float16", "bfloat16")}


def test_spec_file_describes_an_op(tmp_path: Path) -> None:
    path = tmp_path / "op.toml"
    path.write_text(
        textwrap.dedent(
            """
            domain = "mmcv"
            op_type = "Thing"
            [type_constraints]
            T = ["float32"]
            [[inputs]]
            name = "X"
            [[outputs]]
            name = "Y"
            [[attributes]]
            name = "k"
            type = "int"
            default = 3
            """
        )
    )
    desc = from_file(path)
    assert (desc.domain, desc.op_type, desc.type_constraints) == ("mmcv", "Thing", {"T": ("float32",)})
    assert desc.attributes[0].default == 3 and not desc.attributes[0].required


# ---- bad input: one line naming the culprit, exit 2, nothing written ---------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["thing", "--from", "ai.onnx::NoSuchOp"], "no ONNX schema; describe the op with --input"),
        (["thing", "--from", "Relu"], "expected DOMAIN::OpType"),
        (["normalizer", "--from", "ai.onnx::StringNormalizer"], "tensor(string), which trtplug cannot carry"),
        (["softsign", "--from", "ai.onnx::Softsign", "--dtype", "int32"], "allows only float32, float16, bfloat16"),
        (["split", "--from", "ai.onnx::Split"], "variadic output 'outputs'"),
        (["Bad-Name", "--from", "ai.onnx::Relu"], "op name 'Bad-Name': use snake_case"),
        (["common", "--from", "ai.onnx::Relu"], "reserved"),
        (["relu", "--from", "ai.onnx::Relu", "--plugin-name", "Relu"], "is an ONNX op name"),
        (["relu", "--from", "ai.onnx::Relu", "--plugin-name", "TrtplugFastGelu"], "taken by op 'fast_gelu'"),
        (["x", "--from", "com.example::X", "--input", "X", "--output", "Y", "--attr", "a:tensor"], "--attr 'a:tensor'"),
        (["x", "--from", "com.example::X", "--input", "X:U", "--output", "Y:U"], "neither a dtype nor a --type"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], args, message) -> None:
    project = tmp_path / "proj"
    assert main(["new", *args, "--project", str(project)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err, err
    assert not project.exists()


def test_outside_repository_and_project_is_refused(tmp_path: Path, monkeypatch, capsys) -> None:
    assert new("relu", "--from", "ai.onnx::Relu", cwd=tmp_path, monkeypatch=monkeypatch) == 2
    assert "not inside the trtplug repository or a trtplug plugin project" in capsys.readouterr().err
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["new", "relu", "--from", "ai.onnx::Relu", "--project", str(tmp_path)]) == 2
    assert "is not a trtplug plugin project" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


# ---- never destroys work ---------------------------------------------------------------------------


def test_existing_files_survive_without_force(tmp_path: Path, capsys) -> None:
    project = project_op(tmp_path, "relu", "ai.onnx::Relu")
    kernel = project / "plugins" / "relu" / "relu.cu"
    kernel.write_text("// my kernel\n")
    prototype = project / "pyplugins" / "relu.py"
    before = prototype.read_text()
    prototype.unlink()  # a missing file must not be written either when another one conflicts
    capsys.readouterr()
    assert main(["new", "relu", "--from", "ai.onnx::Relu", "--project", str(project)]) == 2
    err = capsys.readouterr().err
    assert "relu.cu exists" in err and "nothing written" in err and "--force" in err
    assert kernel.read_text() == "// my kernel\n" and not prototype.exists()

    assert main(["new", "relu", "--from", "ai.onnx::Relu", "--project", str(project), "--dry-run"]) == 2
    out = capsys.readouterr().out
    assert "overwrite plugins/relu/relu.cu" in out and "-// my kernel" in out and "create    pyplugins/relu.py" in out
    assert kernel.read_text() == "// my kernel\n" and not prototype.exists()

    assert main(["new", "relu", "--from", "ai.onnx::Relu", "--project", str(project), "--force"]) == 0
    assert "fromFloat<T>(v < 0.f ? 0.f : v)" in kernel.read_text() and prototype.read_text() == before
    assert not list(project.rglob("*.tmp")), "atomic writes leave no temporary files"


def test_dry_run_of_a_new_project_writes_nothing(tmp_path: Path, capsys) -> None:
    project = tmp_path / "proj"
    assert main(["new", "relu", "--from", "ai.onnx::Relu", "--project", str(project), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "create    plugins/relu/spec.toml" in out and "create    pyproject.toml" in out
    assert not project.exists()


# ---- generated files ---------------------------------------------------------------------------


def test_project_layout_and_specs(tmp_path: Path) -> None:
    project = project_op(tmp_path, "col2im", "ai.onnx::Col2Im")
    assert new("leaky_relu", "--from", "ai.onnx::LeakyRelu", "--project", str(project)) == 0
    files = {str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()}
    for key in ("col2im", "leaky_relu"):
        assert {
            f"plugins/{key}/{n}" for n in ("spec.toml", f"{key}.h", f"{key}.cu", "binding.cpp", "plugin.cpp")
        } <= files
        assert f"pyplugins/{key}.py" in files
    assert {"pyproject.toml", "CMakeLists.txt", "proj/__init__.py", "graph_rewrites/__init__.py"} <= files
    assert "tests/test_parity.py" in files
    spec = load_spec(project / "plugins" / "col2im" / "spec.toml")
    assert spec.plugin.name == "TrtplugCol2Im" and spec.reference == "onnx-reference"
    assert [(r.domain, r.op_type, r.since_version) for r in spec.replaces] == [("", "Col2Im", 18)]
    assert [t.type for t in spec.inputs] == ["T", "int64", "int64"]
    text = (project / "plugins" / "col2im" / "spec.toml").read_text()
    assert "TODO: the real output shape rule" in text and "TODO: the schema gives no default" in text
    leaky = load_spec(project / "plugins" / "leaky_relu" / "spec.toml")
    assert leaky.attributes[0].default == pytest.approx(0.01) and leaky.outputs[0].shape == "same_as:X"
    header = (project / "plugins" / "leaky_relu" / "leaky_relu.h").read_text()
    assert "glue_leaky_relu::Params const& p" in header  # Params: generated from the spec at build time


def test_binary_op_broadcasts(tmp_path: Path) -> None:
    project = project_op(tmp_path, "add", "ai.onnx::Add")
    spec = load_spec(project / "plugins" / "add" / "spec.toml")
    assert spec.outputs[0].shape == "broadcast:A,B"
    plugin = (project / "plugins" / "add" / "plugin.cpp").read_text()
    assert "broadcastDims(in[0], in[1], expr)" in plugin


@pytest.mark.skipif(shutil.which("ruff") is None and not (ROOT / ".venv/bin/ruff").exists(), reason="ruff missing")
def test_generated_python_passes_lint(tmp_path: Path) -> None:
    project = project_op(tmp_path, "hardmax", "ai.onnx::Hardmax")
    for key, source in (("prelu", "ai.onnx::PRelu"), ("selu", "ai.onnx::Selu")):
        assert new(key, "--from", source, "--project", str(project)) == 0
    ruff = shutil.which("ruff") or str(ROOT / ".venv/bin/ruff")
    for cmd in ([ruff, "check", "--no-cache", "."], [ruff, "format", "--check", "--no-cache", "."]):
        done = subprocess.run(cmd, cwd=project, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr


# ---- parity of what was generated ----------------------------------------------------------------


def scaffolded_ops() -> list:
    return [pytest.param(op, id=op) for op in sorted({**UNARY, **BINARY})]


@pytest.mark.parametrize("op_type", scaffolded_ops())
def test_elementwise_prototype_matches_onnx_reference(tmp_path: Path, op_type: str, seed: int) -> None:
    """The naive body of every elementwise op in the table, through the generated prototype."""
    key = "op_" + op_type.lower()
    project = project_op(tmp_path, key, f"ai.onnx::{op_type}")
    spec = load_registry([project / "plugins"]).get(key)
    for dtype in spec.dtypes:
        for case in default_cases(spec):
            if case.name == "large":
                continue  # same code path as "typical", 20x the reference time
            result = run_one(spec, "numpy", dtype, case, seed)
            assert result.status == "pass", f"{op_type} {dtype} {case.name} seed {seed}: {result.detail}"


def test_todo_op_skips_as_not_implemented_yet(tmp_path: Path, seed: int) -> None:
    project = project_op(tmp_path, "hardmax", "ai.onnx::Hardmax")
    spec = load_registry([project / "plugins"]).get("hardmax")
    case = next(c for c in default_cases(spec) if c.name == "odd")
    result = run_one(spec, "numpy", "float32", case, seed)
    assert result.status == "skip"
    assert result.detail.startswith("not implemented yet: Hardmax: kernel not implemented yet")
    kernel = (project / "plugins" / "hardmax" / "hardmax.cu").read_text()
    assert "return cudaErrorNotSupported;" in kernel and "kernel not implemented yet" in kernel


# ---- discovery of plugin projects ----------------------------------------------------------------


def test_entry_point_discovers_an_installed_project(tmp_path: Path, monkeypatch) -> None:
    """An installed project (package with plugins/ and a trtplug.plugins entry point) is loaded."""
    project = project_op(tmp_path, "relu", "ai.onnx::Relu")
    site = tmp_path / "site"
    (site / "proj" / "plugins").mkdir(parents=True)
    shutil.copytree(project / "plugins" / "relu", site / "proj" / "plugins" / "relu")
    (site / "proj" / "__init__.py").write_text("")
    dist = site / "proj-0.1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: proj\nVersion: 0.1.0\n")
    (dist / "entry_points.txt").write_text("[trtplug.plugins]\nproj = proj\n")
    monkeypatch.syspath_prepend(str(site))
    from trtplug.native import native_missing_reason
    from trtplug.registry import owning_package

    spec = load_registry().get("relu")
    assert spec.path == site / "proj" / "plugins" / "relu" / "spec.toml"
    assert owning_package(spec.path) == "proj"
    assert "proj._native is not available" in native_missing_reason(spec.path)
    assert owning_package(project / "plugins" / "relu" / "spec.toml") == "proj"  # source layout, via pyproject


def test_cmake_dir_holds_the_project_helpers() -> None:
    done = subprocess.run([sys.executable, "-m", "trtplug.cmake_dir"], capture_output=True, text=True, check=True)
    folder = Path(done.stdout.strip())
    assert (folder / "TrtplugProject.cmake").is_file() and (folder / "TrtplugOps.cmake").is_file()
    assert (folder.parent / "plugins" / "common" / "plugin_base.h").is_file()
