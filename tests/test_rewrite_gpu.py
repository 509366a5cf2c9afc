"""Model-level parity on a GPU: plugin nodes of the rewritten model run by the CuPy prototype
and by the CUDA launcher (the kernel the IPluginV3 plugin runs), against ONNX Runtime CPU on
the original model."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper

from tests.conftest import require_built
from tests.rewrite_models import F16, assert_parity, const, io, model, rewrite
from trtplug import native
from trtplug.registry import load_registry

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("impl", ["cupy", "cuda"])
@pytest.mark.parametrize("elem", [helper.TensorProto.FLOAT, F16])
def test_fast_gelu_model_parity_on_gpu(impl: str, elem: int, seed: int) -> None:
    if impl == "cuda":
        require_built("trtplug._native", native.native_module() is not None, native.native_status()["native_module"])
    dtype = helper.tensor_dtype_to_np_dtype(elem)
    nodes = [
        helper.make_node("FastGelu", ["x", "b"], ["h"], domain="com.microsoft", name="ffn_gelu"),
        helper.make_node("FastGelu", ["h"], ["y"], domain="com.microsoft", name="head_gelu"),
    ]
    original = model(nodes, [io("x", elem)], [io("y", elem)], [const("b", np.linspace(-1, 1, 16), dtype)])
    registry = load_registry()
    rewritten, _ = rewrite(original, registry)
    assert_parity(original, rewritten, registry, seed, impl=impl)
