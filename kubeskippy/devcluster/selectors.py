"""Label and field selectors with the API server's grammar and matching rules.

Two forms exist: the query-string form (``app=web,tier in (a,b),!canary``) used by list and watch,
and the structured ``LabelSelector`` object (matchLabels / matchExpressions) inside Deployments,
ReplicaSets and PodDisruptionBudgets. Both compile to the same requirement list so they cannot
disagree about what matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping, Sequence

from .status import bad_request

__all__ = [
    "Requirement",
    "parse_label_selector",
    "labels_match",
    "selector_object_requirements",
    "selector_object_matches",
    "selector_object_to_string",
    "FieldRequirement",
    "parse_field_selector",
    "field_value",
    "supported_fields",
    "fields_match",
]

_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
_KEY_RE = re.compile(rf"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?{_NAME}$")
_VALUE_RE = re.compile(rf"^({_NAME})?$")


@dataclass(frozen=True)
class Requirement:
    """One clause of a label selector. ``op`` is one of
    ``= != in notin exists !exists gt lt``."""

    key: str
    op: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        has = self.key in labels
        value = labels.get(self.key)
        if self.op == "=":
            return has and value == self.values[0]
        if self.op == "in":
            return has and value in self.values
        if self.op == "!=":
            return not has or value != self.values[0]
        if self.op == "notin":
            return not has or value not in self.values
        if self.op == "exists":
            return has
        if self.op == "!exists":
            return not has
        if self.op in ("gt", "lt"):
            try:
                have, want = int(value or ""), int(self.values[0])
            except ValueError:
                return False
            return have > want if self.op == "gt" else have < want
        raise AssertionError(self.op)


def _split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _check_key(key: str, clause: str) -> str:
    if len(key) > 317 or not _KEY_RE.match(key) or len(key.rpartition("/")[2]) > 63:
        raise bad_request(f"unable to parse requirement: {clause!r}: invalid label key {key!r}")
    return key


def _check_value(value: str, clause: str) -> str:
    if len(value) > 63 or not _VALUE_RE.match(value):
        raise bad_request(f"unable to parse requirement: {clause!r}: invalid label value {value!r}")
    return value


_SET_RE = re.compile(r"^\s*(\S+?)\s+(in|notin)\s*\((.*)\)\s*$")
_CMP_RE = re.compile(r"^\s*([^=!<>\s]+)\s*(==|=|!=|>|<)\s*(.*?)\s*$")


def parse_label_selector(text: str | None) -> list[Requirement]:
    """Parse the query-string form; ``""``/``None`` selects everything. Bad syntax → 400."""
    if text is None or not text.strip():
        return []
    out: list[Requirement] = []
    for raw in _split_top_level(text):
        clause = raw.strip()
        if not clause:
            raise bad_request(f"unable to parse requirement: empty clause in {text!r}")
        m = _SET_RE.match(clause)
        if m:
            key = _check_key(m.group(1), clause)
            values = tuple(_check_value(v.strip(), clause) for v in m.group(3).split(",")) if m.group(3).strip() else ()
            if not values:
                raise bad_request(f"unable to parse requirement: {clause!r}: for 'in', 'notin' operators, values set can't be empty")
            out.append(Requirement(key, m.group(2), values))
            continue
        if clause.startswith("!"):
            out.append(Requirement(_check_key(clause[1:].strip(), clause), "!exists"))
            continue
        m = _CMP_RE.match(clause)
        if m:
            key, op, value = m.group(1), m.group(2), m.group(3)
            _check_key(key, clause)
            if op in (">", "<"):
                if not re.fullmatch(r"-?\d+", value):
                    raise bad_request(f"unable to parse requirement: {clause!r}: for 'Gt', 'Lt' operators, the value must be an integer")
                out.append(Requirement(key, "gt" if op == ">" else "lt", (value,)))
            else:
                out.append(Requirement(key, "!=" if op == "!=" else "=", (_check_value(value, clause),)))
            continue
        if _KEY_RE.match(clause):
            out.append(Requirement(clause, "exists"))
            continue
        raise bad_request(f"unable to parse requirement: {clause!r}")
    return out


def labels_match(requirements: Sequence[Requirement], labels: Mapping[str, str] | None) -> bool:
    labels = labels or {}
    return all(r.matches(labels) for r in requirements)


_EXPRESSION_OPS = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!exists"}


def selector_object_requirements(selector: Mapping[str, Any]) -> list[Requirement]:
    """Compile a ``LabelSelector`` object (matchLabels + matchExpressions)."""
    reqs = [Requirement(k, "=", (str(v),)) for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        op = _EXPRESSION_OPS.get(expr.get("operator", ""))
        if op is None:
            raise bad_request(f"{expr.get('operator')!r} is not a valid label selector operator")
        reqs.append(Requirement(expr.get("key", ""), op, tuple(str(v) for v in expr.get("values") or ())))
    return reqs


def selector_object_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str] | None) -> bool:
    """``None`` selects nothing; ``{}`` selects everything (policy/v1 and apps/v1 semantics)."""
    if selector is None:
        return False
    return labels_match(selector_object_requirements(selector), labels)


def selector_object_to_string(selector: Mapping[str, Any] | None) -> str:
    """The query-string form, as in ``Scale.status.selector``."""
    if not selector:
        return ""
    parts = []
    for r in selector_object_requirements(selector):
        if r.op == "=":
            parts.append(f"{r.key}={r.values[0]}")
        elif r.op in ("in", "notin"):
            parts.append(f"{r.key} {r.op} ({','.join(sorted(r.values))})")
        elif r.op == "exists":
            parts.append(r.key)
        else:
            parts.append(f"!{r.key}")
    return ",".join(parts)


# --- field selectors --------------------------------------------------------------------

_COMMON_FIELDS = ("metadata.name", "metadata.namespace")
_EVENT_FIELDS = (
    "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
    "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
    "reason", "reportingComponent", "source", "type",
)
_FIELDS_BY_KIND: dict[str, tuple[str, ...]] = {
    "Pod": ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
            "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"),
    "Event": _EVENT_FIELDS,
    "Namespace": ("status.phase",),
    "Node": ("spec.unschedulable",),
    "Secret": ("type",),
    "ReplicaSet": ("status.replicas",),
    "Job": ("status.successful",),
}
_EVENTS_K8S_IO_FIELDS = ("regarding.kind", "regarding.namespace", "regarding.name", "regarding.uid",
                         "regarding.apiVersion", "reason", "reportingController", "type")


def supported_fields(api_version: str, kind: str) -> tuple[str, ...]:
    if kind == "Event" and api_version == "events.k8s.io/v1":
        return _COMMON_FIELDS + _EVENTS_K8S_IO_FIELDS
    return _COMMON_FIELDS + _FIELDS_BY_KIND.get(kind, ())


@dataclass(frozen=True)
class FieldRequirement:
    field: str
    value: str
    negated: bool


def parse_field_selector(text: str | None, api_version: str, kind: str) -> list[FieldRequirement]:
    """Parse ``a=b,c!=d``; a field the kind does not index → 400 like the API server."""
    if text is None or not text.strip():
        return []
    allowed = supported_fields(api_version, kind)
    out: list[FieldRequirement] = []
    for raw in text.split(","):
        clause = raw.strip()
        m = re.match(r"^([^=!]+?)\s*(==|=|!=)\s*(.*)$", clause)
        if not m:
            raise bad_request(f"invalid field selector: {clause!r}")
        field, op, value = m.group(1).strip(), m.group(2), m.group(3).strip()
        if field not in allowed:
            raise bad_request(f'field label not supported: {field}')
        out.append(FieldRequirement(field, value, op == "!="))
    return out


@lru_cache(maxsize=256)
def _field_path(field: str) -> tuple[str, ...]:
    return tuple(field.split("."))


def field_value(obj: Mapping[str, Any], field: str) -> str:
    """The string a field selector compares against (missing → ``""``; ``source`` for core
    Events is ``source.component``)."""
    if field == "source" and obj.get("kind") == "Event":
        return str((obj.get("source") or {}).get("component") or "")
    node: Any = obj
    for part in _field_path(field):
        # dict first: an isinstance check against typing.Mapping costs ~2 µs, and a LIST of Events
        # with a field selector makes several per stored Event.
        if not (type(node) is dict or isinstance(node, Mapping)):
            return ""
        node = node.get(part)
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)


def fields_match(requirements: Sequence[FieldRequirement], obj: Mapping[str, Any]) -> bool:
    for r in requirements:
        equal = field_value(obj, r.field) == r.value
        if equal == r.negated:
            return False
    return True


