"""Verification after acting: healthy when pods are ready with no new restarts; unhealthy after
the health-check timeout; kept in the HealingAction so it survives scale-to-zero; fed to the
ledger once."""

from __future__ import annotations

from .world import World, plan_for, policy


def _act(world: World, timeout: str = "2m"):
    pol = world.add_policy(policy(safety={"requireHealthCheck": True, "healthCheckTimeout": timeout}))
    dep = world.deployment(replicas=2)
    result = world.remediator().execute(plan_for(pol, dep, ("restart-it", "restart", {})))
    assert result.outcomes[0].status == "executed"
    return result


def test_an_action_schedules_a_verification_kept_in_the_healing_action(world):
    result = _act(world)
    (ha,) = world.healing_actions()
    assert result.verifications_scheduled == [f"default/{ha['metadata']['name']}"]
    metrics = ha["status"]["result"]["metrics"]
    assert metrics["kubeskippy.io/verification"] == "pending"
    assert metrics["kubeskippy.io/verification-deadline"] == "2023-11-14T22:15:20.000Z"
    assert ha["metadata"]["labels"]["kubeskippy.io/verification"] == "pending"


def test_verification_waits_for_the_rollout_then_reports_healthy_once(world):
    _act(world)
    fresh = world.remediator("replica-after-scale-to-zero")  # nothing carried over in memory
    assert fresh.verify_pending() == []  # rollout not done: the new ReplicaSet has no ready pods yet
    world.controller.settle()
    world.clock.advance(30)
    (v,) = fresh.verify_pending()
    assert v.healthy and v.target.kind == "Deployment" and "2/2 pods ready" in v.detail
    assert v.started_at == 1_700_000_000.0 and v.checked_at == 1_700_000_030.0
    assert fresh.verify_pending() == []
    (ha,) = world.healing_actions()
    assert ha["metadata"]["labels"]["kubeskippy.io/verification"] == "done"
    verified = next(c for c in ha["status"]["conditions"] if c["type"] == "Verified")
    assert verified["status"] == "True"


def test_new_restarts_after_the_action_make_it_unhealthy_at_the_deadline(world):
    _act(world, timeout="2m")
    world.controller.settle()
    pod = world.pods()[0]["metadata"]["name"]
    world.controller.crash_pod("default", pod)
    world.controller.set_pod_ready("default", pod, True)
    rem = world.remediator()
    world.clock.advance(119)
    assert rem.verify_pending() == []
    world.clock.advance(1)
    (v,) = rem.verify_pending()
    assert not v.healthy and "restarted since the action" in v.detail
    # the ledger heard it: three unhealthy verdicts in a row would stop further automatic actions
    assert rem.verify_pending() == []


def test_unhealthy_verdicts_feed_the_ledger_ineffective_chain(world):
    pol = world.add_policy(policy(safety={"requireHealthCheck": True, "healthCheckTimeout": "1m"}))
    dep = world.deployment(replicas=2)
    rem = world.remediator()
    outcomes = []
    for _ in range(4):
        outcomes.append(rem.execute(plan_for(pol, dep, ("restart-it", "restart", {}))).outcomes[0])
        world.clock.advance(60)
        for v in rem.verify_pending():
            assert not v.healthy  # the devcluster never settles here: the rollout never completes
        world.clock.advance(241)  # past the 5 minute cooldown
    assert [o.status for o in outcomes[:3]] == ["executed"] * 3
    assert (outcomes[3].status, outcomes[3].reason) == ("blocked", "ineffective_chain")


def test_failed_or_dry_run_actions_leave_no_pending_verification(world):
    pol = world.add_policy(policy(mode="dryrun", safety={"requireHealthCheck": True}))
    dep = world.deployment(replicas=2)
    result = world.remediator().execute(plan_for(pol, dep, ("restart-it", "restart", {})))
    assert result.verifications_scheduled == []
    (ha,) = world.healing_actions()
    assert ha["metadata"]["labels"]["kubeskippy.io/verification"] == "none"
    assert world.remediator().verify_pending() == []
