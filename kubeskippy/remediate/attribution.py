"""Outcomes that answer a plan carry what learning needs to score them.

analyze learns which action heals which root cause on which workload. Before, it noted every
plan (a ConfigMap write before the plan was even sent: a round on the critical path) and linked
each Outcome to that note. Remediate has the plan in hand when it answers one, so it attaches
the plan's workload, root cause and the action's kind — in the analyzer's vocabulary, computed by
the same function analyze uses (kubeskippy.policy.action_kinds) — to each Outcome of that plan.
"""

from __future__ import annotations

from typing import Callable, Sequence

from ..events.model import Outcome, Plan
from ..events.remediation import OutcomeAttribution
from ..policy.action_kinds import action_kind
from ..policy.model import HealingPolicy

__all__ = ["attribute_outcomes"]


def attribute_outcomes(outcomes: Sequence[Outcome], plan: Plan,
                       policy_for: Callable[[str], HealingPolicy | None]) -> list[Outcome]:
    """The outcomes, those of ``plan``'s actions with ``attribution`` set. An action the policy
    no longer has (or a missing policy) is left without: learning then falls back to a note of
    the plan, if analyze wrote one."""
    policy = policy_for(plan.finding.policy)
    kinds: dict[str, str] = {}
    if policy is not None:
        for planned in plan.actions:
            try:
                kinds[planned.action] = action_kind(policy.action(planned.action), policy)
            except KeyError:
                continue
    attributed = []
    for outcome in outcomes:
        kind = kinds.get(outcome.action) if outcome.plan_id == plan.id else None
        if kind is None or outcome.attribution is not None:
            attributed.append(outcome)
            continue
        attributed.append(outcome.model_copy(update={"attribution": OutcomeAttribution(
            workload=plan.finding.workload, root_cause=plan.root_cause.category, action_kind=kind)}))
    return attributed
