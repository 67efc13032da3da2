"""Sliding-window action counting, as pure decisions over one record's data.

A slot is taken when an action is RESERVED, not when it completes, so replicas racing for the
last slot cannot both win: the second one's compare-and-swap sees the first one's slot. Each slot
belongs to exactly one reservation (step id, holder, reservation time), so giving it back on
abort removes that reservation's slot and never another's.

A slot counts while ``now - at < window``: taken at t, it frees up at exactly t + window.
"""

from __future__ import annotations

from ..errors import Refused
from .cas import Change
from .records import ABOUT_KEY, entries, entry_key, load_entry, put_entry

__all__ = ["SLOT", "slot_key", "count_slots", "prune_slots", "take_slot", "give_back_slot"]

SLOT = "slot"


def slot_key(step_id: str, holder: str, reserved_at: float) -> str:
    return entry_key(SLOT, step_id, holder, reserved_at)


def _live(entry: dict, now: float, window: float) -> bool:
    return now - float(entry.get("at", 0.0)) < window


def count_slots(data: dict[str, str], now: float, window: float) -> int:
    return sum(1 for _, e in entries(data, SLOT) if _live(e, now, window))


def prune_slots(data: dict[str, str], now: float, window: float) -> int:
    """Drop slots that left the window; returns how many."""
    dead = [k for k, e in entries(data, SLOT) if not _live(e, now, window)]
    for k in dead:
        del data[k]
    return len(dead)


def take_slot(data: dict[str, str], *, step_id: str, holder: str, reserved_at: float, now: float,
              window: float, limit: int, refusal: str, about: str, scope: str) -> Change[bool]:
    """Count one more action, or refuse with ``refusal`` when ``limit`` slots are live.

    Idempotent: if this reservation's slot is already there (a retried write that had in fact
    succeeded), nothing changes.
    """
    key = slot_key(step_id, holder, reserved_at)
    if load_entry(data, key) is not None:
        return Change(True, write=False)
    prune_slots(data, now, window)
    used = count_slots(data, now, window)
    if used >= limit:
        oldest = min((float(e["at"]) for _, e in entries(data, SLOT)), default=now)
        raise Refused(refusal, f"{used} of {limit} actions already taken for {scope} in the last "
                               f"{window:g}s; the next slot frees in {oldest + window - now:g}s")
    put_entry(data, key, {"step": step_id, "holder": holder, "at": now})
    data[ABOUT_KEY] = about
    return Change(True)


def give_back_slot(data: dict[str, str], *, step_id: str, holder: str, reserved_at: float,
                   now: float, window: float) -> Change[bool]:
    """Remove this reservation's slot (the action did not happen). True when one was removed."""
    key = slot_key(step_id, holder, reserved_at)
    removed = data.pop(key, None) is not None
    pruned = prune_slots(data, now, window)
    return Change(removed, write=removed or pruned > 0)
