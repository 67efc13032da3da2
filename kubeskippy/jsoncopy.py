"""A deep copy for JSON documents (dicts, lists and scalars), several times faster than
``copy.deepcopy``.

Why: the simulator's Cluster port hands out Kubernetes-shaped dicts built from shared, cached
parts (pod templates, Event objects), the functions' request cache answers repeated reads with
copies, and a HealingAction status write copies the whole object on every attempt; each caller
may mutate what it gets. ``copy.deepcopy``'s memo and dispatch machinery was a tenth of the
simulator's healing arm, and ~2.5x this copy on the functions' path.
"""

from __future__ import annotations

from typing import Any

__all__ = ["copy_json"]


def copy_json(obj: Any) -> Any:
    """A copy sharing nothing mutable with ``obj`` (strings and numbers are immutable: shared)."""
    if type(obj) is dict:
        return {k: (v if type(v) in _ATOMIC else copy_json(v)) for k, v in obj.items()}
    if type(obj) is list:
        return [v if type(v) in _ATOMIC else copy_json(v) for v in obj]
    if type(obj) is tuple:
        return tuple(copy_json(v) for v in obj)
    if type(obj) in _ATOMIC:
        return obj
    import copy

    return copy.deepcopy(obj)  # anything unusual (a set, a numpy scalar): the general path


_ATOMIC = frozenset({str, int, float, bool, type(None)})
