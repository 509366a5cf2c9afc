"""A model whose ai.onnx opset is older than one of its ops (graph_rewrites/opset_repair.py): torch
2.14's dynamo exporter writes torchvision's DeformConv2d as DeformConv, an opset-19 op, into an
opset-18 model, which the ONNX checker and ONNX Runtime refuse. rewrite and parity --model read it
at opset 19 and say so; a model where another op would change meaning there is refused, with what
to re-export."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
from onnx import helper
from trtplug.graph_rewrites.opset_repair import planned_opset_raise, raise_opset_for_newer_ops

from tests.exporter_models import Weights, _model, io
from trtplug.cli import main


def dynamo_deform_conv2d(opset: int = 18, extra: list[onnx.NodeProto] | None = None) -> onnx.ModelProto:
    """torchvision's DeformConv2d with offset and mask convolutions, node for node as torch 2.14's
    dynamo exporter writes it at its default opset: no kernel_shape, a sigmoid mask."""
    w, c = Weights(3), 4
    conv = {"pads": [1, 1, 1, 1], "strides": [1, 1], "dilations": [1, 1], "group": 1}
    nodes = [
        helper.make_node(
            "Conv", ["x", w.normal("off_w", (18, c, 3, 3), 0.3), w.normal("off_b", (18,))], ["off"], **conv
        ),
        helper.make_node("Conv", ["x", w.normal("mask_w", (9, c, 3, 3)), w.normal("mask_b", (9,))], ["m"], **conv),
        helper.make_node("Sigmoid", ["m"], ["mask"]),
        helper.make_node(
            "DeformConv",
            ["x", w.normal("w", (8, c, 3, 3)), "off", w.normal("b", (8,)), "mask"],
            ["d"],
            name="node_deform_conv2d",
            offset_group=1,
            **conv,
        ),
        *(extra or []),
        helper.make_node("Relu", ["d"], ["y"]),
    ]
    return _model(nodes, [io("x", shape=[1, c, 10, 12])], [io("y", shape=[1, 8, 10, 12])], w, opset, ms=False)


def test_dynamo_deform_conv_is_read_at_opset_19(tmp_path: Path, capsys) -> None:
    source, out = tmp_path / "deform.onnx", tmp_path / "deform.rw.onnx"
    onnx.save(dynamo_deform_conv2d(), source)
    with pytest.raises(onnx.checker.ValidationError):
        onnx.checker.check_model(onnx.load(source))  # as exported: invalid
    assert main(["rewrite", str(source), "-o", str(out), "--all-covered"]) == 0
    assert "ai.onnx opset 18 read as 19: DeformConv exists only from opset 19 on" in capsys.readouterr().err
    rewritten = onnx.load(out)
    onnx.checker.check_model(rewritten)
    assert [i.version for i in rewritten.opset_import if i.domain == ""] == [19]
    assert "TrtplugDeformConv" in {n.op_type for n in rewritten.graph.node}
    assert onnx.load(source).opset_import[0].version == 18  # the input file is untouched
    assert main(["parity", "--model", str(source), "--rewritten", str(out), "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)["results"]
    assert result["status"] == "pass" and result["plugins"] == ["TrtplugDeformConv"]
    assert result["reference"].startswith("onnxruntime (ai.onnx opset 18 read as 19")


def test_ops_whose_version_19_only_adds_types_or_modes_allow_the_raise() -> None:
    reshape = [
        helper.make_node("Shape", ["d"], ["s"]),
        helper.make_node("Cast", ["d"], ["d16"], to=onnx.TensorProto.FLOAT16),
        helper.make_node("Pad", ["d16", "pads"], ["p"], mode="constant"),
    ]
    model = dynamo_deform_conv2d(extra=reshape)
    plan = planned_opset_raise(model)
    assert plan is not None and plan[0] == 19


def test_a_model_where_another_op_changes_meaning_is_refused_with_what_to_do(tmp_path: Path, capsys) -> None:
    """ReduceMean took axes as an attribute until opset 18, as an input since: read at 19, an
    opset-17 model's node would mean something else."""
    mean = [helper.make_node("ReduceMean", ["d"], ["r"], axes=[1])]
    model = dynamo_deform_conv2d(opset=17, extra=mean)
    assert planned_opset_raise(model) is None and raise_opset_for_newer_ops(model) == ""
    assert model.opset_import[0].version == 17
    source = tmp_path / "m.onnx"
    onnx.save(model, source)
    assert main(["rewrite", str(source), "-o", str(tmp_path / "out.onnx"), "--all-covered"]) == 2
    err = capsys.readouterr().err
    assert "DeformConv exists only from ai.onnx opset 19 on, but the model imports opset 17" in err
    assert "ReduceMean means something else at opset 19: export it at opset 19 or later" in err
    assert "Traceback" not in err and not (tmp_path / "out.onnx").exists()


def test_a_valid_model_is_not_touched() -> None:
    model = dynamo_deform_conv2d(opset=19)
    assert planned_opset_raise(model) is None and model.opset_import[0].version == 19


def test_check_reads_it_as_rewrite_does(tmp_path: Path, capsys) -> None:
    """Read at opset 18, no plugin would cover DeformConv (its spec starts at opset 19)."""
    source = tmp_path / "deform.onnx"
    onnx.save(dynamo_deform_conv2d(), source)
    main(["check", str(source), "--static", "--trt-version", "10.14", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert any(note.startswith("ai.onnx opset 18 read as 19") for note in doc["notes"])
    assert [(f["op_type"], f["plugin"]) for f in doc["findings"]] == [("DeformConv", "TrtplugDeformConv")]


def test_list_reads_it_as_rewrite_does(tmp_path: Path, capsys) -> None:
    source = tmp_path / "deform.onnx"
    onnx.save(dynamo_deform_conv2d(), source)
    assert main(["list", "--model", str(source), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["nodes"]
    assert [(r["op_type"], r["plugin"]) for r in rows if r["op_type"] == "DeformConv"] == [
        ("DeformConv", "TrtplugDeformConv")
    ]
