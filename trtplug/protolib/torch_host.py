"""Host copies of the small shape-like inputs (sizes, image shapes) torch equivalents need as
Python ints: read once per tensor, so the bench's torch side does not pay a device-to-host
synchronization per call that a model holding those sizes as ints would not pay."""

from __future__ import annotations

import weakref
from typing import Any

_HOST_INTS: dict[int, tuple[int, ...]] = {}


def host_ints(tensor: Any) -> tuple[int, ...]:
    """The tensor's values as ints, cached while the tensor lives (keyed by the object, not its address)."""
    key = id(tensor)
    if key not in _HOST_INTS:
        _HOST_INTS[key] = tuple(int(v) for v in tensor.reshape(-1).tolist())
        weakref.finalize(tensor, _HOST_INTS.pop, key, None)
    return _HOST_INTS[key]
