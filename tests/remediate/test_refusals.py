"""What remediation refuses, and how: unsupported targets, protected objects, the blast radius,
the ledger's rules, and plans that do not fit their policy."""

from __future__ import annotations

import pytest

from kubeskippy.devcluster import builders as b

from .world import World, plan_for, policy


def _outcome(world: World, pol, target, step):
    return world.remediator().execute(plan_for(pol, target, step)).outcomes[0]


@pytest.mark.parametrize("custom,kind", [
    pytest.param("rollback", "ConfigMap", id="rollback-a-configmap"),
    pytest.param("cordon", "Pod", id="cordon-a-pod"),
    pytest.param("quarantine", "Deployment", id="quarantine-a-deployment"),
    pytest.param("raise_limit", "ConfigMap", id="raise-limit-of-a-configmap"),
])
def test_an_action_on_a_kind_it_cannot_handle_is_refused_as_unsupported_target(world, custom, kind):
    pol = world.add_policy(policy(actions=[{"name": "act", "type": "custom"}]))
    world.deployment(replicas=1)
    if kind == "ConfigMap":
        world.cluster.create(b.configmap("settings"))
        target = world.get("v1", "ConfigMap", "settings")
    elif kind == "Pod":
        target = world.pods()[0]
    else:
        target = world.get("apps/v1", "Deployment", "web")
    params = {"custom": custom}
    if custom == "raise_limit":
        params.update(resource="memory", percent=10, max="1Gi")
    outcome = _outcome(world, pol, target, ("act", "custom", params))
    assert (outcome.status, outcome.reason) == ("blocked", "unsupported_target")
    assert kind in outcome.message
    assert world.healing_actions() == []


def test_restart_of_a_configmap_and_delete_of_a_node_are_unsupported(world):
    pol = world.add_policy(policy(actions=[{"name": "r", "type": "restart"}, {"name": "d", "type": "delete"}]))
    world.controller.reconcile()
    world.cluster.create(b.configmap("settings"))
    assert _outcome(world, pol, world.get("v1", "ConfigMap", "settings"), ("r", "restart", {})).reason == \
        "unsupported_target"
    assert _outcome(world, pol, world.get("v1", "Node", "devcluster-node-1", None), ("d", "delete", {})).reason == \
        "unsupported_target"


@pytest.mark.parametrize("how", ["label-on-target", "annotation-on-owner", "namespace-label", "policy-rule",
                                 "system-namespace"])
def test_protected_objects_are_refused_before_anything_is_written(world, how):
    ns = "kube-system" if how == "system-namespace" else "shop"
    world.cluster.create(b.namespace(ns))
    pol = world.add_policy(policy(namespace="shop", safety={"protectedResources": [
        {"apiVersion": "apps/v1", "kind": "Deployment", "excludeNames": ["web*"]}]} if how == "policy-rule" else None))
    world.deployment(namespace=ns, replicas=2)
    if how == "label-on-target":
        world.cluster.patch("apps/v1", "Deployment", "web", ns, {"metadata": {"labels": {
            "kubeskippy.io/protected": "true"}}}, patch_type="merge")
    elif how == "annotation-on-owner":
        world.cluster.patch("apps/v1", "Deployment", "web", ns, {"metadata": {"annotations": {
            "kubeskippy.io/healing-disabled": "incident-42"}}}, patch_type="merge")
    elif how == "namespace-label":
        world.cluster.patch("v1", "Namespace", ns, None, {"metadata": {"labels": {
            "kubeskippy.io/protected": "true"}}}, patch_type="merge")
    target = world.pods(ns)[0] if how == "annotation-on-owner" else world.get("apps/v1", "Deployment", "web", ns)
    outcome = _outcome(world, pol, target, ("restart-it", "restart", {}))
    assert (outcome.status, outcome.reason) == ("blocked", "protected")
    assert world.healing_actions() == [] and world.ledger.actions_in_window() == 0
    world.controller.settle()
    assert len(world.cluster.list("apps/v1", "ReplicaSet", ns)) == 1


def test_blast_radius_refuses_taking_too_many_ready_pods_down_at_once(world):
    pol = world.add_policy(policy(actions=[{"name": "restart-it", "type": "restart",
                                            "restartAction": {"strategy": "recreate", "maxConcurrent": 2}}]))
    dep = world.deployment(replicas=3)
    outcome = _outcome(world, pol, dep, ("restart-it", "restart", {}))
    assert (outcome.status, outcome.reason) == ("blocked", "blast_radius")
    (ha,) = world.healing_actions()
    assert ha["status"]["phase"] == "Cancelled"
    assert len(world.pods()) == 3


def test_the_ledger_cooldown_blocks_a_second_plan_for_the_same_trigger_and_workload(world):
    pol = world.add_policy(policy())
    dep = world.deployment(replicas=3)
    rem = world.remediator()
    assert rem.execute(plan_for(pol, dep, ("restart-it", "restart", {}))).outcomes[0].status == "executed"
    world.clock.advance(299)
    second = rem.execute(plan_for(pol, dep, ("restart-it", "restart", {}))).outcomes[0]
    assert (second.status, second.reason) == ("blocked", "cooldown")
    world.clock.advance(1)
    assert rem.execute(plan_for(pol, dep, ("restart-it", "restart", {}))).outcomes[0].status == "executed"


def test_a_planned_action_missing_from_the_policy_is_blocked(world):
    pol = world.add_policy(policy())
    dep = world.deployment(replicas=1)
    outcome = _outcome(world, pol, dep, ("delete-everything", "delete", {}))
    assert (outcome.status, outcome.reason) == ("blocked", "not_in_policy")


def test_bad_parameters_fail_the_step_with_the_parameter_named(world):
    pol = world.add_policy(policy(actions=[{"name": "scale", "type": "scale",
                                            "scaleAction": {"direction": "up", "replicas": 1}}]))
    dep = world.deployment(replicas=1)
    outcome = _outcome(world, pol, dep, ("scale", "scale", {"replicas": "many", "colour": "red"}))
    assert (outcome.status, outcome.reason) == ("failed", "invalid_params")
    assert "params.replicas" in outcome.message and "params.colour" in outcome.message


def test_a_step_failed_on_its_parameters_still_carries_the_plans_attribution_for_learning(world):
    pol = world.add_policy(policy(actions=[{"name": "scale", "type": "scale",
                                            "scaleAction": {"direction": "up", "replicas": 1}}]))
    dep = world.deployment(replicas=1)
    plan = plan_for(pol, dep, ("scale", "scale", {"replicas": "many"}))
    [outcome] = world.remediator().execute(plan).outcomes
    assert (outcome.status, outcome.reason) == ("failed", "invalid_params")
    assert outcome.attribution is not None
    assert (outcome.attribution.root_cause, outcome.attribution.action_kind) == (plan.root_cause.category, "scale")


def test_a_plan_for_an_unknown_policy_fails_each_step(world):
    pol = policy(name="gone")
    dep = world.deployment(replicas=1)
    outcome = _outcome(world, pol, dep, ("restart-it", "restart", {}))
    assert (outcome.status, outcome.reason) == ("failed", "policy_not_found")


def test_a_target_that_vanished_fails_the_step(world):
    pol = world.add_policy(policy())
    dep = world.deployment(replicas=1)
    world.cluster.delete("apps/v1", "Deployment", "web", "default")
    outcome = _outcome(world, pol, dep, ("restart-it", "restart", {}))
    assert (outcome.status, outcome.reason) == ("failed", "target_not_found")
