"""bfloat16 transport on the CPU: rounding, spec tolerances, the parity runner's bf16 path through a
prototype (upcast inputs, rounded outputs, poisoning), the reference's upcast, and the "<V2" device
wrapper the bindings read."""

from __future__ import annotations

import dataclasses
import re

import ml_dtypes
import numpy as np
import pytest

from tests.test_spec import VALID, write_op
from trtplug.bench.workload import bench_shapes, make_workload
from trtplug.errors import SpecError
from trtplug.native import bf16_on_device
from trtplug.parity.cases import default_cases
from trtplug.parity.impl_base import poisoned, pyplugin_module
from trtplug.parity.runner import Selection, plan, prepare, run_one
from trtplug.protolib.dtypes import (
    BF16,
    Bf16Device,
    bf16_bits_to_float32,
    device_empty,
    float32_to_bf16_bits,
    numpy_dtype,
    to_bfloat16,
    upcast,
)
from trtplug.registry import load_registry
from trtplug.spec import Tolerance, load_spec

BF16_TOLERANCE = Tolerance(2e-2, 2e-2)


def bits(values: list[int]) -> np.ndarray:
    return np.array(values, dtype=np.uint32).view(np.float32)


@pytest.fixture(scope="module")
def bf16_gelu():
    """fast_gelu's spec with bfloat16 added to its type constraint, as Part B's specs will have it."""
    spec = load_registry().get("fast_gelu")
    constraints = {k: (*v, "bfloat16") for k, v in spec.type_constraints.items()}
    tolerances = {**spec.tolerances, "bfloat16": BF16_TOLERANCE}
    return dataclasses.replace(spec, type_constraints=constraints, tolerances=tolerances)


@pytest.fixture
def stand_in_gelu(bf16_gelu, monkeypatch: pytest.MonkeyPatch):
    """bf16_gelu with a prototype that computes on float32 stand-ins (no `takes_bf16`)."""
    monkeypatch.setattr(pyplugin_module(bf16_gelu), "takes_bf16", False)
    return bf16_gelu


def _recording_forward(monkeypatch: pytest.MonkeyPatch, spec) -> list[str]:
    """The dtypes of every array the prototype's forward gets, from now on."""
    module = pyplugin_module(spec)
    real, seen = module.forward, []

    def recording(xp, inputs, outputs, attrs):
        seen.extend(str(a.dtype) for a in [*inputs, *outputs] if a is not None)
        real(xp, inputs, outputs, attrs)

    monkeypatch.setattr(module, "forward", recording)
    return seen


def odd_case(spec):
    return next(c for c in default_cases(spec) if c.name == "odd")


def test_rounding_is_nearest_even_like_ml_dtypes() -> None:
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.standard_normal(4096).astype(np.float32) * 1e3, rng.standard_normal(64) * 1e-40])
    values = values.astype(np.float32)
    ours = float32_to_bf16_bits(np, values)
    assert ours.dtype == np.uint16
    np.testing.assert_array_equal(ours, values.astype(ml_dtypes.bfloat16).view(np.uint16))


def test_rounding_ties_go_to_even() -> None:
    # 1 + 2**-8 is halfway between bf16 1.0 (0x3F80) and the next (0x3F81): even is 0x3F80.
    # 0x3F818000 is halfway between 0x3F81 and 0x3F82: even is 0x3F82. Just past halfway rounds up.
    values = bits([0x3F808000, 0x3F818000, 0x3F808001, 0xBF818000, 0x3F807FFF])
    np.testing.assert_array_equal(float32_to_bf16_bits(np, values), [0x3F80, 0x3F82, 0x3F81, 0xBF82, 0x3F80])


def test_rounding_keeps_nan_and_inf_and_overflows_to_inf() -> None:
    values = np.array([np.nan, -np.nan, np.inf, -np.inf, np.finfo(np.float32).max, -np.finfo(np.float32).max])
    values = np.concatenate([values.astype(np.float32), bits([0x7F800001, 0x7FFFFFFF, 0xFFFFFFFF])])
    back = bf16_bits_to_float32(np, float32_to_bf16_bits(np, values))
    assert np.isnan(back[[0, 1, 6, 7, 8]]).all()
    np.testing.assert_array_equal(back[2:6], [np.inf, -np.inf, np.inf, -np.inf])


def test_bits_to_float32_is_exact() -> None:
    every = np.arange(1 << 16, dtype=np.uint16)
    finite = every[np.isfinite(every.view(BF16).astype(np.float32))]
    back = bf16_bits_to_float32(np, finite)
    np.testing.assert_array_equal(back, finite.view(BF16).astype(np.float32))
    np.testing.assert_array_equal(float32_to_bf16_bits(np, back), finite)


def test_host_conversions() -> None:
    assert numpy_dtype("bfloat16") == BF16 and numpy_dtype("float16") == np.float16
    rounded = to_bfloat16(np.array([1.0, 1.00390625, 3.0], dtype=np.float32))
    assert rounded.dtype == BF16 and rounded.astype(np.float32).tolist() == [1.0, 1.0, 3.0]
    assert upcast(np, rounded).dtype == np.float32
    assert device_empty(np, (2, 3), "bfloat16").dtype == BF16


def test_poisoned_bf16_is_nan_everywhere() -> None:
    buffer = poisoned(np, (3, 4), "bfloat16")
    assert buffer.dtype == BF16 and np.isnan(buffer.astype(np.float32)).all()


class FakeUint16Device:
    """The __cuda_array_interface__ CuPy gives a uint16 array, without a GPU."""

    dtype = np.dtype(np.uint16)
    shape, size, ndim, nbytes = (2, 3), 6, 2, 12

    def __init__(self) -> None:
        self.__cuda_array_interface__ = {
            "shape": (2, 3),
            "typestr": "<u2",
            "descr": [("", "<u2")],
            "data": (1234, False),
            "strides": None,
            "version": 3,
        }


def test_device_wrapper_exports_v2() -> None:
    raw = FakeUint16Device()
    wrapped = Bf16Device(raw)
    interface = wrapped.__cuda_array_interface__
    assert interface["typestr"] == "<V2" and interface["descr"] == [("", "<V2")]
    assert interface["data"] == (1234, False) and interface["shape"] == (2, 3)
    assert raw.__cuda_array_interface__["typestr"] == "<u2"  # the storage's own interface is untouched
    assert wrapped.shape == (2, 3) and wrapped.size == 6 and wrapped.nbytes == 12 and wrapped.dtype == BF16


def test_device_wrapper_rejects_non_uint16_storage() -> None:
    with pytest.raises(TypeError, match="uint16"):
        Bf16Device(np.zeros(3, np.float16))


def test_spec_needs_a_bf16_tolerance(tmp_path) -> None:
    text = VALID.format(name="Thing").replace('T = ["float32", "float16"]', 'T = ["float32", "float16", "bfloat16"]')
    path = write_op(tmp_path, "thing", text)
    with pytest.raises(SpecError, match="no tolerance for dtype 'bfloat16'") as error:
        load_spec(path)
    assert str(path) in str(error.value)
    path.write_text(path.read_text() + "\n[tolerances.bfloat16]\natol = 2e-2\nrtol = 3e-2\n")
    spec = load_spec(path)
    assert spec.dtypes == ("float32", "float16", "bfloat16") and spec.tolerance("bfloat16") == Tolerance(2e-2, 3e-2)


def test_plan_gives_bf16_cases(bf16_gelu) -> None:
    jobs = plan([bf16_gelu], Selection(("numpy",), dtypes=frozenset({"bfloat16"})))
    assert jobs and {j.dtype for j in jobs} == {"bfloat16"}


def test_bf16_inputs_are_rounded_and_reference_is_float32(bf16_gelu, seed: int) -> None:
    inputs, expected = prepare(bf16_gelu, "bfloat16", odd_case(bf16_gelu), seed)
    assert inputs["X"].dtype == BF16
    assert expected[0].dtype == np.float32  # the reference ran on the exact fp32 upcast


def test_prototype_runs_bf16_in_float32(stand_in_gelu, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _recording_forward(monkeypatch, stand_in_gelu)
    result = run_one(stand_in_gelu, "numpy", "bfloat16", odd_case(stand_in_gelu), seed)
    assert result.status == "pass", result.detail or [c.as_dict() for c in result.comparisons]
    assert seen and set(seen) == {"float32"}


def test_prototype_that_takes_bf16_gets_it(bf16_gelu, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A `takes_bf16` prototype reads the bf16 inputs and writes the poisoned bf16 outputs itself."""
    assert pyplugin_module(bf16_gelu).takes_bf16
    seen = _recording_forward(monkeypatch, bf16_gelu)
    result = run_one(bf16_gelu, "numpy", "bfloat16", odd_case(bf16_gelu), seed)
    assert result.status == "pass", result.detail or [c.as_dict() for c in result.comparisons]
    assert seen and set(seen) == {"bfloat16"}


def test_bf16_rounding_error_is_what_is_compared(bf16_gelu, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outputs are rounded to bf16 before comparison: the error is bf16-sized, not float32-sized."""
    result = run_one(bf16_gelu, "numpy", "bfloat16", odd_case(bf16_gelu), seed)
    assert result.status == "pass" and result.comparisons[0].max_rel > 1e-4  # fp32 math alone is ~1e-7
    strict = dataclasses.replace(bf16_gelu, tolerances={**bf16_gelu.tolerances, "bfloat16": Tolerance(1e-6, 1e-6)})
    assert run_one(strict, "numpy", "bfloat16", odd_case(bf16_gelu), seed).status == "fail"


@pytest.mark.parametrize("fault", ["unwritten", "off_by_a_bit"])
def test_broken_bf16_prototype_fails(bf16_gelu, seed: int, monkeypatch: pytest.MonkeyPatch, fault: str) -> None:
    module = pyplugin_module(bf16_gelu)
    real = module.forward

    def broken(xp, inputs, outputs, attrs):
        real(xp, inputs, outputs, attrs)
        if fault == "unwritten":
            outputs[0].reshape(-1)[-1] = np.nan  # as if the last element was never written
        else:
            outputs[0][...] = outputs[0] * 1.05

    monkeypatch.setattr(module, "forward", broken)
    result = run_one(bf16_gelu, "numpy", "bfloat16", odd_case(bf16_gelu), seed)
    assert result.status == "fail"
    if fault == "unwritten":
        assert result.comparisons[0].nan_inf_mismatches == 1


def test_strided_bf16_case_passes(bf16_gelu, seed: int) -> None:
    case = next(c for c in default_cases(bf16_gelu) if c.strided)
    assert run_one(bf16_gelu, "numpy", "bfloat16", case, seed).status == "pass"


def test_binding_gets_host_bf16_as_v2_device_arrays() -> None:
    """run_binding's transport: a host bf16 array goes to the device as uint16 under a "<V2" interface."""

    class FakeCupy:
        @staticmethod
        def asarray(host: np.ndarray) -> FakeUint16Device:
            assert host.dtype == np.uint16 and host.shape == (2, 3)
            return FakeUint16Device()

    host = to_bfloat16(np.ones((2, 3), np.float32))
    other = FakeUint16Device()
    moved, untouched = bf16_on_device(FakeCupy, [host, other])
    assert isinstance(moved, Bf16Device) and moved.__cuda_array_interface__["typestr"] == "<V2"
    assert untouched is other


def test_bf16_bench_workload_keeps_float32_for_the_prototype(stand_in_gelu) -> None:
    shapes = bench_shapes(stand_in_gelu, pyplugin_module(stand_in_gelu), 1 << 20, 2)
    w = make_workload(np, stand_in_gelu, shapes, "bfloat16", 2, seed=1)
    assert all(a.dtype == BF16 for a in w.inputs[0]) and w.outputs[0].dtype == BF16
    assert all(a.dtype == np.float32 for a in w.proto_inputs[0]) and w.proto_outputs[0].dtype == np.float32
    np.testing.assert_array_equal(w.proto_inputs[1][0], w.inputs[1][0].astype(np.float32))
    assert w.nbytes == 2 * w.inputs[0][0].nbytes + w.inputs[0][1].nbytes  # traffic in bf16 bytes


def test_bf16_bench_workload_hands_bf16_to_a_prototype_that_takes_it(bf16_gelu) -> None:
    shapes = bench_shapes(bf16_gelu, pyplugin_module(bf16_gelu), 1 << 20, 2)
    w = make_workload(np, bf16_gelu, shapes, "bfloat16", 2, seed=1)
    assert w.proto_inputs is w.inputs and w.proto_outputs is w.outputs


@pytest.mark.gpu
def test_device_round_trip_and_rounding_match_the_host(cp) -> None:
    values = np.random.default_rng(3).standard_normal((5, 7)).astype(np.float32) * 100
    values[0, :3] = [np.nan, np.inf, -np.inf]
    np.testing.assert_array_equal(float32_to_bf16_bits(cp, cp.asarray(values)).get(), float32_to_bf16_bits(np, values))
    host = to_bfloat16(values)
    device = Bf16Device.from_host(cp, host)
    assert device.__cuda_array_interface__["typestr"] == "<V2" and device.shape == (5, 7)
    np.testing.assert_array_equal(device.to_host().view(np.uint16), host.view(np.uint16))
    np.testing.assert_array_equal(device.to_float32(cp).get(), host.astype(np.float32))
    assert np.isnan(Bf16Device.poisoned(cp, (4,)).to_host().astype(np.float32)).all()


def test_rounding_keeps_zero_dimensional_arrays() -> None:
    scalar = np.array(1.5, dtype=np.float32)
    assert float32_to_bf16_bits(np, scalar).shape == () and to_bfloat16(scalar).shape == ()
    assert bf16_bits_to_float32(np, np.array(0x3FC0, dtype=np.uint16)).shape == ()


@pytest.mark.parametrize("stand_ins", [True, False])
@pytest.mark.parametrize("fault", [None, "off_by_a_bit"])
def test_bench_agreement_in_bf16(bf16_gelu, fault, stand_ins, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bench's pre-timing check: bf16 outputs (as the launcher writes them) against the prototype's
    (float32 ones rounded to bf16, or its own bf16), within the spec's bf16 tolerance; NumPy stands
    in for CuPy."""
    from trtplug.bench.runner import check_agreement

    monkeypatch.setattr(pyplugin_module(bf16_gelu), "takes_bf16", not stand_ins)

    proto = pyplugin_module(bf16_gelu)
    w = make_workload(np, bf16_gelu, {"X": (4, 64), "bias": (64,)}, "bfloat16", 2, seed=3)

    def launcher(i: int) -> None:  # a bf16 kernel: fp32 math, one rounding at the store
        y = np.empty(w.outputs[0].shape, np.float32)
        proto.forward(np, [a.astype(np.float32) for a in w.inputs[i]], [y], {})
        w.outputs[0][...] = to_bfloat16(y * (1.05 if fault else 1.0))

    runners = {"cuda": launcher, "cupy": lambda i: proto.forward(np, w.proto_inputs[i], w.proto_outputs, {})}
    problem = check_agreement(np, bf16_gelu, "bfloat16", runners, w)
    if fault:  # counted, the worst element named
        pattern = r"cupy disagrees with cuda: \d+ of 256 elements, worst at \(\d+, \d+\): .* vs .*, not timed"
        assert re.fullmatch(pattern, problem)
    else:
        assert problem == ""


def test_native_impls_get_bf16_and_return_it(bf16_gelu, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """An implementation that is no prototype (cuda, plugin, tensorrt) gets the bf16 inputs as bf16
    and poisoned bf16 outputs (NumPy stands in for the device here); what it writes is compared."""
    from trtplug.parity import runner
    from trtplug.parity.impl_base import Impl

    class Bf16Native(Impl):
        name = "bf16_native"

        def __init__(self) -> None:
            self.seen: list[str] = []

        def execute(self, spec, ins, outs, attrs) -> None:
            self.seen.extend(str(a.dtype) for a in [*ins, *outs])
            assert np.isnan(outs[0].astype(np.float32)).all()  # poisoned
            y = np.empty(outs[0].shape, np.float32)
            pyplugin_module(spec).forward(np, [a.astype(np.float32) for a in ins], [y], attrs)
            outs[0][...] = to_bfloat16(y)

    impl = Bf16Native()
    monkeypatch.setitem(runner.IMPLS, impl.name, impl)
    result = run_one(bf16_gelu, impl.name, "bfloat16", odd_case(bf16_gelu), seed)
    assert result.status == "pass", result.detail or [c.as_dict() for c in result.comparisons]
    assert set(impl.seen) == {"bfloat16"}
