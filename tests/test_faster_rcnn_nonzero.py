"""A Faster R-CNN-like box selection (tests/grid_roi_models.box_selection_head: NonZero feeding
Transpose/Squeeze/Gather and GatherND, as torchvision's export does, and a RoiAlign) per target:
TensorRT-RTX 1.7 rejects NonZero (its importer asks for a NonZero plugin creator it does not ship)
and RoiAlign, so the rewrite replaces both there; full TensorRT imports NonZero natively and
RoiAlign through its plugin library, so the rewrite leaves them. Model-level parity on the CPU
(ONNX Runtime on the original against the prototypes between ONNX Runtime's nodes), and the real
TensorRT-RTX parser creating the plugin from the rewritten graph when it and the plugin library
are here."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest

from tests.grid_roi_models import box_selection_head
from tests.test_rewrite_tensorrt_rtx import parse  # noqa: F401  (fixture)
from trtplug.cli import main

NONZERO_NODES = ("keep_nonzero", "class_nonzero")


def rewrite(tmp_path: Path, capsys, *options: str) -> tuple[Path, Path, dict]:
    source, out = tmp_path / "boxes.onnx", tmp_path / "boxes.plugins.onnx"
    onnx.save(box_selection_head(), source)
    capsys.readouterr()
    assert main(["rewrite", str(source), "-o", str(out), "--json", *options]) == 0
    report = json.loads(capsys.readouterr().out)
    return source, out, {n["node"]: n for n in report["changes"]}


def op_types(path: Path) -> list[str]:
    return [n.op_type for n in onnx.load(path).graph.node]


def test_tensorrt_rtx_target_replaces_nonzero_and_roi_align(tmp_path: Path, capsys) -> None:
    pytest.importorskip("tensorrt_rtx", reason="the TensorRT-RTX target is its parser (pip install tensorrt-rtx)")
    _, out, nodes = rewrite(tmp_path, capsys, "--backend", "tensorrt_rtx")
    assert all(nodes[n]["action"] == "replaced" for n in (*NONZERO_NODES, "roi_align")), nodes
    kinds = op_types(out)
    assert "NonZero" not in kinds and "RoiAlign" not in kinds
    assert kinds.count("TrtplugNonZero") == 2 and "TrtplugRoiAlign" in kinds
    model = onnx.load(out)
    onnx.checker.check_model(model, full_check=True)
    counts = {n.output[1] for n in model.graph.node if n.op_type == "TrtplugNonZero"}
    assert counts == {f"{n}_Y_count" for n in NONZERO_NODES}
    capsys.readouterr()
    assert main(["check", str(tmp_path / "boxes.onnx"), "--backend", "tensorrt_rtx", "--json"]) == 0  # all covered
    findings = json.loads(capsys.readouterr().out)["findings"]
    nonzero = [f for f in findings if f["op_type"] == "NonZero"]
    assert len(nonzero) == 2 and all(f["kind"] == "not-in-rtx" and "natively" in f["reason"] for f in nonzero)


@pytest.mark.parametrize("version", ["10.16", "11.5"])
def test_full_tensorrt_target_leaves_nonzero_alone(tmp_path: Path, capsys, version: str) -> None:
    _, out, nodes = rewrite(tmp_path, capsys, "--trt-version", version)
    for name in NONZERO_NODES:
        assert nodes[name]["action"] == "left" and "imports it natively" in nodes[name]["reason"], nodes[name]
    assert "libnvinfer_plugin" in nodes["roi_align"]["reason"]
    assert op_types(out).count("NonZero") == 2 and "TrtplugNonZero" not in op_types(out)


@pytest.mark.parametrize("count", [0, 1, 40])
def test_rewritten_model_keeps_parity(tmp_path: Path, capsys, count: int) -> None:
    """Every covered node replaced (the TensorRT-RTX rewrite, whatever parser is here), then the
    original in ONNX Runtime against the rewritten model with the NumPy prototypes."""
    source, out, nodes = rewrite(tmp_path, capsys, "--all-covered")
    assert all(nodes[n]["action"] == "replaced" for n in NONZERO_NODES)
    assert main(["parity", "--model", str(source), "--rewritten", str(out), "--dim", f"K={count}", "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)["results"]
    assert result["status"] == "pass" and set(result["plugins"]) == {"TrtplugNonZero", "TrtplugRoiAlign"}, result
    assert {o["output"] for o in result["outputs"] if o["ok"]} == {"kept_features", "kept_scores", "class_kept"}


def test_tensorrt_rtx_parser_creates_the_plugins(parse, tmp_path: Path, capsys) -> None:  # noqa: F811
    from tests.conftest import require_creators
    from trtplug import native

    host = native.plugin_host_module()
    if host is not None and native.plugin_library_path() is not None:
        require_creators(host.PluginLibrary(str(native.plugin_library_path())), "TrtplugNonZero")
    _, out, _ = rewrite(tmp_path, capsys, "--all-covered")
    log = parse(out)  # TensorRT-RTX stops the child after the first plugin it creates (the fixture says why)
    assert "Searching for plugin: TrtplugNonZero, plugin_version: 1, plugin_namespace: trtplug" in log, log
    assert "Successfully created plugin: TrtplugNonZero" in log, log


def test_plugin_outputs_keep_the_types_onnx_inferred(tmp_path: Path, capsys) -> None:
    """NonZero's [rank, N] has a value-dependent extent the spec's rule cannot give; the rewrite
    keeps the type ONNX inferred for the replaced output (rank 2), so the nodes after it stay typed."""
    _, out, _ = rewrite(tmp_path, capsys, "--all-covered")
    model = onnx.load(out)
    types = {v.name: v.type.tensor_type for v in model.graph.value_info}
    assert len(types["keep_where"].shape.dim) == 2 and types["keep_where"].elem_type == onnx.TensorProto.INT64
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False)
    typed = {v.name for v in inferred.graph.value_info if v.type.tensor_type.HasField("shape")}
    assert {"keep_t", "keep", "kept_boxes"} <= typed


def test_check_of_the_rewritten_model_reports_only_its_plugin_nodes(tmp_path: Path, capsys) -> None:
    """Before the rewrite kept inferred types, `check` on the rewritten model judged the nodes after
    each plugin node on untyped inputs: Squeeze, ReduceMean and GatherND (a parser SIGSEGV) rejected."""
    pytest.importorskip("tensorrt_rtx", reason="the TensorRT-RTX parser (pip install tensorrt-rtx)")
    _, out, _ = rewrite(tmp_path, capsys, "--backend", "tensorrt_rtx")
    assert main(["check", str(out), "--backend", "tensorrt_rtx", "--json"]) == 0
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert {f["node"] for f in findings} == {*NONZERO_NODES, "roi_align"}, findings
    assert all(f["kind"] == "trtplug-plugin" for f in findings)
