"""The rules analyzer on one fixture scenario per root cause: cause, confidence band, plan."""

from __future__ import annotations

import pytest

from kubeskippy.analyze import Planner, RulesAnalyzer
from kubeskippy.analyze.context import ContextGatherer
from kubeskippy.analyze.rules import WEIGHTS
from kubeskippy.events.model import ROOT_CAUSES

from .scenarios import SCENARIOS
from .world import World, policy


def plan_for(name: str, **policy_annotations: str):
    world = World()
    build, expected = SCENARIOS[name]
    finding = build(world)
    planner = Planner(policies={"shop/healing": policy(**policy_annotations)}, cluster=world.cluster(),
                      metrics=world.metrics, clock=world.clock)
    return planner.plan(finding), expected, world


def first_change(plan):
    """The plan's action that changes the cluster (diagnostics always come first)."""
    return next(a for a in plan.actions if a.type not in ("diagnostics", "notify"))


@pytest.mark.parametrize("name", list(SCENARIOS), ids=list(SCENARIOS))
def test_each_scenario_gets_its_cause_confidence_band_and_plan(name):
    plan, expected, _ = plan_for(name)
    assert plan.root_cause.category == expected.cause
    lo, hi = expected.band
    assert lo <= plan.root_cause.confidence <= hi, plan.root_cause
    assert tuple(a.action for a in plan.actions) == expected.actions, (plan.actions, plan.notes, plan.rejected)
    assert plan.analyzer == "rules"
    assert plan.root_cause.explanation
    if expected.cause != "unknown":
        assert plan.root_cause.evidence


def test_every_root_cause_but_unknown_has_a_scenario_and_documented_weights():
    covered = {expected.cause for _, expected in SCENARIOS.values()}
    assert covered == set(ROOT_CAUSES)
    assert set(WEIGHTS) == set(ROOT_CAUSES) - {"unknown"}


def test_memory_leak_explains_when_the_limit_will_be_reached():
    plan, _, _ = plan_for("memory_leak")
    trend = next(e for e in plan.root_cause.evidence if e.kind == "trend")
    # 200 → 440 MiB over 30 min is 8 MiB/min; 72 MiB to go at the end: 9 minutes
    assert trend.details["seconds_to_limit"] == pytest.approx(540.0)
    assert "in about 9 minutes" in plan.root_cause.explanation


def test_memory_leak_restarts_the_pod_not_the_workload():
    plan, _, world = plan_for("memory_leak")
    restart = first_change(plan)
    assert restart.target.kind == "Pod" and restart.type == "restart"
    assert restart.params == {"restartAction": {"strategy": "rolling", "maxConcurrent": 1, "gracePeriodSeconds": 30}}
    assert any("held back" in n and "delete-pod" in n and "raise-memory-limit" in n for n in plan.notes)


def test_rollback_is_aimed_at_the_deployment_with_the_extended_type():
    plan, _, _ = plan_for("crash_loop_after_rollout")
    rollback = first_change(plan)
    assert (rollback.target.kind, rollback.target.name, rollback.type) == ("Deployment", "api", "rollback")
    assert rollback.params == {"custom": "rollback"}


def test_limit_too_low_raises_the_limit_on_the_deployment_and_never_scales():
    plan, _, _ = plan_for("memory_limit_too_low")
    assert first_change(plan).target.kind == "Deployment"
    assert first_change(plan).type == "raise_limit"
    assert "scale-up" not in [a.action for a in plan.actions]


def test_image_pull_failure_never_restarts_even_when_restart_has_the_highest_priority():
    plan, _, _ = plan_for("image_pull_failure")
    assert {a.type for a in plan.actions} <= {"notify", "diagnostics"}


def test_node_pressure_cordons_the_pods_node():
    plan, _, _ = plan_for("node_pressure")
    assert (plan.actions[0].target.kind, plan.actions[0].target.name) == ("Node", "node-1")


def test_unknown_cause_keeps_only_non_mutating_actions_below_the_confidence_threshold():
    plan, _, _ = plan_for("nothing_wrong")
    reasons = {r.suggestion["action"]: r.reason.split(":")[0] for r in plan.rejected}
    assert reasons["restart-pods"] == "low_confidence"
    assert reasons["scale-up"] == "low_confidence"


def test_a_lower_policy_threshold_lets_a_weak_diagnosis_act():
    plan, _, _ = plan_for("crash_loop_config_exit1", **{"kubeskippy.io/min-confidence": "0.3"})
    assert plan.root_cause.confidence < 0.6
    assert [a.action for a in plan.actions] == ["capture-diagnostics", "notify-oncall"]


def test_the_plan_id_is_derived_from_the_finding_so_a_redelivery_gets_the_same_plan():
    first, _, world = plan_for("memory_leak")
    world.clock.advance(5)
    planner = Planner(policies={"shop/healing": policy()}, cluster=world.cluster(), metrics=world.metrics,
                      clock=world.clock)
    again = planner.plan(first.finding)
    assert again.id == first.id
    assert again.created_at == first.created_at + 5
    assert [a.action for a in again.actions] == [a.action for a in first.actions]


def test_without_metrics_a_memory_leak_still_shows_through_long_runs_before_oom():
    world = World()
    deploy = world.deployment()
    rs = world.replicaset(deploy, 1, age=86400, image="shop/api:1.0")
    pod = world.pod(rs, restarts=2, last={"reason": "OOMKilled", "exitCode": 137, "startedAt": world.ts(3000),
                                          "finishedAt": world.ts(900)})
    finding = world.finding(pod)
    ctx = ContextGatherer(cluster=world.cluster(), metrics=None, clock=world.clock).gather(finding)
    diagnosis = RulesAnalyzer().analyze(ctx, policy())
    # OOM after a long run 0.45 + memory trigger 0.05
    assert diagnosis.root_cause.category == "memory_leak"
    assert diagnosis.root_cause.confidence == pytest.approx(0.5)
    assert "metrics: no Metrics port configured" in ctx.gaps


def test_rules_are_deterministic():
    a, _, _ = plan_for("cpu_saturation")
    b, _, _ = plan_for("cpu_saturation")
    assert a.model_dump() == b.model_dump()
