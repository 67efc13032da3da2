"""A replica may die between any two writes of a reservation: whatever it leaves behind errs on the
safe side (a lease that expires, a slot that leaves the window) and never lets an action run twice
or uncounted."""

from __future__ import annotations

import random

import pytest

from kubeskippy.errors import Refused, TemporaryError
from kubeskippy.safety.config import SafetyConfig
from kubeskippy.safety.ledger import Ledger
from kubeskippy.safety.memory_store import MemoryStore

from .builders import T0, SleepRecorder, request


class ProcessDied(BaseException):
    """Not an Exception: nothing in the ledger may catch it, exactly like a killed process."""


class DyingStore:
    """Passes through to a MemoryStore until write number ``die_at``, then dies for good."""

    def __init__(self, inner: MemoryStore, die_at: int) -> None:
        self.inner, self.die_at, self.writes = inner, die_at, 0

    def read(self, name):
        return self.inner.read(name)

    def _write(self, op, *args):
        self.writes += 1
        if self.writes >= self.die_at:
            raise ProcessDied()
        return op(*args)

    def create(self, name, data):
        return self._write(self.inner.create, name, data)

    def replace(self, name, data, version):
        return self._write(self.inner.replace, name, data, version)


class FailingStore(DyingStore):
    """Write number ``die_at`` fails with a transient error; later writes work again."""

    def _write(self, op, *args):
        self.writes += 1
        if self.writes == self.die_at:
            raise TemporaryError("API server unavailable")
        return op(*args)


def ledgers(store: MemoryStore, clock, die_at: int, store_class=DyingStore):
    victim = Ledger(store_class(store, die_at), clock, SafetyConfig(), "victim", sleep=SleepRecorder(),
                    rng=random.Random(1))
    survivor = Ledger(store, clock, SafetyConfig(), "survivor", sleep=SleepRecorder(), rng=random.Random(2))
    return victim, survivor


@pytest.mark.parametrize("die_at, policy_count, global_count", [
    pytest.param(2, 0, 0, id="after-the-lease-before-the-slot"),
    pytest.param(3, 1, 1, id="after-reserving-before-completing"),
])
def test_a_replica_dying_mid_reservation_blocks_the_workload_only_until_its_lease_expires(
        store, clock, die_at, policy_count, global_count):
    victim, survivor = ledgers(store, clock, die_at)
    with pytest.raises(ProcessDied):
        victim.complete(victim.reserve(request("plan-1:restart", lease=60)))
    assert survivor.actions_in_window("prod/heal") == policy_count
    assert survivor.actions_in_window() == global_count
    with pytest.raises(Refused, match="leased"):
        survivor.reserve(request("plan-1:restart", lease=60))
    clock.set(T0 + 60)
    survivor.complete(survivor.reserve(request("plan-1:restart", lease=60)))
    # The redelivered step ran once more (the victim may or may not have acted); a leaked slot
    # over-counts, never under-counts, and leaves the window within the hour.
    assert survivor.actions_in_window("prod/heal") == policy_count + 1
    clock.set(T0 + 3600)
    assert survivor.actions_in_window("prod/heal") == 1
    assert survivor.actions_in_window() == 1


def test_a_replica_dying_inside_complete_leaves_either_nothing_or_everything_recorded(store, clock):
    victim, survivor = ledgers(store, clock, die_at=3)
    reservation = victim.reserve(request("plan-1:restart", lease=60))
    with pytest.raises(ProcessDied):
        victim.complete(reservation)
    assert survivor.active_leases("prod")[0].holder == "victim"  # nothing recorded, lease still expires
    clock.set(T0 + 60)
    survivor.complete(survivor.reserve(request("plan-1:restart", lease=60)))
    with pytest.raises(Refused, match="duplicate"):
        survivor.reserve(request("plan-1:restart", lease=60))


def test_a_transient_failure_mid_reservation_undoes_what_was_taken(store, clock):
    victim, survivor = ledgers(store, clock, 2, FailingStore)  # the lease is written, the slot is not
    with pytest.raises(TemporaryError):
        victim.reserve(request("plan-1:restart"))
    assert survivor.actions_in_window("prod/heal") == 0
    assert survivor.actions_in_window() == 0
    assert survivor.active_leases("prod") == []
    survivor.reserve(request("plan-1:restart"))


def test_a_slot_write_that_succeeded_but_is_retried_is_not_counted_twice(store, clock):
    from kubeskippy.safety.windows import take_slot

    data: dict[str, str] = {}
    kw = dict(policy="prod/heal", step_id="s", holder="h", reserved_at=T0, now=T0, window=3600, limit=1,
              global_limit=1, about="")
    assert take_slot(data, **kw).write
    assert not take_slot(data, **kw).write  # the same reservation again: already counted, no refusal
