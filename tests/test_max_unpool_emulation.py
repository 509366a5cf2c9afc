"""launchMaxUnpool on the CPU: tests/max_unpool_emulation.cu runs the launcher's path choice and
every thread of its kernels' bodies (plugins/max_unpool/unpool_windows.cuh) on the host, checks
that on the window path each element of y is written by exactly one thread, and returns y, which
is compared here bit for bit with a NumPy scatter. Geometries: 1-D to 3-D, window ratios 1 to 4,
odd lengths, several blocks and groups per thread of the pair kernel, strays and indices outside
the tensor, MaxPool's own indices with pads and overlaps, output_shape larger than inferred,
unaligned tensors and no workspace; fp32 / fp16 / bf16. Needs nvcc, no GPU."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from pyplugins.max_unpool import inferred_shape
from tests.host_emulation import run_emulation
from tests.max_unpool_cases import indices_with_strays, unpool_reference
from trtplug.parity.generators import max_pool_outputs

MAX_SPATIAL = 6
DTYPES = {"float32": (0, np.uint32), "float16": (1, np.uint16), "bfloat16": (2, np.uint16)}

# (x shape, kernel = stride unless strides/pads given, output_shape or None)
WINDOWS = [
    ((2, 3, 16), [2]),
    ((2, 3, 6), [2]),  # fp32 pairs (rows of 2 groups of 2), 16-bit vectors of 2 (6 is no multiple of 4)
    ((1, 1, 1), [2]),
    ((2, 3, 17), [2]),
    ((3, 2, 8), [4]),
    ((1, 2, 5), [3]),
    ((2, 2, 3000), [2]),
    ((1, 2, 28500), [2]),  # 8 fp32 blocks (7 16-bit) of the pair kernel, the last partial, every group slot used
    ((2, 3, 6, 8), [2, 2]),
    ((2, 3, 5, 6), [2, 2]),
    ((1, 2, 9, 14), [2, 2]),
    ((1, 2, 4, 5), [3, 3]),
    ((2, 2, 3, 4), [3, 2]),  # three rows per window
    ((1, 1, 7, 12), [1, 2]),
    ((1, 3, 10, 10), [2, 4]),
    ((2, 4, 34, 64), [2, 2]),  # the bench's layout, 3 blocks of fp32 pairs, partial last block
    ((1, 2, 3, 4, 6), [2, 2, 2]),
    ((1, 2, 2, 3, 4), [2, 2, 2]),
    ((2, 1, 3, 3, 5), [1, 3, 2]),
    ((1, 2, 4, 4, 8), [2, 3, 2]),
]

# (x shape, attrs, output_shape or None): the zero-then-scatter path.
SCATTERS = [
    ((1, 1, 4, 4), {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}, None),
    ((1, 2, 5, 6), {"kernel_shape": [3, 3], "strides": [2, 2]}, None),
    ((1, 2, 3, 3), {"kernel_shape": [2, 2], "strides": [2, 2]}, (1, 2, 7, 8)),
    ((2, 3, 9), {"kernel_shape": [2], "strides": [2]}, (2, 3, 21)),
    ((1, 2, 2, 3, 4), {"kernel_shape": [2, 2, 2], "strides": [2, 2, 2]}, (1, 2, 5, 6, 9)),
    ((1, 2, 6, 8), {"kernel_shape": [2, 2], "strides": [2, 2]}, (1, 2, 12, 18)),
]


def _bits(values: np.ndarray, dtype: str) -> np.ndarray:
    if dtype == "float32":
        return values.astype(np.float32).view(np.uint32)
    if dtype == "float16":
        return values.astype(np.float16).view(np.uint16)
    return (values.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)  # bfloat16, truncated


def _expected_path(case: dict, itemsize: int) -> str:
    x_shape, inferred, out = case["x"], case["inferred"], case["out"]
    spatial = x_shape[2:]
    windows = (
        case["workspace"]
        and 0 < len(spatial) <= 3
        and tuple(out) == tuple(inferred)
        and all(i > 0 and n % i == 0 for i, n in zip(spatial, inferred[2:], strict=True))
    )
    if not windows:
        return "scatter"
    inner = inferred[-1] // spatial[-1]
    group = 8 // itemsize
    y_at = case["offsets"][2] * itemsize
    if (
        inner == 2
        and spatial[-1] % group == 0
        and case["offsets"][0] * itemsize % 8 == 0
        and case["offsets"][1] * 8 % 16 == 0
        and y_at % 16 == 0
    ):
        return "pairs"
    if inner % 4 == 0 and y_at % (4 * itemsize) == 0:
        return "windows4"
    return "windows2" if inner % 2 == 0 and y_at % (2 * itemsize) == 0 else "windows1"


def _case(dtype, x_shape, attrs, out=None, indices=None, offsets=(0, 0, 0), workspace=1, *, rng) -> dict:
    """A case with MaxPool's values (and indices unless given) for x_shape and attrs."""
    attrs = {"pads": [], **attrs}
    pool = max_pool_outputs({"X": x_shape}, attrs, rng)
    inferred = inferred_shape(x_shape, attrs)
    return {
        "dtype": dtype,
        "x": x_shape,
        "attrs": attrs,
        "inferred": inferred,
        "out": out or inferred,
        "values": pool["X"],
        "indices": pool["I"] if indices is None else indices,
        "offsets": offsets,
        "workspace": workspace,
    }


def _cases(rng) -> list[dict]:
    cases = []
    for dtype in DTYPES:
        for x_shape, kernel in WINDOWS:
            attrs = {"kernel_shape": kernel, "strides": kernel}
            cases.append(_case(dtype, x_shape, attrs, rng=rng))
            strays, _ = indices_with_strays(rng, x_shape, inferred_shape(x_shape, {"pads": [], **attrs})[2:])
            cases.append(_case(dtype, x_shape, attrs, indices=strays, rng=rng))
        for x_shape, attrs, out in SCATTERS:
            cases.append(_case(dtype, x_shape, attrs, out, rng=rng))
        k2 = {"kernel_shape": [2, 2], "strides": [2, 2]}
        for offsets in [(1, 0, 0), (0, 1, 0), (0, 0, 1), (0, 0, 2), (2, 0, 4)]:  # x, indices, y elements off
            cases.append(_case(dtype, (2, 3, 6, 8), k2, offsets=offsets, rng=rng))
        cases.append(_case(dtype, (2, 3, 6, 8), k2, workspace=0, rng=rng))
    return cases


def _record(case: dict) -> bytes:
    spatial = len(case["x"]) - 2
    pad = [0] * (MAX_SPATIAL - spatial)
    header = [DTYPES[case["dtype"]][0], spatial, case["x"][0] * case["x"][1]]
    header += [*case["x"][2:], *pad, *case["inferred"][2:], *pad, *case["out"][2:], *pad]
    header += [*case["offsets"], case["workspace"]]
    x = _bits(case["values"], case["dtype"])
    return np.asarray(header, np.int64).tobytes() + x.tobytes() + case["indices"].astype(np.int64).tobytes()


def _has_strays(case: dict) -> bool:
    """Whether some index inside the tensor lies outside its own window (pass 2 must run)."""
    indices = case["indices"]
    inside = (indices >= 0) & (indices < math.prod(case["inferred"]))
    at = np.unravel_index(np.where(inside, indices, 0), case["inferred"])
    coords = np.indices(case["x"])
    ratio = [n // i for n, i in zip(case["inferred"][2:], case["x"][2:], strict=True)]
    own = (at[0] == coords[0]) & (at[1] == coords[1])
    for d, r in enumerate(ratio):
        own &= at[2 + d] // r == coords[2 + d]
    return bool((inside & ~own).any())


def _reference(case: dict) -> np.ndarray:
    values = _bits(case["values"], case["dtype"])
    return unpool_reference(values, case["indices"], case["inferred"], case["out"])


def test_every_max_unpool_thread_matches_numpy_on_the_host(tmp_path: Path) -> None:
    cases = _cases(np.random.default_rng(11))
    (tmp_path / "cases.bin").write_bytes(b"".join(_record(c) for c in cases))
    lines = run_emulation(tmp_path, "max_unpool_emulation", str(tmp_path / "cases.bin"), str(tmp_path / "y.bin"))
    lines = lines.strip().splitlines()
    assert lines[-1] == f"cases: {len(cases)} failures: 0", "\n".join(line for line in lines if "FAIL" in line)
    y_all = (tmp_path / "y.bin").read_bytes()
    at = 0
    paths: dict[tuple[str, str], int] = {}
    for case, line in zip(cases, lines, strict=False):
        bits = DTYPES[case["dtype"]][1]
        expected = _reference(case)
        got = np.frombuffer(y_all, bits, expected.size, at).reshape(expected.shape)
        at += expected.nbytes
        path, pending = line.split()[3], line.split()[5] == "1"
        assert path == _expected_path(case, np.dtype(bits).itemsize), (case["x"], case["dtype"], line)
        assert path == "scatter" or pending == _has_strays(case), (case["x"], case["dtype"], line)
        np.testing.assert_array_equal(got, expected, err_msg=f"{case['dtype']} {case['x']} {case['attrs']} {line}")
        paths[case["dtype"], path] = paths.get((case["dtype"], path), 0) + 1
    assert at == len(y_all)
    for dtype in DTYPES:  # every path taken in every type
        assert all(paths.get((dtype, p), 0) > 0 for p in ("pairs", "windows4", "windows2", "windows1", "scatter"))
    assert paths["float32", "pairs"] > paths["float16", "pairs"]  # fp32 groups of 2 take rows of 2 groups too
