"""Models of exported vision blocks for the GridSample / RoiAlign tests (onnx helpers only)."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def volumetric_grid_sample_block(
    opset: int = 20, rank: int = 5, mode: str = "linear", elem: int = TensorProto.FLOAT
) -> onnx.ModelProto:
    """A BEV / volumetric lifting block as torch exports it: a learned offset added to a base grid,
    scaled into [-1, 1], GridSample (zeros padding, align_corners = 0), then Relu; in `elem`."""
    spatial = (6, 7, 8) if rank == 5 else (9, 11)
    out_spatial = (5, 4, 6) if rank == 5 else (7, 5)
    k = len(spatial)
    rng = np.random.default_rng(0)
    base = rng.uniform(-1.0, 1.0, (1, *out_spatial, k))
    nodes = [
        helper.make_node("Add", ["offset", "base"], ["moved"]),
        helper.make_node("Mul", ["moved", "gain"], ["grid"]),
        helper.make_node("GridSample", ["volume", "grid"], ["sampled"], name="grid_sample", mode=mode),
        helper.make_node("Relu", ["sampled"], ["out"]),
    ]
    graph = helper.make_graph(
        nodes,
        "grid_sample_block",
        [
            helper.make_tensor_value_info("volume", elem, ["N", 3, *spatial]),
            helper.make_tensor_value_info("offset", elem, ["N", *out_spatial, k]),
        ],
        [helper.make_tensor_value_info("out", elem, ["N", 3, *out_spatial])],
        [_constant("base", base, elem), _constant("gain", np.array(1.1), elem)],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=9)


def _constant(name: str, values: np.ndarray, elem: int) -> onnx.TensorProto:
    if elem == TensorProto.FLOAT:
        return numpy_helper.from_array(values.astype(np.float32), name)
    return helper.make_tensor(name, elem, values.shape, values.astype(np.float32).ravel().tolist())


def roi_align_head(opset: int = 16, **attrs) -> onnx.ModelProto:
    """A detection RoI head: proposals (K, 4) clipped to the image, batch indices from the proposal
    count (all image 0, as torchvision's MultiScaleRoIAlign writes for one image), RoiAlign
    7 x 7 on a stride-4 feature map, then Flatten and a linear layer."""
    rng = np.random.default_rng(1)
    defaults = {"output_height": 7, "output_width": 7, "sampling_ratio": 2, "spatial_scale": 0.25}
    nodes = [
        helper.make_node("Clip", ["proposals", "low", "high"], ["boxes"]),
        helper.make_node("Shape", ["boxes"], ["boxes_shape"]),
        helper.make_node("Gather", ["boxes_shape", "zero"], ["count"], axis=0),
        helper.make_node("Unsqueeze", ["count", "axis0"], ["count_1d"]),
        helper.make_node(
            "ConstantOfShape",
            ["count_1d"],
            ["batch_indices"],
            value=helper.make_tensor("v", TensorProto.INT64, [1], [0]),
        ),
        helper.make_node(
            "RoiAlign", ["features", "boxes", "batch_indices"], ["pooled"], name="roi_align", **{**defaults, **attrs}
        ),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
        helper.make_node("MatMul", ["flat", "fc"], ["out"]),
    ]
    inits = [
        numpy_helper.from_array(np.array(0.0, np.float32), "low"),
        numpy_helper.from_array(np.array(127.0, np.float32), "high"),
        numpy_helper.from_array(np.array(0, np.int64), "zero"),
        numpy_helper.from_array(np.array([0], np.int64), "axis0"),
        numpy_helper.from_array((rng.standard_normal((8 * 49, 16)) * 0.05).astype(np.float32), "fc"),
    ]
    graph = helper.make_graph(
        nodes,
        "roi_head",
        [
            helper.make_tensor_value_info("features", TensorProto.FLOAT, [1, 8, 32, 32]),
            helper.make_tensor_value_info("proposals", TensorProto.FLOAT, ["K", 4]),
        ],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["K", 16])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=9)


def box_selection_head(opset: int = 17) -> onnx.ModelProto:
    """torchvision Faster R-CNN's box selection in small: `torch.where(scores > t)[0]` as NonZero ->
    Transpose -> Squeeze on a bool mask, the kept boxes and scores gathered with it, a second
    NonZero on a [K, classes] score map (the per-class candidates, [2, N]) gathered with GatherND,
    and a RoiAlign 7 x 7 of the kept boxes on a stride-4 feature map."""
    nodes = [
        helper.make_node("Clip", ["proposals", "low", "high"], ["boxes"]),
        helper.make_node("Greater", ["scores", "threshold"], ["keep_mask"]),
        helper.make_node("NonZero", ["keep_mask"], ["keep_where"], name="keep_nonzero"),
        helper.make_node("Transpose", ["keep_where"], ["keep_t"], perm=[1, 0]),
        helper.make_node("Squeeze", ["keep_t", "axis1"], ["keep"]),
        helper.make_node("Gather", ["boxes", "keep"], ["kept_boxes"], axis=0),
        helper.make_node("Gather", ["scores", "keep"], ["kept_scores"], axis=0),
        helper.make_node("Shape", ["kept_boxes"], ["kept_shape"]),
        helper.make_node("Gather", ["kept_shape", "zero"], ["kept_count"], axis=0),
        helper.make_node("Unsqueeze", ["kept_count", "axis0"], ["kept_count_1d"]),
        helper.make_node(
            "ConstantOfShape",
            ["kept_count_1d"],
            ["batch_indices"],
            value=helper.make_tensor("v", TensorProto.INT64, [1], [0]),
        ),
        helper.make_node(
            "RoiAlign",
            ["features", "kept_boxes", "batch_indices"],
            ["pooled"],
            name="roi_align",
            output_height=7,
            output_width=7,
            sampling_ratio=2,
            spatial_scale=0.25,
        ),
        helper.make_node("ReduceMean", ["pooled"], ["kept_features"], axes=[2, 3], keepdims=0),
        helper.make_node("Greater", ["class_scores", "threshold"], ["class_mask"]),
        helper.make_node("NonZero", ["class_mask"], ["class_where"], name="class_nonzero"),
        helper.make_node("Transpose", ["class_where"], ["class_pairs"], perm=[1, 0]),
        helper.make_node("GatherND", ["class_scores", "class_pairs"], ["class_kept"]),
    ]
    inits = [
        numpy_helper.from_array(np.array(0.0, np.float32), "threshold"),
        numpy_helper.from_array(np.array(0.0, np.float32), "low"),
        numpy_helper.from_array(np.array(127.0, np.float32), "high"),
        numpy_helper.from_array(np.array([1], np.int64), "axis1"),
        numpy_helper.from_array(np.array(0, np.int64), "zero"),
        numpy_helper.from_array(np.array([0], np.int64), "axis0"),
    ]
    graph = helper.make_graph(
        nodes,
        "box_selection",
        [
            helper.make_tensor_value_info("features", TensorProto.FLOAT, [1, 8, 32, 32]),
            helper.make_tensor_value_info("proposals", TensorProto.FLOAT, ["K", 4]),
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["K"]),
            helper.make_tensor_value_info("class_scores", TensorProto.FLOAT, ["K", 5]),
        ],
        [
            helper.make_tensor_value_info("kept_features", TensorProto.FLOAT, ["N", 8]),
            helper.make_tensor_value_info("kept_scores", TensorProto.FLOAT, ["N"]),
            helper.make_tensor_value_info("class_kept", TensorProto.FLOAT, ["M"]),
        ],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=9)
