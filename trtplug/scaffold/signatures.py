"""Argument lists of the generated launcher, binding and plugin calls, and the binding's checks.

They are data (lists of C++ parameter and argument texts) so that templates can lay them out
with `wrap_call`; each kind of op (unary, binary, todo) passes its tensors differently. The
binding body works on the checked call of common/op_binding.h (`call.in(i)`, `call.params`,
`call.stream`): names, optionality and attributes come from the op's generated glue.
"""

from __future__ import annotations

from typing import Any

DTYPE_ENUM = {
    "float32": "kFLOAT32",
    "float16": "kFLOAT16",
    "bfloat16": "kBFLOAT16",
    "int32": "kINT32",
    "int64": "kINT64",
    "int8": "kINT8",
    "uint8": "kUINT8",
    "bool": "kBOOL",
}


def add_signatures(ctx: dict[str, Any]) -> None:
    """Adds the argument lists and per-tensor binding checks to an op_context."""
    kind, names, ins, outs = ctx["kind"], ctx["names"], ctx["inputs"], ctx["outputs"]
    params = [f"{names.params} const& p"] if ctx["attributes"] else []
    p_arg = ["p"] if ctx["attributes"] else []
    if kind == "unary":
        ctx["launcher_params"] = ["DType dtype", *params, f"void const* {ins[0]['cpp']}", f"void* {outs[0]['cpp']}"]
        ctx["launcher_params"] += ["int64_t n", "cudaStream_t stream"]
    else:
        tensors = [_launcher_input(t) for t in ins]
        tensors += [f"void* {t['cpp']}, TensorShape const& {t['cpp']}Dims" for t in outs]
        ctx["launcher_params"] = ["DType dtype", *params, *_split(tensors), "cudaStream_t stream"]
    ctx["kernel"] = f"{names.camel[:1].lower()}{names.camel[1:]}Kernel"
    ctx["binding_launch_args"] = _binding_launch_args(kind, ins, outs, ["call.params"] * bool(p_arg))
    ctx["plugin_launch_args"] = _plugin_launch_args(kind, ins, outs, p_arg)
    ctx["plugin_uses_shapes"] = any(t["rule"].startswith(("broadcast", "last_dim_of", "dynamic")) for t in outs)
    ctx["plugin_uses_expr"] = ctx["plugin_uses_shapes"]
    for t in (*ins, *outs):
        t["binding_check"], t["binding_message"] = _binding_dtype_check(t, ins)
    for t in outs:
        t["binding_shape_check"] = _binding_shape_check(t, ins) if t["rule_known"] else ""


def _launcher_input(t: dict[str, Any]) -> str:
    """A launcher's parameters for input t: a variadic one passes pointer and shape arrays."""
    if t["variadic"]:
        return f"void const* const* {t['cpp']}, TensorShape const* {t['cpp']}Dims, int32_t {t['cpp']}Count"
    return f"void const* {t['cpp']}, TensorShape const& {t['cpp']}Dims"


def _split(pairs: list[str]) -> list[str]:
    return [part for pair in pairs for part in pair.split(", ")]


def _array(t: dict[str, Any]) -> str:
    return f"{t['cpp']}Array"


def _binding_launch_args(kind: str, ins: list, outs: list, p_arg: list[str]) -> list[str]:
    first = _array(ins[0])
    const_ptr = [f"reinterpret_cast<void const*>({_array(t)}.ptr)" for t in ins]
    ptr = [f"reinterpret_cast<void*>({_array(t)}.ptr)" for t in outs]
    if kind == "unary":
        return [f"{first}.dtype", *p_arg, const_ptr[0], ptr[0], f"{first}.size", "call.stream"]
    args = [f"{first}.dtype", *p_arg]
    for t, pointer in zip((*ins, *outs), (*const_ptr, *ptr), strict=True):
        if t.get("variadic"):  # the binding template gathers its arrays into these vectors
            args += [f"{t['cpp']}Ptrs.data()", f"{t['cpp']}Dims.data()", f"static_cast<int32_t>({t['cpp']}Ptrs.size())"]
            continue
        args += [pointer, f'shapeOf({_array(t)}, "{t["name"]}")']
    return [*args, "call.stream"]


def _plugin_launch_args(kind: str, ins: list, outs: list, p_arg: list[str]) -> list[str]:
    params = ["params()"] if p_arg else []
    if kind == "unary":
        return ["dtype", *params, "inputs[0]", "outputs[0]", "volume(in[0].dims)", "stream"]
    args = ["dtype", *params]
    for t in ins:
        i = t["position"]
        if t["shape_input"]:  # its values reach outputShapes only
            args += ["nullptr", "TensorShape{}"]
        elif t["variadic"]:  # every plugin input from its position on (execute gathers the shapes)
            args += [f"inputs + {i}", f"{t['cpp']}Dims.data()", f"static_cast<int32_t>({t['cpp']}Dims.size())"]
        elif t["optional"]:
            args += [
                f"in.size() > {i} ? inputs[{i}] : nullptr",
                f"in.size() > {i} ? TensorShape::of(in[{i}].dims) : TensorShape{{}}",
            ]
        else:
            args += [f"inputs[{i}]", f"TensorShape::of(in[{i}].dims)"]
    for t in outs:
        i = t["index"]
        if t["optional"]:  # the plugin produces the first num_outputs outputs only
            args += [
                f"out.size() > {i} ? outputs[{i}] : nullptr",
                f"out.size() > {i} ? TensorShape::of(out[{i}].dims) : TensorShape{{}}",
            ]
        else:
            args += [f"outputs[{i}]", f"TensorShape::of(out[{i}].dims)"]
    return [*args, "stream"]


def _binding_dtype_check(t: dict[str, Any], ins: list) -> tuple[str, str]:
    var = f"{_array(t)}.dtype"
    present = f"!call.{_has(t)}({t['index']}) || " if t.get("optional") else ""
    if t["anchor"] is not None:
        anchor = ins[t["anchor"]]
        return f"{present}{var} == {_array(anchor)}.dtype", f'"{t["name"]} must have {anchor["name"]}\'s dtype"'
    allowed = " || ".join(f"{var} == DType::{DTYPE_ENUM[d]}" for d in t["dtypes"])
    if present and len(t["dtypes"]) > 1:
        allowed = f"({allowed})"
    *first, last = t["dtypes"]
    text = f"{', '.join(first)} or {last}" if first else last
    return f"{present}{allowed}", f'std::string("{t["name"]} must be {text}, got ") + dtypeName({var})'


def _has(t: dict[str, Any]) -> str:
    """OpCall's presence test for an optional tensor."""
    return "hasIn" if t["role"] == "input" else "hasOut"


def _binding_shape_check(t: dict[str, Any], ins: list) -> str:
    check = _binding_shape_test(t, ins)
    return f"!call.hasOut({t['index']}) || {check}" if t["optional"] else check


def _binding_shape_test(t: dict[str, Any], ins: list) -> str:
    kind, _, ref = t["rule"].partition(":")
    by_name = {i["name"]: i for i in ins}
    out = _array(t)
    if kind == "same_as":
        return f"{out}.shape == {_array(by_name[ref])}.shape"
    if kind == "last_dim_of":
        return f"{out}.shape == std::vector<int64_t>{{{_array(by_name[ref])}.lastDim()}}"
    a, b = (by_name[r] for r in ref.split(","))
    return f"{out}.shape == broadcastOf({_array(a)}, {_array(b)})"
