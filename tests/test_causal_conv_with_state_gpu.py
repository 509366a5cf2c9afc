"""CausalConvWithState on a GPU beyond the parity cases: every kernel path and its boundaries
(channels-first 16-byte row vectors for k 1..5 with dilation 1; channels-last channel vectors; the
element kernel for decode steps, odd lengths, dilations, k > 5, unaligned views), with and without
bias and past_state, empty tensors, through the binding and the IPluginV3 plugin (build and
runtime phase, on a side stream, the rewrite's empty bias placeholder), fp32/fp16/bf16, a large
prefill and a large decode. The reference is ONNX Runtime's CPU kernel on the float32 upcast of the
rounded inputs (output at the spec's tolerances, present_state exactly: it is a copy); outputs
are poisoned first, and an element the kernel leaves unwritten stays NaN."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.device_arrays import FLOAT_DTYPES, as_float64, offset_view, plugin_executor, poisoned_view, rounded
from trtplug import native
from trtplug.parity.cases import Case
from trtplug.parity.reference import run_reference
from trtplug.protolib.dtypes import Bf16Device
from trtplug.registry import load_registry

pytestmark = pytest.mark.gpu

KEY = "causal_conv_with_state"

# (input shape, k, attrs): channels-first (B, C, L) unless channels_last.
GEOMETRIES = [
    ((2, 8, 16), 1, {}),  # row vectors, k 1..5 (fp32: 4 positions a vector, 16-bit: 8)
    ((2, 8, 16), 2, {}),
    ((2, 128, 8), 3, {}),  # LFM2's k
    ((3, 96, 24), 4, {}),  # Qwen3.5's k
    ((2, 8, 32), 5, {}),
    ((2, 8, 16), 6, {}),  # k > 5: the element kernel
    ((2, 8, 4), 4, {}),  # one fp32 vector a row (16-bit: element kernel)
    ((2, 128, 1), 3, {}),  # decode
    ((5, 33, 1), 4, {}),
    ((2, 6, 2), 5, {}),  # shorter than the state: present keeps part of the past
    ((3, 13, 37), 3, {}),  # odd length
    ((2, 8, 16), 3, {"dilation": 2}),
    ((2, 6, 1), 4, {"dilation": 3}),
    ((2, 16, 0), 4, {}),  # no positions: present_state = past_state
    ((0, 8, 16), 4, {}),
    ((2, 7, 32), 4, {"channels_last": 1}),  # channel vectors (fp32: 8 groups, 16-bit: 4)
    ((3, 1, 64), 3, {"channels_last": 1}),  # channels-last decode
    ((2, 5, 10), 4, {"channels_last": 1}),  # 10 channels: element kernel
    ((2, 5, 4, 8), 3, {"channels_last": 1, "dilation": 2}),  # two channel axes
]
ACTIVATIONS = ["none", "silu"]


def geometry_id(g) -> str:
    shape, taps, attrs = g
    extra = "".join(f"-{k}{v}" for k, v in attrs.items())
    size = "large-" if math.prod(shape) > 1 << 20 else ""
    return size + "x".join(map(str, shape)) + f"-k{taps}" + extra


def state_shape(shape, taps, attrs) -> tuple[int, ...]:
    s = (taps - 1) * attrs.get("dilation", 1)
    return (shape[0], s, *shape[2:]) if attrs.get("channels_last") else (shape[0], shape[1], s)


def run_case(cp, geometry, dtype, activation, seed, execute, bias=True, past=True, offset=0) -> None:
    """One call: inputs rounded to dtype, outputs poisoned (views `offset` elements in), compared
    with ONNX Runtime on the float32 upcasts."""
    spec = load_registry().get(KEY)
    shape, taps, attrs = geometry
    attrs = {**attrs, "activation": activation}
    channels = shape[1] if not attrs.get("channels_last") else math.prod(shape[2:])
    rng = np.random.default_rng(seed)
    shapes = {"input": shape, "weight": (channels, 1, taps), "bias": (channels,)}
    shapes["past_state"] = state_shape(shape, taps, attrs)
    present = [n for n, on in (("bias", bias), ("past_state", past)) if on]
    host = {n: rounded(rng, s, dtype) for n, s in shapes.items() if n in ("input", "weight", *present)}
    case = Case("gpu", {n: shapes[n] for n in host}, attrs)
    expected_y, expected_state = run_reference(spec, case, {n: v[1] for n, v in host.items()})
    ins = [offset_view(cp, host[t.name][0], offset) if t.name in host else None for t in spec.inputs]
    _, y = poisoned_view(cp, shape, dtype, offset)
    _, state = poisoned_view(cp, shapes["past_state"], dtype, offset)
    execute(spec, ins, [y, state], attrs)
    tol = spec.tolerance(dtype)
    np.testing.assert_allclose(as_float64(y), expected_y, atol=tol.atol, rtol=tol.rtol)
    np.testing.assert_array_equal(as_float64(state), expected_state)


def binding(cp, ext):
    def execute(spec, ins, outs, attrs):
        native.run_binding(spec, ext, ins, outs, attrs, cp.cuda.get_current_stream())
        cp.cuda.get_current_stream().synchronize()

    return execute


def plugin(cp, library, phase: str):
    """The plugin with the rewrite's layout: an absent bias before a past is an empty tensor."""
    run = plugin_executor(cp, library, phase)

    def execute(spec, ins, outs, attrs):
        ins = list(ins)
        while ins and ins[-1] is None:
            ins.pop()
        if len(ins) > 3 and ins[2] is None:
            bf16 = isinstance(outs[0], Bf16Device)
            ins[2] = Bf16Device.poisoned(cp, (0,)) if bf16 else cp.empty((0,), dtype=outs[0].dtype)
        run(spec, ins, outs, attrs)

    return execute


@pytest.mark.parametrize("geometry", GEOMETRIES, ids=geometry_id)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_binding(cp, ext, geometry, dtype, activation, seed) -> None:
    run_case(cp, geometry, dtype, activation, seed, binding(cp, ext))


@pytest.mark.parametrize("geometry", GEOMETRIES[:12:3] + GEOMETRIES[15:17], ids=geometry_id)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize(("bias", "past"), [(False, True), (True, False), (False, False)], ids=str)
def test_absent_bias_and_past(cp, ext, geometry, dtype, bias, past, seed) -> None:
    """No past: zeros before the first position, present_state from the input (and zeros)."""
    run_case(cp, geometry, dtype, "none", seed, binding(cp, ext), bias=bias, past=past)


@pytest.mark.parametrize("geometry", [GEOMETRIES[i] for i in (2, 3, 7, 15)], ids=geometry_id)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_unaligned_views_take_the_element_kernel(cp, ext, geometry, dtype, seed) -> None:
    run_case(cp, geometry, dtype, "silu", seed, binding(cp, ext), offset=1)


@pytest.mark.parametrize("geometry", [GEOMETRIES[i] for i in (2, 3, 7, 10, 15, 18)], ids=geometry_id)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("phase", ["build", "runtime"])
@pytest.mark.parametrize(("bias", "past"), [(True, True), (False, True), (True, False)], ids=str)
def test_plugin(cp, library, geometry, dtype, phase, bias, past, seed) -> None:
    run_case(cp, geometry, dtype, "silu", seed, plugin(cp, library, phase), bias=bias, past=past)


@pytest.mark.parametrize(
    "geometry",
    [((4, 2048, 1024), 4, {}), ((256, 4096, 1), 3, {}), ((2, 512, 4096), 4, {"channels_last": 1})],
    ids=geometry_id,
)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_large(cp, ext, geometry, dtype, seed) -> None:
    run_case(cp, geometry, dtype, "silu", seed, binding(cp, ext))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("weight_channels", "weight must be (channels, 1, k)"),
        ("past_length", "past_state must be (batch, channels, (k - 1) * dilation)"),
        ("present_shape", "present_state must be"),
        ("output_dtype", "every tensor must have input's dtype"),
    ],
)
def test_binding_refuses_bad_arrays_before_launching(cp, ext, change, message) -> None:
    x = cp.ones((2, 4, 8), cp.float32)
    w = cp.ones((5 if change == "weight_channels" else 4, 1, 3), cp.float32)
    past = cp.ones((2, 4, 3 if change == "past_length" else 2), cp.float32)
    y = cp.full((2, 4, 8), cp.nan, cp.float16 if change == "output_dtype" else cp.float32)
    state = cp.full((2, 4, 3 if change == "present_shape" else 2), cp.nan, cp.float32)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        ext.causal_conv_with_state([x, w, None, past], [y, state], {})
    assert bool(cp.isnan(state).all())


def test_torch_equivalent_agrees(cp, seed) -> None:
    """The benchmark's torch side (concat, grouped conv1d, SiLU) computes what the prototype does."""
    torch = pytest.importorskip("torch")
    from trtplug.pyplugins import causal_conv_with_state as proto

    rng = np.random.default_rng(seed)
    x, w, b, past = (rng.standard_normal(s).astype(np.float32) for s in [(2, 6, 9), (6, 1, 4), (6,), (2, 6, 3)])
    for activation in ACTIVATIONS:
        attrs = {"activation": activation, "dilation": 1}
        want = proto.compute(np, [x, w, b, past], attrs)
        got = proto.torch_equivalent(torch, [torch.as_tensor(a, device="cuda") for a in (x, w, b, past)], attrs)
        for g, e in zip(got, want, strict=True):
            np.testing.assert_allclose(g.cpu().numpy(), e, rtol=1e-5, atol=1e-5)
