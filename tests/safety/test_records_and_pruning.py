"""Entries expire and are pruned on write; records are sharded and guarded against growing too big."""

from __future__ import annotations

import pytest

from kubeskippy.errors import PayloadTooLarge
from kubeskippy.safety.config import SafetyConfig
from kubeskippy.safety.memory_store import record_size
from kubeskippy.safety.records import namespace_records, workload_record

from .builders import T0, deployment, request


def keys(store, name: str, kind: str) -> list[str]:
    record = store.read(name)
    return [k for k in (record.data if record else {}) if k.startswith(kind + ".")]


def test_expired_entries_are_pruned_by_the_next_write(make_ledger, store, clock):
    ledger = make_ledger(cfg=SafetyConfig(idempotency_ttl=7200, chain_window=3600, workload_shards=1))
    ledger.complete(ledger.reserve(request("old:restart", cooldown=600, workload=deployment("a"))))
    ledger.reserve(request("dead:restart", lease=60, workload=deployment("b")))  # holder crashed
    clock.set(T0 + 7200)
    ledger.complete(ledger.reserve(request("new:restart", workload=deployment("c"))))
    name = "kubeskippy-safety-w-prod-0"
    assert len(keys(store, name, "done")) == 1  # only new:restart
    assert keys(store, name, "lease") == []
    assert keys(store, name, "cool") == []
    assert len(keys(store, name, "chain")) == 1  # only c's fresh action
    assert len(keys(store, "kubeskippy-safety-global", "slot")) == 1  # the two older slots left the window


def test_slots_outside_the_window_are_pruned_when_a_slot_is_taken(ledger, store, clock):
    for i in range(4):
        ledger.complete(ledger.reserve(request(f"p{i}:restart", workload=deployment(f"w{i}"), limit=10)))
    clock.advance(3600)
    ledger.reserve(request("fresh:restart", workload=deployment("fresh"), limit=10))
    assert len(keys(store, "kubeskippy-safety-global", "slot")) == 1  # policy and cluster windows in one


def test_hours_of_busy_healing_stay_under_a_tight_size_guard_thanks_to_pruning(make_ledger, store, clock):
    """3 actions a minute for 4 hours: ~720 steps would need ~200 KiB; an hour's worth fits in 64 KiB."""
    limit = 64 * 1024
    ledger = make_ledger(cfg=SafetyConfig(global_max_actions_per_hour=None, chain_threshold=10**6, workload_shards=1,
                                          idempotency_ttl=3600, chain_window=600, max_record_bytes=limit))
    written = 0
    for minute in range(4 * 60):
        for j in range(3):
            ledger.complete(ledger.reserve(request(f"plan-{minute}-{j}:restart", workload=deployment(f"w{j}"),
                                                   limit=10**6, policy=f"prod/p{j}")))
            written += 1
        clock.advance(60)
    sizes = {n: record_size(store.read(n).data) for n in store.names()}
    assert max(sizes.values()) < limit
    assert written * 250 > limit  # so it is the pruning that kept us under
    # The last hour of executed steps is remembered, nothing older.
    assert len(keys(store, "kubeskippy-safety-w-prod-0", "done")) == 60 * 3


def test_a_write_over_the_size_guard_is_refused_with_a_clear_error(make_ledger, clock):
    ledger = make_ledger(cfg=SafetyConfig(max_record_bytes=4096, global_max_actions_per_hour=None,
                                          chain_threshold=10**6))
    with pytest.raises(PayloadTooLarge) as e:
        for i in range(1000):
            ledger.complete(ledger.reserve(request(f"plan-{i}:restart", limit=10**6)))
            clock.advance(1)
    assert "safety record 'kubeskippy-safety-w-prod-0'" in str(e.value)
    assert "exceeds the limit of 4096 bytes" in str(e.value)


def test_workloads_spread_over_the_configured_shards_of_their_namespace():
    config = SafetyConfig(workload_shards=4)
    names = {workload_record(config, deployment(f"w{i}")) for i in range(200)}
    assert names == set(namespace_records(config, "prod"))
    assert workload_record(config, deployment("w1")) == workload_record(config, deployment("w1"))


def test_sharded_leases_are_all_visible_to_inspection(make_ledger):
    ledger = make_ledger(cfg=SafetyConfig(workload_shards=4))
    for i in range(12):
        ledger.reserve(request(f"p{i}:restart", workload=deployment(f"w{i:02d}"), limit=100))
    assert [v.workload.rsplit("/", 1)[1] for v in ledger.active_leases("prod")] == [f"w{i:02d}" for i in range(12)]


def test_record_names_are_valid_configmap_names_for_any_policy_name():
    import re

    config = SafetyConfig()
    from kubeskippy.safety.records import policy_record
    for policy in ("prod/heal", "a" * 63 + "/" + "b" * 253, "ns/UPPER_case:odd"):
        name = policy_record(config, policy)
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", name) and len(name) <= 253


def test_cluster_scoped_workloads_get_their_own_record():
    from kubeskippy.events.model import ObjectRef

    node = ObjectRef(api_version="v1", kind="Node", name="node-1")
    assert workload_record(SafetyConfig(workload_shards=1), node) == "kubeskippy-safety-w-cluster.scoped-0"
    assert workload_record(SafetyConfig(), node) in namespace_records(SafetyConfig(), None)


def test_a_record_is_measured_in_utf8_bytes_whatever_its_characters():
    assert record_size({"about": "abc", "k": "é"}) == len("about") + 3 + 1 + 2  # é is two bytes
    assert record_size({"about": "abc"}) == 8
    assert record_size({}) == 0


def test_the_package_exports_resolve_to_their_modules_and_load_only_when_named():
    import subprocess
    import sys

    import kubeskippy.safety as safety
    from kubeskippy.safety import ledger, memory_store

    assert safety.Ledger is ledger.Ledger and safety.MemoryStore is memory_store.MemoryStore
    assert all(getattr(safety, name) is not None for name in safety.__all__)
    code = ("import sys, kubeskippy.safety.cas; "
            "print(sorted(m for m in sys.modules if m.startswith('kubeskippy.safety.')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "kubeskippy.safety.ledger" not in loaded and "kubeskippy.safety.cas" in loaded
