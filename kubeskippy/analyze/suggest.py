"""Turn a root cause into suggestions drawn from the policy's menu.

Used by the rules analyzer; an LLM backend proposes its own list, which the guard checks against
the same menu and the same forbidden kinds.
"""

from __future__ import annotations

from ..events.model import ObjectRef
from ..policy.action_kinds import custom_params_for
from ..policy.model import HealingPolicy
from .context import AnalysisContext
from .diagnosis import Suggestion
from .preferences import rank_actions, target_level

__all__ = ["suggest_policy_actions", "target_for", "cause_resource"]


def cause_resource(cause: str) -> str:
    """Which resource a raise_limit addresses for this cause."""
    return "cpu" if cause == "cpu_saturation" else "memory"


def target_for(level: str, context: AnalysisContext) -> ObjectRef | None:
    finding = context.finding
    if level == "pod":
        return finding.target
    if level == "workload":
        return finding.workload
    if level == "node":
        return context.node_ref()
    return None


def suggest_policy_actions(context: AnalysisContext, policy: HealingPolicy, cause: str, why: str = "") -> list[Suggestion]:
    """The policy's fitting actions for ``cause``, best first, each aimed at the right object."""
    out: list[Suggestion] = []
    for ranked in rank_actions(policy, cause):
        target = target_for(target_level(ranked.kind), context)
        if target is None:
            continue  # e.g. a cordon with no known node: nothing to aim at
        if ranked.kind == "rollback" and target.kind != "Deployment":
            continue  # only Deployments keep revisions to roll back to
        params: dict = {}
        if ranked.kind == "raise_limit" and ranked.template.type == "custom" \
                and "resource" not in custom_params_for(policy, ranked.template.name):
            params = {"resource": cause_resource(cause)}  # percent and cap stay the policy's
        out.append(Suggestion(action=ranked.template.name, target=target, params=params,
                              reason=why or f"{ranked.kind} fits {cause}", type=ranked.template.type))
    return out
