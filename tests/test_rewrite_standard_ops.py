"""Standard ops through rewrite: a one-output MaxPool stays TensorRT's, MaxPool with Indices
feeding MaxUnpool becomes two plugins and keeps the model's numbers; a conv net with an
unsupported-by-nothing graph is left as it was."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from tests.check_models import conv_net
from trtplug.cli import main

F32 = TensorProto.FLOAT


def pool_unpool_model() -> onnx.ModelProto:
    nodes = [
        helper.make_node("MaxPool", ["x"], ["p", "i"], kernel_shape=[2, 2], strides=[2, 2], name="pool"),
        helper.make_node("Relu", ["p"], ["r"], name="relu"),
        helper.make_node("MaxUnpool", ["r", "i"], ["y"], kernel_shape=[2, 2], strides=[2, 2], name="unpool"),
    ]
    graph = helper.make_graph(
        nodes,
        "pool_unpool",
        [helper.make_tensor_value_info("x", F32, [2, 3, 8, 10])],
        [helper.make_tensor_value_info("y", F32, [2, 3, 8, 10])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)


def test_one_output_max_pool_is_left_to_tensorrt(tmp_path: Path, capsys) -> None:
    source = tmp_path / "conv.onnx"
    onnx.save(conv_net(np.random.default_rng(0)), source)
    assert main(["rewrite", str(source), "-o", str(tmp_path / "out.onnx")]) == 0
    out = capsys.readouterr().out
    assert "pool1" in out and "imports it natively" in out and "0 replaced" in out  # the target takes it
    assert main(["rewrite", str(source), "-o", str(tmp_path / "out.onnx"), "--all-covered"]) == 0
    out = capsys.readouterr().out
    assert "pool1" in out and "does not use output 'Indices'" in out and "0 replaced" in out
    ops = [n.op_type for n in onnx.load(tmp_path / "out.onnx").graph.node]
    assert ops == [n.op_type for n in onnx.load(source).graph.node]


def test_max_pool_indices_into_max_unpool_become_plugins_with_parity(tmp_path: Path, capsys) -> None:
    source, out = tmp_path / "pool.onnx", tmp_path / "pool.plugins.onnx"
    onnx.save(pool_unpool_model(), source)
    assert main(["rewrite", str(source), "-o", str(out)]) == 0
    model = onnx.load(out)
    onnx.checker.check_model(model, full_check=True)
    assert [n.op_type for n in model.graph.node] == ["TrtplugMaxPoolWithIndices", "Relu", "TrtplugMaxUnpool"]
    capsys.readouterr()
    assert main(["parity", "--model", str(source), "--rewritten", str(out)]) == 0
    assert "pass" in capsys.readouterr().out


@pytest.mark.parametrize("large", [False, pytest.param(True, marks=pytest.mark.slow)], ids=["small", "large"])
def test_prototype_output_shapes_agree_with_the_reference(seed: int, large: bool) -> None:
    """Model-level parity allocates value-dependent outputs with the prototype's output_shapes()."""
    from trtplug.parity.impl_base import pyplugin_module
    from trtplug.parity.runner import Selection, plan, prepare
    from trtplug.registry import load_registry
    from trtplug.shape_rules import is_value_dependent

    checked = 0
    for spec in load_registry():
        if not any(is_value_dependent(t.shape) for t in spec.outputs):
            continue
        for job in plan([spec], Selection(("numpy",))):
            # The "large*" cases (Unique's reference: minutes) run in the slow half.
            if job.skip or job.given is not None or ("large" in job.case.name) != large:
                continue
            inputs, expected = prepare(spec, job.dtype, job.case, seed)
            given = [inputs.get(t.name) for t in spec.inputs]
            shapes = pyplugin_module(spec).output_shapes(given, job.case.attrs)
            assert [tuple(s) for s in shapes][: len(expected)] == [e.shape for e in expected], job.case.name
            checked += 1
    assert checked >= 10
