"""GatherBlockQuantized's row kernels on the CPU: tests/gather_block_quantized_emulation.cu runs the
real gatherChunks loop (kChunksAtOnce chunks a thread a pass, the next pass's indices fetched
ahead) for every thread of a capped grid, with gatherRowsKernel's stores (float32, float16,
bfloat16) and the float32 lane-pair stores (the shuffle emulated lane pair by lane pair), 32- and
64-bit index math, on random tables written here; NumPy checks each output bit for bit against
the dequantized gather (zeros for indices out of range) and each output byte written exactly once.
Needs nvcc, no GPU; tests/test_gather_block_quantized_gpu.py runs the real launches."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.host_emulation import run_emulation

TYPES = {0: np.float32, 1: np.float16, 2: np.uint16}  # 2: bfloat16 as its bits


def bf16_bits(x: np.ndarray) -> np.ndarray:
    """float32 -> bfloat16 bits, round to nearest even (finite values)."""
    u = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def bf16_float(bits: np.ndarray) -> np.ndarray:
    return (bits.astype(np.uint32) << 16).view(np.float32)


def packed(codes: np.ndarray, bits: int) -> np.ndarray:
    """codes [..., n] packed along the last axis, low bits first, rows padded to whole bytes."""
    per = 8 // bits
    pad = -codes.shape[-1] % per
    codes = np.concatenate([codes, np.zeros((*codes.shape[:-1], pad), codes.dtype)], axis=-1)
    grouped = codes.reshape(*codes.shape[:-1], -1, per).astype(np.uint32)
    return sum(grouped[..., j] << (bits * j) for j in range(per)).astype(np.uint8)


def geometry(rng: np.random.Generator, i: int) -> dict:
    edges = [
        dict(count=0),
        dict(count=1, cap=1),
        dict(count=5, axis=1, codes=8, rows=1, cap=1),
        dict(count=3, codes=8, rows=1, block=16, cap=1),
        dict(count=2, codes=24, rows=1, cap=1),  # 3 chunks an output row: odd chunk totals
        dict(count=7, codes=8, rows=3, cap=1),
    ]
    g = dict(
        type=int(rng.integers(0, 3)),
        ind=int(rng.choice([4, 8])),
        bits=int(rng.choice([2, 4, 8])),
        block=int(rng.choice([16, 32, 64, 128])),
        outer=int(rng.integers(1, 4)),
        axis=int(rng.integers(1, 12)),
        rows=int(rng.integers(1, 4)),
        codes=8 * int(rng.integers(1, 40)),
        count=int(rng.integers(0, 60)),
        zp=int(rng.integers(0, 2)),
        cap=int(rng.choice([1, 2, 3, 10**6])),
        pairs=int(rng.integers(0, 2)),
        wide=int(rng.integers(0, 2)),
    )
    if i < len(edges):
        g.update(edges[i])
    if i % 9 == 8:
        g["codes"] += 4  # not whole chunks: the element kernel's
    return g


def write_case(directory: Path, name: str, g: dict, rng: np.random.Generator) -> np.ndarray:
    bits, block = g["bits"], g["block"]
    lead = (g["outer"], g["axis"], g["rows"])
    codes = rng.integers(0, 1 << bits, (*lead, g["codes"]))
    blocks = -(-g["codes"] // block)
    scales32 = rng.uniform(-2, 2, (*lead, blocks)).astype(np.float32)
    if g["type"] == 2:
        scale_store = bf16_bits(scales32)
        scales32 = bf16_float(scale_store)
    else:
        scale_store = scales32.astype(TYPES[g["type"]])
        scales32 = scale_store.astype(np.float32)
    zeros = rng.integers(0, 1 << bits, (*lead, blocks)) if g["zp"] else np.full((*lead, blocks), 1 << (bits - 1))
    indices = rng.integers(-g["axis"] - 2, g["axis"] + 2, g["count"]).astype(np.int32 if g["ind"] == 4 else np.int64)
    packed(codes, bits).tofile(directory / f"{name}.data")
    indices.tofile(directory / f"{name}.idx")
    scale_store.tofile(directory / f"{name}.scales")
    (packed(zeros, bits) if g["zp"] else np.zeros(0, np.uint8)).tofile(directory / f"{name}.zp")
    fields = [g[k] for k in ("type", "ind", "bits", "block", "outer", "axis", "rows", "codes", "count", "zp", "cap")]
    fields += [g["pairs"], g["wide"]]
    with open(directory / "cases.txt", "a") as manifest:
        manifest.write(" ".join([name, *map(str, fields)]) + "\n")
    picked = dequantized_gather(codes, zeros, scales32, indices, block)
    return bf16_bits(picked) if g["type"] == 2 else picked.astype(TYPES[g["type"]])


def dequantized_gather(
    codes: np.ndarray, zeros: np.ndarray, scales: np.ndarray, indices: np.ndarray, block: int
) -> np.ndarray:
    """The definition, tables [outer, axis, ..., last]: (code - zero) * scale in float32 per block of
    the last axis, rows picked along axis 1 (negative indices from the end, zeros outside)."""
    last = codes.shape[-1]
    values = (codes - np.repeat(zeros, block, axis=-1)[..., :last]).astype(np.float32)
    values = values * np.repeat(scales.astype(np.float32), block, axis=-1)[..., :last]
    axis = codes.shape[1]
    inside = (indices >= -axis) & (indices < axis)
    mask = inside.reshape(1, -1, *([1] * (codes.ndim - 2)))
    return np.where(mask, values[:, np.where(inside, indices, 0) % axis], 0).astype(np.float32)


def test_every_output_chunk_is_dequantized_once_on_the_host(tmp_path: Path) -> None:
    rng = np.random.default_rng(47)
    expected = {}
    for i in range(300):
        g = geometry(rng, i)
        expected[f"g{i}"] = (write_case(tmp_path, f"g{i}", g, rng), g)
    lines = run_emulation(tmp_path, "gather_block_quantized_emulation", str(tmp_path)).strip().splitlines()
    assert lines[-1] == f"cases: {len(expected)} failures: 0", lines[-1]
    seen = {"elements": 0, "rows": 0}
    for line in lines[:-1]:
        name, kind = line.split()[:2]
        seen[kind] += 1
        if kind == "elements":
            continue
        want, g = expected[name]
        got = np.fromfile(tmp_path / f"{name}.out", want.dtype)
        writes = np.fromfile(tmp_path / f"{name}.writes", np.int32)
        assert got.size == want.size, name
        np.testing.assert_array_equal(
            got.view(f"u{want.itemsize}"), want.reshape(-1).view(f"u{want.itemsize}"), err_msg=f"{name}: {g}"
        )
        np.testing.assert_array_equal(writes, 1, err_msg=f"{name}: write counts {g}")
    assert seen["rows"] >= 250 and seen["elements"] >= 20, seen
