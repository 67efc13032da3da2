"""Kubernetes resource quantities ("512Mi", "1.5Gi", "250m", "2") as plain floats.

The analyzer compares usage with limits and the guard compares a proposed limit with the current
one, so both need numbers, not strings.
"""

from __future__ import annotations

import re

__all__ = ["parse_quantity"]

_SUFFIX = {
    "": 1.0, "n": 1e-9, "u": 1e-6, "m": 1e-3,
    "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
    "Ki": 2.0 ** 10, "Mi": 2.0 ** 20, "Gi": 2.0 ** 30, "Ti": 2.0 ** 40, "Pi": 2.0 ** 50, "Ei": 2.0 ** 60,
}
_QUANTITY = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?)\s*$")


def parse_quantity(value: object) -> float | None:
    """Bytes for memory, cores for CPU; None for anything that is not a quantity."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    m = _QUANTITY.match(str(value))
    if not m:
        return None
    return float(m.group(1)) * _SUFFIX[m.group(2)]
