"""The rewrite of a node with a variadic input: every node input reaches the plugin node, in order,
whatever the count (3, 5); a node with more inputs than the cap or fewer than min_count is left
alone with the reason."""

from __future__ import annotations

import pytest
from onnx import helper

from tests.rewrite_models import F16, F32, io, model, op_types, rewrite
from tests.test_spec import write_op
from trtplug.registry import Registry, load_registry
from trtplug.variadic import MAX_VARIADIC_INPUTS

SUM_SPEC = """
[plugin]
name = "TrtplugTestSum"
version = "1"
namespace = "trtplug_test"

[[replaces]]
domain = ""
op_type = "Sum"
since_version = 13

[type_constraints]
T = ["float32", "float16"]

[[inputs]]
name = "data_0"
type = "T"
variadic = true
min_count = 2

[[outputs]]
name = "sum"
type = "T"
shape = "same_as:data_0"

[tolerances.float32]
atol = 1e-6
rtol = 1e-6

[tolerances.float16]
atol = 1e-3
rtol = 1e-3

[reference]
kind = "onnx-reference"
"""


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    root = tmp_path_factory.mktemp("variadic_rewrite")
    write_op(root, "test_sum", SUM_SPEC)
    only = Registry()
    only.add(load_registry([root]).get("test_sum"))
    return only


def sum_model(count: int, elem: int = F32):
    names = [f"x{i}" for i in range(count)]
    node = helper.make_node("Sum", names, ["y"], name="summed")
    return model([node], [io(n, elem) for n in names], [io("y", elem)], extra_opsets=())


@pytest.mark.parametrize(("count", "elem"), [(3, F32), (5, F16)])
def test_every_node_input_reaches_the_plugin_node_in_order(registry: Registry, count: int, elem: int) -> None:
    rewritten, result = rewrite(sum_model(count, elem), registry)
    assert op_types(rewritten) == ["TrtplugTestSum"] and result.changes[0].action == "replaced"
    node = rewritten.graph.node[0]
    assert list(node.input) == [f"x{i}" for i in range(count)] and list(node.output) == ["y"]
    assert not [a for a in node.attribute if a.name == "tensorrt_plugin_shape_input_indices"]


@pytest.mark.parametrize(
    ("count", "reason"),
    [
        (MAX_VARIADIC_INPUTS + 1, f"{MAX_VARIADIC_INPUTS + 1} inputs, TrtplugTestSum takes at most 64"),
        (1, "1 inputs, TrtplugTestSum takes at least 2"),
    ],
)
def test_unfit_node_is_left_alone_with_the_reason(registry: Registry, count: int, reason: str) -> None:
    rewritten, result = rewrite(sum_model(count), registry)
    assert op_types(rewritten) == ["Sum"]
    assert result.changes[0].action == "left" and reason in result.changes[0].reason, result.changes[0].reason
