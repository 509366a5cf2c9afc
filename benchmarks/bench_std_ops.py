"""Standard ops (issue 8) against their torch CUDA equivalents: the CUDA launchers (the kernels the
plugins run) and torch, median of CUDA-event timings after warm-up, inputs rotated across buffers
larger than L2 where they are big. Bytes are what the op must move (inputs read once, outputs
written once). Prints a table with the ratio torch time / ours; not a test.

Two timings per side: `batched` (BATCH calls back to back between two CUDA events, divided: the
device time, Python and binding overhead overlapped, as under TensorRT's C++ enqueue) and `single`
(one synchronized call: adds each side's per-call host overhead, ~10-20 us, to its time).
"""

from __future__ import annotations

import sys

import numpy as np

from trtplug.bench.timing import time_ms  # the shared CUDA-event timing helper
from trtplug.protolib.axes import AXIS_ABSENT

BATCH = 10  # calls per timed batch


def affine_grid_rows(ext, torch, cp, rng):
    """AffineGrid 64 x 512 x 512, fp32 and fp16 (the size the issue quotes torch at)."""
    F = torch.nn.functional
    out = []
    # AffineGrid 64 x 512 x 512 (2-D), fp32: the size the issue quotes torch at.
    thetas = [cp.asarray(rng.standard_normal((64, 2, 3), dtype=np.float32)) for _ in range(2)]
    grid = cp.empty((64, 512, 512, 2), dtype=cp.float32)
    size = cp.asarray([64, 3, 512, 512], dtype=cp.int64)  # the binding takes grid's dims from grid
    tt = [torch.as_tensor(t, device="cuda") for t in thetas]
    out.append(
        (
            "affine_grid 64x512x512 fp32",
            grid.nbytes,
            lambda i: ext.affine_grid([thetas[i], size], [grid]),
            lambda i: F.affine_grid(tt[i], [64, 3, 512, 512], align_corners=False),
        )
    )
    grid16 = cp.empty((64, 512, 512, 2), dtype=cp.float16)
    th16 = [t.astype(cp.float16) for t in thetas]
    tt16 = [t.half() for t in tt]
    out.append(
        (
            "affine_grid 64x512x512 fp16",
            grid16.nbytes,
            lambda i: ext.affine_grid([th16[i], size], [grid16]),
            lambda i: F.affine_grid(tt16[i], [64, 3, 512, 512], align_corners=False),
        )
    )
    return out


def matrix_rows(ext, torch, cp, rng):
    """Det and Inverse of 1M 4 x 4 fp32 matrices."""
    out = []
    # Det / Inverse of 1M 4x4 fp32 matrices.
    mats = [cp.asarray((rng.standard_normal((1 << 20, 4, 4)) + 4 * np.eye(4)).astype(np.float32)) for _ in range(2)]
    tm = [torch.as_tensor(m, device="cuda") for m in mats]
    dets = cp.empty(1 << 20, dtype=cp.float32)
    invs = cp.empty_like(mats[0])
    out.append(
        (
            "det 1M 4x4 fp32",
            mats[0].nbytes + dets.nbytes,
            lambda i: ext.det([mats[i]], [dets]),
            lambda i: torch.linalg.det(tm[i]),
        )
    )
    out.append(
        (
            "inverse 1M 4x4 fp32",
            2 * mats[0].nbytes,
            lambda i: ext.inverse([mats[i]], [invs]),
            lambda i: torch.linalg.inv(tm[i]),
        )
    )
    return out


def bitwise_rows(ext, torch, cp, rng):
    """Integer elementwise ops on 64M int32, same shape and row broadcast."""
    out = []
    # Bitwise ops on 64M int32 (256 MB per operand), same shape and row broadcast.
    n = 1 << 26
    a = [cp.asarray(rng.integers(-(2**31), 2**31 - 1, n, dtype=np.int32)) for _ in range(2)]
    b = cp.asarray(rng.integers(0, 31, n, dtype=np.int32))
    y = cp.empty_like(b)
    ta, tb = [torch.as_tensor(x, device="cuda") for x in a], torch.as_tensor(b, device="cuda")
    out.append(
        (
            "bitwise_and 64M int32",
            3 * y.nbytes,
            lambda i: ext.bitwise_and([a[i], b], [y]),
            lambda i: torch.bitwise_and(ta[i], tb),
        )
    )
    out.append(
        (
            "bitwise_not 64M int32",
            2 * y.nbytes,
            lambda i: ext.bitwise_not([a[i]], [y]),
            lambda i: torch.bitwise_not(ta[i]),
        )
    )
    out.append(
        (
            "bit_shift left 64M int32",
            3 * y.nbytes,
            lambda i: ext.bit_shift([a[i], b], [y], {"direction": "LEFT"}),
            lambda i: torch.bitwise_left_shift(ta[i], tb),
        )
    )
    rows2d = [x.reshape(8192, 8192) for x in a]
    row = b[:8192]
    trow = tb[:8192]
    y2d = y.reshape(8192, 8192)
    t2d = [x.reshape(8192, 8192) for x in ta]
    out.append(
        (
            "bitwise_xor 8192x8192 ^ row",
            2 * y.nbytes,
            lambda i: ext.bitwise_xor([rows2d[i], row], [y2d]),
            lambda i: torch.bitwise_xor(t2d[i], trow),
        )
    )
    return out


def pooling_rows(ext, torch, cp, rng):
    """MaxUnpool and MaxPool with indices, 2 x 2 / 2 over 32 x 64 x 512 x 512 fp32."""
    F = torch.nn.functional
    out = []
    # MaxUnpool 2x2/2 of a 32 x 64 x 256 x 256 fp32 pooling (output 2.1 GB): ONNX indices span the
    # tensor, torch's one plane; both from the same max_pool2d.
    z = torch.randn(32, 64, 512, 512, device="cuda")
    pooled, local = F.max_pool2d(z, 2, return_indices=True)
    del z
    planes = torch.arange(32 * 64, device="cuda").reshape(32, 64, 1, 1) * (512 * 512)
    onnx_indices = cp.asarray(local + planes)
    x = cp.asarray(pooled)
    y = cp.empty((32, 64, 512, 512), dtype=cp.float32)
    moved = y.nbytes + x.nbytes + onnx_indices.nbytes
    out.append(
        (
            "max_unpool 2x2 -> 32x64x512x512",
            moved,
            lambda i: ext.max_unpool([x, onnx_indices], [y], {"kernel_shape": [2, 2], "strides": [2, 2]}),
            lambda i: F.max_unpool2d(pooled, local, 2),
        )
    )
    # MaxPool 2x2/2 with indices of the same 32 x 64 x 512 x 512 fp32 tensor.
    zc = cp.asarray(torch.randn(32, 64, 512, 512, device="cuda"))
    tz = torch.as_tensor(zc, device="cuda")
    py_ = cp.empty((32, 64, 256, 256), dtype=cp.float32)
    pi = cp.empty((32, 64, 256, 256), dtype=cp.int64)
    moved = zc.nbytes + py_.nbytes + pi.nbytes
    out.append(
        (
            "max_pool+indices 2x2 32x64x512x512",
            moved,
            lambda i: ext.max_pool_with_indices([zc], [py_, pi], {"kernel_shape": [2, 2], "strides": [2, 2]}),
            lambda i: F.max_pool2d(tz, 2, return_indices=True),
        )
    )
    return out


def scatter_rows(ext, torch, cp, rng):
    """ScatterElements add/max and ScatterND rows, fp32."""
    out = []
    # ScatterElements add of 16M fp32 updates into a 4M tensor, row-wise (torch scatter_reduce, sum).
    data = cp.asarray(rng.standard_normal((4096, 1024), dtype=np.float32))
    idx = cp.asarray(rng.integers(0, 1024, (4096, 4096)).astype(np.int64))
    upd = cp.asarray(rng.standard_normal((4096, 4096), dtype=np.float32))
    res = cp.empty_like(data)
    td, ti, tu = (torch.as_tensor(a, device="cuda") for a in (data, idx, upd))
    moved = 2 * data.nbytes + idx.nbytes + upd.nbytes
    for reduction, torch_name in (("add", "sum"), ("max", "amax")):
        out.append(
            (
                f"scatter_elements {reduction} 16M->4M",
                moved,
                lambda i, r=reduction: ext.scatter_elements([data, idx, upd], [res], {"axis": 1, "reduction": r}),
                lambda i, t=torch_name: td.scatter_reduce(1, ti, tu, t, include_self=True),
            )
        )
    # ScatterND (none) of 64K rows of 256 into a 1M x 256 fp32 table (torch index_put).
    table = cp.asarray(rng.standard_normal((1 << 20, 256), dtype=np.float32))
    rows = cp.asarray(rng.permutation(1 << 20)[: 1 << 16].astype(np.int64).reshape(-1, 1))
    vals = cp.asarray(rng.standard_normal((1 << 16, 256), dtype=np.float32))
    tt, tr, tv = (torch.as_tensor(a, device="cuda") for a in (table, rows, vals))
    out.append(
        (
            "scatter_nd rows in place 64Kx256",
            2 * vals.nbytes,
            lambda i: ext.scatter_nd([table, rows, vals], [table]),
            lambda i: tt.index_put_((tr[:, 0],), tv),
        )
    )
    return out


def compress_rows(ext, torch, cp, rng):
    """Compress of 64M fp32, half the entries kept: rows along axis 0, and flattened (torch boolean
    masking, which synchronizes to size its output; ours writes the count to a size tensor)."""
    out = []
    x = [cp.asarray(rng.standard_normal((1 << 18, 256), dtype=np.float32)) for _ in range(2)]
    keep_rows = cp.asarray(rng.integers(0, 2, 1 << 18).astype(bool))
    keep_all = cp.asarray(rng.integers(0, 2, 1 << 26).astype(bool))
    y = cp.empty((1 << 26,), dtype=cp.float32)
    count = cp.empty((1,), dtype=cp.int32)
    tx = [torch.as_tensor(a, device="cuda") for a in x]
    tr, ta = torch.as_tensor(keep_rows, device="cuda"), torch.as_tensor(keep_all, device="cuda")
    kept = int(keep_rows.sum()) * 256 * 4
    out.append(
        (
            "compress axis 0, 256K x 256 fp32",
            x[0].nbytes // 2 + kept + keep_rows.nbytes,
            lambda i: ext.compress([x[i], keep_rows], [y, count], {"axis": 0}),
            lambda i: tx[i][tr],
        )
    )
    out.append(
        (
            "compress flattened 64M fp32",
            x[0].nbytes + int(keep_all.sum()) * 4 + keep_all.nbytes,
            lambda i: ext.compress([x[i], keep_all], [y, count], {"axis": AXIS_ABSENT}),
            lambda i: torch.masked_select(tx[i].view(-1), ta),
        )
    )
    return out


def col2im_rows(ext, torch, cp, rng):
    """Col2Im against F.fold: 16 x 64 channels, 3 x 3 blocks, 128 x 128 image, pad 1, stride 1 and 2."""
    F = torch.nn.functional
    out = []
    block = cp.asarray([3, 3], dtype=cp.int64)  # read by the kernel from device memory, as the plugin does
    image_shape = cp.asarray([128, 128], dtype=cp.int64)
    for stride, dtype in ((1, "float32"), (1, "float16"), (2, "float32")):
        length = ((128 + 2 - 2 - 1) // stride + 1) ** 2
        cols = [cp.random.standard_normal((16, 64 * 9, length), dtype=cp.float32).astype(dtype) for _ in range(2)]
        image = cp.empty((16, 64, 128, 128), dtype=dtype)
        tc = [torch.as_tensor(c, device="cuda") for c in cols]
        out.append(
            (
                f"col2im 3x3/{stride} 16x64x128x128 {'fp32' if dtype == 'float32' else 'fp16'}",
                cols[0].nbytes + image.nbytes,
                lambda i, c=cols, y=image, s=stride: ext.col2im(
                    [c[i], image_shape, block], [y], {"dilations": [1, 1], "pads": [1, 1, 1, 1], "strides": [s, s]}
                ),
                lambda i, t=tc, s=stride: F.fold(t[i], (128, 128), 3, padding=1, stride=s),
            )
        )
    return out


def unique_rows(ext, torch, cp, rng):
    """Unique of 16M int32 (about 1M distinct values) with inverse and counts, sorted and in order of
    first occurrence, and of 1M rows of 4 int32 along axis 0 (torch.unique(dim=0)). Ours also writes
    the first-occurrence indices, which torch does not compute; torch reads the count back to the host.
    Ours gets its scratch preallocated, as TensorRT hands the plugin its workspace."""
    flatten = AXIS_ABSENT
    n = 1 << 24
    xs = [cp.asarray(rng.integers(0, 1 << 20, n, dtype=np.int32)) for _ in range(2)]
    tx = [torch.as_tensor(x, device="cuda") for x in xs]
    y, count = cp.empty(n, dtype=cp.int32), cp.empty(1, dtype=cp.int32)
    idx, inv, cnt = (cp.empty(n, dtype=cp.int64) for _ in range(3))
    moved = xs[0].nbytes + inv.nbytes  # at least: X read, inverse_indices written
    ws = cp.empty(ext.unique_workspace_bytes(xs[0], flatten), dtype=cp.uint8)
    out = []
    for is_sorted in (True, False):
        out.append(
            (
                f"unique 16M int32 {'sorted' if is_sorted else 'first-occurrence'}",
                moved,
                lambda i, s=is_sorted: ext.unique([xs[i]], [y, idx, inv, cnt, count], {"sorted": int(s)}, None, ws),
                lambda i, s=is_sorted: torch.unique(tx[i], sorted=s, return_inverse=True, return_counts=True),
            )
        )
    rows = [cp.asarray(rng.integers(0, 64, (1 << 20, 4), dtype=np.int32)) for _ in range(2)]
    trows = [torch.as_tensor(r, device="cuda") for r in rows]
    ry = cp.empty_like(rows[0])
    ridx, rinv, rcnt = (cp.empty(1 << 20, dtype=cp.int64) for _ in range(3))
    rws = cp.empty(ext.unique_workspace_bytes(rows[0], 0), dtype=cp.uint8)
    out.append(
        (
            "unique dim=0 1Mx4 int32",
            rows[0].nbytes + rinv.nbytes,
            lambda i: ext.unique([rows[i]], [ry, ridx, rinv, rcnt, count], {"axis": 0}, None, rws),
            lambda i: torch.unique(trows[i], dim=0, sorted=True, return_inverse=True, return_counts=True),
        )
    )
    return out


MAKERS = (
    affine_grid_rows,
    matrix_rows,
    bitwise_rows,
    pooling_rows,
    scatter_rows,
    compress_rows,
    col2im_rows,
    unique_rows,
)


def rows(ext, torch, cp):
    """(name, bytes, ours, torch) per benchmark, each a callable of a rotation index; one family's
    buffers at a time (the previous family's are released once its rows have been timed)."""
    rng = np.random.default_rng(0)
    for make in MAKERS:
        yield from make(ext, torch, cp, rng)


def main() -> int:
    try:
        import cupy as cp
        import torch
    except ImportError as exc:
        print(f"bench_std_ops: needs CuPy, torch and a CUDA GPU ({exc})", file=sys.stderr)
        return 2
    from trtplug.native import native_module

    ext = native_module()
    if ext is None:
        print("bench_std_ops: trtplug._native is not built (scripts/setup.sh)", file=sys.stderr)
        return 2
    print(
        f"{'benchmark':36} {'ours ms':>9} {'GB/s':>7} {'torch ms':>9} {'GB/s':>7} {'x torch':>8} "
        f"{'ours 1-call':>11} {'torch 1-call':>12} {'x 1-call':>8}"
    )
    wanted = sys.argv[1:]  # optional name filters: only rows whose name contains one of them
    for name, nbytes, ours, theirs in rows(ext, torch, cp):
        if wanted and not any(w in name for w in wanted):
            continue
        ms, torch_ms = time_ms(cp, ours, 2, batch=BATCH), time_ms(cp, theirs, 2, batch=BATCH)
        ms1, torch_ms1 = time_ms(cp, ours, 2), time_ms(cp, theirs, 2)
        print(
            f"{name:36} {ms:9.4f} {nbytes / ms / 1e6:7.0f} {torch_ms:9.4f} {nbytes / torch_ms / 1e6:7.0f} "
            f"{torch_ms / ms:8.2f} {ms1:11.4f} {torch_ms1:12.4f} {torch_ms1 / ms1:8.2f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
