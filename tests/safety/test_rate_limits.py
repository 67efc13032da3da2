"""Sliding-window rate limits: per policy and cluster-wide, counted at reservation."""

from __future__ import annotations

import pytest

from kubeskippy.errors import InvalidInput, Refused
from kubeskippy.safety.config import SafetyConfig

from .builders import T0, deployment, request


def fill(ledger, count: int, *, limit: int = 3, policy: str = "prod/heal", prefix: str = "p"):
    """Reserve and complete ``count`` actions on distinct workloads; returns the reservations."""
    done = []
    for i in range(count):
        r = ledger.reserve(request(f"{prefix}{i}:restart", workload=deployment(f"{prefix}w{i}"), limit=limit,
                                   policy=policy))
        ledger.complete(r)
        done.append(r)
    return done


def test_the_policy_limit_refuses_the_action_after_the_last_slot(ledger):
    fill(ledger, 3)
    with pytest.raises(Refused) as e:
        ledger.reserve(request("p3:restart", workload=deployment("other"), limit=3))
    assert e.value.reason == "rate_limited"
    assert ledger.actions_in_window("prod/heal") == 3


def test_a_slot_frees_exactly_one_window_after_it_was_taken(ledger, clock):
    fill(ledger, 1)  # at T0
    clock.advance(600)
    fill(ledger, 2, prefix="q")  # at T0 + 600
    clock.set(T0 + 3600 - 0.001)
    with pytest.raises(Refused, match="rate_limited"):
        ledger.reserve(request("late:restart", workload=deployment("late"), limit=3))
    clock.set(T0 + 3600)
    ledger.reserve(request("late:restart", workload=deployment("late"), limit=3))
    assert ledger.actions_in_window("prod/heal") == 3


def test_the_refusal_says_when_the_next_slot_frees(ledger, clock):
    fill(ledger, 3)
    clock.advance(1000)
    with pytest.raises(Refused, match=r"next slot frees in 2600s"):
        ledger.reserve(request("x:restart", workload=deployment("x"), limit=3))


def test_a_reserved_but_unfinished_action_already_counts(ledger):
    ledger.reserve(request("a:restart", workload=deployment("a"), limit=1))
    with pytest.raises(Refused, match="rate_limited"):
        ledger.reserve(request("b:restart", workload=deployment("b"), limit=1))


def test_abort_gives_the_slot_back(ledger):
    r = ledger.reserve(request("a:restart", workload=deployment("a"), limit=1))
    ledger.abort(r)
    assert ledger.actions_in_window("prod/heal") == 0
    assert ledger.actions_in_window() == 0
    ledger.reserve(request("b:restart", workload=deployment("b"), limit=1))


def test_abort_after_complete_keeps_the_slot_because_the_action_happened(ledger):
    r = ledger.reserve(request("a:restart", limit=1))
    ledger.complete(r)
    ledger.abort(r)
    assert ledger.actions_in_window("prod/heal") == 1


def test_policies_have_separate_windows(ledger):
    fill(ledger, 3, policy="prod/one")
    fill(ledger, 3, policy="prod/two", prefix="t")
    assert ledger.actions_in_window("prod/one") == 3
    assert ledger.actions_in_window("prod/two") == 3
    assert ledger.actions_in_window() == 6


def test_the_global_cap_stops_all_policies_together(make_ledger):
    ledger = make_ledger(cfg=SafetyConfig(global_max_actions_per_hour=4))
    fill(ledger, 2, policy="prod/one", limit=10)
    fill(ledger, 2, policy="prod/two", limit=10, prefix="t")
    with pytest.raises(Refused) as e:
        ledger.reserve(request("z:restart", workload=deployment("z"), policy="prod/three", limit=10))
    assert e.value.reason == "global_rate_limited"


def test_a_global_refusal_returns_the_policy_slot_and_the_lease(make_ledger):
    ledger = make_ledger(cfg=SafetyConfig(global_max_actions_per_hour=1))
    fill(ledger, 1, policy="prod/one", limit=10)
    with pytest.raises(Refused, match="global_rate_limited"):
        ledger.reserve(request("z:restart", workload=deployment("z"), policy="prod/two", limit=10))
    assert ledger.actions_in_window("prod/two") == 0
    assert ledger.active_leases("prod") == []


def test_no_global_cap_writes_no_global_record(make_ledger, store):
    ledger = make_ledger(cfg=SafetyConfig(global_max_actions_per_hour=None))
    fill(ledger, 5, limit=10)
    assert "kubeskippy-safety-global" not in store.names()


def test_a_zero_limit_means_the_configured_default_as_in_the_published_api(make_ledger):
    ledger = make_ledger(cfg=SafetyConfig(default_max_actions_per_hour=2))
    fill(ledger, 2, limit=0)
    with pytest.raises(Refused, match="2 of 2"):
        ledger.reserve(request("x:restart", workload=deployment("x"), limit=0))


def test_a_malformed_request_is_rejected_naming_its_fields(ledger):
    bad = request("", lease=0, cooldown=-1, limit=-2)
    with pytest.raises(InvalidInput) as e:
        ledger.reserve(bad)
    paths = {err.path for err in e.value.errors}
    assert paths == {"step_id", "lease_duration", "cooldown", "max_actions_per_hour"}
