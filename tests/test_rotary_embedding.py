"""The RotaryEmbedding family on the CPU: specs, the prototypes against ONNX Runtime CPU
(com.microsoft) and the ONNX conformance cases and onnx.reference (ai.onnx) on every parity case,
and the rewrite per TensorRT target (ai.onnx RotaryEmbedding is native from 10.15)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from trtplug.pyplugins import rotary_embedding as prototypes

from trtplug.cli import main
from trtplug.parity.cases import Case, default_attrs, default_cases, make_inputs
from trtplug.parity.conformance import conformance_cases
from trtplug.parity.reference import run_reference
from trtplug.registry import load_registry

MEMBERS = {
    # key: (plugin, domain, since, inputs, reference kind)
    "contrib_rotary_embedding": (
        "TrtplugRotaryEmbedding",
        "com.microsoft",
        1,
        ["input", "position_ids", "cos_cache", "sin_cache"],
        "onnxruntime",
    ),
    "onnx_rotary_embedding": (
        "TrtplugOnnxRotaryEmbedding",
        "",
        23,
        ["X", "cos_cache", "sin_cache", "position_ids"],
        "onnx-reference",
    ),
}


@pytest.mark.parametrize("key", MEMBERS)
def test_spec(key: str) -> None:
    plugin, domain, since, inputs, reference = MEMBERS[key]
    spec = load_registry().get(key)
    assert (spec.plugin.name, spec.plugin.version, spec.plugin.namespace) == (plugin, "1", "trtplug")
    assert [(r.domain, r.op_type, r.since_version) for r in spec.replaces] == [(domain, "RotaryEmbedding", since)]
    assert [t.name for t in spec.inputs] == inputs and spec.reference == reference
    assert {"interleaved", "num_heads", "rotary_embedding_dim"} <= {a.name for a in spec.attributes}


def run_prototype(key: str, inputs: dict[str, np.ndarray], attrs: dict, shape: tuple[int, ...]) -> np.ndarray:
    spec = load_registry().get(key)
    out = np.full(shape, np.nan, np.float32)  # poisoned: every element must be written
    prototypes.members[key].forward(np, [inputs[t.name] for t in spec.inputs if t.name in inputs], [out], attrs)
    return out


def parity_cases(key: str) -> list:
    return default_cases(load_registry().get(key))


@pytest.mark.parametrize(
    "key,case", [(k, c) for k in MEMBERS for c in parity_cases(k)], ids=lambda v: getattr(v, "name", v)
)
def test_prototype_matches_the_reference_on_every_parity_case(key: str, case) -> None:
    spec = load_registry().get(key)
    inputs = make_inputs(spec, case, seed=0)
    (expected,) = run_reference(spec, case, inputs)
    got = run_prototype(key, inputs, dict(case.attrs), expected.shape)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_parity_cases_cover_every_attribute_variant() -> None:
    """Interleaved both ways, partial rotary dims, 3-D and 4-D, the offset form, packed batching."""
    cases = parity_cases("contrib_rotary_embedding")
    assert {c.attrs["interleaved"] for c in cases} == {0, 1}
    assert any(c.attrs["rotary_embedding_dim"] for c in cases)
    assert {len(c.shapes["input"]) for c in cases} == {3, 4}
    assert any(c.shapes["position_ids"] == (1,) for c in cases)
    assert any(c.attrs["is_packed_batching"] for c in cases)
    onnx_cases = parity_cases("onnx_rotary_embedding")
    assert any("position_ids" not in c.shapes for c in onnx_cases)
    assert all("position_ids" in c.shapes or len(c.shapes["cos_cache"]) == 3 for c in onnx_cases)


def test_prototype_matches_the_onnx_conformance_cases() -> None:
    spec = load_registry().get("onnx_rotary_embedding")
    ran = 0
    for conf in conformance_cases(spec):
        if conf.skip:
            continue
        got = run_prototype(spec.key, conf.inputs, dict(conf.case.attrs), conf.expected[0].shape)
        np.testing.assert_allclose(got, conf.expected[0], rtol=1e-5, atol=1e-5, err_msg=conf.case.name)
        ran += 1
    assert ran >= 4  # test_rotary_embedding{,_3d_input,_interleaved,_no_position_ids,...}


def contrib_model(attrs: dict) -> onnx.ModelProto:
    names = [("x", TensorProto.FLOAT), ("p", TensorProto.INT64), ("c", TensorProto.FLOAT), ("s", TensorProto.FLOAT)]
    shapes = {"x": [2, 5, 16], "p": [2, 5], "c": [8, 4], "s": [8, 4]}
    node = helper.make_node("RotaryEmbedding", [n for n, _ in names], ["y"], domain="com.microsoft", **attrs)
    graph = helper.make_graph(
        [node],
        "rotary",
        [helper.make_tensor_value_info(n, t, shapes[n]) for n, t in names],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shapes["x"])],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=10)


def test_onnxruntime_cpu_ignores_scale_and_packed_batching() -> None:
    """Why the plugin ignores them: the oracle's outputs do not change with either."""
    ort = pytest.importorskip("onnxruntime")
    rng = np.random.default_rng(1)
    feeds = {
        "x": rng.standard_normal((2, 5, 16), dtype=np.float32),
        "p": rng.integers(0, 8, (2, 5)),
        "c": rng.standard_normal((8, 4), dtype=np.float32),
        "s": rng.standard_normal((8, 4), dtype=np.float32),
    }

    def run(**attrs) -> np.ndarray:
        model = contrib_model({"num_heads": 2, **attrs}).SerializeToString()
        return ort.InferenceSession(model, providers=["CPUExecutionProvider"]).run(None, feeds)[0]

    plain = run()
    np.testing.assert_array_equal(run(scale=0.5), plain)
    np.testing.assert_array_equal(run(is_packed_batching=1), plain)
    assert not np.allclose(plain, feeds["x"])  # it rotates at all


def onnx_model(path: Path, with_positions: bool = True) -> Path:
    names = ["X", "cos", "sin"] + (["pos"] if with_positions else [])
    node = helper.make_node("RotaryEmbedding", names, ["Y"], name="rope", num_heads=4)
    types = {"pos": TensorProto.INT64}
    shapes = {"X": [1, 6, 32], "cos": [16, 4], "sin": [16, 4], "pos": [1, 6]}
    graph = helper.make_graph(
        [node],
        "rope",
        [helper.make_tensor_value_info(n, types.get(n, TensorProto.FLOAT), shapes[n]) for n in names],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 6, 32])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 23)], ir_version=10), path)
    return path


def rewrite_json(source: Path, out: Path, version: str, capsys) -> dict:
    assert main(["rewrite", str(source), "-o", str(out), "--trt-version", version, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("version", ["10.8", "10.14"])
def test_rewrite_replaces_onnx_rotary_for_targets_before_10_15(tmp_path: Path, capsys, version: str) -> None:
    out = tmp_path / "out.onnx"
    rewrite_json(onnx_model(tmp_path / "m.onnx"), out, version, capsys)
    (node,) = onnx.load(out).graph.node
    assert node.op_type == "TrtplugOnnxRotaryEmbedding"
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    assert attrs["num_heads"] == 4 and attrs["plugin_namespace"] == b"trtplug"


@pytest.mark.parametrize("version", ["10.15", "10.16", "11.0"])
def test_rewrite_leaves_onnx_rotary_to_tensorrt_10_15_and_later(tmp_path: Path, capsys, version: str) -> None:
    out = tmp_path / "out.onnx"
    doc = rewrite_json(onnx_model(tmp_path / "m.onnx"), out, version, capsys)
    left = {c["node"]: c["reason"] for c in doc["changes"] if c["action"] == "left"}
    assert "imports it natively" in left["rope"], left
    assert [n.op_type for n in onnx.load(out).graph.node] == ["RotaryEmbedding"]


def test_rewrite_replaces_contrib_rotary_for_every_target(tmp_path: Path, capsys) -> None:
    source, out = tmp_path / "contrib.onnx", tmp_path / "out.onnx"
    onnx.save(contrib_model({"num_heads": 2, "interleaved": 1}), source)
    rewrite_json(source, out, "10.16", capsys)
    (node,) = onnx.load(out).graph.node
    assert node.op_type == "TrtplugRotaryEmbedding"


def test_rewrite_refuses_a_bad_interleaved_value(tmp_path: Path, capsys) -> None:
    source, out = tmp_path / "bad.onnx", tmp_path / "out.onnx"
    onnx.save(contrib_model({"num_heads": 2, "interleaved": 2}), source)
    doc = rewrite_json(source, out, "10.16", capsys)
    reasons = [c["reason"] for c in doc["changes"] if c["action"] == "left"]
    assert any("interleaved" in r for r in reasons), doc["changes"]
    assert [n.op_type for n in onnx.load(out).graph.node] == ["RotaryEmbedding"]


@pytest.mark.parametrize("key", MEMBERS)
def test_bench_shapes_are_a_valid_llm_case(key: str) -> None:
    """`trtplug bench` shapes: 32 heads of 128 at the requested size, positions inside the cache."""
    spec = load_registry().get(key)
    member = prototypes.members[key]
    shapes = member.bench_shapes(4 * 32 * 128 * 2 * 3, 2)  # three tokens of fp16
    x_name = spec.inputs[0].name
    assert shapes[x_name] == (4, 32, 3, 128) and member.bench_bytes(shapes, 2) == 2 * 4 * 32 * 3 * 128 * 2
    case = Case("bench", shapes, {**default_attrs(spec)})
    inputs = make_inputs(spec, case, seed=0)
    (expected,) = run_reference(spec, case, inputs)
    np.testing.assert_allclose(run_prototype(key, inputs, dict(case.attrs), expected.shape), expected, atol=1e-5)


@pytest.mark.parametrize("key", MEMBERS)
def test_bench_workload_runs_the_prototype_and_torch_agrees(key: str) -> None:
    """`trtplug bench --op KEY`: its workload is a valid call, and torch's side computes the same."""
    from trtplug.bench.workload import bench_shapes, make_workload
    from trtplug.parity.impl_base import pyplugin_module

    spec = load_registry().get(key)
    member = pyplugin_module(spec)
    shapes = bench_shapes(spec, member, 4 * 32 * 128 * 4 * 5, 4)
    w = make_workload(np, spec, shapes, "float32", 1, seed=0)
    inputs = [a for a in w.inputs[0] if a is not None]
    positions = next(a for a in inputs if a.dtype == np.int64)
    assert positions.min() >= 0 and positions.max() < shapes["cos_cache"][0]
    y = np.full(inputs[0].shape, np.nan, np.float32)
    member.forward(np, inputs, [y], w.case.attrs)
    assert np.isfinite(y).all()
    torch = pytest.importorskip("torch")
    got = member.torch_equivalent(torch, [torch.as_tensor(a) for a in inputs], w.case.attrs).numpy()
    np.testing.assert_allclose(got, y, rtol=1e-4, atol=1e-4)
