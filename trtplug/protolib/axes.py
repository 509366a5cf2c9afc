"""The axis attribute value that stands for "absent on the node" (spec flag default_means_absent):
Compress and Unique then work on the flattened tensor. The C++ side's kAxisAbsent."""

from __future__ import annotations

AXIS_ABSENT = -(2**31)
