"""GridSample (issue 18: 5-D >= 1.0x torch) against torch F.grid_sample: the volumetric case
N=2, C=32, 64^3 -> 64^3 trilinear (and nearest), a BEV-like 5-D lift, and 4-D bilinear/bicubic,
fp32 and fp16. Ours: the CUDA launcher both plugins run (mmcv member: torch's semantics), its
output checked against torch's first. Bytes: X and grid read once, Y written once (the floor;
the gathers re-read X). Run: python benchmarks/bench_grid_sample.py (GPU machine)."""

from __future__ import annotations

import sys
from pathlib import Path

# The shared table runner beside this script (PYTHONSAFEPATH=1 leaves the script's folder off sys.path).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from ratio_table import run_table

CASES = [
    ((2, 32, 64, 64, 64), (64, 64, 64), "bilinear"),
    ((2, 32, 64, 64, 64), (64, 64, 64), "nearest"),
    ((1, 64, 16, 128, 128), (4, 200, 200), "bilinear"),
    ((8, 64, 128, 128), (128, 128), "bilinear"),
    ((8, 64, 128, 128), (128, 128), "bicubic"),
]
MMCV_MODES = {"bilinear": 0, "nearest": 1, "bicubic": 2}


def rows(ext, torch, cp):
    for shape, out, mode in CASES:
        for dtype in ("float32", "float16"):
            xs = [torch.randn(shape, device="cuda").to(getattr(torch, dtype)) for _ in range(2)]
            grids = [(torch.rand((shape[0], *out, len(out)), device="cuda") * 2 - 1).to(xs[0].dtype) for _ in range(2)]
            cxs, cgrids = [cp.asarray(x) for x in xs], [cp.asarray(g) for g in grids]
            y = cp.empty((*shape[:2], *out), dtype=dtype)
            attrs = {"interpolation_mode": MMCV_MODES[mode], "padding_mode": 0, "align_corners": 0}
            name = f"{mode} {'x'.join(map(str, shape))}->{'x'.join(map(str, out))} fp{dtype[5:]}"

            def ours(i, cxs=cxs, cgrids=cgrids, y=y, attrs=attrs):
                ext.mmcv_grid_sampler([cxs[i], cgrids[i]], [y], attrs)

            def theirs(i, xs=xs, grids=grids, mode=mode):
                return torch.nn.functional.grid_sample(xs[i], grids[i], mode=mode, align_corners=False)

            def max_error(ours=ours, theirs=theirs, y=y):
                ours(0)
                return float(cp.abs(y.astype(cp.float32) - cp.asarray(theirs(0).float())).max())

            nbytes = xs[0].nelement() * xs[0].element_size() + grids[0].nelement() * grids[0].element_size() + y.nbytes
            yield name, nbytes, ours, theirs, max_error


if __name__ == "__main__":
    sys.exit(run_table("bench_grid_sample", "mmcv_grid_sampler", rows))
