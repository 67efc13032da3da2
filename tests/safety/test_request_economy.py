"""What a decision costs in store requests: every request is an API round trip in production, and
a grant's writes contend with every other replica's, so the ledger must not spend more than it
needs (two reads and three writes for a grant and its completion)."""

from __future__ import annotations

import random

import pytest

from kubeskippy.errors import Refused
from kubeskippy.safety.config import SafetyConfig
from kubeskippy.safety.ledger import Ledger
from kubeskippy.safety.records import workload_record

from .builders import SleepRecorder, deployment, request


def counts(store) -> tuple[int, int]:
    return store.stats.reads, store.stats.creates + store.stats.replaces


def test_a_grant_and_its_completion_cost_two_reads_and_three_writes(ledger, store):
    ledger.complete(ledger.reserve(request("first:restart", workload=deployment("first"))))  # records exist (same shard as "web")
    assert workload_record(SafetyConfig(), deployment("first")) == workload_record(SafetyConfig(), deployment())
    before = counts(store)
    ledger.complete(ledger.reserve(request("plan-1:restart")))
    reads, writes = (a - b for a, b in zip(counts(store), before))
    assert (reads, writes) == (2, 3)
    assert sorted(store.names()) == ["kubeskippy-safety-global", workload_record(SafetyConfig(), deployment("first"))]


def test_an_abort_right_after_the_reservation_reads_only_to_give_the_slot_back(ledger, store):
    reservation = ledger.reserve(request())
    before = counts(store)
    ledger.abort(reservation)
    reads, writes = (a - b for a, b in zip(counts(store), before))
    assert (reads, writes) == (1, 2)  # lease released from the remembered version; the slot read + written
    assert ledger.actions_in_window("prod/heal") == 0 and ledger.active_leases("prod") == []


def test_completion_after_another_replica_wrote_conflicts_once_and_retries_at_once(make_ledger, store, clock):
    sleep = SleepRecorder()
    a = Ledger(store, clock, SafetyConfig(), "replica-a", sleep=sleep, rng=random.Random(1))
    b = make_ledger("replica-b")
    mine = a.reserve(request("plan-1:restart"))
    b.complete(b.reserve(request("plan-2:restart", workload=deployment("other"))))  # same namespace record
    conflicts = store.stats.conflicts
    a.complete(mine)
    assert store.stats.conflicts == conflicts + 1  # the remembered version was stale
    assert sleep.waits == []  # a stale memory lost no race: no backoff
    with pytest.raises(Refused, match="duplicate"):
        b.reserve(request("plan-1:restart"))


def test_one_write_checks_the_policy_limit_and_the_cluster_cap_together(make_ledger, store):
    ledger = make_ledger(cfg=SafetyConfig(global_max_actions_per_hour=3))
    for i in range(2):
        ledger.complete(ledger.reserve(request(f"a{i}:restart", workload=deployment(f"a{i}"), policy="prod/one",
                                               limit=2)))
    with pytest.raises(Refused) as policy_full:
        ledger.reserve(request("a2:restart", workload=deployment("a2"), policy="prod/one", limit=2))
    ledger.complete(ledger.reserve(request("b0:restart", workload=deployment("b0"), policy="prod/two", limit=5)))
    with pytest.raises(Refused) as cluster_full:
        ledger.reserve(request("b1:restart", workload=deployment("b1"), policy="prod/two", limit=5))
    assert (policy_full.value.reason, cluster_full.value.reason) == ("rate_limited", "global_rate_limited")
    assert "2 of 2 actions already taken for policy prod/one" in str(policy_full.value)
    assert "3 of 3 actions already taken for the cluster" in str(cluster_full.value)
    assert (ledger.actions_in_window("prod/one"), ledger.actions_in_window("prod/two"),
            ledger.actions_in_window()) == (2, 1, 3)
