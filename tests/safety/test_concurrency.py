"""Eight replicas, one shared store, 1,000 plans, a limit of 5 an hour: exactly 5 actions run."""

from __future__ import annotations

import random

import pytest

from kubeskippy.safety.config import SafetyConfig
from kubeskippy.safety.ledger import Ledger
from kubeskippy.safety.memory_store import MemoryStore

from .builders import SleepRecorder
from .concurrency import LIMIT, assert_exactly_the_limit_ran, run_contention


@pytest.mark.parametrize("conflict_rate", [pytest.param(0.0, id="plain"), pytest.param(0.3, id="conflict-storm")])
def test_eight_replicas_run_exactly_the_limit_with_no_duplicate_and_no_overlap(clock, conflict_rate):
    store = MemoryStore(conflict_rate=conflict_rate, seed=5)
    config = SafetyConfig(max_attempts=20)

    def make(holder: str) -> Ledger:
        return Ledger(store, clock, config, holder, sleep=SleepRecorder(), rng=random.Random(holder))

    tracker = run_contention(make, during_action=lambda: store.read("kubeskippy-safety-global"))
    assert_exactly_the_limit_ran(tracker, make("inspector"))
    assert store.stats.conflicts > 0  # the replicas really did race
    if conflict_rate:
        assert store.stats.injected_conflicts > 100
    assert tracker.refusals["rate_limited"] > 0 and tracker.refusals["duplicate"] > 0
    assert len(tracker.aborted) > 0 and LIMIT == 5
