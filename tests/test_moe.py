"""com.microsoft MoE on the CPU: the prototype against ONNX Runtime where its CPU kernel takes the
form (ties, an absent swiglu_limit), against ONNX Runtime on rearranged weights where it does not
(swiglu_fusion=2 and fc3 as the linear half are fusion 1 with the rows interleaved), and against a
per-token loop for the gated fc3 form of the other activations; GenAI's gpt-oss FFN block rewritten
and compared with ONNX Runtime at 1 and 7 tokens; the values the rewrite refuses."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from pyplugins import moe
from tests.moe_models import (
    GPTOSS_ATTRS,
    INPUT_NAMES,
    gptoss_ffn_model,
    moe_weights,
    rewritten_parity,
    single_moe_model,
)
from trtplug.cli import main

TOKENS, HIDDEN, INTER, EXPERTS = 9, 24, 20, 6
SWEEP_MODEL = Path("/tmp/genai_sweep/gptoss/fp32_cpu/model.onnx")


def run_onnxruntime(weights: dict, attrs: dict, x: np.ndarray, router: np.ndarray) -> np.ndarray:
    model = single_moe_model(weights, attrs, x.shape, router.shape)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x, "router_probs": router})[0]


def run_prototype(weights: dict, attrs: dict, x: np.ndarray, router: np.ndarray) -> np.ndarray:
    inputs = [x, router, *(weights.get(n) for n in INPUT_NAMES[2:])]
    out = np.full_like(x, np.nan)
    moe.forward(np, inputs, [out], attrs)
    return out


def draw(seed: int, fc1_rows: int, fc3: bool = False):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((TOKENS, HIDDEN)).astype(np.float32)
    router = rng.standard_normal((TOKENS, EXPERTS)).astype(np.float32)
    return x, router, moe_weights(rng, EXPERTS, HIDDEN, INTER, fc1_rows, fc3)


def interleave(gate: np.ndarray, linear: np.ndarray) -> np.ndarray:
    """[E, inter, ...] gate and linear rows as fusion 1 stores them: g0, l0, g1, l1, ..."""
    out = np.empty((gate.shape[0], 2 * gate.shape[1], *gate.shape[2:]), dtype=gate.dtype)
    out[:, 0::2], out[:, 1::2] = gate, linear
    return out


SWIGLU = {**GPTOSS_ATTRS, "k": 3, "swiglu_limit": 1.5}  # a low limit: the clamp matters


def test_swiglu_fusion_2_is_fusion_1_on_interleaved_rows(seed: int) -> None:
    x, router, w = draw(seed, 2 * INTER)
    got = run_prototype(w, {**SWIGLU, "swiglu_fusion": 2}, x, router)
    halves = {n: np.split(w[n], 2, axis=1) for n in ("fc1_experts_weights", "fc1_experts_bias")}
    fused = {**w, **{n: interleave(*halves[n]) for n in halves}}
    np.testing.assert_allclose(got, run_onnxruntime(fused, SWIGLU, x, router), atol=1e-5, rtol=1e-5)


def test_swiglu_fusion_0_takes_the_linear_half_from_fc3(seed: int) -> None:
    x, router, w = draw(seed, INTER, fc3=True)
    got = run_prototype(w, {**SWIGLU, "swiglu_fusion": 0}, x, router)
    fused = {
        "fc1_experts_weights": interleave(w["fc1_experts_weights"], w["fc3_experts_weights"]),
        "fc1_experts_bias": interleave(w["fc1_experts_bias"], w["fc3_experts_bias"]),
        "fc2_experts_weights": w["fc2_experts_weights"],
        "fc2_experts_bias": w["fc2_experts_bias"],
    }
    np.testing.assert_allclose(got, run_onnxruntime(fused, SWIGLU, x, router), atol=1e-5, rtol=1e-5)


def loop_reference(w: dict, attrs: dict, x: np.ndarray, router: np.ndarray) -> np.ndarray:
    """Token by token, expert by expert, in float64: act(fc1) * fc3, then fc2, weighted."""
    acts = {
        "relu": lambda v: max(v, 0.0),
        "gelu": lambda v: 0.5 * v * (1 + np.tanh(np.sqrt(2 / np.pi) * (v + 0.044715 * v**3))),
        "silu": lambda v: v / (1 + np.exp(-v)),
        "identity": lambda v: v,
    }
    act = np.vectorize(acts[attrs["activation_type"]])
    out = np.zeros(x.shape, dtype=np.float64)
    for t in range(x.shape[0]):
        logits = router[t].astype(np.float64)
        probs = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
        chosen = sorted(range(EXPERTS), key=lambda e: (-logits[e], -e))[: attrs["k"]]
        scale = probs[chosen].sum() if attrs.get("normalize_routing_weights") else 1.0
        for e in chosen:
            h1 = w["fc1_experts_weights"][e] @ x[t] + w["fc1_experts_bias"][e]
            h3 = w["fc3_experts_weights"][e] @ x[t] + w["fc3_experts_bias"][e]
            y = w["fc2_experts_weights"][e] @ (act(h1) * h3) + w["fc2_experts_bias"][e]
            out[t] += probs[e] / scale * y
    return out


@pytest.mark.parametrize("activation", ["relu", "gelu", "silu", "identity"])
def test_gated_fc3_multiplies_the_activation(seed: int, activation: str) -> None:
    x, router, w = draw(seed, INTER, fc3=True)
    attrs = {"activation_type": activation, "k": 2, "normalize_routing_weights": 1}
    expected = loop_reference(w, attrs, x, router)
    np.testing.assert_allclose(run_prototype(w, attrs, x, router), expected, atol=1e-5, rtol=1e-5)


def tied_router() -> np.ndarray:
    router = np.zeros((TOKENS, EXPERTS), dtype=np.float32)
    router[1, 2] = 1.0
    router[2] = [0, 1, 1, 0, 1, 0]
    return router


@pytest.mark.parametrize("k", [1, 2, 3])
def test_equal_logits_pick_the_higher_expert_as_onnxruntime(seed: int, k: int) -> None:
    x, _, w = draw(seed, INTER)
    router = tied_router()
    attrs = {"activation_type": "identity", "k": k}
    np.testing.assert_allclose(
        run_prototype(w, attrs, x, router), run_onnxruntime(w, attrs, x, router), atol=1e-5, rtol=1e-5
    )


@pytest.mark.parametrize("k", [1, 2, 3])
def test_torch_equivalent_routes_ties_as_the_plugin(seed: int, k: int) -> None:
    """The bench's torch side breaks ties as ONNX Runtime and the plugin do (the higher expert), so
    bf16 router logits, which tie often, route its tokens the same way (on the CPU here)."""
    torch = pytest.importorskip("torch")
    x, _, w = draw(seed, INTER)
    router = tied_router()
    attrs = {"activation_type": "identity", "k": k}
    inputs = [x, router, *(w.get(n) for n in INPUT_NAMES[2:6])]
    got = moe.torch_equivalent(torch, [None if a is None else torch.as_tensor(a) for a in inputs], attrs)
    np.testing.assert_allclose(got.numpy(), run_prototype(w, attrs, x, router), atol=1e-5, rtol=1e-5)


def test_absent_swiglu_limit_clamps_nothing(seed: int) -> None:
    x, router, w = draw(seed, 2 * INTER)
    x *= 20  # gate values far past gpt-oss's 7
    attrs = {k: v for k, v in GPTOSS_ATTRS.items() if k != "swiglu_limit"}
    expected = run_onnxruntime(w, attrs, x, router)
    np.testing.assert_allclose(run_prototype(w, attrs, x, router), expected, atol=1e-3, rtol=1e-5)
    assert not np.allclose(run_prototype(w, GPTOSS_ATTRS, x, router), expected, rtol=1e-2)


@pytest.fixture(scope="module")
def ffn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("moe") / "gptoss_ffn.onnx"
    onnx.save(gptoss_ffn_model(), path)
    return path


@pytest.mark.parametrize("tokens", [1, 7])
def test_gptoss_ffn_block_rewritten_matches_onnxruntime(ffn: Path, tmp_path: Path, capsys, tokens: int) -> None:
    """GenAI's gpt-oss FFN: the MoE node becomes TrtplugMoE (with the builder's attributes as
    fields) and the rewritten block (plugins run by the prototype) matches ONNX Runtime."""
    out = tmp_path / "ffn.plugins.onnx"
    assert main(["rewrite", str(ffn), "-o", str(out), "--all-covered", "--json"]) == 0
    changes = {c["node"]: c for c in json.loads(capsys.readouterr().out)["changes"]}
    assert changes["/model/layers.0/moe/MoE"]["action"] == "replaced"
    (node,) = [n for n in onnx.load(out).graph.node if n.op_type == "TrtplugMoE"]
    fields = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    assert (fields["activation_type"], fields["k"], fields["swiglu_fusion"]) == (b"swiglu", 2, 1)
    assert fields["swiglu_limit"] == pytest.approx(7.0)
    dims = ["--dim", "batch_size=1", "--dim", f"sequence_length={tokens}"]
    assert main(["parity", "--model", str(ffn), "--rewritten", str(out), "--impl", "numpy", *dims, "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)["results"]
    assert result["status"] == "pass", result


GEGLU = {"activation_type": "geglu", "k": 2, "normalize_routing_weights": 1, "use_sparse_mixer": 0}


@pytest.mark.parametrize("fusion", [1, 2])
def test_gemma4_geglu_block_matches_the_dense_reference(tmp_path: Path, capsys, fusion: int) -> None:
    """Gemma 4's experts (geglu, CUDA-only in ONNX Runtime): ONNX Runtime's CPU MoE refuses the
    original, so model parity's reference runs the node as its dense standard-op mixture
    (trtplug/parity/moe_dense.py) and says so; the rewritten block matches it, and the dense
    mixture matches MoE's float64 reference on the same inputs."""
    from trtplug.parity.moe_dense import dense_geglu_moe

    model = gptoss_ffn_model(attrs={**GEGLU, "swiglu_fusion": fusion})
    dims = ("--dim", "batch_size=2", "--dim", "sequence_length=3", "--seed", "5")
    result = rewritten_parity(model, tmp_path, capsys, *dims)
    assert result["status"] == "pass", result
    assert "1 geglu MoE/QMoE as their dense standard-op mixture" in json.dumps(result)
    (moe,) = [n for n in model.graph.node if n.op_type == "MoE"]
    single = single_moe_model(
        {
            i.name.rsplit(".", 1)[-1]: onnx.numpy_helper.to_array(i)
            for i in model.graph.initializer
            if i.name in moe.input
        },
        {**GEGLU, "swiglu_fusion": fusion},
        (5, 64),
        (5, 8),
    )
    assert dense_geglu_moe(single, None) == 1
    rng = np.random.default_rng(5)
    feeds = {
        "input": rng.standard_normal((5, 64)).astype(np.float32),
        "router_probs": rng.standard_normal((5, 8)).astype(np.float32),
    }
    dense = ort.InferenceSession(single.SerializeToString()).run(None, feeds)[0]
    weights = {i.name: onnx.numpy_helper.to_array(i) for i in single.graph.initializer if "dense" not in i.name}
    (expected,) = _moe_float64().reference({**feeds, **weights}, {**GEGLU, "swiglu_fusion": fusion})
    np.testing.assert_allclose(dense, expected, atol=1e-5, rtol=1e-5)


def _moe_float64():
    from trtplug.parity.reference import _numpy_reference_module, numpy_reference_path
    from trtplug.registry import load_registry

    return _numpy_reference_module(numpy_reference_path(load_registry().get("moe")))


@pytest.mark.parametrize(
    ("attrs", "reason"),
    [
        ({"use_sparse_mixer": 1}, "use_sparse_mixer"),
        ({"activation_type": "relu2"}, "activation_type"),
        ({"activation_type": "geglu", "swiglu_fusion": 0}, "geglu takes its gate and linear halves from fc1"),
        ({"swiglu_limit_after_activation": 1}, "swiglu_limit_after_activation"),
    ],
)
def test_rewrite_leaves_what_the_plugin_refuses(tmp_path: Path, capsys, attrs: dict, reason: str) -> None:
    src, out = tmp_path / "m.onnx", tmp_path / "out.onnx"
    onnx.save(gptoss_ffn_model(attrs={**GPTOSS_ATTRS, **attrs}), src)
    main(["rewrite", str(src), "-o", str(out), "--all-covered", "--json"])
    changes = {c["node"]: c for c in json.loads(capsys.readouterr().out)["changes"]}
    left = changes["/model/layers.0/moe/MoE"]
    assert left["action"] == "left" and reason in left["reason"], left


@pytest.mark.skipif(not SWEEP_MODEL.exists(), reason="GenAI's gpt-oss sweep model is not on this machine")
def test_genai_gptoss_model_is_fully_covered(tmp_path: Path, capsys) -> None:
    out = tmp_path / "gptoss.plugins.onnx"
    assert main(["rewrite", str(SWEEP_MODEL), "-o", str(out), "--json"]) == 0
    changes = json.loads(capsys.readouterr().out)["changes"]
    moe_nodes = [c for c in changes if c["op"].endswith("MoE")]
    assert moe_nodes and all(c["action"] == "replaced" for c in moe_nodes)
