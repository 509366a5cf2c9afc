"""The prototypes as TensorRT plugins (trtplug.protoplugin): registration, lookup, creation from
the fields the rewrite writes, the build-phase answers, `rewrite --plugin-backend prototype`, and
TensorRT-RTX's real parser creating the prototype plugin. Enqueue on the GPU is the `protoplugin`
parity implementation (tests/test_parity.py runs it for every op and case)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar

import numpy as np
import onnx
import pytest
from onnx import helper

from tests.rewrite_models import const, io, model
from tests.rtx_child import RTX_PREAMBLE
from trtplug import protoplugin
from trtplug.cli import main
from trtplug.errors import TrtplugError
from trtplug.protoplugin import fields, shapes
from trtplug.protoplugin.plugin import NAMESPACE, ProtoLogic, unsupported_reason
from trtplug.protoplugin.standin import TRT
from trtplug.registry import load_registry
from trtplug.shape_rules import apply_rule

SPECS = {spec.key: spec for spec in load_registry()}


def rtx() -> object:
    return pytest.importorskip("tensorrt_rtx", reason="pip install tensorrt-rtx to test against TensorRT's Python API")


def test_which_prototypes_run_as_plugins_and_why_not() -> None:
    table = protoplugin.available()
    assert table["fast_gelu"] is None and table["scatter_elements"] is None
    assert table["unique"] is None and table["center_crop_pad"] is None  # size tensor; shape input
    assert table["bert_attention"] is None and table["dft_20"] is None  # output_dims hook; folded input


@pytest.mark.parametrize("key", ["scatter_elements", "max_pool_with_indices", "skip_layer_norm", "bit_shift"])
def test_fields_round_trip_through_tensorrt_field_types(key: str) -> None:
    trt = rtx()
    from trtplug.parity.cases import hinted_cases

    spec = SPECS[key]
    attrs = {a.name: a.default for a in spec.attributes} | hinted_cases(spec)[0].attrs
    collection, _keep = fields.field_collection(trt, spec, attrs)
    assert [f.name for f in collection] == [a.name for a in spec.attributes]
    as_float32 = {k: float(np.float32(v)) if isinstance(v, float) else v for k, v in attrs.items()}
    assert fields.attrs_from_fields(spec, collection) == as_float32  # float fields are float32


def test_creation_refuses_what_the_spec_forbids() -> None:
    trt = rtx()
    spec = SPECS["scatter_elements"]
    bad = {"axis": 0, "reduction": "median"}
    collection, _keep = fields.field_collection(trt, spec, bad)
    with pytest.raises(TrtplugError, match="reduction"):
        fields.attrs_from_fields(spec, collection)
    one = np.array([1], np.int32)
    unknown = trt.PluginFieldCollection([trt.PluginField("nope", one, trt.PluginFieldType.INT32)])
    with pytest.raises(TrtplugError, match="unknown field 'nope'"):
        fields.attrs_from_fields(spec, unknown)


class ConstExpr:
    """An IDimensionExpr stand-in holding a known value (no public IExprBuilder in Python)."""

    def __init__(self, value: int) -> None:
        self.value = value

    def is_constant(self) -> bool:
        return True

    def get_constant_value(self) -> int:
        return self.value


class ConstBuilder:
    OPS: ClassVar[dict] = {"SUM": int.__add__, "PROD": int.__mul__, "FLOOR_DIV": int.__floordiv__, "MAX": max}

    def constant(self, value: int) -> ConstExpr:
        return ConstExpr(value)

    def operation(self, op: str, a: ConstExpr, b: ConstExpr) -> ConstExpr:
        return ConstExpr(self.OPS[op](a.value, b.value))


CONST_TRT = SimpleNamespace(
    DimensionOperation=SimpleNamespace(**{k: k for k in ConstBuilder.OPS}),
    DimsExprs=lambda exprs: tuple(e.value for e in exprs),
)


@pytest.mark.parametrize(
    "key", sorted(k for k, s in SPECS.items() if unsupported_reason(s) is None and shapes.dims_hook(s) is None)
)
def test_symbolic_output_shapes_agree_with_the_spec_rules(key: str) -> None:
    """get_output_shapes' expressions, evaluated on known extents, give the spec rules' shapes."""
    from trtplug.parity.cases import default_attrs, hinted_cases, shapes_for

    spec = SPECS[key]
    cases = hinted_cases(spec) or [None]
    for case in cases:
        known = dict(case.shapes) if case is not None else dict(shapes_for(spec, (3, 5), True))
        attrs = case.attrs if case is not None else default_attrs(spec)
        known = {t.name: tuple(known[t.name]) for t in spec.plugin_inputs if t.name in known}
        dims = [tuple(ConstExpr(d) for d in known[t.name]) for t in spec.plugin_inputs if t.name in known]
        got = shapes.output_shapes(CONST_TRT, spec, dims, ConstBuilder(), attrs)
        want = [apply_rule(t.shape, known, attrs) for t in spec.outputs]
        assert list(got) == want, (key, known)


def desc(data_type: object, dims: tuple[int, ...] = (2, 3)) -> SimpleNamespace:
    return SimpleNamespace(desc=SimpleNamespace(type=data_type, format=TRT.TensorFormat.LINEAR, dims=dims))


def test_type_and_format_answers_follow_the_spec() -> None:
    spec = SPECS["skip_layer_norm"]  # T for input/skip/gamma/beta/bias/output; mean and inv_std_var fp32
    logic = ProtoLogic(TRT, spec, {a.name: a.default for a in spec.attributes} | {"num_outputs": 3})
    half, single = TRT.DataType.HALF, TRT.DataType.FLOAT
    assert logic.output_types([half] * 3) == [half, single, single]
    n_in = 3
    in_out = [desc(half), desc(half), desc(half), desc(half), desc(single), desc(single)]
    assert all(logic.supports(pos, in_out, n_in) for pos in range(len(in_out)))
    in_out[1] = desc(single)  # skip must share input's type
    assert not logic.supports(1, in_out, n_in)
    in_out[1], in_out[4] = desc(half), desc(half)  # mean is always float32
    assert not logic.supports(4, in_out, n_in)
    in_out[4] = desc(single)
    in_out[0] = SimpleNamespace(desc=SimpleNamespace(type=half, format=TRT.TensorFormat.CHW32, dims=(2, 3)))
    assert not logic.supports(0, in_out, n_in)


def test_register_with_tensorrt_rtx_and_look_up_by_identity() -> None:
    trt = rtx()
    outcome = protoplugin.register(trt, keys=["fast_gelu", "unique"])
    assert outcome == {"fast_gelu": "registered", "unique": "registered"}
    assert protoplugin.register(trt, keys=["fast_gelu"]) == {
        "fast_gelu": "TensorRT refused the creator (already registered?)"
    }
    creator = trt.get_plugin_registry().get_creator("TrtplugFastGelu", "1", NAMESPACE)
    assert creator is not None and creator.plugin_namespace == NAMESPACE
    plugin = creator.create_plugin("n", trt.PluginFieldCollection([]), trt.TensorRTPhase.BUILD)
    assert plugin.plugin_name == "TrtplugFastGelu" and plugin.num_outputs == 1


def fast_gelu_model(tmp_path: Path) -> Path:
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["h"], name="fc"),
        helper.make_node("FastGelu", ["h", "b"], ["y"], domain="com.microsoft", name="ffn_gelu"),
    ]
    inits = [const("w", np.eye(16)), const("b", np.linspace(-1, 1, 16))]
    path = tmp_path / "model.onnx"
    onnx.save(model(nodes, [io("x", shape=(2, 4, 16))], [io("y", shape=(2, 4, 16))], inits), path)
    return path


def test_rewrite_binds_plugin_nodes_to_the_prototypes(tmp_path: Path, capsys) -> None:
    source, out = fast_gelu_model(tmp_path), tmp_path / "proto.onnx"
    assert main(["rewrite", str(source), "-o", str(out), "--plugin-backend", "prototype", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["changes"][0]["plugin"] == f"TrtplugFastGelu v1 ({NAMESPACE})"
    node = next(n for n in onnx.load(out).graph.node if n.op_type == "TrtplugFastGelu")
    assert node.domain == NAMESPACE
    namespace = next(a for a in node.attribute if a.name == "plugin_namespace")
    assert helper.get_attribute_value(namespace) == NAMESPACE.encode()
    assert main(["parity", "--model", str(source), "--rewritten", str(out)]) == 0
    assert "numpy: pass" in capsys.readouterr().out


PARSE = (
    RTX_PREAMBLE
    + """
from trtplug import protoplugin
builder = trt.Builder(logger)
print(protoplugin.register(trt, keys=["fast_gelu"]), flush=True)
network = builder.create_network(0)
parser = trt.OnnxParser(network, logger)
print("parsed:", parser.parse_from_file(sys.argv[1]), flush=True)
"""
)


def test_tensorrt_rtx_parser_creates_the_prototype_plugin(tmp_path: Path, capsys) -> None:
    """In a child: TensorRT-RTX aborts after creating a plugin (it cannot add plugin layers)."""
    rtx()
    source, out = fast_gelu_model(tmp_path), tmp_path / "proto.onnx"
    assert main(["rewrite", str(source), "-o", str(out), "--plugin-backend", "prototype"]) == 0
    done = subprocess.run([sys.executable, "-c", PARSE, str(out)], capture_output=True, text=True, timeout=300)
    log = done.stdout + done.stderr
    assert "{'fast_gelu': 'registered'}" in log, log
    assert f"Searching for plugin: TrtplugFastGelu, plugin_version: 1, plugin_namespace: {NAMESPACE}" in log, log
    assert "Successfully created plugin: TrtplugFastGelu" in log, log


def test_module_runs_a_tool_after_registering(tmp_path: Path) -> None:
    rtx()
    tool = tmp_path / "probe_tool.py"
    tool.write_text(
        "import sys, tensorrt_rtx as trt\n"
        "c = trt.get_plugin_registry().get_creator('TrtplugBiasGelu', '1', 'trtplug_proto')\n"
        "print('tool sees', c is not None, sys.argv[1:])\n"
    )
    env = {"PYTHONPATH": str(tmp_path)}
    import os

    done = subprocess.run(
        [sys.executable, "-m", "trtplug.protoplugin", "probe_tool", "--flag"],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, **env),
    )
    assert done.returncode == 0, done.stderr
    assert "tool sees True ['--flag']" in done.stdout
    assert "prototype plugins registered (trtplug_proto)" in done.stderr
    listed = subprocess.run([sys.executable, "-m", "trtplug.protoplugin", "--list"], capture_output=True, text=True)
    assert "fast_gelu: runs as a plugin" in listed.stdout and "bert_attention: runs as a plugin" in listed.stdout
