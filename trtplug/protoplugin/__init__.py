"""The ops' CuPy prototypes as TensorRT plugins (namespace `trtplug_proto`): same plugin names,
versions and fields as the native plugins, so both can be registered at once and a model
rewritten with `trtplug rewrite --plugin-backend prototype` binds to these.

    import tensorrt as trt                    # or tensorrt_rtx
    from trtplug import protoplugin
    protoplugin.register(trt)                 # every op whose prototype can run as a plugin

Python (with CuPy and trtplug) is needed wherever an engine using them is built or
deserialized; trtexec cannot load them. For a tool run from the command line (Polygraphy):
`python -m trtplug.protoplugin polygraphy run model.onnx --trt` registers them, then runs it.
"""

from __future__ import annotations

from typing import Any

from .plugin import NAMESPACE, plugin_classes, unsupported_reason

__all__ = ["NAMESPACE", "available", "register", "tensorrt_module"]

_REGISTERED: list[Any] = []  # creators must outlive registration: TensorRT keeps raw pointers


def tensorrt_module() -> Any:
    """`tensorrt` when importable, else `tensorrt_rtx`; None when neither is."""
    for name in ("tensorrt", "tensorrt_rtx"):
        try:
            return __import__(name)
        except ImportError:
            continue
    return None


def available(registry: Any = None) -> dict[str, str | None]:
    """Op key -> None when its prototype can run as a plugin, else the reason it cannot."""
    from trtplug.registry import load_registry

    return {spec.key: unsupported_reason(spec) for spec in (registry or load_registry())}


def register(trt: Any = None, keys: list[str] | None = None, plugin_registry: Any = None) -> dict[str, str]:
    """Registers the prototype plugins with `trt`'s plugin registry (default: the module
    tensorrt_module() finds); returns op key -> "registered" or why it was not."""
    from trtplug.errors import TrtplugError
    from trtplug.registry import load_registry

    trt = trt or tensorrt_module()
    if trt is None:
        raise TrtplugError("neither tensorrt nor tensorrt_rtx is importable: nothing to register the prototypes with")
    target = plugin_registry or trt.get_plugin_registry()
    _, creator_class = plugin_classes(trt)
    outcome = {}
    for spec in load_registry():
        if keys is not None and spec.key not in keys:
            continue
        reason = unsupported_reason(spec)
        if reason is None:
            creator = creator_class(spec)
            if target.register_creator(creator, NAMESPACE):
                _REGISTERED.append(creator)
                outcome[spec.key] = "registered"
                continue
            reason = "TensorRT refused the creator (already registered?)"
        outcome[spec.key] = reason
    return outcome
