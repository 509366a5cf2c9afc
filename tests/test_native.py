"""Build products on any machine: the compiled module, its bindings, and the build facts."""

from __future__ import annotations

import numpy as np
import pytest

from trtplug import native
from trtplug.registry import load_registry


def test_every_op_with_a_binding_is_in_the_module(ext) -> None:
    with_binding = {s.key for s in load_registry() if (s.path.parent / "binding.cpp").is_file()}
    assert with_binding and with_binding <= set(ext.ops)


def test_module_reports_runtime_facts(ext) -> None:
    assert isinstance(ext.cuda_device_count(), int)
    assert ext.cuda_runtime_version() >= 12000
    assert ext.cuda_architectures


def test_build_info_is_recorded(ext) -> None:
    info = native.build_info()
    assert info["cuda_architectures"] and info["plugin_library"]
    assert info["tensorrt_header_source"]


def test_binding_rejects_host_arrays_with_a_clear_error(ext) -> None:
    with pytest.raises(ValueError, match="__cuda_array_interface__"):
        ext.fast_gelu([np.zeros(4, np.float32)], [np.zeros(4, np.float32)])


class FakeDeviceArray:
    """Just enough __cuda_array_interface__ to exercise argument checks without a GPU."""

    def __init__(self, shape: tuple[int, ...], typestr: str = "<f4", strides=None, readonly=False) -> None:
        self.__cuda_array_interface__ = {
            "shape": shape,
            "typestr": typestr,
            "data": (0, readonly),
            "strides": strides,
            "version": 3,
        }


@pytest.mark.parametrize(
    ("x", "y", "bias", "message"),
    [
        (FakeDeviceArray((4,), "<i4"), FakeDeviceArray((4,), "<i4"), None, "float32, float16 or bfloat16"),
        (FakeDeviceArray((4,), "<f8"), FakeDeviceArray((4,), "<f8"), None, "unsupported array dtype"),
        (FakeDeviceArray((4,)), FakeDeviceArray((5,)), None, "must match x"),
        (FakeDeviceArray((4,)), FakeDeviceArray((4,), "<f2"), None, "must match x"),
        (FakeDeviceArray((2, 4)), FakeDeviceArray((2, 4)), FakeDeviceArray((3,)), "last axis"),
        (FakeDeviceArray((2, 4)), FakeDeviceArray((2, 4)), FakeDeviceArray((4,), "<f2"), "dtype"),
        (FakeDeviceArray((2, 4), strides=(4, 8)), FakeDeviceArray((2, 4)), None, "C-contiguous"),
        (FakeDeviceArray((4,)), FakeDeviceArray((4,), readonly=True), None, "read-only"),
    ],
)
def test_binding_validates_arguments(ext, x, y, bias, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ext.fast_gelu([x] if bias is None else [x, bias], [y])


def test_launch_without_gpu_raises_runtime_error(ext) -> None:
    if ext.cuda_device_count() > 0:
        pytest.skip("a GPU is present: the launch would run")
    with pytest.raises(RuntimeError, match="fast_gelu"):
        ext.fast_gelu([FakeDeviceArray((4,))], [FakeDeviceArray((4,))])


F = FakeDeviceArray
SCATTER_ARGS = {  # (inputs, outputs, attrs) of the op's binding
    "scatter_nd": lambda idx, upd, red: (
        [F((4, 3)), idx or F((2, 1), "<i8"), upd or F((2, 3))],
        [F((4, 3))],
        {"reduction": red},
    ),
    "scatter_elements": lambda idx, upd, red: (
        [F((4, 3)), idx or F((2, 3), "<i8"), upd or F((2, 3))],
        [F((4, 3))],
        {"axis": 0, "reduction": red},
    ),
}


@pytest.mark.parametrize("op", sorted(SCATTER_ARGS))
@pytest.mark.parametrize(
    ("indices", "updates", "reduction", "message"),
    [
        (F((2, 1), "<i4"), None, "none", "indices must be int64"),
        (None, F((2, 3), "<f2"), "none", "must have data's dtype"),
        (None, None, "sum", r"attribute 'reduction'.* is not one of"),  # the spec's choices, via the glue
    ],
)
def test_scatter_bindings_share_their_argument_checks(ext, op, indices, updates, reduction, message) -> None:
    with pytest.raises(ValueError, match=message):
        getattr(ext, op)(*SCATTER_ARGS[op](indices, updates, reduction))
