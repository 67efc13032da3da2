"""Every rejection rule of the guard, with the reason recorded."""

from __future__ import annotations

import pytest

from kubeskippy.analyze import Diagnosis, Planner, Suggestion
from kubeskippy.analyze.context import AnalysisContext
from kubeskippy.analyze.guard import REJECTION_REASONS, guard
from kubeskippy.events.model import Finding, ObjectRef, RootCause
from kubeskippy.policy.model import HealingPolicy

from .scenarios import memory_leak
from .world import POLICY_YAML, World, policy


class ScriptedAnalyzer:
    """Returns a fixed diagnosis: lets a test put any suggestion in front of the guard."""

    name = "scripted"

    def __init__(self, cause: str, confidence: float, *suggestions: Suggestion) -> None:
        self.cause, self.confidence, self.suggestions = cause, confidence, suggestions

    def analyze(self, context, policy):
        return Diagnosis(RootCause(category=self.cause, confidence=self.confidence, explanation="scripted"),
                         self.suggestions, self.name)


def run(*suggestions: Suggestion, cause="memory_leak", confidence=0.9, pol: HealingPolicy | None = None,
        world: World | None = None, finding: Finding | None = None):
    world = world or World()
    finding = finding or memory_leak(world)
    planner = Planner(policies={"shop/healing": pol or policy()}, cluster=world.cluster(), metrics=world.metrics,
                      clock=world.clock, analyzer=ScriptedAnalyzer(cause, confidence, *suggestions), max_changes=10)
    return planner.plan(finding), finding


def reasons(plan) -> list[str]:
    return [r.reason.split(":")[0] for r in plan.rejected]


def pod_ref(finding) -> ObjectRef:
    return finding.target


def deploy_ref(finding) -> ObjectRef:
    return finding.workload


def test_an_action_outside_the_policy_menu_is_rejected():
    plan, _ = run(Suggestion(action="drain-cluster"))
    assert plan.actions == [] and reasons(plan) == ["not_in_policy"]
    assert plan.rejected[0].suggestion == {"action": "drain-cluster"}


def test_a_stated_type_that_disagrees_with_the_policy_is_rejected():
    plan, _ = run(Suggestion(action="restart-pods", type="delete"))
    assert reasons(plan) == ["type_mismatch"]


def test_an_action_forbidden_for_the_cause_is_rejected():
    plan, _ = run(Suggestion(action="restart-pods"), cause="image_pull_failure")
    assert reasons(plan) == ["forbidden_for_cause"]


def test_a_target_outside_the_owner_chain_is_rejected():
    plan, f = run(Suggestion(action="restart-pods", target=ObjectRef(api_version="v1", kind="Pod", name="payments-0",
                                                                     namespace="shop")))
    assert reasons(plan) == ["target_out_of_scope"]


def test_a_same_named_object_in_another_namespace_is_out_of_scope():
    world = World()
    f = memory_leak(world)
    other = f.target.model_copy(update={"namespace": "billing"})
    plan, _ = run(Suggestion(action="restart-pods", target=other), world=world, finding=f)
    assert reasons(plan) == ["target_out_of_scope"]


@pytest.mark.parametrize("action, target", [("scale-up", "pod"), ("rollback-deployment", "pod"), ("restart-pods", "node")])
def test_an_action_on_an_unsuitable_kind_is_rejected(action, target):
    world = World()
    f = memory_leak(world)
    ref = f.target if target == "pod" else ObjectRef(api_version="v1", kind="Node", name="node-1")
    plan, _ = run(Suggestion(action=action, target=ref), world=world, finding=f)
    assert reasons(plan) == ["target_kind_unsuitable" if target == "pod" else "target_out_of_scope"]


def test_nothing_is_planned_in_a_protected_namespace():
    world = World(namespace="kube-system")
    f = memory_leak(world)
    plan, _ = run(Suggestion(action="restart-pods"), world=world, finding=f)
    assert reasons(plan) == ["protected"] and "kube-system" in plan.rejected[0].reason


def test_a_protected_label_on_an_owner_protects_the_pod():
    world = World()
    f = memory_leak(world)
    world.objects[0]["metadata"]["labels"]["kubeskippy.io/protected"] = "true"  # the Deployment
    plan, _ = run(Suggestion(action="restart-pods"), world=world, finding=f)
    assert reasons(plan) == ["protected"] and "Deployment/api" in plan.rejected[0].reason


def test_deleting_a_persistent_volume_claim_is_never_planned():
    pvc = ObjectRef(api_version="v1", kind="PersistentVolumeClaim", name="data", namespace="shop")
    finding = Finding(id="f1", policy="shop/healing", trigger="full", trigger_type="condition", target=pvc,
                      fingerprint="fp", observed_at=0.0)
    ctx = AnalysisContext(finding=finding, now=0.0)
    diagnosis = Diagnosis(RootCause(category="unknown", confidence=0.99, explanation=""),
                          (Suggestion(action="delete-pod", target=pvc),), "scripted")
    result = guard(diagnosis, ctx, policy())
    assert result.accepted == [] and result.rejected[0].reason.startswith("forbidden_delete")


@pytest.mark.parametrize("action, params, reason", [
    ("scale-up", {"patch": '{"spec": {"replicas": 100}}'}, "param_not_allowed"),
    ("raise-memory-limit", {"max": "64Gi"}, "param_not_allowed"),
    ("scale-up", {"percent": 10}, "param_not_allowed"),
    ("restart-pods", {"resource": "memory"}, "param_not_allowed"),
    ("scale-up", {"replicas": -1}, "bad_param"),
    ("scale-up", {"replicas": "10"}, "bad_param"),
    ("scale-up", {"replicas": True}, "bad_param"),
    ("raise-memory-limit", {"percent": float("nan")}, "bad_param"),
    ("raise-memory-limit", {"resource": "disk"}, "bad_param"),
])
def test_only_a_few_well_typed_overrides_are_accepted_on_the_kind_they_fit(action, params, reason):
    plan, f = run(Suggestion(action=action, target=None, params=params), cause="cpu_saturation")
    assert reasons(plan) == [reason]


def test_scaling_beyond_the_policys_bounds_is_rejected():
    plan, _ = run(Suggestion(action="scale-up", params={"replicas": 10}), cause="cpu_saturation")
    assert reasons(plan) == ["scale_out_of_bounds"]
    assert "2 -> 12" in plan.rejected[0].reason


def test_scaling_within_bounds_is_accepted_with_the_override():
    plan, _ = run(Suggestion(action="scale-up", params={"replicas": 2}), cause="cpu_saturation")
    assert plan.actions[0].params["replicas"] == 2
    assert plan.actions[0].params["scaleAction"]["maxReplicas"] == 5


def test_a_limit_increase_beyond_the_cap_is_rejected():
    plan, _ = run(Suggestion(action="raise-memory-limit", params={"percent": 500}), cause="memory_limit_too_low")
    assert reasons(plan) == ["limit_increase_over_cap"]
    ok, _ = run(Suggestion(action="raise-memory-limit", params={"percent": 80}), cause="memory_limit_too_low")
    assert [a.action for a in ok.actions] == ["raise-memory-limit"]


def test_the_cap_follows_the_policy_annotation():
    pol = policy(**{"kubeskippy.io/max-limit-increase-percent": "20"})
    plan, _ = run(Suggestion(action="raise-memory-limit"), cause="memory_limit_too_low", pol=pol)
    # the policy's own custom-actions percent is 50, over its own 20 % cap
    assert reasons(plan) == ["limit_increase_over_cap"]


def test_a_patch_that_raises_a_limit_past_the_cap_is_rejected():
    import yaml
    doc = yaml.safe_load(POLICY_YAML)
    doc["spec"]["actions"].append({"name": "bump-memory", "type": "patch", "priority": 60, "patchAction": {
        "type": "strategic",
        "patch": "spec:\n  template:\n    spec:\n      containers:\n        - name: app\n          resources:\n"
                 "            limits:\n              memory: 4Gi\n"}})
    pol = HealingPolicy.model_validate(doc)
    plan, _ = run(Suggestion(action="bump-memory"), cause="memory_limit_too_low", pol=pol)
    assert reasons(plan) == ["limit_increase_over_cap"] and "4.29497e+09" in plan.rejected[0].reason
    doc["spec"]["actions"][-1]["patchAction"]["patch"] = doc["spec"]["actions"][-1]["patchAction"]["patch"].replace("4Gi", "768Mi")
    plan, _ = run(Suggestion(action="bump-memory"), cause="memory_limit_too_low", pol=HealingPolicy.model_validate(doc))
    assert [a.action for a in plan.actions] == ["bump-memory"] and plan.actions[0].type == "patch"


def test_mutating_actions_need_the_policys_confidence_but_notifications_do_not():
    pol = policy(**{"kubeskippy.io/min-confidence": "0.8"})
    plan, _ = run(Suggestion(action="restart-pods"), Suggestion(action="notify-oncall"), confidence=0.79, pol=pol)
    assert reasons(plan) == ["low_confidence"] and [a.action for a in plan.actions] == ["notify-oncall"]
    assert "0.79" in plan.rejected[0].reason and "0.80" in plan.rejected[0].reason


def test_a_malformed_confidence_annotation_fails_closed_and_names_the_field():
    pol = policy(**{"kubeskippy.io/min-confidence": "high"})
    plan, _ = run(Suggestion(action="restart-pods"), confidence=0.99, pol=pol)
    assert reasons(plan) == ["low_confidence"]
    assert "metadata.annotations[kubeskippy.io/min-confidence]" in plan.rejected[0].reason


def test_the_same_action_on_the_same_target_is_planned_once():
    plan, _ = run(Suggestion(action="restart-pods"), Suggestion(action="restart-pods"))
    assert [a.action for a in plan.actions] == ["restart-pods"] and reasons(plan) == ["duplicate"]


def test_approval_comes_from_the_policy_and_reasons_are_cleaned():
    import yaml
    doc = yaml.safe_load(POLICY_YAML)
    doc["spec"]["actions"][0]["requiresApproval"] = True
    plan, _ = run(Suggestion(action="restart-pods", reason="restart\x1b[31m now\u202e" + "x" * 500),
                  pol=HealingPolicy.model_validate(doc))
    action = plan.actions[0]
    assert action.requires_approval is True
    assert "\x1b" not in action.reason and "\u202e" not in action.reason and len(action.reason) <= 300


def test_every_documented_reason_is_exercised_here():
    import inspect, sys
    source = inspect.getsource(sys.modules[__name__])
    assert all(f'"{r}"' in source for r in REJECTION_REASONS)
