"""Eight replicas, one shared store, 1,000 plans under an hourly limit: exactly the limit runs,
no step twice, never two holders on one workload, no lease left behind."""

from __future__ import annotations

import random

import pytest

from kubeskippy.safety.config import SafetyConfig
from kubeskippy.safety.ledger import Ledger
from kubeskippy.safety.memory_store import MemoryStore

from .builders import SleepRecorder
from .concurrency import BUSY, STRICT, assert_exactly_the_limit_ran, run_contention


def ledgers_on(store: MemoryStore, clock, config: SafetyConfig):
    def make(holder: str) -> Ledger:
        return Ledger(store, clock, config, holder, sleep=SleepRecorder(), rng=random.Random(holder))
    return make


def test_eight_replicas_run_exactly_five_of_a_thousand_plans_under_a_limit_of_five(clock):
    store = MemoryStore()
    make = ledgers_on(store, clock, SafetyConfig())
    tracker = run_contention(STRICT, make, during_action=lambda: store.read("kubeskippy-safety-global"))
    assert_exactly_the_limit_ran(STRICT, tracker, make("inspector"))
    assert tracker.refusals["rate_limited"] > 0 and tracker.refusals["duplicate"] > 0
    assert tracker.refusals["cooldown"] > 0 and len(tracker.aborted) > 0


@pytest.mark.parametrize("conflict_rate", [pytest.param(0.0, id="plain"), pytest.param(0.4, id="conflict-storm")])
def test_eight_replicas_racing_for_sixty_slots_on_nine_workloads_run_exactly_sixty(clock, conflict_rate):
    store = MemoryStore(conflict_rate=conflict_rate, seed=5)
    make = ledgers_on(store, clock, SafetyConfig(max_attempts=30, chain_threshold=10**6))
    tracker = run_contention(BUSY, make, during_action=lambda: store.read("kubeskippy-safety-global"))
    assert_exactly_the_limit_ran(BUSY, tracker, make("inspector"))
    assert store.stats.conflicts - store.stats.injected_conflicts > 0, "the replicas never raced"
    assert tracker.refusals["leased"] > 0
    if conflict_rate:
        assert store.stats.injected_conflicts > 0.25 * (store.stats.replaces + store.stats.creates)
