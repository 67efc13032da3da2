"""The six metric comparison operators, with PromQL's treatment of NaN made explicit.

A NaN sample (0/0: a pod with no traffic in an error-rate ratio) never breaches, for any operator.
Python's ``nan != x`` is True; treating that as a breach would turn "no data" into an alarm.
"""

from __future__ import annotations

import math
import operator
from typing import Callable

__all__ = ["OPERATORS", "breaches"]

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}


def breaches(value: float, op: str, threshold: float) -> bool:
    """True when ``value op threshold`` holds and the value is a number."""
    if math.isnan(value):
        return False
    return OPERATORS[op](value, threshold)
