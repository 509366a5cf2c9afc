"""The fp16 / bf16 exact GELU on the GPU for every 16-bit input: Gelu and BiasGelu (bias -0) run on
all 65536 bit patterns of each type through their bindings, and every finite input's result must be
within 1 ulp of GELU in double rounded to the type (tests/test_gelu16_exhaustive.py proves this for
the same float arithmetic on the host; this checks the device's SFU and conversions agree), with the
erff form's special values (+inf -> +inf, -inf -> NaN, NaN -> NaN, -0 -> -0)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from trtplug import native
from trtplug.protolib.dtypes import Bf16Device
from trtplug.registry import load_registry

pytestmark = pytest.mark.gpu

BITS = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16)


def as_float(bits: np.ndarray, dtype: str) -> np.ndarray:
    with np.errstate(invalid="ignore"):  # signalling NaN patterns
        if dtype == "float16":
            return bits.view(np.float16).astype(np.float64)
        return (bits.astype(np.uint32) << 16).view(np.float32).astype(np.float64)


def round_bits(values: np.ndarray, dtype: str) -> np.ndarray:
    """float64 -> the type's bits, rounded to nearest even once (bf16: exact in float64 arithmetic)."""
    with np.errstate(invalid="ignore", over="ignore"):
        if dtype == "float16":
            return values.astype(np.float16).view(np.uint16)
        mag = np.abs(values)
        exp = np.frexp(mag)[1] - 1  # mag in [2^exp, 2^(exp+1))
        quantum = np.exp2(np.maximum(exp, -126) - 7.0)  # bf16's ulp (subnormals: 2^-133)
        rounded = np.copysign(np.round(mag / quantum) * quantum, values)
        out = (rounded.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
    return np.where(np.isnan(values), np.uint16(0x7FC0), out)


def ordered(bits: np.ndarray) -> np.ndarray:
    mag = (bits & 0x7FFF).astype(np.int64)
    return np.where(bits & 0x8000, -mag, mag)


def run_op(cp, ext, op: str, dtype: str) -> np.ndarray:
    spec = load_registry().get(op)
    x = cp.asarray(BITS.reshape(-1, 8))  # bias_gelu's B is along the last axis
    y = cp.full(x.shape, 0x7E01 if dtype == "float16" else 0x7FC1, dtype=cp.uint16)  # poison
    bias = cp.full(8, 0x8000, dtype=cp.uint16)  # -0 in both types: x + -0 is x, -0 included
    wrap = (lambda a: a.view(cp.float16)) if dtype == "float16" else Bf16Device
    ins = [wrap(x)] + ([wrap(bias)] if op == "bias_gelu" else [])
    native.run_binding(spec, ext, ins, [wrap(y)], {}, cp.cuda.get_current_stream())
    cp.cuda.get_current_stream().synchronize()
    return y.get().reshape(-1)


@pytest.mark.parametrize("op", ["gelu", "bias_gelu"])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_every_16bit_input_is_within_one_ulp(cp, ext, op: str, dtype: str) -> None:
    got = run_op(cp, ext, op, dtype)
    x = as_float(BITS, dtype)
    finite = np.isfinite(x)
    want = round_bits(
        np.array([0.5 * v * math.erfc(-v / math.sqrt(2.0)) if f else 0.0 for v, f in zip(x, finite, strict=True)]),
        dtype,
    )
    ulps = np.abs(ordered(got) - ordered(want))
    zero_sign = ((got & 0x7FFF) == 0) & ((want & 0x7FFF) == 0) & (got != want)
    bad = finite & ((ulps > 1) | zero_sign)
    worst = np.argsort(-np.where(finite, ulps, 0))[:8]
    detail = [(float(x[i]), hex(got[i]), hex(want[i]), int(ulps[i])) for i in worst]
    assert not bad.any(), f"{int(bad.sum())} inputs more than 1 ulp off; worst {detail}"
    print(f"{op} {dtype}: max ulp {int(ulps[finite].max())}, one-ulp results {int((ulps[finite] == 1).sum())}")
    got_x = as_float(got, dtype)
    assert math.isinf(got_x[np.flatnonzero(x == np.inf)[0]]) and math.isnan(got_x[np.flatnonzero(x == -np.inf)[0]])
    assert np.isnan(got_x[np.isnan(x)]).all()
    assert got[0x8000] == 0x8000  # GELU(-0) = -0
