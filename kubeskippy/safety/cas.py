"""Read → decide → compare-and-swap, retried with jittered exponential backoff.

Every change to shared safety state goes through :func:`update_record`: the decision is a pure
function of what was just read, so after a 409 it is simply made again on fresher data. Waiting
goes through an injected ``sleep`` so tests and the simulator never sleep for real.
"""

from __future__ import annotations

import logging
import random
from typing import Any, Callable, Generic, NamedTuple, TypeVar

from ..errors import APIConflict, PayloadTooLarge, TemporaryError
from ..ports import Versioned, VersionedStore
from .configmap_limits import record_size

__all__ = ["Backoff", "Change", "update_record", "update_record_versioned", "Mutation", "UNREAD"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class Backoff(NamedTuple):
    """Full-jitter exponential backoff: attempt ``n`` waits uniformly in [0, min(cap, base·2ⁿ))."""

    attempts: int = 12
    base: float = 0.005
    cap: float = 0.5

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0.0, min(self.cap, self.base * (2 ** attempt)))


class Change(NamedTuple, Generic[T]):
    """What a decision returns: the value for the caller and whether ``data`` must be written."""

    result: T
    write: bool = True


Mutation = Callable[[dict[str, str]], Change[T]]
"""Decides on a private, mutable copy of a record's data; may raise to refuse (nothing written)."""


class _Unread:
    def __repr__(self) -> str:
        return "UNREAD"


UNREAD: Any = _Unread()
"""``snapshot`` default: read the record first."""


def update_record(store: VersionedStore, name: str, decide: Mutation[T], **kwargs: Any) -> T:
    """Apply ``decide`` to record ``name`` atomically; see :func:`update_record_versioned`."""
    return update_record_versioned(store, name, decide, **kwargs)[0]


def update_record_versioned(
    store: VersionedStore,
    name: str,
    decide: Mutation[T],
    *,
    backoff: Backoff,
    sleep: Callable[[float], None],
    rng: random.Random,
    max_bytes: int,
    snapshot: Versioned | None = UNREAD,
    snapshot_may_be_old: bool = False,
) -> tuple[T, Versioned | None]:
    """Apply ``decide`` to record ``name`` atomically; create the record when missing.

    Returns the decision's result and the record as this call last saw it (what it wrote, or what
    it read when nothing needed writing): a caller that changes the same record again soon passes
    it back as ``snapshot`` and saves a read when nobody wrote in between.

    Raises whatever ``decide`` raises (a refusal leaves the record untouched),
    :class:`PayloadTooLarge` when the new data would exceed ``max_bytes``, and
    :class:`TemporaryError` when every attempt lost a race. Other store errors propagate as they
    are: a write that failed for another reason may or may not have been applied, and only the
    caller can judge that.

    ``snapshot`` (a read the caller has just made, None meaning "absent") replaces the first read;
    if it is stale the write conflicts and the loop reads afresh, so it can cost no correctness.
    ``snapshot_may_be_old`` says it was not read just now (e.g. it is this caller's own earlier
    write): a conflict on it lost no race, so the fresh read follows at once, without backoff.
    """
    for attempt in range(backoff.attempts):
        current = store.read(name) if attempt or snapshot is UNREAD else snapshot
        data = dict(current.data) if current is not None else {}
        change = decide(data)
        if not change.write:
            return change.result, current
        size = record_size(data)
        if size > max_bytes:
            raise PayloadTooLarge(size, max_bytes, what=f"safety record {name!r}")
        try:
            if current is None:
                written = store.create(name, data)
            else:
                written = store.replace(name, data, current.version)
        except APIConflict:
            lost_no_race = attempt == 0 and snapshot_may_be_old
            if attempt + 1 < backoff.attempts and not lost_no_race:
                sleep(backoff.delay(attempt, rng))
            continue
        return change.result, written
    log.warning("gave up updating safety record %s after %d conflicting writes; the caller will retry later",
                name, backoff.attempts)
    raise TemporaryError(f"safety record {name!r} kept changing under us ({backoff.attempts} conflicts in a row)",
                         delay=backoff.cap)
