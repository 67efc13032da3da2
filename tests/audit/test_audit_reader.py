"""Reading the trail back: filters, verify (tamper detection) and stats (time to heal)."""

from __future__ import annotations

import json

import pytest

from kubeskippy.audit.memory_sink import MemorySink
from kubeskippy.audit.reader import AuditQuery, find_objects, load_record, load_records
from kubeskippy.audit.recorder import Recorder
from kubeskippy.audit.stats import compute_stats, heal_episodes, summarize_heal
from kubeskippy.audit.verify import verify_records
from kubeskippy.clock import ManualClock
from kubeskippy.errors import InvalidInput
from kubeskippy.events import types as t

from .events import (OTHER_POD, T0, dead_letter, finding, finding_event, healing_action_event, healing_story,
                     outcome_event, plan_event, verification_event)


@pytest.fixture
def trail():
    """Two stories an hour apart (one healed in 90 s, one still open), plus a dead letter and
    two HealingAction transitions."""
    clock = ManualClock(T0)
    sink = MemorySink(clock)
    recorder = Recorder(sink, clock)
    for event in healing_story("fp-web", start=T0, heal_after=90):
        recorder.record(event)
    for event in healing_story("fp-cart", start=T0 + 3600, heal_after=None, target=OTHER_POD):
        recorder.record(event)
    recorder.record(dead_letter(finding_event(finding("fp-cart", at=T0 + 3600, target=OTHER_POD)), code="500"))
    recorder.record(healing_action_event("Pending", "10", at=T0 + 10, event_id="u1"))
    recorder.record(healing_action_event("Succeeded", "12", at=T0 + 20, event_id="u2"))
    return sink


def keys_of(objects):
    return [o.key.split("/", 4)[4] for o in objects]


def test_everything_is_listed_oldest_first(trail):
    objects = find_objects(trail, AuditQuery())
    assert len(objects) == 4 + 3 + 1 + 2
    times = [o.metadata["time"] for o in objects]
    assert times == sorted(times)


def test_a_time_range_keeps_only_records_inside_it(trail):
    objects = find_objects(trail, AuditQuery(start=T0 + 3000, end=T0 + 3601))
    assert keys_of(objects) == [f"dead-letter.io.kubeskippy.finding/f-fp-cart-{int(T0 + 3600)}.json",
                                f"io.kubeskippy.finding/f-fp-cart-{int(T0 + 3600)}.json",
                                f"io.kubeskippy.plan/p-f-fp-cart-{int(T0 + 3600)}.json"]


def test_filters_by_type_target_policy_and_kind(trail):
    assert len(find_objects(trail, AuditQuery(type=t.OUTCOME))) == 2
    assert {o.metadata["target"] for o in find_objects(trail, AuditQuery(target="cart-55f-xyz"))} == {"Pod/shop/cart-55f-xyz"}
    assert len(find_objects(trail, AuditQuery(target="shop/cart-55f-xyz"))) == 4  # finding, dead letter, plan, outcome
    assert find_objects(trail, AuditQuery(target="art-55f-xyz")) == []  # a name, not a substring
    assert len(find_objects(trail, AuditQuery(policy="memory-guard", kind="healing_action"))) == 2
    assert len(find_objects(trail, AuditQuery(kind="dead_letter"))) == 1


def test_an_inverted_range_is_invalid_input(trail):
    with pytest.raises(InvalidInput, match="before its start"):
        find_objects(trail, AuditQuery(start=T0 + 10, end=T0))


def test_verify_passes_an_untouched_trail(trail):
    report = verify_records(trail)
    assert (report.checked, report.ok, report.problems) == (10, True, [])


def test_verify_detects_content_rewritten_without_its_digest(trail):
    victim = find_objects(trail, AuditQuery(type=t.OUTCOME))[0]
    body, _ = trail.get(victim.key)
    forged = body.replace(b'"executed"', b'"blocked"')
    assert forged != body
    trail.tamper(victim.key, forged)
    report = verify_records(trail)
    assert not report.ok
    assert [(p.key, p.status) for p in report.problems] == [(victim.key, "mismatch")]


def test_verify_reports_a_record_without_digest_as_a_problem():
    sink = MemorySink(ManualClock(T0))
    sink.put("2026/11/21/19/x/y.json", b"{}", {"time": "2026-11-21T19:00:00Z"})
    report = verify_records(sink)
    assert [p.status for p in report.problems] == ["missing"]


def test_a_body_that_is_not_a_record_loads_with_an_error_instead_of_raising():
    sink = MemorySink(ManualClock(T0))
    sink.put("k.json", b"not json", {})
    stored = load_record(sink, "k.json")
    assert stored.record is None and "not a JSON audit record" in stored.error


def test_stats_count_actions_by_type_and_outcome(trail):
    stats = compute_stats(load_records(trail, find_objects(trail, AuditQuery())))
    assert dict(stats.actions) == {("restart", "executed"): 2}
    assert dict(stats.records) == {"event": 7, "dead_letter": 1, "healing_action": 2}
    assert dict(stats.dead_letters) == {(t.FINDING, "500"): 1}
    assert dict(stats.healing_action_phases) == {"Pending": 1, "Succeeded": 1}


def test_time_to_heal_runs_from_first_finding_to_first_healthy_verification(trail):
    stats = compute_stats(load_records(trail, find_objects(trail, AuditQuery())))
    [healed, still_open] = stats.episodes
    assert (healed.fingerprint, healed.started_at, healed.healed_at, healed.seconds) == ("fp-web", T0, T0 + 90, 90.0)
    assert (still_open.fingerprint, still_open.healed_at) == ("fp-cart", None)
    assert stats.heal.healed == 1 and stats.heal.open == 1
    assert stats.heal.median == 90.0
    as_json = json.loads(json.dumps(stats.as_dict()))
    assert as_json["time_to_heal"]["max_seconds"] == 90.0


def test_an_unhealthy_verification_does_not_end_an_episode():
    f = finding("fp", at=T0)
    plan, plan_ev = plan_event(f, at=T0 + 1)
    clock = ManualClock(T0)
    sink = MemorySink(clock)
    recorder = Recorder(sink, clock)
    for event in (finding_event(f), plan_ev, outcome_event(plan, at=T0 + 2),
                  verification_event(plan, at=T0 + 60, healthy=False),
                  verification_event(plan, at=T0 + 300, healthy=True)):
        recorder.record(event)
    [episode] = compute_stats(load_records(sink, find_objects(sink, AuditQuery()))).episodes
    assert episode.seconds == 300.0


def test_findings_while_healing_join_the_episode_and_later_ones_open_a_new_one():
    findings = [("fp", T0, "p", "t"), ("fp", T0 + 30, "p", "t"), ("fp", T0 + 500, "p", "t")]
    healthy = [("fp", T0 + 100), ("fp", T0 + 520), ("fp", T0 - 50)]
    episodes = heal_episodes(findings, healthy)
    assert [(e.started_at - T0, e.seconds) for e in episodes] == [(0.0, 100.0), (500.0, 20.0)]


def test_redelivered_outcomes_count_once_even_under_new_event_ids():
    plan, _ = plan_event(finding(at=T0), at=T0)
    clock = ManualClock(T0)
    sink = MemorySink(clock)
    recorder = Recorder(sink, clock)
    event = outcome_event(plan, at=T0 + 2)
    recorder.record(event)
    recorder.record({**event, "id": "republished-copy"})
    stats = compute_stats(load_records(sink, find_objects(sink, AuditQuery())))
    assert stats.actions[("restart", "executed")] == 1
    assert stats.events_by_type[t.OUTCOME] == 2


def test_summary_uses_nearest_rank_percentiles():
    from kubeskippy.audit.stats import HealEpisode

    episodes = [HealEpisode("f", "p", "t", 0.0, float(s)) for s in range(1, 11)] + [HealEpisode("g", "p", "t", 0.0, None)]
    summary = summarize_heal(episodes)
    assert (summary.healed, summary.open, summary.mean, summary.median, summary.p90, summary.max) == (10, 1, 5.5, 5.0, 9.0, 10.0)
    assert summarize_heal([]).median is None
