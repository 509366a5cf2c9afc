"""The prototype plugin (trtplug.protoplugin) on variadic ops: TensorRT's nbInputs tensors map onto
the fixed inputs plus the variadic list in every capability (output types, formats, output
shapes and the output_dims hook, enqueue, the creator's fields), and a count outside
min_count..64 is one line naming the plugin. Ops: tests/variadic_ops.py (no built-in op is
variadic). Enqueue runs here on NumPy (tests/numpy_cupy.py); on the GPU,
tests/test_protoplugin_variadic_gpu.py runs the `protoplugin` parity implementation."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import onnx
import pytest
from onnx import helper

from tests.rewrite_models import io, model
from tests.rtx_child import RTX_PREAMBLE
from tests.test_protoplugin_dims import TRT as CONST_TRT
from tests.test_protoplugin_dims import Builder, Const
from tests.test_protoplugin_enqueue import run_plugin
from tests.variadic_ops import variadic_project
from trtplug.cli import main
from trtplug.errors import TrtplugError
from trtplug.parity.cases import default_cases
from trtplug.parity.compare import compare
from trtplug.parity.runner import prepare
from trtplug.protoplugin.plugin import ProtoLogic, prototype_inputs, regular_inputs, unsupported_reason
from trtplug.protoplugin.standin import TRT
from trtplug.variadic import MAX_VARIADIC_INPUTS, PARITY_COUNTS, expanded_inputs

F32, F16, I32 = TRT.DataType.FLOAT, TRT.DataType.HALF, TRT.DataType.INT32


@pytest.fixture(scope="module")
def specs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return variadic_project(tmp_path_factory.mktemp("variadic_proto") / "proj")


def desc(data_type: object, dims: tuple[int, ...] = (2, 3)) -> SimpleNamespace:
    return SimpleNamespace(desc=SimpleNamespace(type=data_type, format=TRT.TensorFormat.LINEAR, dims=dims))


def logic(spec) -> ProtoLogic:
    return ProtoLogic(TRT, spec, {a.name: a.default for a in spec.attributes})


def test_variadic_ops_run_as_prototype_plugins(specs: dict) -> None:
    assert unsupported_reason(specs["test_sum"]) is None and unsupported_reason(specs["test_scaled_sum"]) is None


@pytest.mark.parametrize("count", PARITY_COUNTS)
def test_positions_map_to_the_fixed_input_then_the_copies(specs: dict, count: int) -> None:
    spec = specs["test_scaled_sum"]  # scale (int32), then data (T) x count
    names = [t.name for t in regular_inputs(spec, 1 + count)]
    assert names == ["scale", "data", *[f"data#{i}" for i in range(1, count)]]
    arrays = [f"a{i}" for i in range(1 + count)]
    assert prototype_inputs(spec, arrays) == arrays  # the list exactly as parity passes it


@pytest.mark.parametrize("count", PARITY_COUNTS)
def test_types_and_formats_at_each_count(specs: dict, count: int) -> None:
    plugin = logic(specs["test_scaled_sum"])
    n_in = 1 + count
    assert plugin.output_types([I32, *[F16] * count]) == [F16]
    in_out = [desc(I32), *[desc(F16) for _ in range(count)], desc(F16)]
    assert all(plugin.supports(pos, in_out, n_in) for pos in range(len(in_out)))
    in_out[0] = desc(F16)  # scale is int32 whatever T is
    assert not plugin.supports(0, in_out, n_in)
    in_out[0], in_out[count] = desc(I32), desc(F32)  # the last copy must share the first's T
    assert plugin.supports(count, in_out, n_in) == (count == 1)
    in_out[count], in_out[n_in] = desc(F16), desc(F32)  # so must the output
    assert not plugin.supports(n_in, in_out, n_in)
    in_out[n_in] = desc(F16)
    in_out[n_in - 1] = SimpleNamespace(desc=SimpleNamespace(type=F16, format=TRT.TensorFormat.CHW32, dims=(2, 3)))
    assert not plugin.supports(n_in - 1, in_out, n_in)


@pytest.mark.parametrize("count", PARITY_COUNTS)
def test_output_shapes_at_each_count(specs: dict, count: int) -> None:
    scaled = ProtoLogic(CONST_TRT, specs["test_scaled_sum"], {"alpha": 0.5})
    dims = [[Const(4, symbolic=True), Const(7 + i, symbolic=True)] for i in range(1 + count)]
    ((first,),) = [scaled.output_shapes(dims, [], Builder())]
    assert [d.value for d in first] == [4, 8]  # same_as:data, the first copy (after scale)
    # test_sum's output_dims hook broadcasts over every copy: the last one decides the last axis.
    copies = [[Const(2), Const(1)], *[[Const(1), Const(1)] for _ in range(count - 2)]]
    copies += [[Const(1), Const(5)]] if count > 1 else []
    ((dims_out,),) = [ProtoLogic(CONST_TRT, specs["test_sum"], {}).output_shapes(copies, [], Builder())]
    assert [d.value for d in dims_out] == ([2, 5] if count > 1 else [2, 1])


def with_min_count(spec, least: int):
    *fixed, last = spec.inputs
    return dataclasses.replace(spec, inputs=(*fixed, dataclasses.replace(last, min_count=least)))


@pytest.mark.parametrize(("least", "count"), [(1, 0), (1, MAX_VARIADIC_INPUTS + 1), (3, 2)])
def test_count_outside_min_to_cap_is_one_line_naming_the_plugin(specs: dict, least: int, count: int) -> None:
    spec = with_min_count(specs["test_scaled_sum"], least)
    plugin = logic(spec)
    n_in = 1 + count
    want = (
        f"TrtplugTestScaledSum: {n_in} inputs: {count} tensors for variadic input 'data'; "
        f"the spec takes {least}..{MAX_VARIADIC_INPUTS}"
    )
    types = [I32, *[F32] * count]
    in_out = [desc(t) for t in types] + [desc(F32)]
    calls = {
        "output types": lambda: plugin.output_types(types),
        "formats": lambda: plugin.supports(0, in_out, n_in),
        "output shapes": lambda: ProtoLogic(CONST_TRT, spec, {"alpha": 0.5}).output_shapes(
            [[Const(2)] for _ in types], [], Builder()
        ),
        "enqueue": lambda: plugin.run([d.desc for d in in_out[:n_in]], [in_out[-1].desc], [0] * n_in, [0], 0),
    }
    for what, call in calls.items():
        with pytest.raises(TrtplugError) as info:
            call()
        assert str(info.value) == want, what
    ok = 1 + max(least, 1)
    assert logic(spec).output_types([I32, *[F32] * (ok - 1)]) == [F32]  # the bounds themselves pass


@pytest.mark.parametrize("key", ["test_sum", "test_scaled_sum"])
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_enqueue_against_the_reference_at_every_count(specs: dict, key: str, dtype: str, seed: int) -> None:
    """Every parity case (edge shapes included) at 1, 2, 3 and 5 tensors; poisoned outputs."""
    spec = specs[key]
    seen = set()
    for case in default_cases(spec):
        if case.strided:  # TensorRT's buffers are dense
            continue
        inputs, expected = prepare(spec, dtype, case, seed)
        ins = [inputs[t.name] for t in expanded_inputs(spec, case.variadic_count)]
        got, _ = run_plugin(spec, case, ins, [e.shape for e in expected], [dtype])
        result = compare("y", np.asarray(got[0]), expected[0], spec.tolerance(dtype))
        assert result.ok, (key, dtype, case.name, result)
        seen.add(case.variadic_count)
    assert seen == set(PARITY_COUNTS)


def rtx():
    return pytest.importorskip("tensorrt_rtx", reason="pip install tensorrt-rtx to test against TensorRT's Python API")


@pytest.mark.parametrize("count", PARITY_COUNTS)
def test_tensorrt_rtx_creator_makes_the_plugin_from_its_fields(specs: dict, count: int) -> None:
    trt = rtx()
    from trtplug.protoplugin import fields
    from trtplug.protoplugin.plugin import plugin_classes

    spec = specs["test_scaled_sum"]
    _, creator_class = plugin_classes(trt)
    creator = creator_class(spec)
    assert [f.name for f in creator.field_names] == ["alpha"]
    collection, _keep = fields.field_collection(trt, spec, {"alpha": 2.0})
    plugin = creator.create_plugin("scaled", collection, trt.TensorRTPhase.BUILD)
    assert plugin.plugin_name == "TrtplugTestScaledSum" and plugin.num_outputs == 1
    assert plugin.logic.attrs == {"alpha": 2.0}
    half = trt.DataType.HALF
    assert plugin.get_output_data_types([trt.DataType.INT32, *[half] * count]) == [half]
    with pytest.raises(TrtplugError, match=r"^TrtplugTestScaledSum: 1 inputs: 0 tensors for variadic input 'data'"):
        plugin.get_output_data_types([trt.DataType.INT32])


PARSE = (
    RTX_PREAMBLE
    + """
from trtplug import protoplugin
builder = trt.Builder(logger)
print(protoplugin.register(trt, keys=["test_sum"]), flush=True)
network = builder.create_network(0)
parser = trt.OnnxParser(network, logger)
print("parsed:", parser.parse_from_file(sys.argv[1]), flush=True)
"""
)


def test_tensorrt_rtx_parser_creates_the_plugin_of_a_rewritten_three_input_sum(specs: dict, tmp_path: Path) -> None:
    """In a child: TensorRT-RTX aborts after creating a plugin (it cannot add plugin layers)."""
    rtx()
    names = ["x0", "x1", "x2"]
    original = model([helper.make_node("Sum", names, ["y"], name="summed")], [io(n) for n in names], [io("y")])
    source, out = tmp_path / "sum.onnx", tmp_path / "sum.proto.onnx"
    onnx.save(original, source)
    plugins = specs["test_sum"].path.parent.parent
    cmd = ["rewrite", str(source), "-o", str(out), "--plugin-backend", "prototype", "--all-covered"]
    assert main([*cmd, "--plugins-dir", str(plugins)]) == 0
    node = onnx.load(out).graph.node[0]
    assert (node.op_type, list(node.input)) == ("TrtplugTestSum", names)
    env = dict(os.environ, TRTPLUG_PLUGIN_PATH=str(plugins))
    done = subprocess.run([sys.executable, "-c", PARSE, str(out)], capture_output=True, text=True, timeout=300, env=env)
    log = done.stdout + done.stderr
    assert "{'test_sum': 'registered'}" in log, log
    assert "Successfully created plugin: TrtplugTestSum" in log, log
