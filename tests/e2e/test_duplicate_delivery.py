"""Scenario 4: at-least-once delivery at its worst. While a crash loop is healed, the broker
delivers every event three times at once to every subscriber (replies included); afterwards
every event of the scenario is posted twice more, late. Exactly one action may result, and the
audit bucket holds exactly one object per event id."""

from __future__ import annotations

from collections import Counter

import pytest

from kubeskippy.events.types import OUTCOME

from .scenarios import CrashLoopRun, healing_actions_for, pod_deletes, run_crash_loop
from .world import World, read_audit

pytestmark = pytest.mark.slow

COPIES = 3


@pytest.fixture(scope="module")
def replayed(world: World) -> tuple[CrashLoopRun, list]:
    with world.duplicating(COPIES):
        run = run_crash_loop(world, "ledger")
    assert world.mesh is not None
    scenario_events = list({e["id"]: e for e in world.mesh.broker.accepted[run.first_event:]}.values())
    for _ in range(2):  # late redeliveries, after everything settled
        for event in scenario_events:
            world.post(event)
    world.wait_idle()
    world.tick()  # a late verification sweep must not verify (or act) again either
    world.wait_idle()
    return run, scenario_events


def test_every_event_reached_its_subscribers_at_least_three_times(world, replayed):
    run, events = replayed
    delivered = Counter((r.trigger, r.event_id) for r in world.deliveries()
                        if r.status is not None and 200 <= r.status < 300)
    kubeskippy_events = [e for e in events if e["type"].startswith("io.kubeskippy.")]
    assert kubeskippy_events
    for event in kubeskippy_events:
        assert delivered[("audit-all", event["id"])] >= COPIES + 2, event["type"]


def test_the_pod_was_deleted_exactly_once(world, replayed):
    run, _ = replayed
    deletes = pod_deletes(world, run.victim_name)
    assert len(deletes) == 1, deletes
    assert len(healing_actions_for(world, run.victim_name)) == 1
    assert [p["metadata"]["name"] for p in world.pods(run.app)].count(run.replacement["metadata"]["name"]) == 1
    assert len(world.pods(run.app)) == 2  # the replacement was left alone


def test_exactly_one_executed_outcome_exists_for_the_step(world, replayed):
    run, _ = replayed
    executed = {o["id"] for o in world.payloads(OUTCOME)
                if o["target"]["name"] == run.victim_name and o["status"] == "executed"
                and o["action_type"] == "delete"}
    assert len(executed) == 1
    [ha] = healing_actions_for(world, run.victim_name)
    assert ha["status"]["attempts"] == 1


def test_the_bucket_holds_one_object_per_event_id(world, replayed):
    _, events = replayed
    entries = read_audit(world.s3)
    counts = Counter(e.id for e in entries)
    duplicates = {event_id: n for event_id, n in counts.items() if n > 1}
    assert duplicates == {}
    for event in events:
        if event["type"].startswith("io.kubeskippy."):
            assert counts[event["id"]] == 1, event["type"]


def test_no_request_was_refused_and_nothing_was_dead_lettered(world, replayed):
    assert world.denied() == []
    assert world.dead_letters() == []
