"""`trtplug rewrite` and `trtplug parity --model`: files, reports, bad input (one line, exit 2,
nothing written, input untouched), external data, and model-level parity catching a wrong
rewrite."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper

from tests.cli_helpers import run_main
from tests.rewrite_models import const, io, linear_gelu_model, model
from tests.test_cli import run_cli
from trtplug.cli import main


@pytest.fixture
def example(tmp_path: Path) -> Path:
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["h"], name="fc"),
        helper.make_node("FastGelu", ["h", "b"], ["y"], domain="com.microsoft", name="gelu"),
    ]
    rng = np.random.default_rng(0)
    inits = [const("w", rng.standard_normal((16, 16)) * 0.3), const("b", rng.standard_normal(16))]
    path = tmp_path / "in" / "model.onnx"
    path.parent.mkdir()
    onnx.save(model(nodes, [io("x")], [io("y")], inits), path)
    return path


def test_help_needs_no_heavy_dependency() -> None:
    done = run_cli("rewrite", "--help")
    assert done.returncode == 0 and "--in-place" in done.stdout


def test_rewrite_writes_model_and_json_report(example: Path, tmp_path: Path, capsys) -> None:
    before = example.read_bytes()
    out = tmp_path / "out.onnx"
    assert main(["rewrite", str(example), "-o", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "trtplug.rewrite" and doc["counts"]["replaced"] == 1
    [change] = doc["changes"]
    assert change["node"] == "gelu" and change["plugin"] == "TrtplugFastGelu v1 (trtplug)"
    written = onnx.load(out)
    onnx.checker.check_model(written, full_check=True)
    assert [n.op_type for n in written.graph.node] == ["MatMul", "TrtplugFastGelu"]
    assert example.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out.onnx"]  # no temp file left


def test_dry_run_and_markdown_write_nothing(example: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out.onnx"
    assert main(["rewrite", str(example), "-o", str(out), "--dry-run", "--markdown"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("| NODE | OP | ACTION |") and "| gelu | com.microsoft::FastGelu | replaced |" in text
    assert "dry run: nothing written" in text and not out.exists()


def test_in_place(example: Path, capsys) -> None:
    assert main(["rewrite", str(example), "--in-place"]) == 0
    assert onnx.load(example).graph.node[1].op_type == "TrtplugFastGelu"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["rewrite", "{model}", "-o", "{model}"], "is the input model; pass --in-place"),
        (["rewrite", "{model}"], "no output"),
        (["rewrite", "{tmp}/missing.onnx", "-o", "{tmp}/o.onnx"], "missing.onnx: no such model file"),
        (["rewrite", "{tmp}/garbage.onnx", "-o", "{tmp}/o.onnx"], "garbage.onnx: not a readable ONNX model"),
        (["rewrite", "{tmp}/invalid.onnx", "-o", "{tmp}/o.onnx"], "reads 'undefined_tensor', which nothing defines"),
        (["rewrite", "{model}", "-o", "{tmp}/nowhere/o.onnx"], "does not exist"),
        (["rewrite", "{model}", "-o", "{tmp}/o.onnx", "--only", "Nope"], "--only Nope: names no plugin"),
        (["parity", "--model", "{model}"], "needs both --model"),
        (["parity", "--model", "{model}", "--rewritten", "{model}", "--dim", "batch"], "--dim batch: expected"),
    ],
)
def test_bad_input_is_one_line_exit_2(example: Path, tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "garbage.onnx").write_bytes(b"\x00not a model")
    invalid = onnx.load(example)
    invalid.graph.node[0].input[0] = "undefined_tensor"
    onnx.save(invalid, tmp_path / "invalid.onnx")
    before = example.read_bytes()
    done = run_main(*(a.format(model=example, tmp=tmp_path) for a in args))
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert example.read_bytes() == before and not (tmp_path / "o.onnx").exists()


def test_external_data_survives_a_rewrite_elsewhere(example: Path, tmp_path: Path) -> None:
    m = onnx.load(example)
    source = tmp_path / "ext"
    source.mkdir()
    onnx.save(m, source / "model.onnx", save_as_external_data=True, location="weights.bin", size_threshold=0)
    out_dir = tmp_path / "rewritten"
    out_dir.mkdir()
    assert main(["rewrite", str(source / "model.onnx"), "-o", str(out_dir / "model.onnx")]) == 0
    assert (out_dir / "weights.bin").read_bytes() == (source / "weights.bin").read_bytes()
    loaded = onnx.load(out_dir / "model.onnx")  # loads the weights from out_dir
    onnx.checker.check_model(out_dir / "model.onnx", full_check=True)
    assert np.array_equal(
        onnx.numpy_helper.to_array(loaded.graph.initializer[0]),
        onnx.numpy_helper.to_array(onnx.load(example).graph.initializer[0]),
    )
    assert main(["parity", "--model", str(source / "model.onnx"), "--rewritten", str(out_dir / "model.onnx")]) == 0


def external_copy(example: Path, folder: Path, scale: float) -> Path:
    """The example with its weights scaled, saved to folder/model.onnx with external data named
    model.onnx.data, as ONNX Runtime GenAI's builders name every model's."""
    m = onnx.load(example)
    for init in m.graph.initializer:
        init.CopyFrom(onnx.numpy_helper.from_array(onnx.numpy_helper.to_array(init) * scale, init.name))
    folder.mkdir()
    onnx.save(m, folder / "model.onnx", save_as_external_data=True, location="model.onnx.data", size_threshold=0)
    return folder / "model.onnx"


def test_models_with_same_named_data_rewritten_into_one_folder(example: Path, tmp_path: Path) -> None:
    """The second model's data cannot take the first's file name: it gets the output's name as a
    prefix and the rewritten model reads it from there; a third conflict is refused, nothing written."""
    cpu, cuda, other = (external_copy(example, tmp_path / n, s) for n, s in (("cpu", 1.0), ("cuda", 0.5), ("x", 2.0)))
    out = tmp_path / "rewritten"
    out.mkdir()
    for source, name in ((cpu, "cpu.plugins.onnx"), (cuda, "cuda.plugins.onnx")):
        assert main(["rewrite", str(source), "-o", str(out / name)]) == 0
        assert main(["parity", "--model", str(source), "--rewritten", str(out / name)]) == 0
    assert (out / "model.onnx.data").read_bytes() == (tmp_path / "cpu" / "model.onnx.data").read_bytes()
    assert (out / "cuda.plugins.model.onnx.data").read_bytes() == (tmp_path / "cuda" / "model.onnx.data").read_bytes()
    files = sorted(out.iterdir())
    assert main(["rewrite", str(cuda), "-o", str(out / "cuda.plugins.onnx")]) == 0  # a rerun: no new copy
    assert sorted(out.iterdir()) == files
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    done = run_main("rewrite", str(other), "-o", str(out / "cuda.plugins.onnx"))
    assert done.returncode == 2 and "exist with different content" in done.stderr and "Traceback" not in done.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_model_parity_passes_and_catches_a_wrong_rewrite(tmp_path: Path, capsys) -> None:
    original = tmp_path / "gelu.onnx"
    onnx.save(linear_gelu_model("div", bias=True), original)
    out = tmp_path / "gelu.plugins.onnx"
    plugins: list[str] = []  # the built-in TrtplugBiasGelu covers the fused com.microsoft BiasGelu
    assert main(["rewrite", str(original), "-o", str(out), "--only", "erf_gelu", *plugins]) == 0
    capsys.readouterr()
    args = ["parity", "--model", str(original), "--rewritten", str(out), "--dim", "batch=2", "--dim", "seq=7", *plugins]
    assert main([*args, "--json", "--seed", "3"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["results"][0]["status"] == "pass" and "TrtplugBiasGelu" in doc["results"][0]["plugins"]
    broken = onnx.load(out)
    plugin = next(n for n in broken.graph.node if n.op_type.startswith("Trtplug"))
    plugin.input[1] = "b1_shifted"  # a wrong input: the bias is off by 0.1
    broken.graph.initializer.append(
        const(
            "b1_shifted", onnx.numpy_helper.to_array(next(t for t in broken.graph.initializer if t.name == "b1")) + 0.1
        )
    )
    onnx.save(broken, out)
    assert main([*args, "--seed", "3"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_parity_reports_ops_nothing_can_run(tmp_path: Path, capsys) -> None:
    """A rewritten node that is neither a plugin, nor known to ONNX Runtime or onnx.reference."""
    original, rewritten = tmp_path / "gelu.onnx", tmp_path / "mystery.onnx"
    m = model([helper.make_node("Gelu", ["x"], ["y"], domain="com.microsoft", name="g")], [io("x")], [io("y")])
    onnx.save(m, original)
    node = helper.make_node("Mystery", ["x"], ["y"], domain="acme", name="g")
    onnx.save(model([node], [io("x")], [io("y")], extra_opsets=(("acme", 1),)), rewritten)
    assert main(["parity", "--model", str(original), "--rewritten", str(rewritten)]) == 1
    assert "running the rewritten model failed" in capsys.readouterr().out


def test_rewrite_needs_no_heavy_dependency(example: Path, tmp_path: Path) -> None:
    """No TensorRT, CuPy, ONNX Runtime or compiled part is needed to rewrite."""
    done = run_cli("rewrite", str(example), "-o", str(tmp_path / "out.onnx"))
    assert done.returncode == 0, done.stderr
    assert "1 replaced" in done.stdout


def test_graph_io_without_shapes_loads_as_onnx_runtime_loads_it(tmp_path: Path, capsys) -> None:
    """Exporters leave graph inputs/outputs without a shape (unknown rank); ONNX Runtime runs such
    a model, the ONNX checker requires the field. check, rewrite and model parity take it, and
    the written model keeps the shapes unknown (no rank invented)."""
    node = helper.make_node("Unique", ["x"], ["y"], name="unique", sorted=1)
    x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, None)
    y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)
    built = helper.make_model(
        helper.make_graph([node], "g", [x], [y]), opset_imports=[helper.make_opsetid("", 18)], ir_version=9
    )
    original, out = tmp_path / "shapeless.onnx", tmp_path / "out.onnx"
    onnx.save(built, original)
    assert main(["check", str(original), "--static", "--trt-version", "10.16"]) == 0
    assert main(["rewrite", str(original), "-o", str(out), "--trt-version", "10.16"]) == 0
    assert "1 replaced" in capsys.readouterr().out
    written = onnx.load(out)
    assert not written.graph.input[0].type.tensor_type.HasField("shape")
    assert not written.graph.output[0].type.tensor_type.HasField("shape")
    assert main(["parity", "--model", str(original), "--rewritten", str(out), "--dim", "x=7"]) == 0
    assert "numpy: pass" in capsys.readouterr().out
