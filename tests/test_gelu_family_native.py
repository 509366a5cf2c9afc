"""Bindings of the GELU family and bias ops on any machine: argument checks happen before any
CUDA call, so fake device arrays exercise them without a GPU."""

from __future__ import annotations

import pytest

from tests.test_native import FakeDeviceArray as A


@pytest.mark.parametrize(
    ("op", "args", "message"),
    [
        ("gelu", ([A((4,), "<i4")], [A((4,), "<i4")]), "gelu: x must be float32, float16 or bfloat16, got int32"),
        ("gelu", ([A((4,))], [A((5,))]), "gelu: y must match x"),
        ("quick_gelu", ([A((4,))], [A((4,), "<f2")]), "quick_gelu: y must match x"),
        ("bias_gelu", ([A((2, 4)), A((3,))], [A((2, 4))]), "bias_gelu: bias must be 1-D with the length"),
        ("bias_gelu", ([A((2, 4)), A((4,), "<f2")], [A((2, 4))]), "bias_gelu: bias must have x's dtype"),
        ("bias_add", ([A((2, 4)), A((4,)), A((4, 2))], [A((2, 4))]), "bias_add: skip must match x"),
        ("bias_add", ([A((2, 4)), A((4,)), A((2, 4), "<f2")], [A((2, 4))]), "bias_add: skip must match x"),
        ("bias_split_gelu", ([A((2, 5)), A((5,))], [A((2, 2))]), "last axis must have an even length"),
        ("bias_split_gelu", ([A((2, 6)), A((6,))], [A((2, 6))]), "last axis halved"),
        ("bias_split_gelu", ([A((2, 6)), A((3,))], [A((2, 3))]), "bias must be 1-D with x's dtype and the length"),
        ("bias_split_gelu", ([A((2, 6)), A((6,))], [A((2, 3), readonly=True)]), "read-only"),
    ],
)
def test_bindings_validate_arguments(ext, op: str, args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        getattr(ext, op)(*args)


def test_required_inputs_have_no_default(ext) -> None:
    with pytest.raises(ValueError, match="bias_gelu: inputs 'B' is required"):
        ext.bias_gelu([A((2, 4))], [A((2, 4))])
    with pytest.raises(ValueError, match="bias_add: inputs 'skip' is required"):
        ext.bias_add([A((2, 4)), A((4,))], [A((2, 4))])
