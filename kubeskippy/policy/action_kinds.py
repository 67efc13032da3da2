"""What a policy action actually does, in the analyzer's vocabulary.

KubeSkippy's schema has five action types (restart, scale, patch, delete, custom). Analysis needs
finer distinctions: a ``patch`` that edits resource limits raises a limit, a ``custom`` action
may be a rollback or a notification. The kind of each action is resolved, in this order:

1. for ``custom``: the ``custom`` entry of the action in the policy annotation
   ``kubeskippy.io/custom-actions`` (YAML/JSON: action name → params, the same annotation the
   remediation executor reads), e.g. ``{rollback-web: {custom: rollback}}``;
2. for ``custom`` without it: keywords in the action's name and description (first match wins,
   see ``CUSTOM_KEYWORDS``), else ``custom``;
3. for ``patch``: ``raise_limit`` when the patch touches ``limits``, else ``patch``;
4. otherwise the schema type itself.

Kinds use the remediation executor's names for its extended actions (remediate/params.py).

It lives with the policy model rather than in kubeskippy.analyze because both sides need it:
analyze plans with it, and remediate attributes each outcome to its kind
(kubeskippy.remediate.attribution) without loading the analyzer on its cold start.
"""

from __future__ import annotations

import functools
import json
import re

from ..structured_text import StructuredTextError, load_structured_text
from .model import HealingActionTemplate, HealingPolicy

__all__ = [
    "KINDS",
    "NON_MUTATING_KINDS",
    "CUSTOM_ACTIONS_ANNOTATION",
    "custom_kinds_of",
    "custom_params_of",
    "custom_params_for",
    "CUSTOM_KEYWORDS",
    "action_kind",
    "action_params",
    "is_mutating",
]

KINDS = ("restart", "scale", "patch", "delete", "rollback", "raise_limit", "cordon", "cordon_drain", "quarantine",
         "diagnostics", "notify", "custom")
NON_MUTATING_KINDS = frozenset({"notify", "diagnostics"})
CUSTOM_ACTIONS_ANNOTATION = "kubeskippy.io/custom-actions"  # remediate.naming re-exports it as ANN_CUSTOM_ACTIONS
_ALIASES = {"drain": "cordon_drain", "raise_limits": "raise_limit", "capture_diagnostics": "diagnostics",
            "notify_only": "notify", "rollout_undo": "rollback"}

CUSTOM_KEYWORDS: tuple[tuple[str, str], ...] = (
    (r"roll-?back|undo|revert|previous-revision", "rollback"),
    (r"limit|resources|memory-bump|raise-mem|increase-mem", "raise_limit"),
    (r"drain", "cordon_drain"),
    (r"cordon", "cordon"),
    (r"quarantin|isolat", "quarantine"),
    (r"diagnos|capture|debug|snapshot|collect", "diagnostics"),
    (r"notif|alert|page|slack|email|escalat", "notify"),
)


@functools.cache
def _keyword_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """CUSTOM_KEYWORDS compiled on first use: a custom action whose kind its policy declares never
    needs them, and compiling the seven costs a function's cold start ~3 M instructions."""
    return tuple((re.compile(p, re.IGNORECASE), kind) for p, kind in CUSTOM_KEYWORDS)


def _patch_touches_limits(template: HealingActionTemplate) -> bool:
    pa = template.patch_action
    if pa is None:
        return False
    if "limits" in pa.patch:
        return True
    return any("limits" in part for op in pa.patches for part in op.path)


def _normalise(name: str) -> str:
    value = name.strip().replace("-", "_")
    value = "".join("_" + c.lower() if c.isupper() else c for c in value).lstrip("_")
    return _ALIASES.get(value, value)


@functools.lru_cache(maxsize=256)
def _parse_custom_actions(text: str) -> dict[str, str]:
    """Action name → params as JSON text, parsed once per distinct annotation (YAML parsing costs
    milliseconds and every plan needs it). Callers decode a fresh copy, so the cache stays intact."""
    try:
        data = load_structured_text(text)
    except StructuredTextError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): json.dumps(v) for k, v in data.items() if isinstance(v, dict)}


@functools.lru_cache(maxsize=256)
def _kinds_in(text: str) -> dict[str, str]:
    out = {}
    for name, raw in _parse_custom_actions(text).items():
        custom = json.loads(raw).get("custom")
        if isinstance(custom, str) and _normalise(custom) in KINDS:
            out[name] = _normalise(custom)
    return out


def custom_params_of(policy: HealingPolicy) -> dict[str, dict]:
    """Action name → params from the ``kubeskippy.io/custom-actions`` annotation (a fresh copy).
    A malformed annotation declares nothing here; the executor reports it with its field path."""
    text = policy.metadata.annotations.get(CUSTOM_ACTIONS_ANNOTATION)
    if not text:
        return {}
    return {name: json.loads(params) for name, params in _parse_custom_actions(text).items()}


def custom_params_for(policy: HealingPolicy, action: str) -> dict:
    """The annotation's params of one action (a fresh copy; empty when none)."""
    text = policy.metadata.annotations.get(CUSTOM_ACTIONS_ANNOTATION)
    raw = _parse_custom_actions(text).get(action) if text else None
    return json.loads(raw) if raw else {}


def custom_kinds_of(policy: HealingPolicy) -> dict[str, str]:
    """Action name → kind declared in the ``kubeskippy.io/custom-actions`` annotation."""
    text = policy.metadata.annotations.get(CUSTOM_ACTIONS_ANNOTATION)
    return dict(_kinds_in(text)) if text else {}


def action_kind(template: HealingActionTemplate, policy: HealingPolicy | None = None) -> str:
    """The analyzer's kind for one policy action (see the module docstring for the rules)."""
    if template.type == "patch":
        return "raise_limit" if _patch_touches_limits(template) else "patch"
    if template.type == "custom":
        text = policy.metadata.annotations.get(CUSTOM_ACTIONS_ANNOTATION) if policy is not None else None
        declared = _kinds_in(text).get(template.name) if text else None
        if declared:
            return declared
        text = f"{template.name} {template.description}"
        for pattern, kind in _keyword_patterns():
            if pattern.search(text):
                return kind
        return "custom"
    return template.type


def is_mutating(kind: str) -> bool:
    """Notify and diagnostics only read or tell; everything else changes the cluster."""
    return kind not in NON_MUTATING_KINDS


def action_params(template: HealingActionTemplate, kind: str) -> dict:
    """The action's own configuration as in the policy (``{"restartAction": {...}}``, camelCase),
    plus ``custom: <kind>`` for extended kinds so the executor knows what a ``custom`` action
    means."""
    params: dict = {}
    for attr, key in (("restart_action", "restartAction"), ("scale_action", "scaleAction"),
                      ("patch_action", "patchAction"), ("delete_action", "deleteAction")):
        value = getattr(template, attr)
        if value is not None:
            params[key] = value.to_json_dict()
    if template.type == "custom" and kind != "custom":
        params["custom"] = kind
    return params
