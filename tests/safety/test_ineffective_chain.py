"""Actions that keep not healing a workload stop further automatic actions there for a while."""

from __future__ import annotations

import json

import pytest

from kubeskippy.errors import Refused
from kubeskippy.safety.config import SafetyConfig

from .builders import T0, deployment, request


@pytest.fixture
def chained(make_ledger):
    return make_ledger(cfg=SafetyConfig(chain_threshold=3, chain_window=3600))


def act(ledger, step: str, **kw) -> None:
    ledger.complete(ledger.reserve(request(step, **kw)))


def test_the_fourth_action_after_three_unhealed_ones_is_refused(chained, clock):
    for i in range(3):
        act(chained, f"p{i}:restart")
        clock.advance(60)
    with pytest.raises(Refused) as e:
        chained.reserve(request("p3:restart"))
    assert e.value.reason == "ineffective_chain"
    assert "resume in 3420s" in str(e.value)


def test_failed_verifications_are_recorded_on_the_chain(chained, store):
    act(chained, "p0:restart")
    chained.record_verification(deployment(), "prod/heal", healthy=False)
    [raw] = [v for k, v in store.read("kubeskippy-safety-w-prod-0").data.items() if k.startswith("chain.")]
    assert [a["evidence"] for a in json.loads(raw.partition(" ")[2])["actions"]] == ["verification"]


def test_a_refinding_marks_the_earlier_actions_as_not_healed(chained, store):
    act(chained, "p0:restart")
    chained.reserve(request("p1:restart"))
    [raw] = [v for k, v in store.read("kubeskippy-safety-w-prod-0").data.items() if k.startswith("chain.")]
    assert [a["evidence"] for a in json.loads(raw.partition(" ")[2])["actions"]] == ["refinding"]


def test_a_healthy_verification_clears_the_chain(chained):
    for i in range(3):
        act(chained, f"p{i}:restart")
        chained.record_verification(deployment(), "prod/heal", healthy=False)
    chained.record_verification(deployment(), "prod/heal", healthy=True)
    chained.reserve(request("p3:restart"))


def test_the_chain_lets_go_when_its_oldest_action_leaves_the_window(chained, clock):
    for i in range(3):
        act(chained, f"p{i}:restart")  # at T0, T0+100, T0+200
        clock.advance(100)
    clock.set(T0 + 3600 - 0.001)
    with pytest.raises(Refused, match="ineffective_chain"):
        chained.reserve(request("p3:restart"))
    clock.set(T0 + 3600)
    chained.reserve(request("p3:restart"))


def test_the_chain_counts_actions_of_every_policy_on_the_workload(chained):
    act(chained, "a:restart", policy="prod/one")
    act(chained, "b:restart", policy="prod/two")
    act(chained, "c:restart", policy="prod/three")
    with pytest.raises(Refused, match="ineffective_chain"):
        chained.reserve(request("d:restart", policy="prod/four"))


def test_other_workloads_are_not_held_back_by_one_workloads_chain(chained):
    for i in range(3):
        act(chained, f"p{i}:restart")
    chained.reserve(request("q:restart", workload=deployment("api")))


def test_aborted_actions_do_not_extend_the_chain(chained):
    for i in range(5):
        chained.abort(chained.reserve(request(f"p{i}:restart")))
    chained.reserve(request("p9:restart"))


def test_a_verification_for_a_workload_never_acted_on_writes_nothing(chained, store):
    chained.record_verification(deployment("quiet"), "prod/heal", healthy=False)
    chained.record_verification(deployment("quiet"), "prod/heal", healthy=True)
    assert store.names() == []
