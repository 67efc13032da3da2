"""Plan (io.kubeskippy.plan): a root cause and ordered actions for one finding, and its parts.

Import these from :mod:`kubeskippy.events.model`, which loads this module on first use (detect
never builds a Plan).
"""

from typing import Any

from pydantic import Field

from ..types import Timestamp, new_dict, new_list
from .model import EventModel, Evidence, Finding, ObjectRef

__all__ = ["RootCause", "PlannedAction", "RejectedSuggestion", "Plan"]


class RootCause(EventModel):
    category: str = Field(description="One of ROOT_CAUSES")
    confidence: float = Field(ge=0.0, le=1.0)
    explanation: str
    evidence: list[Evidence] = Field(default_factory=new_list)


class PlannedAction(EventModel):
    """One step of a plan: a policy action (by name) applied to one target."""

    action: str = Field(description="Name of the HealingActionTemplate in the policy")
    type: str = Field(description="restart, scale, patch, delete, custom, or an extended type")
    target: ObjectRef
    params: dict[str, Any] = Field(default_factory=new_dict,
                                   description="Action parameters (camelCase, as in the policy)")
    reason: str = ""
    requires_approval: bool = False


class RejectedSuggestion(EventModel):
    """Something an analyzer suggested that the guard refused, and why."""

    suggestion: dict[str, Any]
    reason: str


class Plan(EventModel):
    """Root cause and ordered actions for one finding (io.kubeskippy.plan)."""

    id: str
    finding: Finding
    root_cause: RootCause
    analyzer: str = Field(description="rules, ollama or openai")
    actions: list[PlannedAction] = Field(default_factory=new_list)
    rejected: list[RejectedSuggestion] = Field(default_factory=new_list)
    created_at: Timestamp
    notes: list[str] = Field(default_factory=new_list, description="How the plan came about: fallbacks, "
                                                                 "cache hits, learning preferences, escalation")
