"""Outcomes carry what learning needs to score them.

analyze learns which action heals which root cause on which workload. Before, it noted every
plan (a ConfigMap write before the plan was even sent: a round on the critical path) and linked
each Outcome to that note. Remediate's executor has the plan in hand when it answers one, so it
attaches the plan's workload, root cause and the action's kind — in the analyzer's vocabulary, computed by
the same function analyze uses (kubeskippy.policy.action_kinds) — to each Outcome of that plan.
A step's HealingAction keeps its attribution too (annotation ``kubeskippy.io/attribution``), so
the outcomes of later drives without the plan — an approval, a sweep recovering a step whose
replica died — are scored the same way.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from ..events.model import Outcome, Plan
from ..events.remediation import OutcomeAttribution
from ..policy.action_kinds import action_kind
from ..policy.model import HealingPolicy

__all__ = ["plan_attributions", "with_attributions"]


def plan_attributions(plan: Plan, policy: HealingPolicy | None) -> dict[str, OutcomeAttribution]:
    """What learning needs about each of ``plan``'s actions, by action name. An action the policy
    no longer has (or a missing policy) has none: learning then falls back to a note of the
    plan, if analyze wrote one."""
    known: dict[str, OutcomeAttribution] = {}
    if policy is None:
        return known
    for planned in plan.actions:
        try:
            template = policy.action(planned.action)
        except KeyError:
            continue
        known[planned.action] = OutcomeAttribution(workload=plan.finding.workload,
                                                   root_cause=plan.root_cause.category,
                                                   action_kind=action_kind(template, policy))
    return known


def with_attributions(outcomes: Sequence[Outcome], plan_id: str,
                      known: Mapping[str, OutcomeAttribution]) -> list[Outcome]:
    """The outcomes, those of plan ``plan_id``'s actions in ``known`` with ``attribution`` set
    (one that already has it keeps its own)."""
    attributed = []
    for outcome in outcomes:
        attribution = known.get(outcome.action) if outcome.plan_id == plan_id else None
        if attribution is None or outcome.attribution is not None:
            attributed.append(outcome)
            continue
        attributed.append(outcome.model_copy(update={"attribution": attribution}))
    return attributed

