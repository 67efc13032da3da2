"""Which action to run and with which parameters, from a policy and a planned action.

Layers, later ones win: the policy template's config block (``restartAction`` …), then the
policy's ``kubeskippy.io/custom-actions`` annotation for that action, then the plan's ``params``.
Bounds the policy sets (scale min/max replicas, limit cap and percent) can be narrowed by a plan
but never widened: an analyzer, however clever or compromised, cannot push past the policy.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from functools import lru_cache
from typing import Any, Iterable, Mapping

from ..errors import FieldError, InvalidInput
from ..events.model import PlannedAction
from ..policy.model import HealingActionTemplate, HealingPolicy
from ..structured_text import StructuredTextError, load_structured_text
from .naming import ANN_CUSTOM_ACTIONS
from .quantities import parse_quantity

__all__ = ["BUILTIN_TYPES", "EXTENDED_TYPES", "ALIASES", "ParamReader", "resolve_action", "custom_actions_of"]

BUILTIN_TYPES = ("restart", "scale", "patch", "delete")
EXTENDED_TYPES = ("rollback", "raise_limit", "cordon", "cordon_drain", "quarantine", "diagnostics", "notify")
ALIASES = {"drain": "cordon_drain", "raise_limits": "raise_limit", "capture_diagnostics": "diagnostics",
           "notify_only": "notify", "rollout_undo": "rollback"}
_BLOCK_KEYS = {"restart": "restartAction", "scale": "scaleAction", "patch": "patchAction", "delete": "deleteAction"}
_MISSING = object()


def _normalise(type_name: str) -> str:
    name = type_name.strip().replace("-", "_")
    name = "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
    return ALIASES.get(name, name)


def custom_actions_of(policy: HealingPolicy) -> dict[str, dict[str, Any]]:
    """The policy annotation mapping action name → params (YAML or JSON)."""
    text = policy.metadata.annotations.get(ANN_CUSTOM_ACTIONS)
    if not text:
        return {}
    return copy.deepcopy(_parsed_custom_actions(text))  # callers may change what they get


@lru_cache(maxsize=64)
def _parsed_custom_actions(text: str) -> dict[str, dict[str, Any]]:
    """Parsed once per annotation text: every step of every plan reads it (~1.5 ms in pure-Python
    YAML, on the path to the action)."""
    try:
        data = load_structured_text(text)
    except StructuredTextError as e:
        raise InvalidInput([FieldError(f"metadata.annotations[{ANN_CUSTOM_ACTIONS}]", f"not YAML/JSON: {e}")]) from e
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise InvalidInput([FieldError(f"metadata.annotations[{ANN_CUSTOM_ACTIONS}]",
                                       "must map action names to parameter objects")])
    return data


def _narrowed(key: str, policy_value: Any, plan_value: Any) -> Any:
    """A plan may tighten a policy bound, never loosen it."""
    try:
        if key in ("minReplicas",):
            return max(int(policy_value), int(plan_value))
        if key in ("maxReplicas", "percent", "maxConcurrent"):
            return min(type(plan_value)(policy_value), plan_value)
        if key == "max":
            return plan_value if parse_quantity(plan_value) <= parse_quantity(policy_value) else policy_value
    except (TypeError, ValueError):
        return plan_value  # the action's own validation names the bad value
    return plan_value


_BOUNDED = ("minReplicas", "maxReplicas", "percent", "max", "maxConcurrent")


def resolve_action(policy: HealingPolicy, template: HealingActionTemplate,
                   planned: PlannedAction) -> tuple[str, dict[str, Any]]:
    """The effective action type (built-in or extended) and its merged parameters.

    Raises InvalidInput naming ``type`` or ``params.custom`` when the plan and policy disagree."""
    base: dict[str, Any] = {}
    block_key = _BLOCK_KEYS.get(template.type)
    block = getattr(template, {"restart": "restart_action", "scale": "scale_action", "patch": "patch_action",
                               "delete": "delete_action"}[template.type], None) if block_key else None
    if block is not None:
        base.update(block.to_json_dict())
    base.update(custom_actions_of(policy).get(template.name, {}))
    policy_layer = dict(base)

    plan_params = dict(planned.params)
    if block_key and isinstance(plan_params.get(block_key), dict):
        plan_params.update(plan_params.pop(block_key))
    merged = dict(base)
    for key, value in plan_params.items():
        merged[key] = _narrowed(key, policy_layer[key], value) if key in _BOUNDED and key in policy_layer else value

    if template.type == "custom":
        chosen = merged.pop("custom", None) or (planned.type if planned.type not in ("custom", "") else None)
        if not chosen:
            raise InvalidInput([FieldError("params.custom", f"required for the custom action {template.name!r}: "
                                           f"one of {', '.join(EXTENDED_TYPES)} (set it in the policy annotation "
                                           f"{ANN_CUSTOM_ACTIONS} or the plan)")])
        action_type = _normalise(str(chosen))
        if action_type not in EXTENDED_TYPES + BUILTIN_TYPES:
            raise InvalidInput([FieldError("params.custom", f"unknown action {chosen!r}; known: "
                                           f"{', '.join(BUILTIN_TYPES + EXTENDED_TYPES)}")])
        planned_type = _normalise(planned.type) if planned.type else "custom"
        if planned_type not in ("custom", action_type):
            raise InvalidInput([FieldError("type", f"plan says {planned.type!r} but the policy's custom action "
                                           f"{template.name!r} is {action_type!r}")])
        return action_type, merged
    merged.pop("custom", None)
    if planned.type and _normalise(planned.type) != template.type:
        raise InvalidInput([FieldError("type", f"plan says {planned.type!r} but policy action {template.name!r} "
                                       f"is {template.type!r}")])
    return template.type, merged


class ParamReader:
    """Typed reads from a params mapping, collecting every problem with its path
    (``params.replicas``) before raising one InvalidInput."""

    def __init__(self, params: Mapping[str, Any], prefix: str = "params") -> None:
        self._params = dict(params)
        self._prefix = prefix
        self._seen: set[str] = set()
        self.errors: list[FieldError] = []

    def _get(self, name: str, default: Any) -> Any:
        self._seen.add(name)
        return self._params.get(name, default)

    def fail(self, name: str, message: str) -> None:
        """Record a problem with one parameter."""
        self.errors.append(FieldError(f"{self._prefix}.{name}", message))

    def choice(self, name: str, options: Iterable[str], default: str | None = None) -> str | None:
        options = tuple(options)
        value = self._get(name, default)
        if value is None or value in options:
            return value
        self.fail(name, f"must be one of {', '.join(options)}, got {value!r}")
        return default

    def integer(self, name: str, default: int | None = None, *, minimum: int | None = None,
                maximum: int | None = None) -> int | None:
        value = self._get(name, default)
        if value is None:
            return None
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(name, f"must be an integer, got {value!r}")
            return default
        if minimum is not None and value < minimum:
            self.fail(name, f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            self.fail(name, f"must be at most {maximum}, got {value}")
        return value

    def number(self, name: str, default: float | None = None, *, minimum: float | None = None,
               exclusive_minimum: bool = False) -> float | None:
        value = self._get(name, default)
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(name, f"must be a number, got {value!r}")
            return default
        if minimum is not None and (value <= minimum if exclusive_minimum else value < minimum):
            self.fail(name, f"must be {'greater than' if exclusive_minimum else 'at least'} {minimum}, got {value}")
        return float(value)

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self._get(name, default)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            self.fail(name, f"must be true or false, got {value!r}")
            return default
        return value

    def text(self, name: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self._get(name, default)
        if value is None or value == "":
            if required:
                self.fail(name, "is required")
            return value
        if not isinstance(value, str):
            self.fail(name, f"must be a string, got {value!r}")
            return default
        return value

    def quantity(self, name: str, *, required: bool = False) -> Decimal | None:
        value = self._get(name, None)
        if value is None:
            if required:
                self.fail(name, "is required (a quantity such as '2Gi' or '1500m')")
            return None
        try:
            return parse_quantity(value)
        except ValueError as e:
            self.fail(name, str(e))
            return None

    def raw(self, name: str, default: Any = _MISSING) -> Any:
        value = self._get(name, None if default is _MISSING else default)
        return value

    def string_list(self, name: str) -> list[str]:
        value = self._get(name, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(name, f"must be a list of strings, got {value!r}")
            return []
        return value

    def finish(self, *, allow_unknown: bool = False) -> None:
        """Raise one InvalidInput for everything wrong, including unknown parameter names."""
        if not allow_unknown:
            for name in sorted(set(self._params) - self._seen):
                self.fail(name, "unknown parameter for this action")
        if self.errors:
            raise InvalidInput(self.errors)

