"""RoiAlign (issue 18: >= 1.0x torchvision) against torchvision.ops.roi_align: detection heads
(Faster/Mask R-CNN: 256 channels, 7 x 7 and 14 x 14 bins, sampling_ratio 2 and adaptive 0,
aligned), fp32 and fp16. Ours: the CUDA launcher of the ONNX plugin (avg, half_pixel = aligned),
its output checked against torchvision's first. Bytes: the regions' output written once plus the
feature map read once (the floor). Run: python benchmarks/bench_roi_align.py (GPU machine)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

# The shared table runner beside this script (PYTHONSAFEPATH=1 leaves the script's folder off sys.path).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from ratio_table import run_table

CASES = [
    ((2, 256, 200, 304), 1000, 7, 2, 0.25),
    ((2, 256, 200, 304), 1000, 7, 0, 0.25),
    ((2, 256, 100, 152), 512, 14, 2, 0.125),
    ((8, 256, 50, 76), 4000, 7, 2, 0.0625),
]


def boxes_for(rng, k, n, height, width, scale):
    size = np.array([width, height], np.float32)
    centres = rng.uniform(0, 1, (k, 2)) * size
    sides = rng.uniform(2, 0.5 * size.min(), (k, 2))
    boxes = np.concatenate([centres - sides / 2, centres + sides / 2], axis=1) / scale
    return boxes.astype(np.float32), rng.integers(0, n, k).astype(np.int64)


def rows(ext, torch, cp):
    from torchvision.ops import roi_align

    rng = np.random.default_rng(0)
    for shape, k, bins, ratio, scale in CASES:
        boxes, batch = boxes_for(rng, k, shape[0], shape[2], shape[3], scale)
        for dtype in ("float32", "float16"):
            xs = [torch.randn(shape, device="cuda").to(getattr(torch, dtype)) for _ in range(2)]
            cxs = [cp.asarray(x) for x in xs]
            cboxes, cbatch = cp.asarray(boxes.astype(dtype)), cp.asarray(batch)
            rois = torch.cat([torch.from_numpy(batch[:, None]).float(), torch.from_numpy(boxes)], 1).cuda()
            rois = rois.to(xs[0].dtype)
            y = cp.empty((k, shape[1], bins, bins), dtype=dtype)
            attrs = dict(output_height=bins, output_width=bins, spatial_scale=scale, sampling_ratio=ratio, mode="avg")
            name = f"{'x'.join(map(str, shape))} K={k} {bins}x{bins} ratio={ratio} fp{dtype[5:]}"

            def ours(i, cxs=cxs, cboxes=cboxes, cbatch=cbatch, y=y, attrs=attrs):
                ext.onnx_roi_align([cxs[i], cboxes, cbatch], [y], attrs)

            def theirs(i, xs=xs, rois=rois, bins=bins, scale=scale, ratio=ratio):
                return roi_align(xs[i], rois, (bins, bins), scale, ratio, aligned=True)

            def max_error(ours=ours, theirs=theirs, y=y):
                ours(0)
                return float(cp.abs(y.astype(cp.float32) - cp.asarray(theirs(0).float())).max())

            yield name, xs[0].nelement() * xs[0].element_size() + y.nbytes, ours, theirs, max_error


if __name__ == "__main__":
    sys.exit(run_table("bench_roi_align", "onnx_roi_align", rows))
