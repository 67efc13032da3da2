"""Which of the policy's actions fit a root cause, and in what order.

The policy is the menu: only its actions are ever proposed. For each root cause a preference
list ranks action kinds (see action_kinds) and a forbidden set names kinds that would do harm
(restarting a pod that cannot pull its image only hides the message). The plan holds the
policy's actions whose kind is preferred for the cause, ordered by that preference and then by
policy priority (higher first); when no action fits, the policy's own priority order stands
(minus forbidden kinds), because the policy author said what to do when the trigger fires.
Docs: docs/analysis.md, "Preferences per cause".
"""

from __future__ import annotations

from typing import NamedTuple


from ..policy.action_kinds import action_kind
from ..policy.model import HealingActionTemplate, HealingPolicy

__all__ = ["PREFERENCES", "FORBIDDEN", "NODE_KINDS", "RankedAction", "rank_actions", "target_level"]

NODE_KINDS = frozenset({"cordon", "cordon_drain"})

PREFERENCES: dict[str, tuple[str, ...]] = {
    # restart before the OOM kill; a bigger limit only buys time, so it comes second
    "memory_leak": ("restart", "delete", "raise_limit", "diagnostics", "notify"),
    # restarting changes nothing when the limit is simply too small
    "memory_limit_too_low": ("raise_limit", "diagnostics", "notify"),
    "crash_loop_after_rollout": ("rollback", "diagnostics", "notify"),
    # a bad ConfigMap/Secret/env needs a person; collect evidence and tell them
    "crash_loop_config": ("diagnostics", "notify"),
    "cpu_saturation": ("scale", "raise_limit", "restart", "notify"),
    "failing_probes": ("restart", "quarantine", "delete", "diagnostics", "notify"),
    "image_pull_failure": ("notify", "diagnostics"),
    "node_pressure": ("cordon_drain", "cordon", "delete", "notify"),
    "error_rate_spike": ("restart", "scale", "quarantine", "diagnostics", "notify"),
    "unknown": (),
}

FORBIDDEN: dict[str, frozenset[str]] = {
    "memory_leak": frozenset(),
    "memory_limit_too_low": frozenset({"scale"}),
    "crash_loop_after_rollout": frozenset({"scale"}),
    "crash_loop_config": frozenset({"scale", "raise_limit"}),
    "cpu_saturation": frozenset(),
    "failing_probes": frozenset(),
    # a pod that cannot pull its image will not pull it after a restart either
    "image_pull_failure": frozenset({"restart", "delete", "scale", "raise_limit", "quarantine", "rollback"}),
    "node_pressure": frozenset({"raise_limit", "scale"}),
    "error_rate_spike": frozenset(),
    "unknown": frozenset(),
}


class RankedAction(NamedTuple):
    template: HealingActionTemplate
    kind: str
    rank: int  # position of the kind in the cause's preference list (policy order: 0)


def rank_actions(policy: HealingPolicy, cause: str) -> list[RankedAction]:
    """The policy's actions fitting ``cause``, best first (see module docstring)."""
    preferred = PREFERENCES.get(cause, ())
    forbidden = FORBIDDEN.get(cause, frozenset())
    indexed = [(i, a, action_kind(a, policy)) for i, a in enumerate(policy.spec.actions)]
    fitting = [(preferred.index(kind), -a.priority, i, a, kind) for i, a, kind in indexed if kind in preferred]
    if not fitting:
        fitting = [(0, -a.priority, i, a, kind) for i, a, kind in indexed if kind not in forbidden]
    fitting.sort(key=lambda row: row[:3])
    return [RankedAction(template=a, kind=kind, rank=rank) for rank, _, _, a, kind in fitting]


def target_level(kind: str) -> str:
    """Which object an action of this kind is aimed at: the ``pod`` (the finding's target), the
    ``workload`` (top of the owner chain), or the ``node`` the pod runs on."""
    if kind in ("scale", "rollback", "raise_limit", "patch"):
        return "workload"
    if kind in NODE_KINDS:
        return "node"
    return "pod"
