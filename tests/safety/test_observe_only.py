"""Observing actions (diagnostics, notify) are metered apart from the changes they accompany."""

from kubeskippy.clock import ManualClock
from kubeskippy.errors import InvalidInput, Refused
from kubeskippy.events.model import ObjectRef
from kubeskippy.safety import Ledger, MemoryStore, SafetyConfig
from kubeskippy.safety.contract import ActionRequest

WEB = ObjectRef(api_version="apps/v1", kind="Deployment", name="web", namespace="shop")


def request(step: str, *, observe: bool, limit: int = 1) -> ActionRequest:
    return ActionRequest(step_id=step, policy="shop/heal", trigger="crash", target=WEB, workload=WEB,
                         action_type="diagnostics" if observe else "restart", max_actions_per_hour=limit,
                         cooldown=300, lease_duration=60, observe_only=observe)


def ledger(clock: ManualClock, store: MemoryStore) -> Ledger:
    return Ledger(store, clock, SafetyConfig(chain_threshold=2), holder="r1", sleep=lambda s: None)


def test_an_observing_action_takes_no_rate_slot_and_does_not_start_the_changes_cooldown():
    clock, store = ManualClock(), MemoryStore()
    led = ledger(clock, store)
    led.complete(led.reserve(request("diag", observe=True)))
    led.complete(led.reserve(request("restart", observe=False)))  # limit 1: still free
    assert led.actions_in_window("shop/heal") == 1


def test_observing_actions_cool_down_on_their_own_key():
    clock, store = ManualClock(), MemoryStore()
    led = ledger(clock, store)
    led.complete(led.reserve(request("diag-1", observe=True)))
    try:
        led.reserve(request("diag-2", observe=True))
        raise AssertionError("a second capture within the cooldown must be refused")
    except Refused as e:
        assert e.reason == "cooldown"
    clock.advance(300)
    led.complete(led.reserve(request("diag-3", observe=True)))


def test_an_ineffective_chain_blocks_changes_but_not_diagnostics_and_is_not_extended_by_them():
    clock, store = ManualClock(), MemoryStore()
    led = ledger(clock, store)
    for i in range(2):
        led.complete(led.reserve(request(f"restart-{i}", observe=False, limit=10)))
        clock.advance(301)
    try:
        led.reserve(request("restart-3", observe=False, limit=10))
        raise AssertionError("two unhealed changes reach the chain threshold of 2")
    except Refused as e:
        assert e.reason == "ineffective_chain"
    led.complete(led.reserve(request("diag", observe=True)))


def test_an_observation_already_made_is_recorded_in_one_write_and_leaves_no_lease():
    clock, store = ManualClock(), MemoryStore()
    led = ledger(clock, store)
    led.record_observed(request("diag-1", observe=True))
    assert store.stats.creates + store.stats.replaces == 1 and led.active_leases("shop") == []
    try:  # what complete() records: the step (duplicate) and the observe cooldown
        led.record_observed(request("diag-1", observe=True))
        raise AssertionError("the same step twice is a duplicate")
    except Refused as e:
        assert e.reason == "duplicate"
    try:
        led.reserve(request("diag-2", observe=True))
        raise AssertionError("the recorded observation started its cooldown")
    except Refused as e:
        assert e.reason == "cooldown"
    led.complete(led.reserve(request("restart", observe=False)))  # a change's own key is free


def test_an_observation_is_refused_while_another_holder_leases_the_workload_and_records_nothing():
    clock, store = ManualClock(), MemoryStore()
    other = Ledger(store, clock, SafetyConfig(chain_threshold=2), holder="r2", sleep=lambda s: None)
    held = other.reserve(request("restart", observe=False))
    led = ledger(clock, store)
    try:
        led.record_observed(request("diag", observe=True))
        raise AssertionError("a live lease refuses everyone, as reserve() does")
    except Refused as e:
        assert e.reason == "leased"
    other.complete(held)
    led.record_observed(request("diag", observe=True))  # nothing of the refused attempt is in the way


def test_only_an_observe_only_action_can_be_recorded_after_the_fact():
    led = ledger(ManualClock(), MemoryStore())
    try:
        led.record_observed(request("restart", observe=False))
        raise AssertionError("a change must reserve before it acts")
    except InvalidInput as e:
        assert [f.path for f in e.errors] == ["observe_only"]
