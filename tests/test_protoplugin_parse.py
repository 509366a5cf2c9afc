"""TensorRT-RTX's real parser creating the prototype plugins of ops with shape inputs (and a data
copy), folded constant inputs and size tensors from `rewrite --plugin-backend prototype` models.
RTX aborts after creating a plugin (it cannot add plugin layers), so each parse runs in a child;
get_output_shapes and enqueue need a GPU TensorRT (tests/test_protoplugin_dims.py checks the
shapes on stand-ins, the `protoplugin` parity implementation the enqueue)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from tests.rewrite_models import const, io, model
from tests.rtx_child import RTX_PREAMBLE
from trtplug.cli import main
from trtplug.protoplugin import NAMESPACE

I64 = TensorProto.INT64


def single_node(op: str, inputs: list, inits: list, outputs: list, opset: int, **attrs) -> onnx.ModelProto:
    names = [i.name for i in inputs] + [t.name for t in inits]
    order = attrs.pop("order", names)
    node = helper.make_node(op, order, [o.name for o in outputs], name="n", **attrs)
    return model([node], inputs, outputs, inits, opset=opset, extra_opsets=())


MODELS = {  # op key -> (plugin name, model)
    "center_crop_pad": (
        "TrtplugCenterCropPad",
        single_node(
            "CenterCropPad", [io("x", shape=(8, 8))], [const("s", [4, 6], np.int64)], [io("y", shape=(4, 6))], 18
        ),
    ),
    "col2im": (
        "TrtplugCol2Im",
        single_node(
            "Col2Im",
            [io("x", shape=(1, 12, 16))],
            [const("image", [5, 5], np.int64), const("block", [2, 2], np.int64)],
            [io("y", shape=(1, 3, 5, 5))],
            18,
        ),
    ),
    "dft_20": (
        "TrtplugDft",
        single_node(
            "DFT",
            [io("x", shape=(2, 16, 1))],
            [const("len", 8, np.int64), const("axis", 1, np.int64)],
            [io("y", shape=(2, 5, 2))],
            20,
            onesided=1,
        ),
    ),
    "stft": (
        "TrtplugStft",
        single_node(
            "STFT",
            [io("signal", shape=(2, 64, 1)), io("window", shape=(16,))],
            [const("step", 8, np.int64), const("length", 16, np.int64)],
            [io("y", shape=(2, 7, 9, 2))],
            17,
            order=["signal", "step", "window", "length"],
        ),
    ),
    "unique": (
        "TrtplugUnique",
        single_node("Unique", [io("x", shape=(10,))], [], [io(n, shape=("u",)) for n in ("y", "i", "inv", "c")], 11),
    ),
    "compress": (
        "TrtplugCompress",
        single_node(
            "Compress",
            [io("x", shape=(4, 3)), io("keep", TensorProto.BOOL, shape=(4,))],
            [],
            [io("y", shape=("n", 3))],
            11,
            axis=0,
        ),
    ),
}

PARSE = (
    RTX_PREAMBLE
    + """
from trtplug import protoplugin
print(protoplugin.register(trt, keys=[sys.argv[2]]), flush=True)
network = trt.Builder(logger).create_network(0)
print("parsed:", trt.OnnxParser(network, logger).parse_from_file(sys.argv[1]), flush=True)
"""
)


@pytest.mark.parametrize("key", sorted(MODELS))
def test_tensorrt_rtx_parser_creates_the_prototype_plugin(key: str, tmp_path: Path) -> None:
    pytest.importorskip("tensorrt_rtx", reason="pip install tensorrt-rtx to test against TensorRT's parser")
    plugin, built = MODELS[key]
    source, out = tmp_path / "model.onnx", tmp_path / "proto.onnx"
    onnx.save(built, source)
    assert main(["rewrite", str(source), "-o", str(out), "--plugin-backend", "prototype"]) == 0
    node = onnx.load(out).graph.node[0]
    assert node.op_type == plugin, f"{key}: the rewrite left the node alone"
    done = subprocess.run([sys.executable, "-c", PARSE, str(out), key], capture_output=True, text=True, timeout=300)
    log = done.stdout + done.stderr
    assert f"{{'{key}': 'registered'}}" in log, log
    assert f"Searching for plugin: {plugin}, plugin_version: 1, plugin_namespace: {NAMESPACE}" in log, log
    assert f"Successfully created plugin: {plugin}" in log, log


@pytest.mark.parametrize("key", ["center_crop_pad", "unique", "col2im", "fast_gelu", "dft_20", "stft"])
def test_tensorrt_proto_parity_builds_its_engine_from_the_prototype_binding(key: str) -> None:
    """The `tensorrt_proto` implementation's one-node model binds to trtplug_proto (the engine
    itself needs `tensorrt` and a GPU: skipped with its reason here)."""
    from tests.test_protoplugin_dims import SPECS
    from trtplug.parity.cases import default_cases, make_inputs
    from trtplug.parity.impls import IMPLS
    from trtplug.parity.runner import run_one
    from trtplug.parity.tensorrt_impl import plugin_model

    spec = SPECS[key]
    case = default_cases(spec)[0]
    serialized, _ = plugin_model(spec, case, make_inputs(spec, case, seed=0), prototype=True)
    node = next(n for n in onnx.load_from_string(serialized).graph.node if n.op_type == spec.plugin.name)
    assert node.domain == NAMESPACE
    folded = [t for t in spec.inputs if t.fold_into and t.name in case.shapes]  # now fields
    assert not {t.name for t in folded} & set(node.input)
    assert {t.fold_into for t in folded} <= {a.name for a in node.attribute}
    native, _ = plugin_model(spec, case, make_inputs(spec, case, seed=0))
    assert (
        next(n for n in onnx.load_from_string(native).graph.node if n.op_type == spec.plugin.name).domain != NAMESPACE
    )
    try:
        import tensorrt  # noqa: F401
    except ImportError:
        result = run_one(spec, "tensorrt_proto", "float32", case, 0)
        assert result.status == "skip" and "tensorrt is not importable" in result.detail
        print(f"tensorrt_proto engine skipped: {result.detail}")
    assert IMPLS["tensorrt_proto"].prototype and not IMPLS["tensorrt"].prototype
