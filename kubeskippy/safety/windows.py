"""Sliding-window action counting, as pure decisions over one record's data.

A slot is taken when an action is RESERVED, not when it completes, so replicas racing for the
last slot cannot both win: the second one's compare-and-swap sees the first one's slot. Each slot
belongs to exactly one reservation (step id, holder, reservation time), so giving it back on
abort removes that reservation's slot and never another's.

A slot taken at t counts while ``now < t + window``: it frees up at exactly t + window. The
expiry is fixed when the slot is taken, so changing the window later affects new slots only.
"""

from __future__ import annotations

from ..errors import Refused
from .cas import Change
from .records import ABOUT_KEY, drop_expired, entry_key, expiries, put_entry

__all__ = ["SLOT", "slot_key", "count_slots", "take_slot", "give_back_slot"]

SLOT = "slot"


def slot_key(step_id: str, holder: str, reserved_at: float) -> str:
    return entry_key(SLOT, step_id, holder, reserved_at)


def count_slots(data: dict[str, str], now: float) -> int:
    return sum(1 for _, expires in expiries(data, SLOT) if now < expires)


def take_slot(data: dict[str, str], *, step_id: str, holder: str, reserved_at: float, now: float,
              window: float, limit: int, refusal: str, about: str, scope: str) -> Change[bool]:
    """Count one more action, or refuse with ``refusal`` when ``limit`` slots are live.

    Idempotent: if this reservation's slot is already there (a retried write that had in fact
    succeeded), nothing changes.
    """
    key = slot_key(step_id, holder, reserved_at)
    if key in data:
        return Change(True, write=False)
    drop_expired(data, (SLOT,), now)
    live = [expires for _, expires in expiries(data, SLOT)]
    if len(live) >= limit:
        frees_in = min(live, default=now) - now
        raise Refused(refusal, f"{len(live)} of {limit} actions already taken for {scope} in the last "
                               f"{window:g}s; the next slot frees in {frees_in:g}s")
    put_entry(data, key, {"step": step_id, "holder": holder, "at": now}, expires=now + window)
    data[ABOUT_KEY] = about
    return Change(True)


def give_back_slot(data: dict[str, str], *, step_id: str, holder: str, reserved_at: float,
                   now: float) -> Change[bool]:
    """Remove this reservation's slot (the action did not happen). True when one was removed."""
    removed = data.pop(slot_key(step_id, holder, reserved_at), None) is not None
    pruned = drop_expired(data, (SLOT,), now)
    return Change(removed, write=removed or bool(pruned))
