"""One lease per workload, idempotent steps, and cooldowns — with exact virtual time."""

from __future__ import annotations

import pytest

from kubeskippy.errors import Refused
from kubeskippy.safety.config import SafetyConfig

from .builders import T0, deployment, request


def reason_of(ledger, req) -> str:
    with pytest.raises(Refused) as e:
        ledger.reserve(req)
    return e.value.reason


def test_a_reservation_holds_the_lease_for_its_duration(ledger, clock):
    clock.advance(5)
    r = ledger.reserve(request(lease=90))
    assert (r.holder, r.reserved_at, r.lease_expires) == ("replica-a", T0 + 5, T0 + 95)
    [lease] = ledger.active_leases("prod")
    assert (lease.workload, lease.holder, lease.step_id) == ("apps/v1/Deployment/prod/web", "replica-a", "plan-1:restart")


def test_another_holder_is_refused_while_the_lease_lives(make_ledger, clock):
    a, b = make_ledger("a"), make_ledger("b")
    a.reserve(request("plan-1:restart", lease=60))
    clock.advance(59.999)
    assert reason_of(b, request("plan-2:scale", lease=60)) == "leased"


def test_a_dead_holders_lease_expires_and_another_holder_takes_over(make_ledger, clock):
    a, b = make_ledger("a"), make_ledger("b")
    a.reserve(request("plan-1:restart", lease=60))  # a crashes: never completes nor aborts
    clock.advance(60)
    r = b.reserve(request("plan-2:scale", lease=60))
    assert r.reserved_at == T0 + 60
    assert [lease.holder for lease in b.active_leases("prod")] == ["b"]


def test_the_same_holder_retrying_the_same_step_waits_for_its_own_lease_to_expire(ledger, clock):
    ledger.reserve(request("plan-1:restart", lease=60))  # crashed mid-action, restarted with the same name
    assert reason_of(ledger, request("plan-1:restart", lease=60)) == "leased"
    clock.advance(60)
    r = ledger.reserve(request("plan-1:restart", lease=60))
    assert r.reserved_at == T0 + 60


def test_a_crashed_reservation_keeps_counting_against_the_rate_limit(ledger, clock):
    ledger.reserve(request("plan-1:restart", lease=60, limit=2))
    clock.advance(60)
    ledger.reserve(request("plan-1:restart", lease=60, limit=2))
    assert ledger.actions_in_window("prod/heal") == 2  # the dead attempt may have acted: count it


def test_different_workloads_have_independent_leases(make_ledger):
    a, b = make_ledger("a"), make_ledger("b")
    a.reserve(request("p1:restart", workload=deployment("web")))
    b.reserve(request("p2:restart", workload=deployment("api")))
    assert [lease.holder for lease in a.active_leases("prod")] == ["b", "a"]  # sorted by workload


def test_complete_releases_the_lease(make_ledger):
    a, b = make_ledger("a"), make_ledger("b")
    a.complete(a.reserve(request("p1:restart")))
    assert a.active_leases("prod") == []
    b.reserve(request("p2:scale"))


def test_a_replayed_step_is_a_duplicate_whoever_replays_it(make_ledger):
    a, b = make_ledger("a"), make_ledger("b")
    a.complete(a.reserve(request("plan-1:restart")))
    assert reason_of(a, request("plan-1:restart")) == "duplicate"
    assert reason_of(b, request("plan-1:restart")) == "duplicate"
    assert a.actions_in_window("prod/heal") == 1


def test_a_duplicate_wins_over_a_live_lease_in_the_reason(make_ledger):
    a, b = make_ledger("a"), make_ledger("b")
    a.complete(a.reserve(request("plan-1:restart")))
    b.reserve(request("plan-2:restart"))
    assert reason_of(a, request("plan-1:restart")) == "duplicate"


def test_an_executed_step_is_remembered_for_the_idempotency_ttl_only(make_ledger, clock):
    ledger = make_ledger(cfg=SafetyConfig(idempotency_ttl=86400))
    ledger.complete(ledger.reserve(request("plan-1:restart")))
    clock.set(T0 + 86400 - 1)
    assert reason_of(ledger, request("plan-1:restart")) == "duplicate"
    clock.set(T0 + 86400)
    ledger.reserve(request("plan-1:restart"))


def test_an_aborted_step_may_run_again_at_once(ledger):
    ledger.abort(ledger.reserve(request("plan-1:restart")))
    ledger.reserve(request("plan-1:restart"))


def test_completing_twice_records_the_action_once(ledger, store):
    r = ledger.reserve(request("plan-1:restart"))
    ledger.complete(r)
    version = store.read("kubeskippy-safety-w-prod-0").version
    ledger.complete(r)
    assert store.read("kubeskippy-safety-w-prod-0").version == version


def test_a_late_completion_does_not_release_the_new_holders_lease(make_ledger, clock):
    a, b = make_ledger("a"), make_ledger("b")
    slow = a.reserve(request("plan-1:restart", lease=30))
    clock.advance(30)
    b.reserve(request("plan-2:restart", lease=30))
    a.complete(slow)  # a acted too slowly: its lease was gone
    assert [lease.holder for lease in b.active_leases("prod")] == ["b"]
    assert reason_of(b, request("plan-1:restart")) == "duplicate"  # but its step is recorded


def test_cooldown_holds_until_exactly_its_end(ledger, clock):
    ledger.complete(ledger.reserve(request("p1:restart", cooldown=300)))
    clock.advance(299.999)
    assert reason_of(ledger, request("p2:restart", cooldown=300)) == "cooldown"
    clock.set(T0 + 300)
    ledger.reserve(request("p2:restart", cooldown=300))


def test_cooldown_starts_at_completion_not_at_reservation(ledger, clock):
    r = ledger.reserve(request("p1:restart", cooldown=300))
    clock.advance(50)
    ledger.complete(r)
    clock.set(T0 + 349)
    assert reason_of(ledger, request("p2:restart", cooldown=300)) == "cooldown"
    clock.set(T0 + 350)
    ledger.reserve(request("p2:restart", cooldown=300))


def test_cooldown_is_per_policy_trigger_and_workload(make_ledger):
    ledger = make_ledger(cfg=SafetyConfig(chain_threshold=10))
    ledger.complete(ledger.reserve(request("p1:restart", cooldown=300)))
    ledger.complete(ledger.reserve(request("p2:restart", cooldown=300, trigger="memory")))
    ledger.complete(ledger.reserve(request("p3:restart", cooldown=300, policy="prod/other")))
    ledger.complete(ledger.reserve(request("p4:restart", cooldown=300, workload=deployment("api"))))
    assert reason_of(ledger, request("p5:restart", cooldown=300)) == "cooldown"


def test_an_aborted_action_starts_no_cooldown(ledger):
    ledger.abort(ledger.reserve(request("p1:restart", cooldown=300)))
    ledger.reserve(request("p2:restart", cooldown=300))


def test_refusals_write_nothing(make_ledger, store):
    a, b = make_ledger("a"), make_ledger("b")
    a.reserve(request("p1:restart"))
    before = {n: store.read(n).version for n in store.names()}
    for _ in range(3):
        with pytest.raises(Refused):
            b.reserve(request("p2:restart"))
    assert {n: store.read(n).version for n in store.names()} == before
