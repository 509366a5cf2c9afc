"""Project rules: `trtplug new --rule` scaffolds a rule and its test; once filled, the project's
rule is discovered beside its plugins/ and fuses its pattern through `trtplug rewrite`; bad rule
files are one clear line naming the file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from trtplug.cli import main

FILLED_PATTERN = 'PATTERN = op("Div", var("x"), op("Add", op("Abs", var("x")), const(1.0)))'


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rules") / "myops"
    assert main(["new", "softsign", "--from", "ai.onnx::Softsign", "--project", str(root)]) == 0
    assert main(["new", "--rule", "softsign_parts", "--op", "softsign", "--project", str(root)]) == 0
    return root


def fill_rule(project: Path) -> None:
    """What a contributor writes into the skeleton: x / (1 + |x|) -> Softsign(x)."""
    path = project / "graph_rewrites" / "softsign_parts.py"
    text = path.read_text()
    text = text.replace('PATTERN = op("TODO_OpType", var("x"))', FILLED_PATTERN)
    text = text.replace('anchors=("TODO_OpType",)', 'anchors=("Abs",)')
    text = text.replace("import Match, op, var", "import Match, const, op, var")
    path.write_text(text)


def softsign_model(path: Path) -> Path:
    nodes = [
        helper.make_node("Abs", ["x"], ["a"], name="abs"),
        helper.make_node("Add", ["one", "a"], ["d"], name="plus_one"),
        helper.make_node("Div", ["x", "d"], ["y"], name="div"),
    ]
    one = helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])
    x, y = (helper.make_tensor_value_info(n, TensorProto.FLOAT, [2, 8]) for n in "xy")
    graph = helper.make_graph(nodes, "softsign", [x], [y], initializer=[one])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)]), path)
    return path


def test_scaffolded_skeleton_loads_and_its_test_fails_until_filled(project: Path) -> None:
    rule_file = project / "graph_rewrites" / "softsign_parts.py"
    test_file = project / "tests" / "test_rule_softsign_parts.py"
    assert "def check(match: Match)" in rule_file.read_text() and "Form(PATTERN" in rule_file.read_text()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"},  # an outer -q would hide the count
    )
    assert done.returncode == 1 and "1 failed" in done.stdout, done.stdout[-2000:]


def test_filled_project_rule_fuses_through_the_cli(project: Path, tmp_path: Path) -> None:
    fill_rule(project)
    model, out = softsign_model(tmp_path / "m.onnx"), tmp_path / "out.onnx"
    cmd = [sys.executable, "-m", "trtplug", "rewrite", str(model), "-o", str(out), "--json"]
    done = subprocess.run(
        [*cmd, "--plugins-dir", str(project / "plugins")], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    changes = json.loads(done.stdout)["changes"]
    fused = [c for c in changes if c.get("rule") == "softsign_parts"]
    assert len(fused) == 1 and fused[0]["action"] == "fused", changes
    assert [n.op_type for n in onnx.load(out).graph.node] == ["TrtplugSoftsign"]
    excluded = tmp_path / "excluded.onnx"
    args = ["rewrite", str(model), "-o", str(excluded), "--plugins-dir", str(project / "plugins")]
    assert main([*args, "--exclude", "softsign_parts"]) == 0
    assert [n.op_type for n in onnx.load(excluded).graph.node] == ["Abs", "Add", "Div"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("RULE = (\n", "syntax error"),
        ("X = 1\n", "defines no RULE = Rule(...)"),
        ("import not_a_module_here\n", "failed to load: ModuleNotFoundError"),
    ],
)
def test_bad_rule_file_is_one_line_naming_it(tmp_path: Path, capsys, text: str, message: str) -> None:
    root = tmp_path / "proj"
    assert main(["new", "softsign", "--from", "ai.onnx::Softsign", "--project", str(root)]) == 0
    capsys.readouterr()
    bad = root / "graph_rewrites" / "broken.py"
    bad.write_text(text)
    model = softsign_model(tmp_path / "m.onnx")
    assert main(["rewrite", str(model), "--dry-run", "--plugins-dir", str(root / "plugins")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(bad) in err and message in err, err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rule", "Bad-Name", "--op", "softsign"], "snake_case"),
        (["--rule", "erf_gelu", "--op", "softsign"], "built-in rule"),
        (["--rule", "mine", "--op", "nope"], "--op nope"),
        (["--rule", "mine"], "takes --op KEY"),
    ],
)
def test_bad_rule_scaffold_arguments(tmp_path: Path, capsys, args: list[str], message: str) -> None:
    root = tmp_path / "proj"
    assert main(["new", "softsign", "--from", "ai.onnx::Softsign", "--project", str(root)]) == 0
    capsys.readouterr()
    assert main(["new", *args, "--project", str(root)]) == 2
    assert message in capsys.readouterr().err
