"""The memory store keeps ConfigMap CAS rules; updates retry conflicts with bounded jittered backoff."""

from __future__ import annotations

import random

import pytest

from kubeskippy.errors import APIConflict, APIError, PayloadTooLarge, Refused, TemporaryError
from kubeskippy.ports import VersionedStore
from kubeskippy.safety.cas import Backoff, Change, update_record
from kubeskippy.safety.config import SafetyConfig
from kubeskippy.safety.ledger import Ledger
from kubeskippy.safety.memory_store import MemoryStore

from .builders import T0, SleepRecorder, request


def test_the_memory_store_is_a_versioned_store():
    assert isinstance(MemoryStore(), VersionedStore)


def test_a_stale_version_is_a_conflict_and_changes_nothing():
    store = MemoryStore()
    v1 = store.create("r", {"a": "1"})
    store.replace("r", {"a": "2"}, v1.version)
    with pytest.raises(APIConflict):
        store.replace("r", {"a": "3"}, v1.version)
    assert store.read("r").data == {"a": "2"}


def test_creating_an_existing_name_is_a_conflict():
    store = MemoryStore()
    store.create("r", {})
    with pytest.raises(APIConflict):
        store.create("r", {"x": "y"})


def test_records_read_back_cannot_be_modified_in_place():
    store = MemoryStore()
    store.create("r", {"a": "1"})
    with pytest.raises(TypeError):
        store.read("r").data["a"] = "2"  # type: ignore[index]


def test_keys_and_sizes_a_configmap_would_reject_are_rejected():
    store = MemoryStore(max_bytes=10)
    with pytest.raises(APIError) as bad_key:
        store.create("r", {"a/b": "1"})
    with pytest.raises(APIError) as too_big:
        store.create("r", {"a": "x" * 20})
    assert bad_key.value.status == too_big.value.status == 422


def test_injected_conflicts_fail_exactly_the_next_writes():
    store = MemoryStore()
    store.inject_conflicts(2)
    for _ in range(2):
        with pytest.raises(APIConflict):
            store.create("r", {})
    store.create("r", {})
    assert store.stats.injected_conflicts == 2


def increment(data: dict[str, str]) -> Change[int]:
    data["n"] = str(int(data.get("n", "0")) + 1)
    return Change(int(data["n"]))


def run(store, decide, *, attempts: int = 5, sleep=None, max_bytes: int = 1 << 20):
    return update_record(store, "r", decide, backoff=Backoff(attempts, 0.01, 0.05), sleep=sleep or SleepRecorder(),
                         rng=random.Random(1), max_bytes=max_bytes)


def test_an_update_re_decides_on_fresh_data_after_a_conflict():
    store = MemoryStore()
    store.create("r", {"n": "5"})
    store.inject_conflicts(3)
    sleep = SleepRecorder()
    assert run(store, increment, sleep=sleep) == 6
    assert store.read("r").data == {"n": "6"}
    assert len(sleep.waits) == 3


def test_backoff_waits_grow_but_stay_within_the_cap():
    backoff = Backoff(attempts=10, base=0.01, cap=0.05)
    rng = random.Random(3)
    bounds = [min(0.05, 0.01 * 2 ** n) for n in range(10)]
    for n, bound in enumerate(bounds):
        for _ in range(50):
            assert 0 <= backoff.delay(n, rng) <= bound
    assert bounds[:4] == [0.01, 0.02, 0.04, 0.05]


def test_giving_up_after_the_last_attempt_is_a_temporary_error():
    store = MemoryStore()
    store.create("r", {})
    store.inject_conflicts(5)
    sleep = SleepRecorder()
    with pytest.raises(TemporaryError) as e:
        run(store, increment, attempts=5, sleep=sleep)
    assert not isinstance(e.value, APIConflict)
    assert len(sleep.waits) == 4  # no pointless wait after the last attempt
    assert store.read("r").data == {}


def test_a_refusing_decision_writes_nothing():
    store = MemoryStore()

    def refuse(data):
        raise Refused("cooldown")

    with pytest.raises(Refused):
        run(store, refuse)
    assert store.names() == []


def test_a_decision_that_changes_nothing_does_not_write():
    store = MemoryStore()
    store.create("r", {"a": "1"})
    run(store, lambda data: Change("same", write=False))
    assert store.read("r").version == "1"


def test_the_size_guard_refuses_before_the_store_is_asked():
    store = MemoryStore()

    def grow(data):
        data["big"] = "x" * 2000
        return Change(None)

    with pytest.raises(PayloadTooLarge, match="safety record 'r'"):
        run(store, grow, max_bytes=1024)
    assert store.stats.creates == 0


def test_the_ledger_survives_a_burst_of_conflicts_without_really_sleeping(store, clock):
    sleep = SleepRecorder()
    ledger = Ledger(store, clock, SafetyConfig(), "replica-a", sleep=sleep, rng=random.Random(3))
    store.inject_conflicts(8)
    ledger.complete(ledger.reserve(request()))
    assert store.stats.injected_conflicts == 8
    assert len(sleep.waits) == 8 and all(0 <= w <= SafetyConfig().backoff_cap for w in sleep.waits)
    assert clock.now() == T0  # virtual time did not move: waiting went through the recorder


def test_the_ledger_reports_a_conflict_storm_it_cannot_win_as_temporary(make_ledger, store):
    ledger = make_ledger(cfg=SafetyConfig(max_attempts=3))
    store.inject_conflicts(3)
    with pytest.raises(TemporaryError):
        ledger.reserve(request())
    assert ledger.active_leases("prod") == []
