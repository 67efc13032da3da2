"""What a decision costs in store requests: every request is an API round trip in production, and
a grant's writes contend with every other replica's, so the ledger must not spend more than it
needs (two reads and three writes for a grant and its completion)."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import pytest

from kubeskippy.errors import Refused
from kubeskippy.safety.config import SafetyConfig
from kubeskippy.safety.ledger import Ledger
from kubeskippy.safety.records import rate_record, workload_record

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


def threads(calls):
    """A fan-out like the functions': every call in its own thread, results in call order."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


@pytest.fixture
def together(store, clock):
    def make(holder: str = "replica-a", cfg: SafetyConfig | None = None) -> Ledger:
        return Ledger(store, clock, cfg or SafetyConfig(), holder, sleep=SleepRecorder(), rng=random.Random(3),
                      fanout=threads)
    return make


def test_with_a_fanout_the_lease_and_the_slot_are_written_together_and_complete_as_before(together, store):
    ledger = together()
    reservation = ledger.reserve(request())
    assert (ledger.actions_in_window("prod/heal"), len(ledger.active_leases("prod"))) == (1, 1)
    ledger.complete(reservation)
    assert ledger.active_leases("prod") == []
    with pytest.raises(Refused, match="duplicate"):
        ledger.reserve(request())


class FirstReadsFrom:
    """A store whose first read of each record answers what it held earlier: the replica looked,
    then another one wrote before its own writes went out."""

    def __init__(self, store, earlier: dict) -> None:
        self.store, self.earlier = store, dict(earlier)

    def read(self, name):
        return self.earlier.pop(name) if name in self.earlier else self.store.read(name)

    def create(self, name, data):
        return self.store.create(name, data)

    def replace(self, name, data, version):
        return self.store.replace(name, data, version)


def looked_earlier(store, clock, cfg: SafetyConfig) -> Ledger:
    names = [workload_record(cfg, deployment()), rate_record(cfg, "prod/heal")]
    return Ledger(FirstReadsFrom(store, {name: store.read(name) for name in names}), clock, cfg, "replica-a",
                  sleep=SleepRecorder(), rng=random.Random(1), fanout=threads)


def test_with_a_fanout_a_lease_lost_to_a_race_gives_its_slot_back(together, store, clock):
    late = looked_earlier(store, clock, SafetyConfig())
    together("replica-b").reserve(request("plan-2:restart"))  # takes the lease after replica-a looked
    with pytest.raises(Refused, match="leased"):
        late.reserve(request())
    assert late.actions_in_window("prod/heal") == 1  # only replica-b's slot: replica-a's was given back
    assert [v.holder for v in late.active_leases("prod")] == ["replica-b"]


def test_with_a_fanout_a_window_filled_by_a_race_releases_the_lease_it_took(together, store, clock):
    cfg = SafetyConfig(global_max_actions_per_hour=1)
    late = looked_earlier(store, clock, cfg)
    together("replica-b", cfg).reserve(request("first:restart", workload=deployment("first")))
    with pytest.raises(Refused, match="global_rate_limited"):
        late.reserve(request())
    assert [v.holder for v in late.active_leases("prod")] == ["replica-b"]  # replica-a's lease undone
    assert late.actions_in_window() == 1
