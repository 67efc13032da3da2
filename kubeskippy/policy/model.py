"""HealingPolicy and HealingAction (kubeskippy.io/v1alpha1) as KubeSkippy published them.

Field names, enums and defaults follow the original api/v1alpha1 Go types so existing manifests
apply unchanged. Two deliberate widenings: metric operators also accept ``==`` and ``!=``, and a
patch action accepts either ``patch`` or ``patches`` (the Go type required ``patch`` even when only
``patches`` was used). Unknown fields are rejected (``extra="forbid"``); the loader can downgrade
that to warnings for compatibility.

The models only a HealingAction holds live in :mod:`kubeskippy.policy.healing_action` and load on
first use of their names here (``from kubeskippy.policy.model import HealingAction`` works as
before), so a function whose first event reads policies but writes no HealingAction does not
build them on its cold start; annotations are plain objects rather than strings for the same
reason (pydantic need not evaluate them). See docs/functions.md, "Cold start".
"""

import importlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..types import Duration, Timestamp, camel_alias, new_dict, new_list

__all__ = [
    "API_VERSION",
    "Spec",
    "LabelSelectorRequirement",
    "LabelSelector",
    "ResourceFilter",
    "ResourceSelector",
    "MetricTrigger",
    "EventTrigger",
    "ConditionTrigger",
    "HealingTrigger",
    "RestartAction",
    "ScaleAction",
    "PatchOperation",
    "PatchAction",
    "DeleteAction",
    "HealingActionTemplate",
    "SafetyRules",
    "ObjectMeta",
    "HealingPolicySpec",
    "HealingPolicyStatus",
    "HealingPolicy",
    "PolicyReference",
    "TargetResource",
    "RetryPolicy",
    "ResourceChange",
    "ActionResult",
    "ApprovalStatus",
    "Condition",
    "HealingActionSpec",
    "HealingActionStatus",
    "HealingAction",
    "Phase",
    "TERMINAL_PHASES",
]

API_VERSION = "kubeskippy.io/v1alpha1"


class Spec(BaseModel):
    """Base for every API struct: camelCase on the wire, unknown fields rejected."""

    model_config = ConfigDict(
        alias_generator=camel_alias, populate_by_name=True, extra="forbid", frozen=False,
        validate_default=True,
    )

    def to_json_dict(self) -> dict[str, Any]:
        """The manifest form: camelCase, defaults kept, unset optionals dropped."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class LabelSelectorRequirement(Spec):
    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: list[str] = Field(default_factory=new_list)

    @model_validator(mode="after")
    def _values_fit_operator(self) -> "LabelSelectorRequirement":
        if self.operator in ("In", "NotIn") and not self.values:
            raise ValueError(f"values: must be non-empty when operator is {self.operator}")
        if self.operator in ("Exists", "DoesNotExist") and self.values:
            raise ValueError(f"values: must be empty when operator is {self.operator}")
        return self


class LabelSelector(Spec):
    match_labels: dict[str, str] = Field(default_factory=new_dict)
    match_expressions: list[LabelSelectorRequirement] = Field(default_factory=new_list)


class ResourceFilter(Spec):
    api_version: str = Field(alias="apiVersion")
    kind: str
    exclude_names: list[str] = Field(default_factory=new_list, description="Names or shell globs to ignore")


class ResourceSelector(Spec):
    namespaces: list[str] = Field(default_factory=new_list, description="Empty means all namespaces")
    label_selector: LabelSelector | None = None
    resources: list[ResourceFilter]


MetricOperator = Literal[">", "<", ">=", "<=", "==", "!="]


class MetricTrigger(Spec):
    query: str = Field(description="A built-in metric name (see docs) or any PromQL expression")
    threshold: float
    operator: MetricOperator
    duration: Duration = Field(default=120.0, description="The condition must hold for this whole duration")

    @field_validator("query")
    @classmethod
    def _query_not_empty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        return v


class EventTrigger(Spec):
    reason: str = Field(default="", description="Exact reason, or a regular expression")
    type: str = Field(default="", description="Normal or Warning; empty matches both")
    count: int = Field(default=0, ge=0, description="Events needed within window (Event.count and series honoured)")
    window: Duration = 300.0


class ConditionTrigger(Spec):
    type: str = Field(description="A status condition type (Ready, ...) or a container state reason "
                                  "(CrashLoopBackOff, ImagePullBackOff, OOMKilled, Error)")
    status: str = Field(description='"True", "False" or "Unknown"')
    duration: Duration = 120.0


class HealingTrigger(Spec):
    name: str = Field(min_length=1)
    type: Literal["metric", "event", "condition"]
    metric_trigger: MetricTrigger | None = None
    event_trigger: EventTrigger | None = None
    condition_trigger: ConditionTrigger | None = None
    cooldown_period: Duration = 300.0

    @model_validator(mode="after")
    def _config_matches_type(self) -> "HealingTrigger":
        needed = {"metric": self.metric_trigger, "event": self.event_trigger,
                  "condition": self.condition_trigger}[self.type]
        if needed is None:
            raise ValueError(f"{self.type}Trigger: required when type is {self.type}")
        return self


class RestartAction(Spec):
    strategy: Literal["recreate", "rolling", "graceful"] = "rolling"
    max_concurrent: int = Field(default=1, ge=1)
    grace_period_seconds: int = Field(default=30, ge=0)


class ScaleAction(Spec):
    direction: Literal["up", "down", "absolute"]
    replicas: int = Field(ge=0)
    min_replicas: int = Field(default=0, ge=0)
    max_replicas: int = Field(default=100, ge=0)

    @model_validator(mode="after")
    def _bounds_ordered(self) -> "ScaleAction":
        if self.min_replicas > self.max_replicas:
            raise ValueError("minReplicas: must not exceed maxReplicas")
        return self


class PatchOperation(Spec):
    path: list[str] = Field(min_length=1)
    value: str


class PatchAction(Spec):
    type: Literal["strategic", "merge", "json"]
    patch: str = ""
    patches: list[PatchOperation] = Field(default_factory=new_list)

    @model_validator(mode="after")
    def _has_content(self) -> "PatchAction":
        if not self.patch.strip() and not self.patches:
            raise ValueError("patch: one of patch or patches is required")
        return self


class DeleteAction(Spec):
    grace_period_seconds: int = Field(default=30, ge=0)
    force: bool = False
    propagation_policy: Literal["Orphan", "Background", "Foreground"] | None = None


ActionType = Literal["restart", "scale", "patch", "delete", "custom"]


class HealingActionTemplate(Spec):
    name: str = Field(min_length=1)
    type: ActionType
    description: str = ""
    restart_action: RestartAction | None = None
    scale_action: ScaleAction | None = None
    patch_action: PatchAction | None = None
    delete_action: DeleteAction | None = None
    priority: int = Field(default=50, description="Higher runs first")
    requires_approval: bool = False

    @model_validator(mode="after")
    def _config_for_type(self) -> "HealingActionTemplate":
        # restart and delete have usable defaults; scale and patch cannot be guessed.
        if self.type == "scale" and self.scale_action is None:
            raise ValueError("scaleAction: required when type is scale")
        if self.type == "patch" and self.patch_action is None:
            raise ValueError("patchAction: required when type is patch")
        return self

    def effective_restart(self) -> RestartAction:
        return self.restart_action or RestartAction()

    def effective_delete(self) -> DeleteAction:
        return self.delete_action or DeleteAction()


class SafetyRules(Spec):
    max_actions_per_hour: int = Field(default=10, ge=0)
    protected_resources: list[ResourceFilter] = Field(default_factory=new_list)
    require_health_check: bool = False
    health_check_timeout: Duration = 300.0


class ObjectMeta(BaseModel):
    """Kubernetes metadata: name is required; everything else is kept as given."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    name: str = Field(min_length=1, max_length=253, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    namespace: str = "default"
    uid: str | None = None
    labels: dict[str, str] = Field(default_factory=new_dict)
    annotations: dict[str, str] = Field(default_factory=new_dict)


class HealingPolicySpec(Spec):
    selector: ResourceSelector
    triggers: list[HealingTrigger] = Field(min_length=1)
    actions: list[HealingActionTemplate] = Field(min_length=1)
    safety_rules: SafetyRules = Field(default_factory=SafetyRules)
    mode: Literal["monitor", "dryrun", "automatic", "manual"] = "monitor"

    @model_validator(mode="after")
    def _unique_names(self) -> "HealingPolicySpec":
        for what, items in (("triggers", self.triggers), ("actions", self.actions)):
            seen: set[str] = set()
            for item in items:
                if item.name in seen:
                    raise ValueError(f"{what}: duplicate name {item.name!r}")
                seen.add(item.name)
        return self

    def actions_by_priority(self) -> list[HealingActionTemplate]:
        """Higher priority first; ties keep manifest order."""
        return sorted(self.actions, key=lambda a: -a.priority)


class Condition(Spec):
    model_config = ConfigDict(alias_generator=camel_alias, populate_by_name=True, extra="allow")

    type: str
    status: str
    reason: str = ""
    message: str = ""
    last_transition_time: Timestamp | None = None
    observed_generation: int | None = None


class HealingPolicyStatus(Spec):
    model_config = ConfigDict(alias_generator=camel_alias, populate_by_name=True, extra="allow")

    last_evaluated: Timestamp | None = None
    active_triggers: list[str] = Field(default_factory=new_list)
    actions_taken: int = 0
    last_action_time: Timestamp | None = None
    conditions: list[Condition] = Field(default_factory=new_list)
    observed_generation: int | None = None


class HealingPolicy(Spec):
    api_version: Literal["kubeskippy.io/v1alpha1"] = Field(default=API_VERSION, alias="apiVersion")
    kind: Literal["HealingPolicy"] = "HealingPolicy"
    metadata: ObjectMeta
    spec: HealingPolicySpec
    status: HealingPolicyStatus | None = None

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def namespace(self) -> str:
        return self.metadata.namespace

    def trigger(self, name: str) -> HealingTrigger:
        for t in self.spec.triggers:
            if t.name == name:
                return t
        raise KeyError(name)

    def action(self, name: str) -> HealingActionTemplate:
        for a in self.spec.actions:
            if a.name == name:
                return a
        raise KeyError(name)


Phase = Literal["Pending", "Approved", "InProgress", "Succeeded", "Failed", "Cancelled"]
TERMINAL_PHASES: frozenset[str] = frozenset({"Succeeded", "Failed", "Cancelled"})

_HEALING_ACTION_NAMES = frozenset({
    "PolicyReference", "TargetResource", "RetryPolicy", "ResourceChange", "ActionResult", "ApprovalStatus",
    "HealingActionSpec", "HealingActionStatus", "HealingAction",
})


def __getattr__(name: str) -> Any:
    if name in _HEALING_ACTION_NAMES:
        return getattr(importlib.import_module(".healing_action", __package__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
