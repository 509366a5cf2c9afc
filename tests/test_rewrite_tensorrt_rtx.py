"""TensorRT-RTX's real ONNX parser, given a rewritten model and libtrtplug_plugins.so, finds our
creator by the plugin name/version/namespace the rewrite wrote and creates the plugin.

The parser runs in a child process: TensorRT-RTX aborts the process after the plugin is
created (it cannot add plugin layers), so the test asserts on the captured log.
The child needs a Python with `tensorrt_rtx` (this one, python3 on PATH or $TRTPLUG_RTX_PYTHON).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper

from tests.conftest import require_built
from tests.rewrite_models import const, io, linear_tanh_gelu_model, model
from tests.rtx_child import RTX_PREAMBLE
from trtplug import native
from trtplug.cli import main

pytestmark = pytest.mark.pluginlib

PARSE = (
    RTX_PREAMBLE
    + """
builder = trt.Builder(logger)
registry = builder.get_plugin_registry()
assert registry.load_library(sys.argv[1]) is not None, "load_library failed"
network = builder.create_network(0)
parser = trt.OnnxParser(network, logger)
if sys.argv[3:] == ["override"]:
    parser.set_flag(trt.OnnxParserFlag.ENABLE_PLUGIN_OVERRIDE)
ok = parser.parse_from_file(sys.argv[2])
print("parsed:", ok, flush=True)
for i in range(parser.num_errors):
    print("parser error:", parser.get_error(i), flush=True)
"""
)


def rtx_python() -> str | None:
    for candidate in (os.environ.get("TRTPLUG_RTX_PYTHON"), sys.executable, shutil.which("python3")):
        if not candidate:
            continue
        probe = subprocess.run([candidate, "-c", "import tensorrt_rtx"], capture_output=True, check=False)
        if probe.returncode == 0:
            return candidate
    return None


@pytest.fixture(scope="module")
def parse():
    library = native.plugin_library_path()
    require_built("libtrtplug_plugins.so", library is not None, native.native_status()["plugin_library"])
    python = rtx_python()
    if python is None:
        pytest.skip("no Python with tensorrt_rtx here (pip install tensorrt-rtx, or set TRTPLUG_RTX_PYTHON)")

    def run(path: Path, override: str | None = None) -> str:
        """The parser's log; `override` set: the parser's plugin-override flag on and
        TRTPLUG_PLUGIN_OVERRIDE set to it."""
        command = [python, "-c", PARSE, str(library), str(path)] + (["override"] if override is not None else [])
        env = dict(os.environ, TRTPLUG_PLUGIN_OVERRIDE=override or "")
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, env=env)
        return done.stdout + done.stderr

    return run


def rewritten_fast_gelu(tmp_path: Path, source: str = "contrib") -> Path:
    """A FastGelu model (ORT optimizer output), or GPT-2's decomposed tanh-GELU, rewritten."""
    if source == "tanh":
        built = linear_tanh_gelu_model(bias=True)
        for value in (*built.graph.input, *built.graph.output):  # static shapes for the parser
            for dim, size in zip(value.type.tensor_type.shape.dim, (2, 4), strict=False):
                dim.dim_value = size
    else:
        nodes = [
            helper.make_node("MatMul", ["x", "w"], ["h"], name="fc"),
            helper.make_node("FastGelu", ["h", "b"], ["y"], domain="com.microsoft", name="ffn_gelu"),
        ]
        inits = [const("w", np.eye(16)), const("b", np.linspace(-1, 1, 16))]
        built = model(nodes, [io("x", shape=(2, 4, 16))], [io("y", shape=(2, 4, 16))], inits)
    original = tmp_path / "model.onnx"
    onnx.save(built, original)
    out = tmp_path / "model.plugins.onnx"
    assert main(["rewrite", str(original), "-o", str(out)]) == 0
    return out


@pytest.mark.parametrize("source", ["contrib", "tanh"])
def test_parser_creates_our_plugin_from_the_rewritten_model(parse, tmp_path: Path, source: str) -> None:
    log = parse(rewritten_fast_gelu(tmp_path, source))
    assert "Searching for plugin: TrtplugFastGelu, plugin_version: 1, plugin_namespace: trtplug" in log, log
    assert "Successfully created plugin: TrtplugFastGelu" in log, log


def test_parser_rejects_a_wrong_plugin_version(parse, tmp_path: Path) -> None:
    """The same check fails when the rewrite writes what the library does not register."""
    path = rewritten_fast_gelu(tmp_path)
    broken = onnx.load(path)
    for attr in broken.graph.node[1].attribute:
        if attr.name == "plugin_version":
            attr.s = b"9"
    onnx.save(broken, path)
    log = parse(path)
    assert "Successfully created plugin" not in log and "Plugin not found" in log, log
