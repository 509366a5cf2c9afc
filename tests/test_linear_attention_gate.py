"""LinearAttentionGate's prototype against ONNX Runtime's CPU kernel where op parity cannot ask
(its one-node reference wants every output): decay alone without b, decay alone with b present,
and a's values far into softplus' tails (|a + dt_bias| up to 100, where log(1 + exp) overflows
unless written carefully)."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from pyplugins import linear_attention_gate as proto
from trtplug.parity.ort_session import cpu_session


def ort_gate(a, dt_bias, decay_scale, b=None, outputs=1):
    names = ["a", "dt_bias", "decay_scale"] + (["b"] if b is not None else [])
    outs = ["decay", "beta"][:outputs]
    node = helper.make_node("LinearAttentionGate", names, outs, domain="com.microsoft")
    info = lambda n, t: helper.make_tensor_value_info(n, t, None)  # noqa: E731
    graph = helper.make_graph(
        [node], "g", [info(n, TensorProto.FLOAT) for n in names], [info(n, TensorProto.FLOAT) for n in outs]
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid("com.microsoft", 1)]
    )
    feeds = {"a": a, "dt_bias": dt_bias, "decay_scale": decay_scale} | ({"b": b} if b is not None else {})
    return cpu_session(model.SerializeToString()).run(None, feeds)


def run_proto(a, dt_bias, decay_scale, b=None, outputs=1):
    outs = [np.full(a.shape, np.nan, np.float32) for _ in range(outputs)]
    proto.forward(np, [a, dt_bias, decay_scale] + ([b] if b is not None else []), outs, {"num_outputs": outputs})
    return outs


@pytest.mark.parametrize("with_b", [False, True], ids=["no_b", "b_unused"])
def test_decay_alone_matches_onnxruntime(with_b):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2, 5, 8), dtype=np.float32)
    dt, scale = rng.standard_normal(8, dtype=np.float32), -np.exp(rng.standard_normal(8)).astype(np.float32)
    b = rng.standard_normal(a.shape, dtype=np.float32) if with_b else None
    [want] = ort_gate(a, dt, scale, b)
    [got] = run_proto(a, dt, scale, b)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_softplus_tails_match_onnxruntime():
    """Within 1e-7 absolute: ONNX Runtime's log(exp(v) + 1) rounds exp(v) into 1 below v ~ -9
    (4.5418e-5 at -10, exactly 4.5399e-5), the kernels' log1p does not."""
    a = np.array([[-100, -30, -10, -1e-3, 0, 1e-3, 10, 30, 100, 88, -88, 20]], np.float32)
    dt = np.zeros(a.shape[-1], np.float32)
    scale = np.ones(a.shape[-1], np.float32)
    b = a.copy()
    want = ort_gate(a, dt, scale, b, outputs=2)
    got = run_proto(a, dt, scale, b, outputs=2)
    for g, w in zip(got, want, strict=True):
        assert np.isfinite(g).all()
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-7)


def test_beta_without_b_is_refused():
    a = np.zeros((2, 4), np.float32)
    with pytest.raises(ValueError, match="b input is required"):
        run_proto(a, np.zeros(4, np.float32), np.zeros(4, np.float32), None, outputs=2)
