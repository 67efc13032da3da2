"""Outcomes carry what learning needs to score them.

analyze learns which action heals which root cause on which workload. Before, it noted every
plan (a ConfigMap write before the plan was even sent: a round on the critical path) and linked
each Outcome to that note. Remediate has the plan in hand when it answers one, so it attaches
the plan's workload, root cause and the action's kind — in the analyzer's vocabulary, computed by
the same function analyze uses (kubeskippy.policy.action_kinds) — to each Outcome of that plan.
A step's HealingAction keeps its attribution too (annotation ``kubeskippy.io/attribution``), so
the outcomes of later drives without the plan — an approval, a sweep recovering a step whose
replica died — are scored the same way.
"""

from __future__ import annotations

from typing import Callable, Sequence

from ..events.model import Outcome, Plan
from ..events.remediation import OutcomeAttribution
from ..policy.action_kinds import action_kind
from ..policy.model import HealingActionTemplate, HealingPolicy

__all__ = ["attribute_outcomes", "attribution_for"]


def attribution_for(plan: Plan, template: HealingActionTemplate, policy: HealingPolicy) -> OutcomeAttribution:
    """What learning needs about one action of ``plan``, ``template`` being the policy's action."""
    return OutcomeAttribution(workload=plan.finding.workload, root_cause=plan.root_cause.category,
                              action_kind=action_kind(template, policy))


def attribute_outcomes(outcomes: Sequence[Outcome], plan: Plan,
                       policy_for: Callable[[str], HealingPolicy | None]) -> list[Outcome]:
    """The outcomes, those of ``plan``'s actions with ``attribution`` set. An action the policy
    no longer has (or a missing policy) is left without: learning then falls back to a note of
    the plan, if analyze wrote one."""
    policy = policy_for(plan.finding.policy)
    known: dict[str, OutcomeAttribution] = {}
    if policy is not None:
        for planned in plan.actions:
            try:
                known[planned.action] = attribution_for(plan, policy.action(planned.action), policy)
            except KeyError:
                continue
    attributed = []
    for outcome in outcomes:
        attribution = known.get(outcome.action) if outcome.plan_id == plan.id else None
        if attribution is None or outcome.attribution is not None:
            attributed.append(outcome)
            continue
        attributed.append(outcome.model_copy(update={"attribution": attribution}))
    return attributed
