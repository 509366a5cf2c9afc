"""Model parity on the user's own inputs (--inputs: .npz or Polygraphy's JSON), plugin nodes inside
If bodies, and the large-model mode (standard stretches in ONNX Runtime, plugins in between)."""

from __future__ import annotations

import base64
import io as bytes_io
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from tests.rewrite_models import HIDDEN, io, linear_gelu_model, model, op_types, rewrite
from trtplug.cli import main
from trtplug.parity.impls import IMPLS
from trtplug.parity.model import model_parity
from trtplug.parity.model_run import run_in_stretches
from trtplug.registry import load_registry


@pytest.fixture(scope="module")
def registry():
    return load_registry()


@pytest.fixture(scope="module")
def pair(tmp_path_factory, registry) -> tuple[Path, Path]:
    """A torch-style Linear + erf-GELU model and its rewrite, on disk."""
    folder = tmp_path_factory.mktemp("pair")
    original = linear_gelu_model()
    rewritten, _ = rewrite(original, registry)
    assert any(t.startswith("Trtplug") for t in op_types(rewritten))
    onnx.save(original, folder / "orig.onnx")
    onnx.save(rewritten, folder / "out.onnx")
    return folder / "orig.onnx", folder / "out.onnx"


def polygraphy_array(array: np.ndarray) -> dict:
    """One array as Polygraphy's JSON encodes it (np.save bytes, base64, class marker)."""
    buffer = bytes_io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return {"array": base64.b64encode(buffer.getvalue()).decode(), "polygraphy_class": "ndarray"}


def x_input(seed: int, shape=(2, 5, HIDDEN), dtype=np.float32) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def parity_cli(pair, *extra: str) -> list[str]:
    return ["parity", "--model", str(pair[0]), "--rewritten", str(pair[1]), *extra]


def test_npz_inputs_are_compared(pair, tmp_path, capsys) -> None:
    np.savez(tmp_path / "in.npz", x=x_input(0))
    assert main(parity_cli(pair, "--inputs", str(tmp_path / "in.npz"))) == 0
    out = capsys.readouterr().out
    assert "PASS" in out and "standard nodes in onnxruntime" in out


def test_polygraphy_json_runs_every_input_set(pair, tmp_path, capsys) -> None:
    sets = [{"x": polygraphy_array(x_input(1))}, {"x": polygraphy_array(x_input(2, (1, 7, HIDDEN)))}]
    (tmp_path / "in.json").write_text(json.dumps(sets))
    assert main(parity_cli(pair, "--inputs", str(tmp_path / "in.json"), "--json")) == 0
    report = json.loads(capsys.readouterr().out)
    outputs = [o["output"] for r in report["results"] for o in r["outputs"]]
    assert outputs == ["y[0]", "y[1]"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"z": x_input(0)}, "no graph input named 'z'; missing 'x'"),
        ({"x": x_input(0, dtype=np.float64)}, "input 'x' is float64, the model takes float32"),
        ({"x": x_input(0, (2, HIDDEN))}, "input 'x' has rank 2, the model takes rank 3"),
        ({"x": x_input(0, (2, 5, HIDDEN + 1))}, f"has {HIDDEN + 1} on axis 2, the model fixes it to {HIDDEN}"),
        (b"not json, not npz", "neither an .npz archive nor JSON"),
        (b'[{"x": {"array": "!!", "polygraphy_class": "ndarray"}}]', "input 'x' does not decode"),
        (b'[{"x": [1, 2]}]', "input 'x' is not a Polygraphy-encoded array"),
        (b"[]", "holds no input sets"),
    ],
    ids=["names", "dtype", "rank", "fixed-dim", "garbage", "bad-base64", "plain-list", "empty"],
)
def test_bad_input_files_are_refused_before_running(pair, tmp_path, capsys, content, message) -> None:
    path = tmp_path / "in.bin"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        with path.open("wb") as f:
            np.savez(f, **content)
    assert main(parity_cli(pair, "--inputs", str(path))) == 2
    err = capsys.readouterr().err
    assert message in err and str(path) in err and "Traceback" not in err


def test_inputs_needs_a_model(tmp_path, capsys) -> None:
    assert main(["parity", "--op", "fast_gelu", "--inputs", str(tmp_path / "x.npz")]) == 2
    assert "--inputs" in capsys.readouterr().err


class _ZeroingImpl(type(IMPLS["numpy"])):
    """The NumPy prototype with its outputs overwritten: a plugin computing the wrong values."""

    def execute(self, spec, ins, outs, attrs) -> None:
        super().execute(spec, ins, outs, attrs)
        for out in outs:
            out[...] = 0


def test_stretch_mode_fails_a_wrong_plugin(pair, registry) -> None:
    original, rewritten = (onnx.load(p) for p in pair)
    good = model_parity(original, rewritten, registry, IMPLS["numpy"], 0, {"batch": 2, "seq": 3})
    assert good.status == "pass" and good.engine == "onnxruntime"
    bad = model_parity(original, rewritten, registry, _ZeroingImpl("numpy", False), 0, {"batch": 2, "seq": 3})
    assert bad.status == "fail" and bad.engine == "onnxruntime"


def test_stretches_follow_chained_plugins_and_release_nothing_needed_later() -> None:
    """Plugin -> plugin -> standard op reading both and a graph input: three rounds, same values as
    running the ops directly."""
    nodes = [
        helper.make_node("Neg", ["x"], ["a"]),
        helper.make_node("P", ["a"], ["b"], domain="t"),
        helper.make_node("P", ["b"], ["c"], domain="t"),
        helper.make_node("Sum", ["a", "b", "c", "x"], ["y"]),
    ]
    x_info = helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])
    graph = helper.make_graph(nodes, "g", [x_info], [io("y", shape=[3]), io("b", shape=[3])])
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("t", 1)]
    chained = helper.make_model(graph, opset_imports=opsets, ir_version=9)  # ONNX Runtime 1.30 reads IR <= 13
    x = np.array([1.0, -2.0, 3.0], np.float32)
    y, b = run_in_stretches(chained, {"x": x}, {("t", "P")}, lambda node, ins: (ins[0] * 2,))
    np.testing.assert_allclose(b, -2 * x)
    np.testing.assert_allclose(y, -x - 2 * x - 4 * x + x)


def test_plugin_nodes_inside_an_if_body(registry) -> None:
    """A FastGelu in a then-branch is rewritten; model parity runs it (through onnx.reference)."""
    then = helper.make_graph(
        [helper.make_node("FastGelu", ["x"], ["t"], domain="com.microsoft", name="gelu_in_branch")],
        "then",
        [],
        [io("t")],
    )
    other = helper.make_graph([helper.make_node("Neg", ["x"], ["e"], name="neg")], "else", [], [io("e")])
    cond = helper.make_tensor_value_info("cond", TensorProto.BOOL, [])
    branch = helper.make_node("If", ["cond"], ["y"], then_branch=then, else_branch=other, name="branch")
    original = model([branch], [io("x"), cond], [io("y")])
    rewritten, _ = rewrite(original, registry)
    then_body = next(a.g for a in rewritten.graph.node[0].attribute if a.name == "then_branch")
    body_ops = [n.op_type for n in then_body.node]
    assert any(t.startswith("Trtplug") for t in body_ops), body_ops
    for seed in range(4):  # both branches over the seeds
        result = model_parity(original, rewritten, registry, IMPLS["numpy"], seed, {"batch": 2, "seq": 3})
        assert result.status == "pass", (result.detail, [c.as_dict() for c in result.comparisons])
        assert result.engine == "onnx.reference" and result.plugins


def test_without_weights_keeps_everything_but_the_payloads() -> None:
    """What model parity keeps of the original: interface, nodes, opsets, initializer names/dims."""
    from tests.encoder_model import encoder_model
    from trtplug.model_io import SMALL_INITIALIZER, without_weights

    full = encoder_model(layers=2)
    light = without_weights(full)
    assert [t.name for t in light.graph.initializer] == [t.name for t in full.graph.initializer]
    assert [list(t.dims) for t in light.graph.initializer] == [list(t.dims) for t in full.graph.initializer]
    large = [t for t in light.graph.initializer if np.prod(t.dims) > SMALL_INITIALIZER]
    assert large and not any(t.raw_data or t.float_data for t in large)
    small = {t.name: t for t in full.graph.initializer if np.prod(t.dims) <= SMALL_INITIALIZER}
    assert all(t == small[t.name] for t in light.graph.initializer if t.name in small)  # axes, indices
    assert light.graph.node == full.graph.node and light.graph.input == full.graph.input
    assert light.graph.output == full.graph.output and light.opset_import == full.opset_import
    assert len(light.SerializeToString()) < len(full.SerializeToString()) // 10
