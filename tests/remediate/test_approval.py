"""Approvals: by CLI-style compare-and-swap or a plain kubectl patch of status.approval;
executed exactly once however many update events arrive; rejections; expiry."""

from __future__ import annotations

import pytest

from kubeskippy.errors import Refused
from kubeskippy.remediate import decide_approval

from .world import World, plan_for, policy


def _pending(world: World, **remediator_kw):
    pol = world.add_policy(policy(mode="manual"))
    dep = world.deployment(replicas=3)
    plan = plan_for(pol, dep, ("restart-it", "restart", {}))
    rem = world.remediator(**remediator_kw)
    assert rem.execute(plan).outcomes[0].status == "pending_approval"
    (ha,) = world.healing_actions()
    return rem, plan, ha


def _kubectl_patch_approval(world: World, ha: dict, approval: dict) -> dict:
    """What ``kubectl patch ha NAME --subresource=status --type=merge -p ...`` does."""
    return world.cluster.patch("kubeskippy.io/v1alpha1", "HealingAction", ha["metadata"]["name"], "default",
                               {"status": {"approval": approval}}, patch_type="merge", subresource="status")


def _rollouts(world: World) -> int:
    world.controller.settle()
    return len(world.cluster.list("apps/v1", "ReplicaSet", "default")) - 1


def test_an_approval_by_kubectl_patch_executes_exactly_once_despite_repeated_update_events(world):
    rem, plan, ha = _pending(world)
    world.clock.advance(60)
    updated = _kubectl_patch_approval(world, ha, {"approved": True, "approvedBy": "alice", "reason": "looks right"})
    first = rem.on_healing_action_update(updated)
    assert [o.status for o in first.outcomes] == ["executed"]
    # the same event redelivered, the echo of our own writes, another replica seeing it: nothing more
    for obj in [updated, *world.healing_actions()]:
        assert rem.on_healing_action_update(obj).outcomes == []
        assert world.remediator("replica-2").on_healing_action_update(obj).outcomes == []
    assert _rollouts(world) == 1
    (done,) = world.healing_actions()
    assert done["status"]["phase"] == "Succeeded"
    approved = next(c for c in done["status"]["conditions"] if c["type"] == "Approved")
    assert approved["status"] == "True" and "alice" in approved["message"]
    # the plan redelivered after all that replays the executed outcome
    assert rem.execute(plan).outcomes == first.outcomes


def test_an_approval_through_decide_approval_records_who_and_when(world):
    rem, _, ha = _pending(world)
    world.clock.advance(5)
    after = decide_approval(world.cluster, world.clock, ha, approve=True, by="bob", reason="ok")
    assert after["status"]["approval"] == {"required": True, "approved": True, "approvedBy": "bob",
                                           "approvedAt": "2023-11-14T22:13:25.000Z", "reason": "ok"}
    assert rem.on_healing_action_update(after).outcomes[0].status == "executed"
    with pytest.raises(Refused) as err:
        decide_approval(world.cluster, world.clock, after, approve=False, by="carol")
    assert err.value.reason == "not_pending"


def test_a_rejection_cancels_without_acting(world):
    rem, _, ha = _pending(world)
    updated = _kubectl_patch_approval(world, ha, {"approved": False, "approvedBy": "alice", "reason": "not now"})
    result = rem.on_healing_action_update(updated)
    assert [(o.status, o.reason) for o in result.outcomes] == [("cancelled", "rejected")]
    assert "alice" in result.outcomes[0].message and "not now" in result.outcomes[0].message
    (ha,) = world.healing_actions()
    assert ha["status"]["phase"] == "Cancelled"
    assert _rollouts(world) == 0 and world.ledger.actions_in_window() == 0
    assert rem.on_healing_action_update(ha).outcomes == []


def test_an_unsigned_approved_false_is_still_undecided(world):
    rem, _, ha = _pending(world)
    updated = _kubectl_patch_approval(world, ha, {"approved": False})
    assert rem.on_healing_action_update(updated).outcomes == []
    assert world.healing_actions()[0]["status"]["phase"] == "Pending"


def test_pending_approvals_expire_to_cancelled_at_their_deadline(world):
    rem, _, ha = _pending(world, approval_timeout=600)
    assert ha["metadata"]["annotations"]["kubeskippy.io/approval-expires-at"] == "2023-11-14T22:23:20.000Z"
    world.clock.advance(599)
    assert rem.expire_approvals() == []
    world.clock.advance(1)
    (outcome,) = rem.expire_approvals()
    assert (outcome.status, outcome.reason) == ("cancelled", "approval_expired")
    assert rem.expire_approvals() == []
    # an approval arriving too late does nothing
    late = _kubectl_patch_approval(world, world.healing_actions()[0], {"approved": True, "approvedBy": "alice"})
    assert rem.on_healing_action_update(late).outcomes == []
    assert _rollouts(world) == 0


def test_an_approved_action_still_honours_protection_checked_at_approval_time(world):
    rem, _, ha = _pending(world)
    world.cluster.patch("apps/v1", "Deployment", "web", "default",
                        {"metadata": {"labels": {"kubeskippy.io/protected": "true"}}}, patch_type="merge")
    updated = _kubectl_patch_approval(world, ha, {"approved": True, "approvedBy": "alice"})
    result = rem.on_healing_action_update(updated)
    assert [(o.status, o.reason) for o in result.outcomes] == [("blocked", "protected")]
    assert _rollouts(world) == 0


def test_a_person_may_approve_what_the_blast_radius_rule_would_refuse_automatically(world):
    pol = world.add_policy(policy(mode="automatic", actions=[{"name": "restart-it", "type": "restart",
                                                              "restartAction": {"strategy": "recreate"}}]))
    world.deployment(replicas=1)
    pod = world.pods()[0]
    plan = plan_for(pol, pod, ("restart-it", "restart", {}))
    assert world.remediator().execute(plan).outcomes[0].reason == "blast_radius"

    world.policies.clear()
    manual = world.add_policy(policy(name="heal-manual", mode="manual", actions=[{
        "name": "restart-it", "type": "restart", "restartAction": {"strategy": "recreate"}}]))
    plan = plan_for(manual, pod, ("restart-it", "restart", {}))
    rem = world.remediator()
    assert rem.execute(plan).outcomes[0].status == "pending_approval"
    ha = next(h for h in world.healing_actions() if h["status"]["phase"] == "Pending")
    updated = _kubectl_patch_approval(world, ha, {"approved": True, "approvedBy": "alice"})
    assert rem.on_healing_action_update(updated).outcomes[0].status == "executed"
    assert pod["metadata"]["name"] not in [p["metadata"]["name"] for p in world.pods()]


def test_updates_of_objects_kubeskippy_does_not_manage_are_ignored(world):
    rem, _, ha = _pending(world)
    foreign = {**ha, "metadata": {**ha["metadata"], "labels": {}}}
    assert rem.on_healing_action_update(foreign).empty


def test_an_approved_steps_outcome_carries_the_plans_attribution_for_learning(world):
    rem, plan, ha = _pending(world)
    updated = _kubectl_patch_approval(world, ha, {"approved": True, "approvedBy": "alice"})
    [outcome] = world.remediator("replica-2").on_healing_action_update(updated).outcomes  # no plan in hand
    assert outcome.status == "executed"
    assert outcome.attribution is not None
    assert (outcome.attribution.workload, outcome.attribution.root_cause, outcome.attribution.action_kind) == \
        (plan.finding.workload, plan.root_cause.category, "restart")
