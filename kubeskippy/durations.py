"""Go-style durations ("90s", "2m", "1h30m", "500ms") as used by metav1.Duration in the CRDs."""

from __future__ import annotations

import re

__all__ = ["parse_duration", "format_duration"]

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def parse_duration(text: str | int | float) -> float:
    """Return seconds for a Go duration string; bare numbers are seconds.

    Raises ValueError with a message suitable for a field error.
    """
    if isinstance(text, bool):
        raise ValueError("must be a duration such as '90s', '2m' or '1h30m'")
    if isinstance(text, (int, float)):
        if text < 0:
            raise ValueError("must not be negative")
        return float(text)
    s = str(text).strip()
    if s in ("0", ""):
        if s == "":
            raise ValueError("must be a duration such as '90s', '2m' or '1h30m'")
        return 0.0
    sign = 1.0
    if s[0] in "+-":
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    pos, total = 0, 0.0
    for m in _PART.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(s) or pos == 0:
        raise ValueError(f"invalid duration {text!r}: use a number with a unit (ms, s, m, h), e.g. '90s' or '1h30m'")
    if sign < 0:
        raise ValueError("must not be negative")
    return total


def format_duration(seconds: float) -> str:
    """Format seconds the way Go prints a Duration (``1h30m0s``, ``2m0s``, ``500ms``)."""
    if seconds == 0:
        return "0s"
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    out = ""
    if h:
        out += f"{int(h)}h"
    if h or m:
        out += f"{int(m)}m"
    out += f"{s:g}s"
    return out
