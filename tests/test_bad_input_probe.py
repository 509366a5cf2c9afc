"""The bad-input probe: malformed models x the commands that read a model. Each pair must give
exit 2, one line on stderr naming the file, no traceback or internal error, no output written and
the input file unchanged. Runs in-process through trtplug.cli.main."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from trtplug.cli import main

F = TensorProto.FLOAT


def base(nodes=None, inputs=None, outputs=None, inits=(), opset=17) -> onnx.ModelProto:
    nodes = nodes if nodes is not None else [helper.make_node("Relu", ["x"], ["y"], name="relu")]
    inputs = inputs if inputs is not None else [helper.make_tensor_value_info("x", F, [2, 3])]
    outputs = outputs if outputs is not None else [helper.make_tensor_value_info("y", F, [2, 3])]
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=9)


def with_opset(version: int) -> bytes:
    model = base()
    model.opset_import[0].version = version
    return model.SerializeToString()


def relu(name: str, src: str, dst: str) -> onnx.NodeProto:
    return helper.make_node("Relu", [src], [dst], name=name)


def initializer(data_type: int = F, raw: bytes = b"\0" * 24, dims=(2, 3)) -> bytes:
    tensor = TensorProto(name="w", data_type=data_type, dims=list(dims), raw_data=raw)
    add = helper.make_node("Add", ["x", "w"], ["y"], name="add")
    return base([add], inits=[tensor]).SerializeToString()


def loop_reading_undefined() -> bytes:
    body = helper.make_graph(
        [relu("inner", "nowhere", "v")],
        "body",
        [
            helper.make_tensor_value_info(n, t, s)
            for n, t, s in (("i", TensorProto.INT64, []), ("c", TensorProto.BOOL, []))
        ],
        [helper.make_tensor_value_info("c", TensorProto.BOOL, []), helper.make_tensor_value_info("v", F, [2, 3])],
    )
    trip = numpy_helper.from_array(np.array(2, np.int64), "trip")
    loop = helper.make_node("Loop", ["trip", ""], ["vs"], body=body, name="loop")
    out = helper.make_tensor_value_info("vs", F, None)
    return base([loop], outputs=[out], inits=[trip]).SerializeToString()


def valid_bytes() -> bytes:
    return base().SerializeToString()


# name -> the bytes of a malformed model file (or None: a special file made by the test)
MODELS: dict[str, Callable[[], bytes | None]] = {
    "opset_99": lambda: with_opset(99),
    "opset_minus_1": lambda: with_opset(-1),
    "opset_0": lambda: with_opset(0),
    "dangling_node_input": lambda: base([relu("relu", "missing", "y")]).SerializeToString(),
    "dangling_graph_output": lambda: base(
        outputs=[helper.make_tensor_value_info("nowhere", F, [2, 3])]
    ).SerializeToString(),
    "two_writers": lambda: base([relu("a", "x", "y"), relu("b", "x", "y")]).SerializeToString(),
    "output_shadows_initializer": lambda: base(
        [relu("a", "x", "y")], inits=[numpy_helper.from_array(np.zeros((2, 3), np.float32), "y")]
    ).SerializeToString(),
    "duplicate_graph_input": lambda: base(
        inputs=[helper.make_tensor_value_info("x", F, [2, 3])] * 2
    ).SerializeToString(),
    "empty_op_type": lambda: base([helper.make_node("", ["x"], ["y"], name="blank")]).SerializeToString(),
    "short_raw_data": lambda: initializer(raw=b"\0" * 10),
    "long_raw_data": lambda: initializer(raw=b"\0" * 40),
    "data_type_999": lambda: initializer(data_type=999),
    "data_type_undefined": lambda: initializer(data_type=0),
    "negative_dim": lambda: initializer(dims=(-2, 3)),
    "loop_body_reads_undefined": loop_reading_undefined,
    "truncated": lambda: valid_bytes()[: len(valid_bytes()) // 2],
    "empty_file": lambda: b"",
    "text_file": lambda: b"this is not an onnx model\n",
    "no_graph": lambda: onnx.ModelProto(ir_version=9).SerializeToString(),
    "directory": lambda: None,
    "fifo": lambda: None,
}

COMMANDS = {
    "check_static": lambda m, out: ["check", "--static", str(m)],
    "list": lambda m, out: ["list", "--model", str(m)],
    "rewrite": lambda m, out: ["rewrite", str(m), "-o", str(out)],
    "parity_model": lambda m, out: ["parity", "--model", str(m), "--rewritten", str(m)],
}


def make_model(tmp_path: Path, name: str, file_name: str = "model.onnx") -> Path:
    path = tmp_path / file_name
    if name == "directory":
        path.mkdir()
    elif name == "fifo":
        os.mkfifo(path)
    else:
        path.write_bytes(MODELS[name]())
    return path


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("name", sorted(MODELS))
def test_malformed_model_is_refused_cleanly(tmp_path: Path, capsys, name: str, command: str) -> None:
    path = make_model(tmp_path, name)
    before = path.read_bytes() if path.is_file() else None
    out = tmp_path / "out" / "rewritten.onnx"
    out.parent.mkdir()
    code = main(COMMANDS[command](path, out))
    err = capsys.readouterr().err
    assert code == 2, f"exit {code}, stderr: {err!r}"
    assert len(err.strip().splitlines()) == 1 and str(path) in err, err
    assert "Traceback" not in err and "internal error" not in err, err
    assert not any(out.parent.iterdir())
    assert (path.read_bytes() if path.is_file() else None) == before


def test_newline_in_file_name_stays_on_one_line(tmp_path: Path, capsys) -> None:
    path = make_model(tmp_path, "two_writers", "bad\nname.onnx")
    assert main(["check", "--static", str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "bad\\nname.onnx" in err


def test_huge_dim_is_a_clear_error_not_a_memory_error(tmp_path: Path, capsys) -> None:
    path = tmp_path / "model.onnx"
    onnx.save(base(inputs=[helper.make_tensor_value_info("x", F, ["batch", 3])]), path)
    code = main(["parity", "--model", str(path), "--rewritten", str(path), "--dim", f"batch={10**12}"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "choose smaller --dim values" in err, err


def test_unrelated_models_are_refused_before_comparing(tmp_path: Path, capsys) -> None:
    first, second = tmp_path / "a.onnx", tmp_path / "b.onnx"
    onnx.save(base(), first)
    renamed = base([relu("relu", "x", "z")], outputs=[helper.make_tensor_value_info("z", F, [2, 3])])
    onnx.save(renamed, second)
    assert main(["parity", "--model", str(first), "--rewritten", str(second)]) == 2
    assert "graph outputs differ (y vs z)" in capsys.readouterr().err


def test_the_valid_base_model_passes_every_command(tmp_path: Path, capsys) -> None:
    """The probe's base is valid, so each refusal above is the malformation's doing."""
    path = tmp_path / "model.onnx"
    path.write_bytes(valid_bytes())
    for command, argv in COMMANDS.items():
        out = tmp_path / f"{command}.onnx"
        assert main(argv(path, out)) in (0, 1), (command, capsys.readouterr().err)
