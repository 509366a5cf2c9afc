"""`trtplug new` for ops beyond fixed-shape elementwise ones: optional inputs and outputs,
several outputs of different types, integer (shape-like) inputs, data-dependent outputs. Each
scaffold's spec loads, its glue generates, and parity skips it as "not implemented yet"."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.test_scaffold_glue import GXX, _includes, _tensorrt_headers, generate_glue
from trtplug.cli import main
from trtplug.parity.cases import default_cases
from trtplug.parity.runner import run_one
from trtplug.registry import load_registry

OPS = {
    "layer_norm": "ai.onnx::LayerNormalization",  # optional input B, optional outputs Mean, InvStdDev
    "topk": "ai.onnx::TopK",  # two outputs (T, int64), an int64 K input
    "non_zero": "ai.onnx::NonZero",  # a data-dependent int64 output
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("shapes") / "proj"
    for key, source in OPS.items():
        assert main(["new", key, "--from", source, "--project", str(root)]) == 0
    return root


def test_optional_outputs_get_a_derived_output_count(project: Path) -> None:
    spec = load_registry([project / "plugins"]).get("layer_norm")
    count = spec.derived_attribute("output_count")
    assert count is not None and (count.default, count.max) == (1, 3)
    assert [t.optional for t in spec.inputs] == [False, False, True]
    assert [t.optional for t in spec.outputs] == [False, True, True]
    plugin = (project / "plugins" / "layer_norm" / "plugin.cpp").read_text()
    assert "return params().num_outputs;" in plugin and "out.size() > 1 ? outputs[1] : nullptr" in plugin
    binding = (project / "plugins" / "layer_norm" / "binding.cpp").read_text()
    assert "call.hasOut(1) ? call.out(1) : DeviceArray{}" in binding


def test_outputs_of_different_types(project: Path) -> None:
    spec = load_registry([project / "plugins"]).get("topk")
    assert [t.type for t in spec.outputs] == ["T", "I"] and spec.type_constraints["I"] == ("int64",)
    plugin = (project / "plugins" / "topk" / "plugin.cpp").read_text()
    assert "out[1] = DataType::kINT64;" in plugin


@pytest.mark.skipif(GXX is None, reason="no g++ to compile the generated sources")
@pytest.mark.parametrize("key", sorted(OPS))
def test_generated_sources_compile_against_the_glue(project: Path, key: str, tmp_path: Path) -> None:
    glue = tmp_path / "generated"
    done = generate_glue(project / "plugins" / key / "spec.toml", glue / key / "op_glue.h")
    assert done.returncode == 0, done.stderr
    flags = [GXX, "-std=c++17", "-fsyntax-only", "-fvisibility=hidden", "-Wall", "-Wextra", *_includes(project, glue)]
    sources = [project / "plugins" / key / "binding.cpp"]
    trt = _tensorrt_headers()
    if trt is not None:
        flags.append(f"-isystem{trt}")
        sources.append(project / "plugins" / key / "plugin.cpp")
    for source in sources:
        compiled = subprocess.run([*flags, str(source)], capture_output=True, text=True, timeout=300)
        assert compiled.returncode == 0, f"{source.name}:\n{compiled.stderr[-3000:]}"


@pytest.mark.parametrize("key", sorted(OPS))
def test_parity_says_not_implemented_yet(project: Path, key: str, seed: int) -> None:
    spec = load_registry([project / "plugins"]).get(key)
    results = [run_one(spec, "numpy", dtype, case, seed) for dtype in spec.dtypes for case in default_cases(spec)]
    assert results and all(r.status == "skip" for r in results), [(r.case, r.detail) for r in results]
    assert all(r.detail.startswith("not implemented yet:") for r in results)
