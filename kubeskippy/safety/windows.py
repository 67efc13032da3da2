"""Sliding-window action counting, as pure decisions over one record's data.

A slot is taken when an action is RESERVED, not when it completes, so replicas racing for the
last slot cannot both win: the second one's compare-and-swap sees the first one's slot. Each slot
belongs to exactly one reservation (step id, holder, reservation time), so giving it back on
abort removes that reservation's slot and never another's.

One slot counts in two windows at once: its policy's (maxActionsPerHour) and the cluster-wide
cap. Both live in the same record (key ``slot.<policy digest>.<reservation digest>``), so taking
a slot checks both limits and writes once; the policy's share is the keys with its prefix.

A slot taken at t counts while ``now < t + window``: it frees up at exactly t + window. The
expiry is fixed when the slot is taken, so changing the window later affects new slots only.
"""

from __future__ import annotations

from ..errors import Refused
from .cas import Change
from .records import ABOUT_KEY, digest, drop_expired, expiries, put_entry

__all__ = ["SLOT", "slot_key", "policy_slot_prefix", "count_slots", "take_slot", "give_back_slot"]

SLOT = "slot"


def policy_slot_prefix(policy: str) -> str:
    """Key prefix of one policy's slots (48 bits of its name's digest: no realistic collision
    among the policies of one cluster)."""
    return f"{SLOT}.{digest(policy, length=12)}."


def slot_key(policy: str, step_id: str, holder: str, reserved_at: float) -> str:
    return policy_slot_prefix(policy) + digest(step_id, holder, reserved_at)


def _live(data: dict[str, str], now: float, prefix: str) -> list[float]:
    return [expires for key, expires in expiries(data, SLOT) if now < expires and key.startswith(prefix)]


def count_slots(data: dict[str, str], now: float, policy: str | None = None) -> int:
    """Live slots of ``policy``, or of every policy when None (the cluster-wide count)."""
    return len(_live(data, now, policy_slot_prefix(policy) if policy is not None else SLOT + "."))


def _refuse_when_full(live: list[float], limit: int, now: float, window: float, refusal: str, scope: str) -> None:
    if len(live) >= limit:
        frees_in = min(live, default=now) - now
        raise Refused(refusal, f"{len(live)} of {limit} actions already taken for {scope} in the last "
                               f"{window:g}s; the next slot frees in {frees_in:g}s")


def take_slot(data: dict[str, str], *, policy: str, step_id: str, holder: str, reserved_at: float, now: float,
              window: float, limit: int, global_limit: int | None, about: str) -> Change[bool]:
    """Count one more action of ``policy``: refuse ``rate_limited`` when the policy has ``limit``
    live slots, else ``global_rate_limited`` when all policies together have ``global_limit``.

    Idempotent: if this reservation's slot is already there (a retried write that had in fact
    succeeded), nothing changes.
    """
    key = slot_key(policy, step_id, holder, reserved_at)
    if key in data:
        return Change(True, write=False)
    drop_expired(data, (SLOT,), now)
    every = list(expiries(data, SLOT))
    prefix = policy_slot_prefix(policy)
    _refuse_when_full([e for k, e in every if k.startswith(prefix)], limit, now, window, "rate_limited",
                      f"policy {policy}")
    if global_limit is not None:
        _refuse_when_full([e for _, e in every], global_limit, now, window, "global_rate_limited", "the cluster")
    put_entry(data, key, {"policy": policy, "step": step_id, "holder": holder, "at": now}, expires=now + window)
    data[ABOUT_KEY] = about
    return Change(True)


def give_back_slot(data: dict[str, str], *, policy: str, step_id: str, holder: str, reserved_at: float,
                   now: float) -> Change[bool]:
    """Remove this reservation's slot (the action did not happen). True when one was removed."""
    removed = data.pop(slot_key(policy, step_id, holder, reserved_at), None) is not None
    pruned = drop_expired(data, (SLOT,), now)
    return Change(removed, write=removed or bool(pruned))
