"""com.microsoft QMoE on the CPU. The reference (plugins/qmoe/reference.py) against ONNX Runtime's
CPU QMoE: its own dequantization (then ONNX Runtime's float MoE) equals ONNX Runtime's QMoE on every
form the reference hands to QMoE, and the forms it keeps away from QMoE are the ones ONNX Runtime
1.32 lowers, refuses or reads differently (normalize_routing_weights 0). router_weights as ONNX
Runtime weighs routes with them. On every parity case the reference path is exact (the other paths
agree) and the NumPy prototype matches it, outputs poisoned first. GenAI's int4 gpt-oss block
(router -> QMoE -> residual Add, fp32 and fp16) rewritten and compared with ONNX Runtime; the
values the rewrite refuses."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest

from pyplugins import qmoe
from tests.moe_models import GPTOSS_ATTRS, QMOE_ATTRS, qmoe_block_model, qmoe_inputs, qmoe_shapes, rewritten_parity
from trtplug.cli import main
from trtplug.parity.cases import default_cases, make_inputs
from trtplug.parity.compare import compare
from trtplug.parity.reference import _numpy_reference_module, numpy_reference_path, onnxruntime_version
from trtplug.registry import load_registry

pytest.importorskip("onnxruntime", reason="the reference runs ONNX Runtime's CPU QMoE and MoE")

SPEC = load_registry().get("qmoe")
REFERENCE = _numpy_reference_module(numpy_reference_path(SPEC))
NAMES = [t.name for t in SPEC.inputs]
TOKENS, HIDDEN, INTER, EXPERTS = 9, 256, 256, 6  # 256: every block size divides both
MEASURED = onnxruntime_version() >= (1, 32)  # the release whose QMoE these tests measured (reference.py)
# What ONNX Runtime 1.32's CPU QMoE computes, refuses or lowers; an older one (the GPU machine's
# 1.30) differs, and the reference then keeps every case away from QMoE.
measured_qmoe = pytest.mark.skipif(
    not MEASURED, reason="measures ONNX Runtime 1.32's CPU QMoE; an older onnxruntime is installed"
)


def draw(seed: int, attrs: dict, zero_points: bool = False, router_weights: bool = False) -> dict[str, np.ndarray]:
    shapes = qmoe_shapes(TOKENS, HIDDEN, INTER, EXPERTS, attrs, zero_points, router_weights=router_weights)
    return qmoe_inputs(np.random.default_rng(seed), shapes, attrs)


def run_prototype(inputs: dict[str, np.ndarray], attrs: dict) -> np.ndarray:
    out = np.full(inputs["input"].shape, np.nan, dtype=np.float32)
    qmoe.forward(np, [inputs.get(n) for n in NAMES], [out], attrs)
    return out


def quantized(bits: int, block: int, **more) -> dict:
    attrs = {**GPTOSS_ATTRS, "k": 3, "expert_weight_bits": bits, **more}
    return {**attrs, "block_size": block} if block else attrs


def assert_close(actual: np.ndarray, expected: np.ndarray, rel: float = 1e-5) -> None:
    """Within `rel` of the output's largest magnitude (a float32 GEMM's rounding, not a tolerance)."""
    np.testing.assert_allclose(actual, expected, rtol=0, atol=rel * float(np.abs(expected).max()))


EXACT = [(4, b) for b in (0, 16, 32, 64, 128, 256)] + [(8, 0), (2, 0), (2, 16)]


@measured_qmoe
@pytest.mark.parametrize("zero_points", [False, True], ids=["default_zp", "zp"])
@pytest.mark.parametrize(("bits", "block"), EXACT, ids=[f"b{b}_bs{s}" for b, s in EXACT])
def test_reference_dequantizes_as_onnxruntime(seed: int, bits: int, block: int, zero_points: bool) -> None:
    """The reference's own unpacking and dequantization (codes low bits first, zero points packed
    along blocks or, column-wise, along N, default 2^(bits - 1)) run through ONNX Runtime's float
    MoE give what ONNX Runtime's QMoE computes on the packed tensors."""
    attrs = quantized(bits, block)
    inputs = draw(seed, attrs, zero_points)
    assert REFERENCE.path(inputs, attrs) == "qmoe"
    assert_close(REFERENCE.run_moe(inputs, attrs), REFERENCE.run_qmoe(inputs, attrs))


LOWERED = [(8, 32), (8, 128), (2, 32), (2, 64)]


@measured_qmoe
@pytest.mark.parametrize(("bits", "block"), LOWERED, ids=[f"b{b}_bs{s}" for b, s in LOWERED])
def test_onnxruntime_qmoe_lowers_the_forms_the_reference_keeps_from_it(seed: int, bits: int, block: int) -> None:
    """8 bits in blocks (int8 activations) and 2 bits in blocks of 32 or more: ONNX Runtime 1.32's
    QMoE is 1e-3 to 1e-2 off float32 math, so the reference runs its float MoE there. A newer ONNX
    Runtime that computes them exactly fails here: then reference.py may hand them to QMoE."""
    attrs = quantized(bits, block)
    inputs = draw(seed, attrs, zero_points=True)
    assert REFERENCE.path(inputs, attrs) == "moe"
    expected = REFERENCE.run_moe(inputs, attrs)
    error = np.abs(REFERENCE.run_qmoe(inputs, attrs) - expected).max() / np.abs(expected).max()
    assert error > 1e-4
    assert_close(run_prototype(inputs, attrs).reshape(expected.shape), expected)


@measured_qmoe
def test_onnxruntime_qmoe_refuses_mixed_widths(seed: int) -> None:
    attrs = quantized(4, 32, fc2_expert_weight_bits=8)
    inputs = draw(seed, attrs)
    assert REFERENCE.path(inputs, attrs) == "moe"
    with pytest.raises(Exception, match="Mixed-width"):
        REFERENCE.run_qmoe(inputs, attrs)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_onnxruntime_qmoe_normalizes_softmax_weights_whatever_the_attribute(seed: int, k: int) -> None:
    """Without router_weights, ONNX Runtime 1.32's CPU QMoE divides the top-k softmax weights by
    their sum even at normalize_routing_weights 0; its float MoE, the prototype and the op's
    contract follow the attribute, so the reference runs the float MoE there."""
    attrs = quantized(4, 32, k=k, normalize_routing_weights=0)
    inputs = draw(seed, attrs)
    normalized = {**attrs, "normalize_routing_weights": 1}
    assert_close(REFERENCE.run_qmoe(inputs, attrs), REFERENCE.run_numpy(inputs, normalized))
    assert REFERENCE.path(inputs, attrs) == "moe"
    expected = REFERENCE.run_moe(inputs, attrs)
    assert_close(REFERENCE.run_numpy(inputs, attrs), expected)
    assert_close(run_prototype(inputs, attrs), expected)


@pytest.mark.parametrize("normalize", [0, 1])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_router_weights_weigh_the_routes_as_onnxruntime(seed: int, k: int, normalize: int) -> None:
    """router_probs chooses the experts; the mixing weights are router_weights' values there (no
    softmax), divided by their (signed) sum when normalize_routing_weights, and a route whose weight
    ends <= 0 adds nothing. Signed normal weights reach every branch."""
    attrs = quantized(4, 32, k=k, normalize_routing_weights=normalize, swiglu_limit=3.0)
    inputs = draw(seed, attrs, router_weights=True)
    inputs["router_weights"] = np.random.default_rng(seed + 1).standard_normal((TOKENS, EXPERTS)).astype(np.float32)
    expected = REFERENCE.run_qmoe(inputs, attrs)
    assert_close(REFERENCE.run_numpy(inputs, attrs), expected, rel=1e-4)  # weights / a small sum: larger outputs
    assert_close(run_prototype(inputs, attrs), expected, rel=1e-4)
    if k > 1 or not normalize:  # one route normalized weighs 1 either way
        softmax_only = {n: v for n, v in inputs.items() if n != "router_weights"}
        assert not np.allclose(REFERENCE.run_numpy(softmax_only, attrs), expected, rtol=1e-2)


CASES = default_cases(SPEC)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_parity_case_reference_is_exact_and_the_prototype_matches(seed: int, case) -> None:
    """Each parity case's reference path agrees with the others that take it (QMoE's with the
    float MoE and the float64 loop, the float MoE's with the loop) to float32 rounding, and the
    prototype, writing into a NaN-poisoned output, matches the reference at the float32 tolerance."""
    inputs = make_inputs(SPEC, case, seed)
    attrs = dict(case.attrs)
    (expected,) = REFERENCE.reference(inputs, attrs)
    path = REFERENCE.path(inputs, attrs)
    if inputs["input"].size:
        others = {"qmoe": ["moe", "numpy"], "moe": ["numpy"], "numpy": []}[path]
        if "router_weights" in inputs:
            others = [p for p in others if p != "moe"]
        for other in others:
            alternative = getattr(REFERENCE, f"run_{other}")(inputs, attrs).reshape(expected.shape)
            assert_close(alternative, expected)
    result = compare("output", run_prototype(inputs, attrs), expected, SPEC.tolerances["float32"])
    assert result.ok, result


def test_parity_cases_reach_every_reference_path_and_width() -> None:
    inputs = {c.name: {n: np.empty(s) for n, s in c.shapes.items()} for c in CASES}
    paths = {REFERENCE.path(inputs[c.name], c.attrs) for c in CASES if c.shapes["input"][0]}
    assert paths == ({"qmoe", "moe", "numpy"} if MEASURED else {"moe", "numpy"})
    forms = {(REFERENCE.bits_of(c.attrs, p), c.attrs["block_size"]) for c in CASES for p in ("fc1", "fc2")}
    assert {(4, b) for b in (0, 16, 32, 64, 128, 256)} | {(8, 0), (8, 32), (8, 128), (2, 0), (2, 16)} <= forms


@pytest.fixture(scope="module", params=[np.float32, np.float16], ids=["fp32", "fp16"])
def block(request, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("qmoe") / "qmoe_block.onnx"
    onnx.save(qmoe_block_model(request.param), path)
    return path


@pytest.mark.parametrize("tokens", [1, 7])
def test_int4_gptoss_block_rewritten_matches_onnxruntime(block: Path, tmp_path: Path, capsys, tokens: int) -> None:
    """GenAI's int4 (block 32) gpt-oss MoE: the QMoE node becomes TrtplugQMoE with the builder's
    attributes as fields, and the rewritten block (plugins run by the prototype) matches ONNX
    Runtime's QMoE on the original at a decode step and a prompt."""
    out = tmp_path / "block.plugins.onnx"
    assert main(["rewrite", str(block), "-o", str(out), "--all-covered", "--json"]) == 0
    changes = {c["node"]: c for c in json.loads(capsys.readouterr().out)["changes"]}
    assert changes["/model/layers.0/moe/QMoE"]["action"] == "replaced"
    (node,) = [n for n in onnx.load(out).graph.node if n.op_type == "TrtplugQMoE"]
    fields = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    assert (fields["expert_weight_bits"], fields["block_size"], fields["k"]) == (4, 32, 2)
    assert (fields["activation_type"], fields["swiglu_fusion"]) == (b"swiglu", 1)
    dims = ["--dim", "batch_size=1", "--dim", f"sequence_length={tokens}"]
    assert main(["parity", "--model", str(block), "--rewritten", str(out), "--impl", "numpy", *dims, "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)["results"]
    assert result["status"] == "pass", result


def test_rewrite_leaves_cuda_prepacked_weights(tmp_path: Path, capsys) -> None:
    """GenAI's CUDA int4 builds: weights_prepacked absent, codes CUTLASS-prepacked [E, K, N / 2]
    (same bytes, other shape): the rewrite refuses the node, naming the layout and the fix."""
    model = qmoe_block_model()
    for init in model.graph.initializer:
        if init.name.endswith("_experts_weights"):
            e, n, packed = init.dims
            init.dims[:] = [e, packed * 2, n // 2]  # [E, K, N / 2] at 4 bits
    src, out = tmp_path / "m.onnx", tmp_path / "out.onnx"
    onnx.save(model, src)
    main(["rewrite", str(src), "-o", str(out), "--all-covered", "--json"])
    changes = {c["node"]: c for c in json.loads(capsys.readouterr().out)["changes"]}
    left = changes["/model/layers.0/moe/QMoE"]
    assert left["action"] == "left", left
    assert "not QMoE's raw layout" in left["reason"] and "qmoe_weights_prepacked=0" in left["reason"], left


@measured_qmoe
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_int8_block_reference_runs_float_moe(tmp_path: Path, capsys, dtype) -> None:
    """GenAI's int8 builds (8 bits in blocks of 32): ONNX Runtime's CPU QMoE quantizes their
    activations to int8, so model parity's reference runs those nodes as float MoE on the weights
    dequantized by QMoE's reference (trtplug/parity/qmoe_exact.py), says so, and the rewritten
    model matches it; ONNX Runtime's own QMoE on the original is measurably off."""
    import onnxruntime as ort

    from trtplug.parity.qmoe_exact import exact_qmoe, has_approximate_qmoe

    model = qmoe_block_model(dtype, attrs={**QMOE_ATTRS, "expert_weight_bits": 8})
    assert has_approximate_qmoe(model) and not has_approximate_qmoe(qmoe_block_model(dtype))
    dims = ("--dim", "batch_size=2", "--dim", "sequence_length=5", "--seed", "3")
    result = rewritten_parity(model, tmp_path, capsys, *dims)
    assert result["status"] == "pass", result
    assert "1 QMoE as float MoE on their dequantized weights" in json.dumps(result)
    exact = onnx.ModelProto()
    exact.CopyFrom(model)
    assert exact_qmoe(exact, None) == 1
    rng = np.random.default_rng(3)
    feeds = {"hidden": rng.standard_normal((2, 5, 64)).astype(dtype)}
    approximate = ort.InferenceSession(model.SerializeToString()).run(None, feeds)[0]
    floats = ort.InferenceSession(exact.SerializeToString()).run(None, feeds)[0]
    assert np.abs(approximate.astype(np.float32) - floats.astype(np.float32)).max() > 1e-3


@pytest.mark.parametrize("bits", [4, 8])
def test_gemma4_geglu_block_matches_the_dense_reference(tmp_path: Path, capsys, bits: int) -> None:
    """Gemma 4's int4/int8 experts (geglu): ONNX Runtime's CPU QMoE refuses the original, so model
    parity's reference runs the node as its dense standard-op mixture on the weights QMoE's
    reference dequantizes (trtplug/parity/moe_dense.py), and the rewritten block matches it."""
    attrs = {**QMOE_ATTRS, "activation_type": "geglu", "expert_weight_bits": bits}
    attrs = {k: v for k, v in attrs.items() if k not in ("activation_alpha", "activation_beta", "swiglu_limit")}
    dims = ("--dim", "batch_size=1", "--dim", "sequence_length=6", "--seed", "2")
    result = rewritten_parity(qmoe_block_model(attrs=attrs), tmp_path, capsys, *dims)
    assert result["status"] == "pass", result
    assert "1 geglu MoE/QMoE as their dense standard-op mixture" in json.dumps(result)


@pytest.mark.parametrize(
    ("attrs", "extra", "reason"),
    [
        ({"quant_type": "nvfp4"}, (), "attribute 'quant_type': 'nvfp4' is not one of 'int', 'fp4'"),
        ({"quant_type": "fp4"}, (), "is not QMoE's MXFP4 layout [E, K, N / 2]"),
        ({}, ("fc1_global_scale",), "taken only with quant_type fp4"),
        ({"weights_prepacked": 1}, (), "attribute 'weights_prepacked': 1 is not one of -1, 0"),
        ({"expert_weight_bits": 3}, (), "attribute 'expert_weight_bits': 3 is not one of 2, 4, 8"),
        ({"fc2_expert_weight_bits": 3}, (), "fc2_expert_weight_bits"),
        ({"use_sparse_mixer": 1}, (), "use_sparse_mixer"),
        ({"swiglu_limit_after_activation": 1}, (), "swiglu_limit_after_activation"),
        ({}, ("fc1_global_scale", "fc2_global_scale", "fc1_act_scale"), "18 inputs, TrtplugQMoE takes at most 17"),
    ],
    ids=[
        "nvfp4",
        "fp4_int_layout",
        "int_global_scales",
        "prepacked",
        "3_bits",
        "fc2_3_bits",
        "sparse_mixer",
        "limit_after",
        "fp8_inputs",
    ],
)
def test_rewrite_leaves_what_the_plugin_refuses(tmp_path: Path, capsys, attrs: dict, extra: tuple, reason: str) -> None:
    src, out = tmp_path / "m.onnx", tmp_path / "out.onnx"
    onnx.save(qmoe_block_model(attrs={**QMOE_ATTRS, **attrs}, extra_inputs=extra), src)
    main(["rewrite", str(src), "-o", str(out), "--all-covered", "--json"])
    changes = {c["node"]: c for c in json.loads(capsys.readouterr().out)["changes"]}
    left = changes["/model/layers.0/moe/QMoE"]
    assert left["action"] == "left" and reason in left["reason"], left
