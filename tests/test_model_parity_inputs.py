"""Model parity's generated inputs: integer inputs that index an embedding table (through
Cast/Reshape/Unsqueeze chains into a Gather) stay inside it, as BERT's token_type_ids must; a
float proposals input [K, 5] whose column 0 torch.onnx casts into RoiAlign's batch_indices gets
whole image indices there; an ONNX Runtime error after symbolic dims were drawn names those dims;
a GroupQueryAttention cache's symbolic head size is read off the query."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from trtplug.cli import main
from trtplug.model_io import without_weights
from trtplug.parity.model import random_feeds

HIDDEN = 8
IDS = ("input_ids", "token_type_ids")


def bert_embeddings() -> onnx.ModelProto:
    """ONNX Runtime's optimizer keeps BERT's embeddings as Gathers: word ids into a 30-row table,
    token_type_ids (through Cast and Unsqueeze/Squeeze) into a 2-row table."""
    rng = np.random.default_rng(0)
    tables = [
        numpy_helper.from_array(rng.standard_normal((30, HIDDEN)).astype(np.float32), "word_table"),
        numpy_helper.from_array(rng.standard_normal((2, HIDDEN)).astype(np.float32), "type_table"),
        numpy_helper.from_array(np.array([0], np.int64), "axes0"),
    ]
    nodes = [
        helper.make_node("Gather", ["word_table", "input_ids"], ["words"], name="word_embed"),
        helper.make_node("Cast", ["token_type_ids"], ["types32"], to=TensorProto.INT32, name="cast"),
        helper.make_node("Unsqueeze", ["types32", "axes0"], ["types_u"], name="unsq"),
        helper.make_node("Squeeze", ["types_u", "axes0"], ["types_s"], name="sq"),
        helper.make_node("Gather", ["type_table", "types_s"], ["types"], name="type_embed"),
        helper.make_node("Add", ["words", "types"], ["embeddings"], name="sum"),
    ]
    ids = [
        helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"]) for n in ("input_ids", "token_type_ids")
    ]
    out = helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", "seq", HIDDEN])
    graph = helper.make_graph(nodes, "bert_embeddings", ids, [out], initializer=tables)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)


def roi_head(form: str) -> onnx.ModelProto:
    """torchvision.ops.roi_align(x, boxes [K, 5]) as torch.onnx writes it: boxes[:, 0] by Gather
    and Squeeze with Constant nodes (TorchScript exporter) or by Slice with initializers (dynamo),
    cast to int64 as batch_indices; boxes[:, 1:5] as rois."""
    consts = {"zero": [0], "one": [1], "five": [5]}
    tensors = [numpy_helper.from_array(np.array(v, np.int64), k) for k, v in consts.items()]
    if form == "torchscript":
        index = helper.make_node("Constant", [], ["col0"], value=numpy_helper.from_array(np.array(0, np.int64)))
        column = [index, helper.make_node("Gather", ["boxes", "col0"], ["batch_f"], axis=1)]
    else:
        column = [
            helper.make_node("Slice", ["boxes", "zero", "one", "one"], ["batch_2d"]),
            helper.make_node("Squeeze", ["batch_2d", "one"], ["batch_f"]),
        ]
    nodes = [
        *column,
        helper.make_node("Cast", ["batch_f"], ["batch"], to=TensorProto.INT64),
        helper.make_node("Slice", ["boxes", "one", "five", "one"], ["rois"]),
        helper.make_node("RoiAlign", ["x", "rois", "batch"], ["y"], output_height=2, output_width=2),
    ]
    inputs = [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 2, 8, 8]),
        helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [40, 5]),
    ]
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    graph = helper.make_graph(nodes, "roi_head", inputs, [out], initializer=tensors)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 16)], ir_version=9)


@pytest.mark.parametrize("form", ["torchscript", "dynamo"])
def test_proposal_batch_column_holds_image_indices(form: str) -> None:
    model = without_weights(roi_head(form))  # as model parity holds the original
    for seed in range(3):
        boxes = random_feeds(model, {}, seed)["boxes"]
        assert set(np.unique(boxes[:, 0])) <= {0.0, 1.0, 2.0} and len(np.unique(boxes[:, 0])) > 1
        assert not np.all(boxes[:, 1:] == np.round(boxes[:, 1:]))  # the coordinates stay random


def test_index_inputs_stay_inside_the_tables_they_index() -> None:
    model = bert_embeddings()
    for seed in range(5):
        feeds = random_feeds(model, {"batch": 3, "seq": 64}, seed)
        assert feeds["token_type_ids"].min() >= 0 and feeds["token_type_ids"].max() <= 1
        assert feeds["input_ids"].min() >= 0 and feeds["input_ids"].max() <= 29
    feeds = random_feeds(model, {"batch": 3, "seq": 64}, 0)
    assert 1 in feeds["token_type_ids"] and feeds["input_ids"].max() > 3  # whole tables, not a small range


def test_model_parity_runs_on_bert_embeddings(tmp_path: Path, capsys) -> None:
    path = tmp_path / "bert.onnx"
    onnx.save(bert_embeddings(), path)
    code = main(["parity", "--model", str(path), "--rewritten", str(path), "--dim", "batch=2", "--seed", "3"])
    assert code == 0, capsys.readouterr().err


def test_an_error_from_a_drawn_symbolic_dim_names_the_dims(tmp_path: Path, capsys) -> None:
    """GenAI 0.18 writes past_key's head size as a symbol (kv_cache_dim): drawn as 3, ONNX Runtime
    refuses the original. The error then names the dims --dim left out (not those it gave)."""
    weight = numpy_helper.from_array(np.ones((2, 4), np.float32), "w")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "head_dim"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])
    graph = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])], "g", [x], [y], [weight])
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9), str(path))
    code = main(["parity", "--model", str(path), "--rewritten", str(path), "--dim", "batch=2"])
    err = capsys.readouterr().err
    assert code == 2 and "these took 3: head_dim" in err and "batch" not in err.split("these took")[1]
    given = ["--dim", "batch=2", "--dim", "head_dim=4"]
    assert main(["parity", "--model", str(path), "--rewritten", str(path), *given]) == 0


def test_a_symbolic_cache_head_size_is_read_off_the_attention(tmp_path: Path, capsys) -> None:
    """GenAI 0.18's past_key [batch, kv_heads, past, kv_cache_dim]: the head size follows from the
    packed query's width and the head counts, so parity needs no --dim for it."""
    from tests import gqa_decoder_model as layer

    model = layer.decoder_layer()
    for value in model.graph.input:
        if value.name.startswith("past_"):
            value.type.tensor_type.shape.dim[3].dim_param = "kv_cache_dim"
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    given = ["--dim", "batch=3", "--dim", "seq=1", "--dim", "past=4", "--dim", "total=5"]  # a decode step
    code = main(["parity", "--model", str(path), "--rewritten", str(path), *given])
    assert code == 0, capsys.readouterr().err


def test_a_stretch_of_dead_nodes_is_skipped_not_fatal(tmp_path: Path, capsys) -> None:
    """A round whose standard nodes produce nothing read later (GenAI's graphs have such: a norm's
    unused statistics) asked ONNX Runtime for no output, which it refuses; the whole model then
    fell back to onnx.reference, which lacks ONNX Runtime's default-domain ops."""
    nodes = [
        helper.make_node("FastGelu", ["x"], ["y"], domain="com.microsoft"),
        helper.make_node("Identity", ["x"], ["unused"]),
    ]
    graph = helper.make_graph(
        nodes,
        "dead",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 8])],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)], ir_version=10
    )
    source, out = tmp_path / "dead.onnx", tmp_path / "dead.plugins.onnx"
    onnx.save(model, source)
    assert main(["rewrite", str(source), "-o", str(out), "--all-covered"]) == 0
    capsys.readouterr()
    assert main(["parity", "--model", str(source), "--rewritten", str(out)]) == 0
    assert "standard nodes in onnxruntime" in capsys.readouterr().out
