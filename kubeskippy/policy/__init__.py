"""The policy language: HealingPolicy and HealingAction (kubeskippy.io/v1alpha1).

The models are loaded on first use (``from kubeskippy.policy import HealingPolicy`` works as
before): building their pydantic schemas takes tens of milliseconds, and modules such as
``kubeskippy.policy.validation`` are needed by functions that never read a policy (audit), whose
cold start should not pay for it.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [  # kept equal to kubeskippy.policy.model.__all__ (a test checks)
    "API_VERSION", "Spec", "LabelSelectorRequirement", "LabelSelector", "ResourceFilter", "ResourceSelector",
    "MetricTrigger", "EventTrigger", "ConditionTrigger", "HealingTrigger", "RestartAction", "ScaleAction",
    "PatchOperation", "PatchAction", "DeleteAction", "HealingActionTemplate", "SafetyRules", "ObjectMeta",
    "HealingPolicySpec", "HealingPolicyStatus", "HealingPolicy", "PolicyReference", "TargetResource",
    "RetryPolicy", "ResourceChange", "ActionResult", "ApprovalStatus", "Condition", "HealingActionSpec",
    "HealingActionStatus", "HealingAction", "Phase", "TERMINAL_PHASES",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module(".model", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
