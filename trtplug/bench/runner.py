"""Times each implementation of an op per dtype and size, after checking that their outputs agree.

Implementations: `cuda` (the launcher the plugin runs), `cupy` (the prototype) and `torch` (the
prototype module's `torch_equivalent(torch, inputs, attrs)`, when it defines one).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from types import ModuleType
from typing import Any

import numpy as np

from trtplug import native
from trtplug.bench.timing import boundary_kernel, kernel_ms_each, time_ms
from trtplug.bench.workload import Workload, bench_shapes, make_workload, traffic_bytes
from trtplug.parity.cases import case_inputs
from trtplug.protolib.dtypes import (
    BF16,
    BF16_QUIET_NAN_BITS,
    BFLOAT16,
    Bf16Device,
    bf16_bits_to_float32,
    float32_to_bf16_bits,
    numpy_dtype,
    storage,
)
from trtplug.prototypes import pyplugin_module
from trtplug.spec import OpSpec

MB = 1 << 20
TORCH_SLACK = 10.0
BATCH = 10  # launcher and torch calls per timed batch
ROOFLINE_SLACK = 1.02  # timing noise allowed above the measured roofline


@dataclass(frozen=True)
class Roofline:
    """The device's measured bandwidths: a copy (read + write) and, where measured, a fill
    (write-only) and a read-only stream. Time per byte is taken as linear in an op's read fraction
    f between the three measurements (f = 0 the fill, 0.5 the copy, 1 the reads): HBM's mixed
    traffic pays read/write turnarounds that neither pure stream does, so a read-heavy op, like a
    write-heavy one, can pass 100% of copy. Without a read figure, reads cost 2/copy - 1/fill a byte
    (the copy's time less its writes'); without a fill every op's ceiling is the copy's."""

    copy_gbs: float
    fill_gbs: float | None = None
    read_gbs: float | None = None

    def ceiling_gbs(self, read: int, written: int) -> float:
        if self.fill_gbs is None or read + written <= 0:
            return self.copy_gbs
        f = read / (read + written)
        if self.read_gbs is not None and f > 0.5:
            return 1 / ((2 - 2 * f) / self.copy_gbs + (2 * f - 1) / self.read_gbs)
        read_cost = max(2 / self.copy_gbs - 1 / self.fill_gbs, 0.5 / self.copy_gbs)
        return (read + written) / (read * read_cost + written / self.fill_gbs)


@dataclass
class Timing:
    op: str
    dtype: str
    size_mb: int
    impl: str
    ms: float | None
    gbs: float | None  # traffic floor (inputs read once + outputs written once) per second
    copy_fraction: float | None
    vs_torch: float | None  # torch time / this time: > 1 is faster than torch
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _runners(
    cp: ModuleType, spec: OpSpec, proto: ModuleType, w: Workload, torch: ModuleType | None, checked: bool = False
) -> dict:
    """Each implementation as run(i) on buffer set i. The launcher takes the plugin's inputs (folded
    constant inputs arrive as fields, as from the rewrite) and, when `checked`, has its size tensors
    checked against the prototype's."""
    attrs = w.case.attrs
    runners = {}
    ext = native.native_module()
    if ext is not None and spec.key in ext.ops:
        stream = cp.cuda.get_current_stream()
        kept = [t.fold_into is None for t in case_inputs(spec, w.case)]

        def launch(i: int) -> None:
            plugin_inputs = [a for a, keep in zip(w.inputs[i], kept, strict=True) if keep]
            native.run_binding(spec, ext, _trim(plugin_inputs), w.output_sets[i], attrs, stream, check_sizes=checked)

        runners["cuda"] = launch
    runners["cupy"] = lambda i: proto.forward(cp, _trim(w.proto_inputs[i]), w.proto_outputs, attrs)
    timed = getattr(proto, "torch_timed", lambda shapes: True)(w.case.shapes)  # False: too slow to time
    if torch is not None and hasattr(proto, "torch_equivalent") and timed:
        tensors = [[None if a is None else _torch_tensor(cp, torch, a) for a in s] for s in w.inputs]
        runners["torch"] = lambda i: proto.torch_equivalent(torch, _trim(tensors[i]), attrs)
    return runners


def _trim(inputs: list[Any]) -> list[Any]:
    """Trailing absent optional inputs are left out, as the prototypes and launchers expect."""
    inputs = list(inputs)
    while inputs and inputs[-1] is None:
        inputs.pop()
    return inputs


def is_float(array: Any) -> bool:
    return array.dtype.kind == "f" or array.dtype == BF16


def _torch_tensor(cp: ModuleType, torch: ModuleType, array: Any) -> Any:
    """The torch view of a device array; bf16 (uint16 storage) as torch.bfloat16."""
    if isinstance(array, Bf16Device):
        return torch.as_tensor(array.bits.view(cp.int16), device="cuda").view(torch.bfloat16)
    return torch.as_tensor(array, device="cuda")


def _comparable(cp: ModuleType, array: Any, round_to_bf16: bool) -> Any:
    """A CuPy copy to compare: bf16 as its float32 values; a prototype's float32 stand-in for a bf16
    output rounded to bf16 first, as the plugin's output is."""
    if isinstance(array, Bf16Device):
        return array.to_float32(cp)
    if str(getattr(array, "dtype", "")) == "torch.bfloat16":
        array = array.float()
    array = cp.array(array, copy=True)
    return bf16_bits_to_float32(cp, float32_to_bf16_bits(cp, array)) if round_to_bf16 else array


def _outputs_of(cp: ModuleType, name: str, run: Any, w: Workload, dtype: str) -> list[Any]:
    outputs = w.proto_outputs if name == "cupy" else w.outputs
    for o in outputs:
        storage(o).fill(BF16_QUIET_NAN_BITS if isinstance(o, Bf16Device) else cp.nan if is_float(o) else 0)
    result = run(0)
    if name == "torch":
        tensors = result if isinstance(result, (tuple, list)) else [result]
        outputs = tensors[: len(w.outputs)]
    rounded = [name == "cupy" and dtype == BFLOAT16 and is_float(o) for o in outputs]
    return [_comparable(cp, o, r) for o, r in zip(outputs, rounded, strict=True)]


def check_agreement(cp: ModuleType, spec: OpSpec, dtype: str, runners: dict, w: Workload) -> str:
    """'' when every implementation's outputs agree with the first's within the spec tolerance
    (TORCH_SLACK times it for torch, whose fp16 equivalents round each intermediate to fp16)."""
    tol = spec.tolerance(dtype) if dtype in spec.tolerances else None
    results = {name: _outputs_of(cp, name, run, w, dtype) for name, run in runners.items()}
    base_name, base = next(iter(results.items()))
    for name, outs in results.items():
        for a, b in zip(outs, base, strict=False):
            a64, b64 = a.astype(cp.float64), b.astype(cp.float64)
            slack = TORCH_SLACK if name == "torch" else 1.0
            limit = slack * (tol.atol + tol.rtol * cp.abs(b64)) if tol else 0
            if a.shape != b.shape:
                return f"{name} disagrees with {base_name}: shape {tuple(a.shape)} vs {tuple(b.shape)}, not timed"
            same = (cp.abs(a64 - b64) <= limit) | (cp.isnan(a64) & cp.isnan(b64))
            if not bool(same.all()):
                return f"{name} disagrees with {base_name}: {_disagreement(cp, a64, b64, same)}, not timed"
    return ""


def _disagreement(cp: ModuleType, a64: Any, b64: Any, same: Any) -> str:
    """How many elements differ and the worst one (index, both values): enough to tell a rounding
    tie at a discontinuity (a few elements) from a wrong kernel (many)."""
    bad = int((~same).sum())
    gap = cp.where(same, 0.0, cp.nan_to_num(cp.abs(a64 - b64), nan=cp.inf))
    worst = int(gap.argmax())
    at = tuple(int(i) for i in np.unravel_index(worst, a64.shape)) if a64.ndim else ()  # cupy's takes no int
    values = f"{float(a64.ravel()[worst])!r} vs {float(b64.ravel()[worst])!r}"
    return f"{bad} of {a64.size} elements, worst at {at}: {values}"


def bench_op(
    cp: ModuleType, spec: OpSpec, dtype: str, size_mb: int, torch: ModuleType | None, roof: Roofline
) -> Iterator[Timing]:
    proto = pyplugin_module(spec)
    itemsize = numpy_dtype(dtype).itemsize
    shapes = bench_shapes(spec, proto, size_mb * MB, itemsize)
    if shapes is None:
        yield Timing(spec.key, dtype, size_mb, "-", None, None, None, None, "no benchmark shapes for this op")
        return
    try:
        yield from _timed(cp, spec, proto, dtype, size_mb, shapes, torch, roof)
    except Exception as exc:  # one op failing must not end the whole run: report it in its row
        yield Timing(spec.key, dtype, size_mb, "-", None, None, None, None, f"{type(exc).__name__}: {exc}"[:120])


def _timed(cp, spec, proto, dtype, size_mb, shapes, torch, roof: Roofline) -> Iterator[Timing]:
    w = make_workload(cp, spec, shapes, dtype, None, seed=size_mb)
    checked = _runners(cp, spec, proto, w, torch, checked=True)
    torch_run = checked.pop("torch", None)
    problem = check_agreement(cp, spec, dtype, checked, w)
    if problem:  # trtplug's own implementations disagree: nothing is timed
        yield Timing(spec.key, dtype, size_mb, "all", None, None, None, None, problem)
        return
    torch_timed, torch_said = torch_verdict(cp, spec, proto, dtype, checked, torch_run, w)
    runners = _runners(cp, spec, proto, w, torch if torch_timed else None)
    times = call_times(cp, runners, len(w.inputs), torch)
    nbytes = traffic_bytes(proto, w, dtype)
    written = min(sum(o.nbytes for o in w.outputs), nbytes)  # outputs are written once; the rest is read
    ceiling = roof.ceiling_gbs(nbytes - written, written)
    for name, ms in times.items():
        gbs = nbytes / ms / 1e6
        vs_torch = times["torch"] / ms if "torch" in times else None
        said = torch_said if (name == "torch") == torch_timed else ""  # on torch's row, or on the others' without it
        note = "; ".join(filter(None, (said, row_note(proto, name, gbs / roof.copy_gbs, gbs / ceiling))))
        yield Timing(spec.key, dtype, size_mb, name, ms, gbs, gbs / roof.copy_gbs, vs_torch, note)


def torch_verdict(cp, spec, proto, dtype, runners: dict, torch_run: Any, w: Workload) -> tuple[bool, str]:
    """Whether torch is timed, and what the rows say of its outputs. Held to TORCH_SLACK times the
    spec tolerance against trtplug's first implementation; where it falls outside, it is left out
    (a torch equivalent computing something else times nothing comparable) and the other rows say
    why. A dtype the prototype's TORCH_UNCHECKED names (torch computes it less exactly, the reason
    measured) is timed unchecked, its row saying so. A torch side that raises is left out the same way."""
    if torch_run is None:
        return False, ""
    reason = getattr(proto, "TORCH_UNCHECKED", {}).get(dtype)
    if reason:
        return True, f"not compared: {reason}"
    base = next(iter(runners.items()))
    try:
        problem = check_agreement(cp, spec, dtype, dict([base, ("torch", torch_run)]), w)
    except Exception as exc:  # torch lacks the op for this dtype or shape: trtplug's rows still count
        return False, f"torch not timed: {type(exc).__name__}: {exc}"[:160]
    return not problem, problem.replace("not timed", "torch not timed")


def call_times(cp: ModuleType, runners: dict, sets: int, torch: ModuleType | None) -> dict[str, float]:
    """Milliseconds per call of each runner. The device time from the profiler where torch is
    there: a call from Python spends 20-50 us of host time (argument parsing, array interfaces),
    more than a 16 MB op runs on the H200, so events around back-to-back calls time the host, not
    what TensorRT's C++ enqueue would see. Without torch, or for a runner the profiler saw nothing
    for: events, BATCH launcher/torch calls back to back, the CuPy prototype one call at a time."""
    device: dict[str, float | None] = {}
    if torch is not None:
        try:
            device = kernel_ms_each(torch, runners, sets, boundary_kernel(cp))
        except RuntimeError:  # no CUPTI, or the boundaries got lost: time by events
            device = {}
    return {name: device.get(name) or _event_time(cp, name, run, sets) for name, run in runners.items()}


def _event_time(cp: ModuleType, name: str, run: Any, sets: int) -> float:
    return time_ms(cp, run, sets, reps=30, batch=BATCH) if name != "cupy" else time_ms(cp, run, sets, reps=5)


def row_note(proto: ModuleType, impl: str, copy_fraction: float, ceiling_fraction: float | None = None) -> str:
    """The roofline flag, and on torch rows what the prototype's TORCH_NOTE says about torch's side
    (e.g. that it computes in fp32 where torch has no fp16 kernel)."""
    torch_note = getattr(proto, "TORCH_NOTE", "") if impl == "torch" else ""
    return "; ".join(filter(None, (torch_note, over_roofline_note(copy_fraction, ceiling_fraction))))


def over_roofline_note(copy_fraction: float, ceiling_fraction: float | None = None) -> str:
    """A rate above the op's read/write roofline (the copy's where no fill was measured) is not
    memory traffic the op can have moved: the byte count is above the op's floor (inputs counted
    that stay in L2, or bytes the kernel never moves). Above the copy but within the roofline is a
    write- or read-heavy op, said so."""
    ceiling_fraction = copy_fraction if ceiling_fraction is None else ceiling_fraction
    if ceiling_fraction > ROOFLINE_SLACK:
        return f"OVER COPY ROOFLINE ({100 * copy_fraction:.0f}%): byte count above the traffic floor"
    if copy_fraction > ROOFLINE_SLACK:
        return f"above copy, one-sided traffic: {100 * ceiling_fraction:.0f}% of its read/write roofline"
    return ""
