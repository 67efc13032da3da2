"""Learning from outcomes: scores, attribution through plans/outcomes/verifications, recurrence,
demotion, preference and escalation change the next plan's order as documented."""

from __future__ import annotations

import pytest

from kubeskippy.analyze import Diagnosis, EffectivenessStore, LearningConfig, Planner, Suggestion
from kubeskippy.clock import ManualClock
from kubeskippy.errors import TemporaryError
from kubeskippy.events.model import ObjectRef, Outcome, RootCause, Verification, stable_id
from kubeskippy.remediate.attribution import plan_attributions, with_attributions
from kubeskippy.safety.memory_store import MemoryStore

from .scenarios import memory_leak
from .world import World, policy

DEPLOY = ObjectRef(api_version="apps/v1", kind="Deployment", name="api", namespace="shop")


def store_and_learning(clock: ManualClock, **config) -> tuple[MemoryStore, EffectivenessStore]:
    store = MemoryStore()
    return store, EffectivenessStore(store, clock, LearningConfig(**config), sleep=lambda s: None)


def test_no_history_scores_one_half():
    _, learning = store_and_learning(ManualClock())
    eff = learning.effectiveness(DEPLOY, "memory_leak", "restart")
    assert (eff.score, eff.successes, eff.failures, eff.streak) == (0.5, 0.0, 0.0, 0)


def test_scores_follow_the_beta_posterior_mean():
    clock = ManualClock()
    _, learning = store_and_learning(clock)
    for healthy in (True, True, True, False):
        learning.record(DEPLOY, "memory_leak", "restart", healthy)
    eff = learning.effectiveness(DEPLOY, "memory_leak", "restart")
    assert eff.score == pytest.approx((3 + 1) / (4 + 2))
    assert eff.streak == 1


def test_observations_fade_with_a_one_week_half_life():
    clock = ManualClock()
    _, learning = store_and_learning(clock)
    learning.record(DEPLOY, "memory_leak", "restart", False)
    learning.record(DEPLOY, "memory_leak", "restart", False)
    clock.advance(7 * 86400)
    eff = learning.effectiveness(DEPLOY, "memory_leak", "restart")
    assert eff.failures == pytest.approx(1.0)
    assert eff.score == pytest.approx(1 / 3)


def test_scores_are_kept_per_workload_cause_and_action():
    clock = ManualClock()
    _, learning = store_and_learning(clock)
    learning.record(DEPLOY, "memory_leak", "restart", False)
    other = DEPLOY.model_copy(update={"name": "web"})
    assert learning.effectiveness(other, "memory_leak", "restart").score == 0.5
    assert learning.effectiveness(DEPLOY, "cpu_saturation", "restart").score == 0.5
    assert learning.effectiveness(DEPLOY, "memory_leak", "delete").score == 0.5


class Leaky:
    """A scripted analyzer: memory leak, suggesting restart then delete (both in the menu)."""

    name = "scripted"

    def analyze(self, context, policy):
        return Diagnosis(RootCause(category="memory_leak", confidence=0.9, explanation="leak"),
                         (Suggestion(action="restart-pods"), Suggestion(action="delete-pod")), "scripted")


def make_planner(world: World, learning: EffectivenessStore, **kw) -> Planner:
    return Planner(policies={"shop/healing": policy()}, cluster=world.cluster(), metrics=world.metrics,
                   clock=world.clock, analyzer=Leaky(), learning=learning, **kw)


def bare_outcome_for(plan, action: str, status: str = "executed") -> Outcome:
    """As remediate rebuilds it from a HealingAction (an approved step): no attribution."""
    step = next(a for a in plan.actions if a.action == action)
    return Outcome(id=stable_id("outcome", plan.id, action), plan_id=plan.id, finding_fingerprint=plan.finding.fingerprint,
                   policy=plan.finding.policy, action=action, action_type=step.type, target=step.target,
                   status=status, at=plan.created_at)


def outcome_for(plan, action: str, status: str = "executed") -> Outcome:
    """As the remediate service answers the plan: attributed by the real attribution code."""
    [outcome] = with_attributions([bare_outcome_for(plan, action, status)], plan.id, plan_attributions(plan, policy()))
    return outcome


def verification_for(outcome: Outcome, healthy: bool, at: float) -> Verification:
    return Verification(id=stable_id("verify", outcome.id), plan_id=outcome.plan_id, outcome_id=outcome.id,
                        finding_fingerprint=outcome.finding_fingerprint, target=outcome.target, healthy=healthy,
                        started_at=outcome.at, checked_at=at)


def new_finding(world: World):
    world.clock.advance(10)
    world.objects.clear()
    return memory_leak(world)


def test_repeated_failures_demote_an_action_and_the_next_plan_changes_order():
    world = World()
    _, learning = store_and_learning(world.clock)
    planner = make_planner(world, learning, max_changes=2)
    plan = planner.plan(memory_leak(world))
    assert [a.action for a in plan.actions] == ["restart-pods", "delete-pod"]
    for _ in range(2):  # the restart is executed and verified unhealthy, twice
        out = outcome_for(plan, "restart-pods")
        learning.observe_outcome(out)
        learning.observe_verification(verification_for(out, healthy=False, at=world.clock.now() + 60))
        plan = make_planner(world, learning, max_changes=2).plan(new_finding(world))
    assert [a.action for a in plan.actions] == ["delete-pod", "restart-pods"]
    assert any(n.startswith("demoted restart-pods") for n in plan.notes)


def test_an_action_that_worked_here_is_preferred():
    world = World()
    _, learning = store_and_learning(world.clock)
    plan = make_planner(world, learning, max_changes=2).plan(memory_leak(world))
    for _ in range(2):
        out = outcome_for(plan, "delete-pod")
        learning.observe_outcome(out)
        learning.observe_verification(verification_for(out, healthy=True, at=world.clock.now() + 60))
        world.clock.advance(3601)  # beyond the recurrence window: the heals lasted
        plan = make_planner(world, learning, max_changes=2).plan(new_finding(world))
    assert [a.action for a in plan.actions] == ["delete-pod", "restart-pods"]
    assert any(n.startswith("preferred delete-pod: score 0.75") for n in plan.notes)


def test_with_one_change_per_plan_the_demoted_action_is_held_back():
    world = World()
    _, learning = store_and_learning(world.clock)
    learning.record(DEPLOY, "memory_leak", "restart", False)
    learning.record(DEPLOY, "memory_leak", "restart", False)
    world2 = World()
    plan = make_planner(world2, learning).plan(memory_leak(world2))
    assert [a.action for a in plan.actions] == ["delete-pod"]
    assert any("held back" in n and "restart-pods" in n for n in plan.notes)


def test_a_recurrence_soon_after_a_heal_counts_against_the_healing_action():
    world = World()
    _, learning = store_and_learning(world.clock)
    plan = make_planner(world, learning).plan(memory_leak(world))
    out = outcome_for(plan, "restart-pods")
    learning.observe_outcome(out)
    learning.observe_verification(verification_for(out, healthy=True, at=world.clock.now()))
    assert learning.effectiveness(DEPLOY, "memory_leak", "restart").successes == pytest.approx(1.0)
    world.clock.advance(1200)  # 20 minutes later the leak is back
    plan = make_planner(world, learning).plan(new_finding(world))
    eff = learning.effectiveness(DEPLOY, "memory_leak", "restart")
    assert (eff.successes, eff.failures) == (pytest.approx(1.0, rel=1e-2), pytest.approx(1.0))
    assert any("recurred" in n for n in plan.notes)


def test_a_failed_outcome_counts_at_once_and_redeliveries_count_once():
    world = World()
    _, learning = store_and_learning(world.clock)
    plan = make_planner(world, learning).plan(memory_leak(world))
    out = outcome_for(plan, "restart-pods", status="failed")
    learning.observe_outcome(out)
    learning.observe_outcome(out)
    learning.observe_verification(verification_for(out, healthy=False, at=world.clock.now()))
    assert learning.effectiveness(DEPLOY, "memory_leak", "restart").failures == pytest.approx(1.0)


def test_a_verification_redelivered_is_counted_once():
    world = World()
    _, learning = store_and_learning(world.clock)
    plan = make_planner(world, learning).plan(memory_leak(world))
    out = outcome_for(plan, "restart-pods")
    learning.observe_outcome(out)
    v = verification_for(out, healthy=True, at=world.clock.now())
    learning.observe_verification(v)
    learning.observe_verification(v)
    assert learning.effectiveness(DEPLOY, "memory_leak", "restart").successes == pytest.approx(1.0)


def test_blocked_and_monitored_outcomes_teach_nothing():
    world = World()
    _, learning = store_and_learning(world.clock)
    plan = make_planner(world, learning).plan(memory_leak(world))
    for status in ("blocked", "monitored", "dry_run", "pending_approval"):
        learning.observe_outcome(outcome_for(plan, "restart-pods", status=status))
    assert learning.effectiveness(DEPLOY, "memory_leak", "restart").failures == 0.0


def test_a_chain_of_ineffective_actions_escalates_to_approval_and_notification():
    world = World()
    _, learning = store_and_learning(world.clock)
    for kind in ("restart", "delete", "restart"):
        learning.record(DEPLOY, "memory_leak", kind, False)
    assert learning.ineffective_chain(DEPLOY, "memory_leak") == 3

    class WithNotify(Leaky):
        def analyze(self, context, policy):
            d = super().analyze(context, policy)
            return Diagnosis(d.root_cause, (*d.suggestions, Suggestion(action="notify-oncall")), d.analyzer)

    planner = Planner(policies={"shop/healing": policy()}, cluster=world.cluster(), metrics=world.metrics,
                      clock=world.clock, analyzer=WithNotify(), learning=learning, max_changes=2)
    plan = planner.plan(memory_leak(world))
    assert plan.actions[0].action == "notify-oncall"
    assert all(a.requires_approval for a in plan.actions if a.action != "notify-oncall")
    assert any(n.startswith("escalated: 3 ineffective actions") for n in plan.notes)
    learning.record(DEPLOY, "memory_leak", "delete", True)  # a heal breaks the chain
    assert learning.ineffective_chain(DEPLOY, "memory_leak") == 0


def test_state_lives_in_one_record_per_namespace_that_every_replica_reads():
    world = World()
    store, learning = store_and_learning(world.clock)
    learning.record(DEPLOY, "memory_leak", "restart", False)
    other_replica = EffectivenessStore(store, world.clock, sleep=lambda s: None)
    assert other_replica.effectiveness(DEPLOY, "memory_leak", "restart").failures == pytest.approx(1.0)
    record = store.read("kubeskippy-learning-shop")
    assert record is not None and all(k[:2] in ("e.", "c.") for k in record.data)


def test_concurrent_updates_lose_nothing_under_conflicts():
    world = World()
    store, learning = store_and_learning(world.clock)
    import threading
    replicas = [EffectivenessStore(store, world.clock, sleep=lambda s: None) for _ in range(4)]
    threads = [threading.Thread(target=lambda r=r: [r.record(DEPLOY, "memory_leak", "restart", True) for _ in range(25)])
               for r in replicas]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert learning.effectiveness(DEPLOY, "memory_leak", "restart").successes == pytest.approx(100.0)


def test_old_notes_are_pruned_and_scores_are_bounded():
    world = World()
    store, learning = store_and_learning(world.clock, max_entries=5)
    for i in range(12):
        learning.record(DEPLOY.model_copy(update={"name": f"w{i}"}), "memory_leak", "restart", True)
        world.clock.advance(1)
    data = store.read("kubeskippy-learning-shop").data
    assert sum(1 for k in data if k.startswith("e.")) == 5
    assert learning.effectiveness(DEPLOY.model_copy(update={"name": "w11"}), "memory_leak", "restart").successes == pytest.approx(1.0, rel=1e-4)
    assert learning.effectiveness(DEPLOY.model_copy(update={"name": "w0"}), "memory_leak", "restart").successes == 0.0


def test_planning_goes_on_without_learning_when_its_store_is_down():
    world = World()

    class DownStore:
        def read(self, name):
            raise TemporaryError("configmaps unavailable")

        create = replace = read

    learning = EffectivenessStore(DownStore(), world.clock, sleep=lambda s: None)
    plan = make_planner(world, learning).plan(memory_leak(world))
    assert [a.action for a in plan.actions] == ["restart-pods"]
    assert any(n.startswith("learning unavailable") for n in plan.notes)


def test_an_attributed_outcome_is_scored_with_no_note_of_the_plan():
    world = World()
    store, learning = store_and_learning(world.clock)
    plan = make_planner(world, learning).plan(memory_leak(world))
    assert store.read(learning.record_name("shop")) is None  # nothing was written before the plan went out
    out = outcome_for(plan, "restart-pods")
    assert out.attribution is not None and out.attribution.action_kind == "restart"
    learning.observe_outcome(out)
    learning.observe_verification(verification_for(out, healthy=True, at=world.clock.now() + 60))
    eff = learning.effectiveness(plan.finding.workload, "memory_leak", "restart")
    assert (eff.successes, eff.failures) == (1.0, 0.0)


def test_an_unattributed_outcome_of_an_automatic_plan_is_not_scored():
    world = World()
    _, learning = store_and_learning(world.clock)
    plan = make_planner(world, learning).plan(memory_leak(world))
    out = bare_outcome_for(plan, "restart-pods", status="failed")
    learning.observe_outcome(out)
    assert learning.effectiveness(plan.finding.workload, "memory_leak", "restart").failures == 0.0


def test_a_plan_whose_change_waits_for_approval_is_noted_so_its_rebuilt_outcome_is_scored():
    world = World()
    store, learning = store_and_learning(world.clock)
    manual = policy()
    manual = manual.model_copy(update={"spec": manual.spec.model_copy(update={"mode": "manual"})})
    planner = Planner(policies={"shop/healing": manual}, cluster=world.cluster(), metrics=world.metrics,
                      clock=world.clock, analyzer=Leaky(), learning=learning)
    plan = planner.plan(memory_leak(world))
    assert store.read(learning.record_name("shop")) is not None  # the plan note
    out = bare_outcome_for(plan, "restart-pods")  # rebuilt from an older HealingAction without attribution
    learning.observe_outcome(out)
    learning.observe_verification(verification_for(out, healthy=False, at=world.clock.now() + 60))
    eff = learning.effectiveness(plan.finding.workload, "memory_leak", "restart")
    assert (eff.successes, eff.failures) == (0.0, 1.0)


def test_an_attributed_capture_or_notification_is_not_scored():
    world = World()
    store, learning = store_and_learning(world.clock)
    plan = make_planner(world, learning).plan(memory_leak(world))
    out = outcome_for(plan, "restart-pods", status="failed")
    out = out.model_copy(update={"attribution": out.attribution.model_copy(update={"action_kind": "diagnostics"})})
    learning.observe_outcome(out)
    assert store.read(learning.record_name("shop")) is None
