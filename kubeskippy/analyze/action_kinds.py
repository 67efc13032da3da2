"""What a policy action actually does, in the analyzer's vocabulary.

KubeSkippy's schema has five action types (restart, scale, patch, delete, custom). Analysis needs
finer distinctions: a ``patch`` that edits resource limits raises a limit, a ``custom`` action
may be a rollback or a notification. The kind of each action is resolved, in this order:

1. an explicit policy annotation ``kubeskippy.io/action-kind.<action name>: <kind>``;
2. for ``patch``: ``raise-limit`` when the patch touches ``limits``, else ``patch``;
3. for ``custom``: keywords in the action's name and description (first match wins, see
   ``CUSTOM_KEYWORDS``), else ``custom``;
4. otherwise the schema type itself.

Kinds use the same names as the remediation executor's extended actions.
"""

from __future__ import annotations

import json
import re

from ..policy.model import HealingActionTemplate, HealingPolicy

__all__ = [
    "KINDS",
    "NON_MUTATING_KINDS",
    "KIND_ANNOTATION_PREFIX",
    "CUSTOM_KEYWORDS",
    "action_kind",
    "action_params",
    "is_mutating",
]

KINDS = ("restart", "scale", "patch", "delete", "rollback", "raise-limit", "cordon-drain", "quarantine",
         "diagnostics", "notify", "custom")
NON_MUTATING_KINDS = frozenset({"notify", "diagnostics"})
KIND_ANNOTATION_PREFIX = "kubeskippy.io/action-kind."

CUSTOM_KEYWORDS: tuple[tuple[str, str], ...] = (
    (r"roll-?back|undo|revert|previous-revision", "rollback"),
    (r"limit|resources|memory-bump|raise-mem|increase-mem", "raise-limit"),
    (r"cordon|drain", "cordon-drain"),
    (r"quarantin|isolat", "quarantine"),
    (r"diagnos|capture|debug|snapshot|collect", "diagnostics"),
    (r"notif|alert|page|slack|email|escalat", "notify"),
)
_COMPILED = tuple((re.compile(p, re.IGNORECASE), kind) for p, kind in CUSTOM_KEYWORDS)


def _patch_touches_limits(template: HealingActionTemplate) -> bool:
    pa = template.patch_action
    if pa is None:
        return False
    if "limits" in pa.patch:
        return True
    return any("limits" in part for op in pa.patches for part in op.path)


def action_kind(template: HealingActionTemplate, policy: HealingPolicy | None = None) -> str:
    """The analyzer's kind for one policy action (see the module docstring for the rules)."""
    if policy is not None:
        explicit = policy.metadata.annotations.get(KIND_ANNOTATION_PREFIX + template.name, "").strip()
        if explicit in KINDS:
            return explicit
    if template.type == "patch":
        return "raise-limit" if _patch_touches_limits(template) else "patch"
    if template.type == "custom":
        text = f"{template.name} {template.description}"
        for pattern, kind in _COMPILED:
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
            params[key] = json.loads(value.model_dump_json(by_alias=True, exclude_none=True))
    if template.type == "custom" and kind != "custom":
        params["custom"] = kind
    return params
