"""Compress's whole-slice gather on the CPU: tests/compress_slices_emulation.cu runs the real
copySlices loop (kSlicesAtOnce slices a thread a pass, the next pass's selected indices fetched
ahead) for every thread of sliceLaunch's block shape over a capped grid, on random geometries
written here; NumPy checks y against np.take of the selected slices, the bytes past the count
untouched, and each output byte written exactly once. Needs nvcc, no GPU; the GPU tests run the
real launch (tests/test_compress_slices_gpu.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.host_emulation import run_emulation

POISON = 0xAB


def geometries(rng: np.random.Generator) -> list[dict]:
    """Random cases and the edges: one slice, no slice selected, an empty outer axis, slice counts
    off the pass depth, odd vector counts, slices longer than a block (threads loop along them),
    grids of one block (every thread takes many passes), misaligned pointers (8- and 4-byte vectors)."""
    cases = [
        dict(elem=4, outer=1, axis=1, inner=64, cond=1, chosen=1, cap=1),
        dict(elem=4, outer=1, axis=5, inner=64, cond=5, chosen=0, cap=4),
        dict(elem=2, outer=0, axis=4, inner=512, cond=4, chosen=3, cap=4),
        dict(elem=1, outer=3, axis=7, inner=16 * 33, cond=9, chosen=5, cap=1),
        dict(elem=8, outer=2, axis=9, inner=2 * 257, cond=9, chosen=9, cap=2),
        dict(elem=4, outer=1, axis=4097, inner=256, cond=4097, chosen=2049, cap=10**6),
    ]
    for _ in range(400):
        elem = int(rng.choice([1, 2, 4, 8]))
        vector = int(rng.choice([4, 8, 16]))
        chunks = int(rng.choice([32, 33, 37, 64, 65, 127, 256, 257, 300]))
        axis = int(rng.integers(1, 40))
        cases.append(
            dict(
                elem=elem,
                outer=int(rng.integers(0, 5)) if rng.random() < 0.1 else int(rng.integers(1, 5)),
                axis=axis,
                inner=max(1, chunks * vector // elem + (int(rng.integers(0, 3)) if rng.random() < 0.1 else 0)),
                cond=int(rng.integers(1, axis + 10)),
                chosen=-1,  # random
                cap=int(rng.choice([1, 2, 3, 5, 8, 10**6])),
                xshift=int(rng.choice([0, 0, 4, 8])),
                yshift=int(rng.choice([0, 0, 4, 8])),
            )
        )
    return cases


def write_case(directory: Path, name: str, case: dict, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    selectable = min(case["axis"], case["cond"])
    chosen = case["chosen"] if case["chosen"] >= 0 else int(rng.integers(0, selectable + 1))
    picked = np.sort(rng.choice(selectable, chosen, replace=False)).astype(np.int64)
    # The list past the count is never read: garbage far outside x there.
    listed = np.full(selectable, 2**40, np.int64)
    listed[:chosen] = picked
    x = rng.integers(0, 256, (case["outer"], case["axis"], case["inner"] * case["elem"]), dtype=np.uint8)
    x.tofile(directory / f"{name}.x")
    listed.tofile(directory / f"{name}.sel")
    fields = [case[k] for k in ("elem", "outer", "axis", "inner")] + [selectable, chosen, case["cap"]]
    fields += [case.get("xshift", 0), case.get("yshift", 0)]
    with open(directory / "cases.txt", "a") as manifest:
        manifest.write(" ".join([name, *map(str, fields)]) + "\n")
    return x[:, picked, :], selectable


def test_every_selected_slice_is_copied_once_on_the_host(tmp_path: Path) -> None:
    rng = np.random.default_rng(46)
    expected = {}
    for i, case in enumerate(geometries(rng)):
        name = f"c{i}"
        expected[name] = (*write_case(tmp_path, name, case, rng), case)
    lines = run_emulation(tmp_path, "compress_slices_emulation", str(tmp_path)).strip().splitlines()
    assert lines[-1] == f"cases: {len(expected)}", lines[-1]
    widths: dict[str, int] = {}
    for line in lines[:-1]:
        name, kind = line.split()[:2]
        width = kind if kind == "elements" else line.split()[2]
        widths[width] = widths.get(width, 0) + 1
        if kind == "elements":
            continue
        want, selectable, case = expected[name]
        total = case["outer"] * selectable * case["inner"] * case["elem"]
        y = np.fromfile(tmp_path / f"{name}.y", np.uint8)
        writes = np.fromfile(tmp_path / f"{name}.writes", np.int32)
        assert y.size == total and writes.size == total, name
        np.testing.assert_array_equal(y[: want.size], want.reshape(-1), err_msg=f"{name}: {case}")
        assert (y[want.size :] == POISON).all(), f"{name}: bytes past the count written: {case}"
        np.testing.assert_array_equal(writes[: want.size], 1, err_msg=f"{name}: writes {case}")
        assert (writes[want.size :] == 0).all(), f"{name}: {case}"
    assert all(widths.get(w, 0) >= 20 for w in ("16", "8", "4")), widths
