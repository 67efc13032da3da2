"""The executor: modes, the HealingAction lifecycle, replays, transient faults and crashes."""

from __future__ import annotations

import pytest

from kubeskippy.errors import TemporaryError
from kubeskippy.remediate.actions import ACTIONS
from kubeskippy.services.fanout import ThreadFanout

from .world import World, plan_for, policy

ANN = "kubectl.kubernetes.io/restartedAt"
RESTART = {"name": "restart-it", "type": "restart"}


def _setup(world: World, mode: str = "automatic", **kw):
    pol = world.add_policy(policy(mode=mode, **kw))
    dep = world.deployment(replicas=3)
    return pol, dep, plan_for(pol, dep, ("restart-it", "restart", {}))


def _restarts(world: World) -> int:
    """How many rollouts were requested: the devcluster makes one ReplicaSet per template."""
    world.controller.settle()
    return len(world.cluster.list("apps/v1", "ReplicaSet", "default")) - 1


# --- modes ---------------------------------------------------------------------------------------

def test_monitor_mode_records_only(world):
    _, _, plan = _setup(world, "monitor")
    result = world.remediator().execute(plan)
    assert [o.status for o in result.outcomes] == ["monitored"]
    assert world.healing_actions() == [] and _restarts(world) == 0


def test_automatic_mode_walks_the_healing_action_to_succeeded(world):
    _, _, plan = _setup(world)
    result = world.remediator().execute(plan)
    outcome = result.outcomes[0]
    assert outcome.status == "executed" and outcome.healing_action.startswith("default/restart-it-")
    (ha,) = world.healing_actions()
    status = ha["status"]
    assert status["phase"] == "Succeeded" and status["attempts"] == 1
    assert status["result"]["success"] is True
    assert status["result"]["changes"][0]["field"] == f"spec.template.metadata.annotations[{ANN}]"
    assert status["approval"] == {"required": False, "approved": True, "approvedBy": "kubeskippy (automatic)"}
    assert status["startTime"] == status["completionTime"] == "2023-11-14T22:13:20.000Z"
    labels = ha["metadata"]["labels"]
    assert labels["kubeskippy.io/policy"] == "heal" and labels["kubeskippy.io/target-kind"] == "Deployment"
    assert labels["kubeskippy.io/target-name"] == "web"
    assert ha["metadata"]["annotations"]["kubeskippy.io/step-id"] == f"{plan.id}:restart-it"
    assert _restarts(world) == 1


def test_manual_mode_proposes_a_pending_healing_action_and_acts_on_nothing(world):
    _, _, plan = _setup(world, "manual")
    result = world.remediator().execute(plan)
    assert [o.status for o in result.outcomes] == ["pending_approval"]
    assert result.notifications and "kubeskippy approve" in result.notifications[0].message
    (ha,) = world.healing_actions()
    assert ha["status"]["phase"] == "Pending"
    assert ha["status"]["approval"] == {"required": True, "approved": False}
    assert ha["spec"]["approvalRequired"] is True
    assert _restarts(world) == 0 and world.ledger.actions_in_window() == 0


def test_requires_approval_on_one_action_holds_it_even_in_automatic_mode(world):
    _, _, plan = _setup(world, actions=[{**RESTART, "requiresApproval": True}])
    result = world.remediator().execute(plan)
    assert [o.status for o in result.outcomes] == ["pending_approval"]


def test_dryrun_mode_changes_nothing_and_says_what_it_would_do(world):
    _, _, plan = _setup(world, "dryrun")
    outcome = world.remediator().execute(plan).outcomes[0]
    assert outcome.status == "dry_run" and outcome.message.startswith("dry run: rollout restart")
    assert outcome.changes[0].new_value == "2023-11-14T22:13:20Z"
    assert _restarts(world) == 0 and world.events(reason="KubeSkippyRestart") == []


def test_actions_run_in_plan_order_each_with_its_own_healing_action(world):
    pol = world.add_policy(policy(actions=[
        {"name": "diag", "type": "custom"}, RESTART, {"name": "restart-again", "type": "restart"}],
        annotations={"kubeskippy.io/custom-actions": "diag: {custom: diagnostics}"}))
    dep = world.deployment(replicas=3)
    plan = plan_for(pol, dep, ("diag", "custom", {}), ("restart-it", "restart", {}),
                    ("restart-again", "restart", {}))
    result = world.remediator().execute(plan)
    assert [(o.action, o.status) for o in result.outcomes] == [
        ("diag", "executed"), ("restart-it", "executed"), ("restart-again", "blocked")]
    # a second change to the same workload waits for the first one's cooldown: safety applies per step
    assert result.outcomes[2].reason == "cooldown"
    assert len(world.healing_actions()) == 3


def test_diagnostics_take_no_rate_slot_lease_or_cooldown(world):
    pol = world.add_policy(policy(actions=[{"name": "diag", "type": "custom"}, RESTART],
                                  annotations={"kubeskippy.io/custom-actions": "diag: {custom: diagnostics}"},
                                  safety={"maxActionsPerHour": 1}))
    dep = world.deployment(replicas=3)
    result = world.remediator().execute(plan_for(pol, dep, ("diag", "custom", {}), ("restart-it", "restart", {})))
    assert [o.status for o in result.outcomes] == ["executed", "executed"]
    assert world.ledger.actions_in_window() == 1  # only the restart counted against maxActionsPerHour


# --- idempotency ---------------------------------------------------------------------------------

def test_a_replayed_plan_acts_once_and_replays_the_same_outcome(world):
    _, _, plan = _setup(world)
    first = world.remediator().execute(plan).outcomes[0]
    world.clock.advance(30)
    again = world.remediator("replica-2").execute(plan).outcomes[0]
    assert again == first  # same id, same status, same changes: downstream dedupes it
    assert _restarts(world) == 1 and len(world.healing_actions()) == 1
    assert world.ledger.actions_in_window() == 1
    assert len(world.events(reason="KubeSkippyRestart")) == 1


@pytest.mark.parametrize("status,verbs,path", [
    pytest.param(500, ["patch"], r"/deployments/web$", id="5xx-on-the-action"),
    pytest.param(409, ["patch"], r"/deployments/web$", id="409-on-the-action"),
    pytest.param(503, ["update"], r"/healingactions/.*/status$", id="5xx-recording-progress"),
])
def test_a_transient_fault_mid_way_raises_retryable_and_the_retry_completes_once(world, status, verbs, path):
    _, _, plan = _setup(world)
    fault = world.cluster.faults.inject(status=status, count=1, verbs=verbs, path=path)
    with pytest.raises(TemporaryError):
        world.remediator().execute(plan)
    assert fault.hits == 1
    result = world.remediator().execute(plan)  # Knative's redelivery
    assert [o.status for o in result.outcomes] == ["executed"]
    assert _restarts(world) == 1
    assert world.ledger.actions_in_window() == 1
    assert world.ledger.active_leases("default") == []
    assert len(world.events(reason="KubeSkippyRestart")) == 1
    (ha,) = world.healing_actions()
    assert ha["status"]["phase"] == "Succeeded"


def test_a_fault_after_the_change_but_before_it_was_recorded_does_not_act_twice(world):
    _, _, plan = _setup(world)
    original = world.cluster.replace
    status_writes = {"n": 0}

    def second_status_write_fails(obj, **kw):
        # status write 1 claims the step (InProgress); write 2 records "applied" after acting
        if kw.get("subresource") == "status":
            status_writes["n"] += 1
            if status_writes["n"] == 2:
                raise TemporaryError("API server went away (injected)")
        return original(obj, **kw)

    world.cluster.replace = second_status_write_fails
    with pytest.raises(TemporaryError):
        world.remediator().execute(plan)
    assert _restarts(world) == 1  # the rollout was requested before the fault
    world.cluster.replace = original
    result = world.remediator().execute(plan)
    assert [o.status for o in result.outcomes] == ["executed"]
    assert _restarts(world) == 1 and world.ledger.actions_in_window() == 1


@pytest.mark.parametrize("failing", ["applied", "complete"])
def test_with_a_fan_out_the_records_that_the_action_ran_go_out_together_and_any_one_failing_is_resumed_once(
        world, failing):
    _, _, plan = _setup(world)
    fanout = ThreadFanout(workers=4)
    remediator = world.remediator(fanout=fanout)
    original_replace, original_complete = world.cluster.replace, world.ledger.complete
    seen: list[str] = []

    def replace(obj, **kw):
        metrics = ((obj.get("status") or {}).get("result") or {}).get("metrics") or {}
        if kw.get("subresource") == "status" and metrics.get("kubeskippy.io/applied") == "true" \
                and "kubeskippy.io/outcome" not in metrics:
            seen.append("applied")
            if failing == "applied":
                raise TemporaryError("API server went away (injected)")
        return original_replace(obj, **kw)

    def complete(reservation):
        seen.append("complete")
        if failing == "complete":
            raise TemporaryError("configmaps: 503 (injected)")
        return original_complete(reservation)

    world.cluster.replace, world.ledger.complete = replace, complete
    try:
        with pytest.raises(TemporaryError):
            remediator.execute(plan)
        assert set(seen) == {"applied", "complete"}  # both were tried, whichever failed
        world.cluster.replace, world.ledger.complete = original_replace, original_complete
        result = remediator.execute(plan)  # the redelivery
    finally:
        fanout.shutdown()
    assert [o.status for o in result.outcomes] == ["executed"]
    assert _restarts(world) == 1 and world.ledger.actions_in_window() == 1
    assert world.ledger.active_leases("default") == []
    (ha,) = world.healing_actions()
    assert ha["status"]["phase"] == "Succeeded"


class _Crash(BaseException):
    """The process dies (not an error anyone handles)."""


def test_a_crash_after_acting_is_finished_by_another_replica_after_the_lease_without_acting_again(world, monkeypatch):
    _, _, plan = _setup(world)
    action = ACTIONS["restart"]
    original_apply = action.apply

    def apply_then_die(ctx, intent):
        original_apply(ctx, intent)
        raise _Crash()

    monkeypatch.setattr(action, "apply", apply_then_die)
    with pytest.raises(_Crash):
        world.remediator().execute(plan)
    monkeypatch.setattr(action, "apply", original_apply)
    assert _restarts(world) == 1
    (ha,) = world.healing_actions()
    assert ha["status"]["phase"] == "InProgress"

    other = world.remediator("replica-2")
    with pytest.raises(TemporaryError) as err:  # the dead replica's lease is still live
        other.execute(plan)
    assert err.value.delay == pytest.approx(300.0)
    assert other.recover_stalled().empty

    world.clock.advance(301)
    result = other.recover_stalled()
    assert [o.status for o in result.outcomes] == ["executed"]
    assert _restarts(world) == 1  # the stored intent was re-applied: same annotation value, no new rollout
    (ha,) = world.healing_actions()
    assert ha["status"]["phase"] == "Succeeded" and ha["status"]["attempts"] == 2
    assert other.execute(plan).outcomes == result.outcomes  # a late redelivery replays


def test_a_scale_up_re_driven_after_a_crash_is_not_applied_twice(world, monkeypatch):
    pol = world.add_policy(policy(actions=[{"name": "more", "type": "scale",
                                            "scaleAction": {"direction": "up", "replicas": 2}}]))
    dep = world.deployment(replicas=2)
    plan = plan_for(pol, dep, ("more", "scale", {}))
    action = ACTIONS["scale"]
    original_apply = action.apply

    def apply_then_die(ctx, intent):
        original_apply(ctx, intent)
        raise _Crash()

    monkeypatch.setattr(action, "apply", apply_then_die)
    with pytest.raises(_Crash):
        world.remediator().execute(plan)
    monkeypatch.setattr(action, "apply", original_apply)
    world.clock.advance(301)
    assert world.remediator("replica-2").execute(plan).outcomes[0].status == "executed"
    assert world.get("apps/v1", "Deployment", "web")["spec"]["replicas"] == 4  # 2 + 2, not 2 + 2 + 2


def test_the_echo_of_a_freshly_created_healing_action_does_not_start_a_second_driver(world, monkeypatch):
    _, _, plan = _setup(world)
    rem = world.remediator()
    seen = []
    original_create = world.cluster.create

    def create_and_echo(obj, **kw):
        created = original_create(obj, **kw)
        if obj["kind"] == "HealingAction":  # ApiServerSource delivers the add event at once
            seen.append(world.remediator("replica-2").on_healing_action_update(created))
        return created

    monkeypatch.setattr(world.cluster, "create", create_and_echo)
    assert [o.status for o in rem.execute(plan).outcomes] == ["executed"]
    assert [r.empty for r in seen] == [True]


def _die_before_claiming(world: World, plan, monkeypatch) -> None:
    """Execute ``plan`` with a replica that dies after creating its step, before claiming it."""
    rem = world.remediator()
    monkeypatch.setattr(rem, "_drive", lambda *a, **k: (_ for _ in ()).throw(_Crash()))
    with pytest.raises(_Crash):
        rem.execute(plan)


def test_a_step_whose_driver_died_before_claiming_it_is_recovered_by_the_sweep(world, monkeypatch):
    _, _, plan = _setup(world)
    _die_before_claiming(world, plan, monkeypatch)
    (ha,) = world.healing_actions()
    assert ha["status"].get("phase") is None
    sweeper = world.remediator("replica-2")
    assert sweeper.recover_stalled().empty  # younger than a lease: maybe still being driven
    world.clock.advance(300)
    assert [o.status for o in sweeper.recover_stalled().outcomes] == ["executed"]
    assert _restarts(world) == 1


def test_a_plan_redelivered_while_its_first_delivery_is_still_acting_is_told_to_retry(world, monkeypatch):
    _, _, plan = _setup(world)
    rem = world.remediator()
    original_reserve = world.ledger.reserve
    during = []

    def reserve_with_a_concurrent_redelivery(request):
        with pytest.raises(TemporaryError) as err:
            world.remediator("replica-2").execute(plan)
        during.append(err.value)
        return original_reserve(request)

    monkeypatch.setattr(world.ledger, "reserve", reserve_with_a_concurrent_redelivery)
    assert [o.status for o in rem.execute(plan).outcomes] == ["executed"]
    assert len(during) == 1 and "being carried out" in str(during[0])
    assert _restarts(world) == 1
    monkeypatch.setattr(world.ledger, "reserve", original_reserve)
    assert world.remediator("replica-2").execute(plan).outcomes[0].status == "executed"  # replayed


def test_outcomes_of_a_step_recovered_by_the_sweep_carry_the_plans_attribution_for_learning(world, monkeypatch):
    _, _, plan = _setup(world)
    _die_before_claiming(world, plan, monkeypatch)
    world.clock.advance(300)
    [outcome] = world.remediator("replica-2").recover_stalled().outcomes  # no plan in hand
    assert outcome.status == "executed"
    assert outcome.attribution is not None
    assert outcome.attribution.workload == plan.finding.workload
    assert outcome.attribution.root_cause == plan.root_cause.category
    assert outcome.attribution.action_kind == "restart"


def test_an_unreadable_attribution_annotation_leaves_the_outcome_unattributed_and_the_step_working(world):
    from kubeskippy.remediate.healing_actions import attribution_of

    assert attribution_of({"metadata": {"annotations": {"kubeskippy.io/attribution": "{not json"}}}) is None
    assert attribution_of({"metadata": {"annotations": {}}}) is None
