"""HealingAction (kubeskippy.io/v1alpha1): one action of a policy on one target, with its approval
and progress.

Import these from :mod:`kubeskippy.policy.model` (or :mod:`kubeskippy.policy`), which loads this
module on first use: only remediate and the CLI write HealingActions, and the other functions'
cold starts should not build these nine models.
"""

from typing import Literal

from pydantic import ConfigDict, Field

from ..types import ChangeType, Duration, Timestamp, camel_alias, new_dict, new_list
from .model import API_VERSION, Condition, HealingActionTemplate, ObjectMeta, Phase, Spec

__all__ = [
    "PolicyReference",
    "TargetResource",
    "RetryPolicy",
    "ResourceChange",
    "ActionResult",
    "ApprovalStatus",
    "HealingActionSpec",
    "HealingActionStatus",
    "HealingAction",
]


class PolicyReference(Spec):
    name: str
    namespace: str
    uid: str = ""


class TargetResource(Spec):
    api_version: str = Field(alias="apiVersion")
    kind: str
    name: str
    namespace: str = ""
    uid: str = ""


class RetryPolicy(Spec):
    max_attempts: int = Field(default=3, ge=1)
    backoff_delay: Duration = 30.0
    backoff_multiplier: float = Field(default=2.0, ge=1.0)


class ResourceChange(Spec):
    resource_ref: str
    change_type: ChangeType
    field: str = ""
    old_value: str = ""
    new_value: str = ""
    timestamp: Timestamp | None = None


class ActionResult(Spec):
    success: bool
    message: str = ""
    error: str = ""
    metrics: dict[str, str] = Field(default_factory=new_dict)
    changes: list[ResourceChange] = Field(default_factory=new_list)


class ApprovalStatus(Spec):
    required: bool
    approved: bool
    approved_by: str = ""
    approved_at: Timestamp | None = None
    reason: str = ""


class HealingActionSpec(Spec):
    policy_ref: PolicyReference
    target_resource: TargetResource
    action: HealingActionTemplate
    approval_required: bool = False
    dry_run: bool = False
    timeout: Duration = 600.0
    retry_policy: RetryPolicy | None = None


class HealingActionStatus(Spec):
    model_config = ConfigDict(alias_generator=camel_alias, populate_by_name=True, extra="allow")

    phase: Phase | None = None
    start_time: Timestamp | None = None
    completion_time: Timestamp | None = None
    attempts: int = 0
    last_attempt_time: Timestamp | None = None
    result: ActionResult | None = None
    approval: ApprovalStatus | None = None
    conditions: list[Condition] = Field(default_factory=new_list)
    observed_generation: int | None = None


class HealingAction(Spec):
    api_version: Literal["kubeskippy.io/v1alpha1"] = Field(default=API_VERSION, alias="apiVersion")
    kind: Literal["HealingAction"] = "HealingAction"
    metadata: ObjectMeta
    spec: HealingActionSpec
    status: HealingActionStatus | None = None
