"""Observing actions (diagnostics, notify) are metered apart from the changes they accompany."""

from kubeskippy.clock import ManualClock
from kubeskippy.errors import Refused
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
