"""DeformConv's planar im2col (deform_conv.cu: deformIm2colPlanar, [C * K, P] columns, one thread per
8-channel run of an offset group, tap and pixel) on a GPU against torchvision.ops.deform_conv2d
on the same rounded inputs: channels per offset group just below, at and above the 8-channel run,
pixel counts just below and above the 256-thread block, conv groups and offset groups that split
the runs differently, stride, dilation, padding, asymmetric kernels, no mask, no bias, a
one-element input, buffers one element off their allocation (unaligned) and the benchmark's
largest shape. Outputs are poisoned (NaN) first."""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_deform_conv_gpu import TOLERANCE, device, host, poisoned

pytestmark = pytest.mark.gpu

# batch, channels, out_channels, image, kernel, stride, pad, dilation, group, offset_group, mask, bias
CASES = {
    "one-element": (1, 1, 1, (1, 1), (1, 1), (1, 1), (0, 0), (1, 1), 1, 1, True, True),
    "run-7": (2, 7, 5, (9, 11), (3, 3), (1, 1), (1, 1), (1, 1), 1, 1, True, True),
    "run-8-pixels-256": (1, 16, 8, (8, 32), (3, 3), (1, 1), (1, 1), (1, 1), 1, 2, True, True),
    "run-9-pixels-255-group-3": (2, 9, 6, (15, 17), (3, 3), (1, 1), (1, 1), (1, 1), 3, 1, True, False),
    "run-17-pixels-257": (1, 34, 4, (1, 257), (1, 3), (1, 1), (0, 1), (1, 1), 2, 2, False, True),
    "stride-dilation-pad-2": (2, 12, 12, (23, 19), (3, 3), (2, 2), (2, 2), (2, 2), 4, 3, False, False),
    "asymmetric": (3, 8, 16, (13, 10), (2, 3), (1, 2), (0, 1), (2, 1), 1, 4, True, False),
}
BENCH_CASE = (8, 64, 64, (128, 128), (3, 3), (1, 1), (1, 1), (1, 1), 1, 1, True, True)


def out_size(image, kernel, stride, pad, dilation) -> tuple[int, int]:
    return tuple((image[d] + 2 * pad[d] - dilation[d] * (kernel[d] - 1) - 1) // stride[d] + 1 for d in range(2))


def shifted(cp, array, shift: int):
    """`array` copied `shift` elements into a fresh allocation (shift 1: every vector width misaligned)."""
    from trtplug.protolib.dtypes import Bf16Device

    bits = array.bits if isinstance(array, Bf16Device) else array
    view = cp.empty(bits.size + shift, dtype=bits.dtype)[shift:].reshape(bits.shape)
    view[...] = bits
    return Bf16Device(view) if isinstance(array, Bf16Device) else view


def check_against_torchvision(ext, cp, dtype: str, case: tuple, shift: int = 0) -> None:
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    n, c, oc, image, kernel, stride, pad, dilation, group, offset_group, with_mask, with_bias = case
    out = out_size(image, kernel, stride, pad, dilation)
    points = kernel[0] * kernel[1]
    gen = torch.Generator(device="cuda").manual_seed(sum(image) + c)
    x = torch.randn((n, c, *image), device="cuda", generator=gen)
    weight = 0.1 * torch.randn((oc, c // group, *kernel), device="cuda", generator=gen)
    # offsets of a few pixels: samples between pixels, on every image edge and outside it
    offset = 2 * torch.randn((n, 2 * offset_group * points, *out), device="cuda", generator=gen)
    mask = torch.rand((n, offset_group * points, *out), device="cuda", generator=gen) if with_mask else None
    bias = torch.randn((oc,), device="cuda", generator=gen) if with_bias else None
    rounded = [None if t is None else t.to(getattr(torch, dtype)).float() for t in (x, weight, offset, bias, mask)]
    x_, weight_, offset_, bias_, mask_ = rounded
    expected = torchvision.ops.deform_conv2d(
        x_, offset_, weight_, bias_, stride=stride, padding=pad, dilation=dilation, mask=mask_
    )
    # ONNX DeformConv's input order: X, W, offset, B, mask (None: absent).
    inputs = [None if t is None else shifted(cp, device(cp, t.cpu().numpy(), dtype), shift) for t in rounded]
    y = shifted(cp, poisoned(cp, (n, oc, *out), dtype), shift)
    fields = {"strides": list(stride), "pads": [*pad, *pad], "dilations": list(dilation)}
    fields |= {"group": group, "offset_group": offset_group}
    ext.onnx_deform_conv(inputs, [y], fields)
    cp.cuda.get_current_stream().synchronize()
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(host(cp, y, dtype), expected.cpu().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("shift", [0, 1], ids=["aligned", "unaligned"])
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("name", list(CASES))
def test_planar_columns_edges_match_torchvision(ext, cp, name: str, dtype: str, shift: int):
    check_against_torchvision(ext, cp, dtype, CASES[name], shift)


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_planar_columns_benchmark_shape_matches_torchvision(ext, cp, dtype: str):
    check_against_torchvision(ext, cp, dtype, BENCH_CASE)
