"""Variadic inputs: the last spec input marked `variadic = true` (Concat's `inputs`, Sum's
`data_0`) takes `min_count`..MAX_VARIADIC_INPUTS tensors, as the ONNX op does.

The plugin receives every tensor of a node in order, so a variadic op's plugin inputs are its
fixed inputs followed by the variadic ones. Parity, the reference model and the prototypes see
the variadic tensors as separate inputs named by `copy_name`: "data_0", "data_0#1", "data_0#2".
"""

from __future__ import annotations

import dataclasses

from trtplug.spec import OpSpec, TensorSpec

# The most tensors one variadic input takes. The generated glue's kMaxInputs and the binding
# check it, and the rewrite leaves a node with more alone (its report says why). A fixed cap
# lets a kernel take the tensor pointers by value in its parameters (64 x 8 bytes, far below
# CUDA's 4 KiB limit) instead of copying a pointer table to the device per launch. Keep it equal
# to kMaxVariadicInputs in cmake/generate_op_glue.py (tests/test_variadic.py checks).
MAX_VARIADIC_INPUTS = 64
# How many tensors parity gives a variadic input: one, two and odd counts (those below the
# spec's min_count are left out).
PARITY_COUNTS = (1, 2, 3, 5)


def variadic_input(spec: OpSpec) -> TensorSpec | None:
    """The spec's variadic input (always its last), or None."""
    return spec.inputs[-1] if spec.inputs and spec.inputs[-1].variadic else None


def copy_name(name: str, index: int) -> str:
    """The name of the index-th tensor of variadic input `name` (the first keeps the name)."""
    return name if index == 0 else f"{name}#{index}"


def expanded_inputs(spec: OpSpec, count: int) -> tuple[TensorSpec, ...]:
    """spec.inputs with the variadic input repeated `count` times (named by copy_name)."""
    last = variadic_input(spec)
    if last is None:
        return spec.inputs
    copies = tuple(dataclasses.replace(last, name=copy_name(last.name, i)) for i in range(count))
    return spec.inputs[:-1] + copies


def parity_counts(spec: OpSpec) -> tuple[int, ...]:
    """The variadic tensor counts parity runs: (0,) for an op without a variadic input."""
    last = variadic_input(spec)
    if last is None:
        return (0,)
    return tuple(n for n in PARITY_COUNTS if n >= last.min_count) or (last.min_count,)


def plugin_tensors(spec: OpSpec, given: int) -> tuple[TensorSpec, ...]:
    """The plugin inputs `given` tensors fill, in order: spec.plugin_inputs, with a variadic last
    one repeated for every tensor past the fixed ones (a rewritten node passes them all)."""
    fixed = spec.plugin_inputs
    if variadic_input(spec) is None:
        return fixed
    return tuple(t for t in expanded_inputs(spec, max(given - len(fixed) + 1, 0)) if t.fold_into is None)


def tensorrt_tensors(spec: OpSpec, regular: int) -> tuple[TensorSpec, ...]:
    """plugin_tensors for a plugin TensorRT gives `regular` tensors (its nbInputs), shape inputs
    apart: they reach the plugin as values in get_output_shapes only, never counted there."""
    return plugin_tensors(spec, regular + sum(t.shape_input for t in spec.plugin_inputs))


def count_problem(spec: OpSpec, count: int) -> str | None:
    """Why `count` tensors cannot fill the spec's variadic input (None when they can or it has none)."""
    last = variadic_input(spec)
    if last is None or last.min_count <= count <= MAX_VARIADIC_INPUTS:
        return None
    return f"{count} tensors for variadic input {last.name!r}; the spec takes {last.min_count}..{MAX_VARIADIC_INPUTS}"


def count_in(spec: OpSpec, node_inputs: int) -> int:
    """Tensors of the variadic input among a node's `node_inputs` inputs (0 without one)."""
    return max(node_inputs - len(spec.inputs) + 1, 0) if variadic_input(spec) is not None else 0
