"""Every registered op is benchmarkable: bench shapes near the requested size, a prototype that runs
on them (scaled down, NumPy) and, where torch has the op, a torch equivalent that agrees with it.
Walks the registry, so a new op is held to the same rules."""

from __future__ import annotations

import numpy as np
import pytest

from trtplug.bench.workload import bench_shapes, make_workload, traffic_bytes
from trtplug.protolib.dtypes import numpy_dtype
from trtplug.prototypes import pyplugin_module
from trtplug.registry import load_registry

SPECS = sorted(load_registry(), key=lambda s: s.key)
KEYS = [s.key for s in SPECS]
SMALL = 64 << 10  # bytes requested for the CPU runs: big enough for every op's minimum shape
LARGE = 64 << 20


def _spec(key: str):
    return load_registry().get(key)


def _dtype(spec) -> str:
    first = spec.dtypes_of(spec.inputs[0])
    return "float32" if "float32" in first else first[0]


@pytest.mark.parametrize("key", KEYS)
def test_every_op_has_bench_shapes_within_2x_of_the_request(key: str) -> None:
    spec = _spec(key)
    itemsize = numpy_dtype(_dtype(spec)).itemsize
    shapes = bench_shapes(spec, pyplugin_module(spec), LARGE, itemsize)
    assert shapes, f"{key}: no bench shapes"
    w = make_workload(np, spec, shapes, _dtype(spec), 1, seed=0)
    largest = max(a.nbytes for a in [*w.inputs[0], *w.outputs] if a is not None)
    assert largest <= 2 * LARGE, f"{key}: a tensor of {largest} bytes for {LARGE} requested"
    assert w.nbytes >= LARGE / 2, f"{key}: {w.nbytes} bytes moved for {LARGE} requested"


def _small_run(key: str):
    spec = _spec(key)
    proto = pyplugin_module(spec)
    dtype = _dtype(spec)
    shapes = bench_shapes(spec, proto, SMALL, numpy_dtype(dtype).itemsize)
    w = make_workload(np, spec, shapes, dtype, 1, seed=3)
    inputs = list(w.inputs[0])
    while inputs and inputs[-1] is None:
        inputs.pop()
    proto.forward(np, inputs, w.outputs, w.case.attrs)
    return spec, proto, w, inputs


@pytest.mark.parametrize("key", KEYS)
def test_prototype_runs_on_scaled_down_bench_shapes(key: str) -> None:
    spec, proto, w, _ = _small_run(key)
    floats = [o for o in w.outputs if o.dtype.kind == "f" and o.size]
    assert all(np.isfinite(o).all() for o in floats), f"{key}: non-finite outputs on bench inputs"
    assert 0 < traffic_bytes(proto, w, _dtype(spec)) <= 2 * w.nbytes


NO_TORCH_OP: set[str] = set()  # ops torch has no counterpart for (none today)


@pytest.mark.parametrize("key", KEYS)
def test_torch_equivalent_exists_and_agrees_with_the_prototype(key: str) -> None:
    spec = _spec(key)
    proto = pyplugin_module(spec)
    assert hasattr(proto, "torch_equivalent") or key in NO_TORCH_OP, f"{key}: no torch_equivalent"
    torch = pytest.importorskip("torch")
    spec, proto, w, inputs = _small_run(key)
    got = proto.torch_equivalent(torch, [None if a is None else torch.as_tensor(a) for a in inputs], w.case.attrs)
    got = got if isinstance(got, (tuple, list)) else [got]
    for out, expect in zip(got, w.outputs, strict=False):
        out = out.float().numpy() if out.dtype.is_floating_point else out.numpy()
        np.testing.assert_allclose(out.reshape(expect.shape), expect, rtol=1e-3, atol=1e-3, err_msg=key)
