"""Kubernetes resource quantities ("512Mi", "1.5Gi", "250m", "2") as numbers and back.

Memory in bytes, CPU in cores. Formatting picks the unit a person would write (Mi for memory,
millicores for CPU) and rounds *up*, so a raised limit is never below what was computed.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

__all__ = ["parse_quantity", "format_quantity"]

_SUFFIX = {
    "": Decimal(1), "m": Decimal("0.001"), "k": Decimal(10) ** 3, "M": Decimal(10) ** 6, "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12, "P": Decimal(10) ** 15, "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10, "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30, "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50, "Ei": Decimal(2) ** 60,
}
_QUANTITY = re.compile(r"^([+]?[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?$")


def parse_quantity(text: str | int | float) -> Decimal:
    """Raise ValueError (with a message fit for a field error) when ``text`` is no quantity."""
    if isinstance(text, bool):
        raise ValueError("must be a quantity such as '512Mi' or '500m'")
    if isinstance(text, (int, float)):
        if text < 0:
            raise ValueError("must not be negative")
        return Decimal(str(text))
    m = _QUANTITY.match(str(text).strip())
    if not m:
        raise ValueError(f"{text!r} is not a quantity such as '512Mi', '1Gi', '500m' or '2'")
    try:
        number = Decimal(m.group(1))
    except InvalidOperation as e:  # pragma: no cover - the regex admits only numbers
        raise ValueError(f"{text!r} is not a number") from e
    return number * _SUFFIX[m.group(2) or ""]


def format_quantity(value: Decimal, resource: str) -> str:
    """Memory: whole Mi (or Gi when exact); CPU: whole millicores (or cores when exact)."""
    if resource == "memory":
        mib = math.ceil(value / _SUFFIX["Mi"])
        return f"{mib // 1024}Gi" if mib % 1024 == 0 and mib else f"{mib}Mi"
    millis = math.ceil(value * 1000)
    return f"{millis // 1000}" if millis % 1000 == 0 else f"{millis}m"
