"""The guard: every suggestion, from the rules or an LLM, passes here before it becomes a step.

An analyzer may be wrong, and an LLM may be steered by text planted in events or logs, so the
guard trusts nothing in a suggestion except what it can check against the policy and the
finding. Each refusal is kept as a :class:`RejectedSuggestion` with a reason code
(``REJECTION_REASONS``) and a human-readable detail. Checks, in order:

1. the action must be one of the policy's actions, by exact name (``not_in_policy``);
2. a stated type must agree with the policy action (``type_mismatch``);
3. the action kind must not be forbidden for the root cause (``forbidden_for_cause``);
4. the target must be the finding's target or one of its owners; only a cordon (and drain) may aim at
   the node the pod runs on (``target_out_of_scope``), and the kind must suit the action
   (``target_kind_unsuitable``);
5. nothing in a protected namespace or carrying ``kubeskippy.io/protected=true`` on the target or
   an owner (``protected``); the safety ledger re-checks the live objects before acting;
6. never delete Namespaces, Nodes, PersistentVolumes/Claims, CRDs or RBAC objects
   (``forbidden_delete``);
7. only the overrides in ``ALLOWED_OVERRIDES``, each on the kind it applies to (replicas: scale;
   percent, resource: raise_limit), well-typed (``param_not_allowed``/``bad_param``);
8. scaling must stay within the action's min/max replicas (``scale_out_of_bounds``);
9. a limit may grow by at most the cap (``limit_increase_over_cap``);
10. mutating actions need the root cause's confidence at or above the policy's threshold
    (``low_confidence``); notify and diagnostics pass regardless;
11. the same action on the same target once (``duplicate``).
"""

from __future__ import annotations

import json
import logging
import math
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Mapping, NamedTuple

from ..events.model import ObjectRef, PlannedAction, RejectedSuggestion
from ..policy.action_kinds import action_kind, action_params, custom_params_for, is_mutating
from ..policy.model import HealingActionTemplate, HealingPolicy
from ..structured_text import StructuredTextError, load_structured_text
from .context import AnalysisContext
from .diagnosis import Diagnosis, Suggestion
from .preferences import FORBIDDEN, NODE_KINDS, target_level
from .quantities import parse_quantity
from .suggest import target_for

__all__ = [
    "GuardConfig",
    "GuardResult",
    "REJECTION_REASONS",
    "ALLOWED_OVERRIDES",
    "MIN_CONFIDENCE_ANNOTATION",
    "MAX_LIMIT_INCREASE_ANNOTATION",
    "PROTECTED_LABEL",
    "guard",
    "min_confidence_of",
]

log = logging.getLogger(__name__)

MIN_CONFIDENCE_ANNOTATION = "kubeskippy.io/min-confidence"
MAX_LIMIT_INCREASE_ANNOTATION = "kubeskippy.io/max-limit-increase-percent"
PROTECTED_LABEL = "kubeskippy.io/protected"
OVERRIDES_BY_KIND = {"replicas": frozenset({"scale"}), "percent": frozenset({"raise_limit"}),
                     "resource": frozenset({"raise_limit"})}
ALLOWED_OVERRIDES = frozenset(OVERRIDES_BY_KIND)

REJECTION_REASONS = (
    "not_in_policy", "type_mismatch", "forbidden_for_cause", "target_out_of_scope", "target_kind_unsuitable",
    "protected", "forbidden_delete", "param_not_allowed", "bad_param", "scale_out_of_bounds",
    "limit_increase_over_cap", "low_confidence", "duplicate",
)

SCALABLE_KINDS = frozenset({"Deployment", "StatefulSet", "ReplicaSet"})


class GuardConfig(NamedTuple):
    """Fixed limits of the guard; per-policy thresholds come from the policy's annotations."""

    protected_namespaces: frozenset[str] = frozenset({"kube-system", "kube-public", "kube-node-lease"})
    """Nothing in these namespaces is ever acted on."""
    never_delete_kinds: frozenset[str] = frozenset({
        "Namespace", "Node", "PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition",
        "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "ServiceAccount",
    })
    default_min_confidence: float = 0.5
    """Used when the policy has no ``kubeskippy.io/min-confidence`` annotation."""
    default_max_limit_increase_percent: float = 100.0
    """A limit may at most double unless the policy's annotation says otherwise (never above 400)."""
    hard_max_limit_increase_percent: float = 400.0


@dataclass
class GuardResult:
    accepted: list[PlannedAction] = field(default_factory=list)
    rejected: list[RejectedSuggestion] = field(default_factory=list)
    accepted_kinds: list[str] = field(default_factory=list)


class _Reject(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


def _annotation_number(policy: HealingPolicy, key: str, default: float, lo: float, hi: float) -> tuple[float, str | None]:
    raw = policy.metadata.annotations.get(key)
    if raw is None:
        return default, None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not lo <= value <= hi:
        return math.nan, f"metadata.annotations[{key}]: {raw!r} is not a number in [{lo:g}, {hi:g}]"
    return value, None


def min_confidence_of(policy: HealingPolicy, config: GuardConfig | None = None) -> tuple[float, str | None]:
    """The policy's confidence threshold and, if its annotation is malformed, an error naming the
    field path. A malformed value fails closed: threshold 1.01, nothing mutating passes."""
    cfg = config or GuardConfig()
    value, error = _annotation_number(policy, MIN_CONFIDENCE_ANNOTATION, cfg.default_min_confidence, 0.0, 1.0)
    return (1.01 if error else value), error


def _max_increase(policy: HealingPolicy, cfg: GuardConfig) -> tuple[float, str | None]:
    value, error = _annotation_number(policy, MAX_LIMIT_INCREASE_ANNOTATION, cfg.default_max_limit_increase_percent,
                                      0.0, cfg.hard_max_limit_increase_percent)
    return (0.0 if error else value), error


def _clean(text: str, limit: int = 300) -> str:
    """Printable text only, bounded: an analyzer's reason is shown to people, never executed."""
    if text.isprintable():  # the common case: no control, format or private-use characters
        return text[:limit]
    kept = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch == " ")
    return kept[:limit]


def _same(a: ObjectRef, b: ObjectRef) -> bool:
    return a.kind == b.kind and a.name == b.name and (a.namespace or "") == (b.namespace or "")


def _resolve_target(s: Suggestion, kind: str, ctx: AnalysisContext) -> ObjectRef:
    if s.target is None:
        target = target_for(target_level(kind), ctx)
        if target is None:
            raise _Reject("target_out_of_scope", f"no {target_level(kind)} to aim a {kind} at")
        return target
    if kind in NODE_KINDS:
        node = ctx.node_ref()
        if node is not None and s.target.kind == "Node" and s.target.name == node.name:
            return node
    for ref in ctx.in_scope():
        if _same(ref, s.target):
            return ref  # the known ref, with its real apiVersion and uid
    raise _Reject("target_out_of_scope", f"{s.target} is neither the finding's target nor one of its owners")


def _check_target_kind(kind: str, target: ObjectRef) -> None:
    ok = {
        "rollback": target.kind == "Deployment",
        "scale": target.kind in SCALABLE_KINDS,
        "cordon_drain": target.kind == "Node",
        "cordon": target.kind == "Node",
    }.get(kind, target.kind != "Node")
    if not ok:
        raise _Reject("target_kind_unsuitable", f"a {kind} cannot act on a {target.kind}")


def _scope_protection(ctx: AnalysisContext, cfg: GuardConfig) -> str | None:
    """Why the finding's whole scope is protected (namespace, or a label on the target or an
    owner), or None. Computed once per plan."""
    namespaces = {r.namespace for r in ctx.in_scope()} - {None, ""}
    hit = sorted(namespaces & cfg.protected_namespaces)
    if hit:
        return f"namespace {hit[0]} is protected"
    for obj in ctx.live_objects():
        reason = _label_protection(obj)
        if reason:
            return reason
    return None


def _label_protection(obj: dict) -> str | None:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    if str(labels.get(PROTECTED_LABEL, "")).lower() == "true":
        return f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')} is labelled {PROTECTED_LABEL}=true"
    return None


def _check_protected(target: ObjectRef, ctx: AnalysisContext, cfg: GuardConfig, scope_reason: str | None) -> None:
    if scope_reason:
        raise _Reject("protected", scope_reason)
    if target.namespace in cfg.protected_namespaces:
        raise _Reject("protected", f"namespace {target.namespace} is protected")
    if target.kind == "Node" and ctx.node:
        reason = _label_protection(ctx.node)
        if reason:
            raise _Reject("protected", reason)


def _check_overrides(params: Mapping[str, Any], kind: str) -> dict[str, Any]:
    unknown = sorted(set(params) - ALLOWED_OVERRIDES)
    if unknown:
        raise _Reject("param_not_allowed", f"parameters {unknown} cannot be set by an analyzer")
    misplaced = sorted(k for k in params if kind not in OVERRIDES_BY_KIND[k])
    if misplaced:
        raise _Reject("param_not_allowed", f"parameters {misplaced} do not apply to a {kind} action")
    out: dict[str, Any] = {}
    if "replicas" in params:
        v = params["replicas"]
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise _Reject("bad_param", f"replicas must be a non-negative integer, got {v!r}")
        out["replicas"] = v
    if "percent" in params:
        v = params["percent"]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            raise _Reject("bad_param", f"percent must be a positive number, got {v!r}")
        out["percent"] = v
    if "resource" in params:
        if params["resource"] not in ("memory", "cpu"):
            raise _Reject("bad_param", f"resource must be memory or cpu, got {params['resource']!r}")
        out["resource"] = params["resource"]
    return out


def _current_replicas(target: ObjectRef, ctx: AnalysisContext) -> int | None:
    for obj in ctx.live_objects():
        meta = obj.get("metadata") or {}
        if obj.get("kind") == target.kind and meta.get("name") == target.name:
            value = (obj.get("spec") or {}).get("replicas")
            return value if isinstance(value, int) and not isinstance(value, bool) else None
    return None


def _check_scale(template: HealingActionTemplate, overrides: Mapping[str, Any], target: ObjectRef,
                 ctx: AnalysisContext) -> None:
    sa = template.scale_action
    if sa is None:
        return
    replicas = overrides.get("replicas", sa.replicas)
    current = _current_replicas(target, ctx)
    if sa.direction == "absolute":
        desired: int | None = replicas
    elif current is None:
        desired = None
    else:
        desired = current + replicas if sa.direction == "up" else current - replicas
    if desired is None:
        if replicas > sa.max_replicas:
            raise _Reject("scale_out_of_bounds", f"a step of {replicas} exceeds maxReplicas {sa.max_replicas}")
        return
    if not sa.min_replicas <= desired <= sa.max_replicas:
        raise _Reject("scale_out_of_bounds", f"{current} -> {desired} replicas is outside "
                                             f"[{sa.min_replicas}, {sa.max_replicas}]")


def _patch_limits(text: str) -> list[tuple[str, float]]:
    """(resource, value) of every ``limits`` mapping inside a YAML/JSON patch."""
    try:
        doc = load_structured_text(text)
    except StructuredTextError:
        return []
    found: list[tuple[str, float]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "limits" and isinstance(v, dict):
                    for res, q in v.items():
                        value = parse_quantity(q)
                        if value is not None:
                            found.append((str(res), value))
                else:
                    walk(v)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(doc)
    return found


def _check_limit_increase(template: HealingActionTemplate, kind: str, overrides: Mapping[str, Any],
                          ctx: AnalysisContext, policy: HealingPolicy, cap: float, cap_error: str | None) -> None:
    if kind != "raise_limit":
        return
    if cap_error:
        raise _Reject("limit_increase_over_cap", cap_error)
    if template.type == "custom":
        percent = overrides.get("percent", custom_params_for(policy, template.name).get("percent"))
        if not isinstance(percent, (int, float)) or isinstance(percent, bool):
            return  # the policy's own percent is checked by the executor; nothing proposed here
        if percent > cap:
            raise _Reject("limit_increase_over_cap", f"+{percent:g}% exceeds the cap of +{cap:g}%")
        return
    pa = template.patch_action
    if pa is None:
        return
    texts = [pa.patch] + [json.dumps({"limits": {op.path[-1]: op.value}}) for op in pa.patches if "limits" in op.path[:-1]]
    for text in texts:
        for resource, value in _patch_limits(text) if text.strip() else []:
            attr = "memory_limit" if resource == "memory" else "cpu_limit" if resource == "cpu" else None
            current = [getattr(c, attr) for c in ctx.containers if attr and getattr(c, attr)]
            if not current:
                continue  # nothing to compare with; the executor applies the policy's own value
            base = max(current)
            if value > base * (1 + cap / 100.0) + 1e-9:
                raise _Reject("limit_increase_over_cap",
                              f"{resource} limit {value:g} is more than +{cap:g}% over the current {base:g}")


def guard(diagnosis: Diagnosis, context: AnalysisContext, policy: HealingPolicy,
          config: GuardConfig | None = None) -> GuardResult:
    """Split suggestions into accepted PlannedActions (in the analyzer's order) and rejections."""
    cfg = config or GuardConfig()
    result = GuardResult()
    menu = {a.name: a for a in policy.spec.actions}
    cause = diagnosis.root_cause.category
    threshold, threshold_error = min_confidence_of(policy, cfg)
    cap, cap_error = _max_increase(policy, cfg)
    forbidden = FORBIDDEN.get(cause, frozenset())
    scope_reason = _scope_protection(context, cfg)
    seen: set[tuple[str, str]] = set()
    for s in diagnosis.suggestions:
        try:
            template = menu.get(s.action) if isinstance(s.action, str) else None
            if template is None:
                raise _Reject("not_in_policy", f"{s.action!r} is not an action of policy {policy.namespace}/{policy.name}")
            kind = action_kind(template, policy)
            if s.type is not None and s.type not in (template.type, kind):
                raise _Reject("type_mismatch", f"{s.action!r} is a {kind} action, not {s.type!r}")
            if kind in forbidden:
                raise _Reject("forbidden_for_cause", f"a {kind} does not help with {cause}")
            target = _resolve_target(s, kind, context)
            _check_target_kind(kind, target)
            _check_protected(target, context, cfg, scope_reason)
            if template.type == "delete" and target.kind in cfg.never_delete_kinds:
                raise _Reject("forbidden_delete", f"{target.kind} objects are never deleted")
            overrides = _check_overrides(s.params, kind)
            _check_scale(template, overrides, target, context)
            _check_limit_increase(template, kind, overrides, context, policy, cap, cap_error)
            if is_mutating(kind) and diagnosis.root_cause.confidence < threshold:
                detail = threshold_error or (f"confidence {diagnosis.root_cause.confidence:.2f} is below the "
                                             f"policy's threshold {threshold:.2f}")
                raise _Reject("low_confidence", detail)
            key = (template.name, str(target))
            if key in seen:
                raise _Reject("duplicate", f"{template.name} on {target} was already planned")
            seen.add(key)
        except _Reject as r:
            result.rejected.append(RejectedSuggestion(suggestion=s.as_record(), reason=f"{r.reason}: {r.detail}"))
            continue
        params = action_params(template, kind)
        params.update(overrides)
        result.accepted.append(PlannedAction(
            action=template.name, type=kind if template.type == "custom" else template.type, target=target,
            params=params, reason=_clean(s.reason), requires_approval=template.requires_approval))
        result.accepted_kinds.append(kind)
    return result
