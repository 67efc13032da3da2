"""The subset of API-server validation the double enforces, so a dry run means something.

Each check returns ``details.causes`` entries (field path + message) and the caller raises one
422 Invalid for all of them, as the API server does. Only rules that a self-healing controller can
trip over are here: object names, labels, the 1 MiB ConfigMap limit, workload selectors, pod
immutability and the PodDisruptionBudget either/or. Everything else is accepted as written.
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

from .selectors import selector_object_matches
from .status import bad_request, cause

__all__ = [
    "validate_object",
    "validate_update",
    "MAX_CONFIGMAP_BYTES",
    "MAX_ANNOTATION_BYTES",
]

MAX_CONFIGMAP_BYTES = 1024 * 1024
MAX_ANNOTATION_BYTES = 256 * 1024

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_QUALIFIED_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_CONFIGMAP_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


def _name_causes(name: Any, generated: bool) -> list[dict[str, str]]:
    if generated:
        return []
    if not isinstance(name, str) or not name:
        return [cause("metadata.name", "Required value: name or generateName is required", "FieldValueRequired")]
    if len(name) > 253 or not _SUBDOMAIN.match(name):
        return [cause("metadata.name", f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of '
                      "lower case alphanumeric characters, '-' or '.', and must start and end with an "
                      "alphanumeric character")]
    return []


def _metadata_causes(meta: Mapping[str, Any]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    labels = meta.get("labels")
    if labels is not None and not isinstance(labels, dict):
        out.append(cause("metadata.labels", "Invalid value: must be a map of strings"))
    for key, value in (labels or {}).items() if isinstance(labels, dict) else ():
        if not _QUALIFIED_KEY.match(str(key)) or len(str(key).rpartition("/")[2]) > 63:
            out.append(cause("metadata.labels", f'Invalid value: "{key}": name part must consist of alphanumeric '
                             "characters, '-', '_' or '.'"))
        if not isinstance(value, str) or len(value) > 63 or not _LABEL_NAME.match(value):
            out.append(cause(f"metadata.labels.{key}", f"Invalid value: {json.dumps(value)}: a valid label must be "
                             "an empty string or consist of alphanumeric characters, '-', '_' or '.' (at most 63)"))
    annotations = meta.get("annotations")
    if annotations is not None:
        if not isinstance(annotations, dict) or not all(isinstance(v, str) for v in annotations.values()):
            out.append(cause("metadata.annotations", "Invalid value: must be a map of strings"))
        elif sum(len(k) + len(v) for k, v in annotations.items()) > MAX_ANNOTATION_BYTES:
            out.append(cause("metadata.annotations", f"Too long: must have at most {MAX_ANNOTATION_BYTES} bytes",
                             "FieldValueTooLong"))
    return out


def _configmap_causes(obj: Mapping[str, Any]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    total = 0
    for field in ("data", "binaryData"):
        section = obj.get(field)
        if section is None:
            continue
        if not isinstance(section, dict):
            out.append(cause(field, "Invalid value: must be a map"))
            continue
        for key, value in section.items():
            if not _CONFIGMAP_KEY.match(key) or len(key) > 253:
                out.append(cause(f"{field}[{key}]", f'Invalid value: "{key}": a valid config key must consist of '
                                 "alphanumeric characters, '-', '_' or '.'"))
            if not isinstance(value, str):
                out.append(cause(f"{field}[{key}]", "Invalid value: must be a string"))
            else:
                total += len(key) + len(value.encode())
    if total > MAX_CONFIGMAP_BYTES:
        out.append(cause("", f"Too long: must have at most {MAX_CONFIGMAP_BYTES} bytes", "FieldValueTooLong"))
    return out


def _pod_spec_causes(spec: Any, path: str) -> list[dict[str, str]]:
    if not isinstance(spec, dict):
        return [cause(path, "Required value", "FieldValueRequired")]
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        return [cause(f"{path}.containers", "Required value", "FieldValueRequired")]
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for i, c in enumerate(containers):
        where = f"{path}.containers[{i}]"
        if not isinstance(c, dict):
            out.append(cause(where, "Invalid value: must be an object"))
            continue
        name = c.get("name")
        if not isinstance(name, str) or not name:
            out.append(cause(f"{where}.name", "Required value", "FieldValueRequired"))
        elif name in seen:
            out.append(cause(f"{where}.name", f'Duplicate value: "{name}"', "FieldValueDuplicate"))
        else:
            seen.add(name)
        if not c.get("image"):
            out.append(cause(f"{where}.image", "Required value", "FieldValueRequired"))
    return out


def _workload_causes(obj: Mapping[str, Any]) -> list[dict[str, str]]:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [cause("spec", "Required value", "FieldValueRequired")]
    out: list[dict[str, str]] = []
    replicas = spec.get("replicas")
    if replicas is not None and (isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0):
        out.append(cause("spec.replicas", f"Invalid value: {json.dumps(replicas)}: must be greater than or equal to 0"))
    selector = spec.get("selector")
    if not isinstance(selector, dict) or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        out.append(cause("spec.selector", "Required value", "FieldValueRequired"))
        return out
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    if not selector_object_matches(selector, labels):
        out.append(cause("spec.template.metadata.labels", f"Invalid value: {json.dumps(labels)}: "
                         "`selector` does not match template `labels`"))
    out.extend(_pod_spec_causes(template.get("spec"), "spec.template.spec"))
    return out


def _pdb_causes(obj: Mapping[str, Any]) -> list[dict[str, str]]:
    spec = obj.get("spec") or {}
    if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
        return [cause("spec", "Invalid value: minAvailable and maxUnavailable cannot be both set")]
    out = []
    for field in ("minAvailable", "maxUnavailable"):
        value = spec.get(field)
        if value is None:
            continue
        ok = (isinstance(value, int) and not isinstance(value, bool) and value >= 0) or \
            (isinstance(value, str) and re.fullmatch(r"\d+%", value) is not None and int(value[:-1]) <= 100)
        if not ok:
            out.append(cause(f"spec.{field}", f"Invalid value: {json.dumps(value)}: must be a non-negative "
                             "integer or a percentage between 0% and 100%"))
    return out


def validate_object(obj: Mapping[str, Any], *, generated_name: bool = False) -> list[dict[str, str]]:
    """Causes for a whole object (create or update); empty when valid."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        raise bad_request("metadata: must be an object")
    out = _name_causes(meta.get("name"), generated_name)
    out += _metadata_causes(meta)
    kind = obj.get("kind")
    if kind == "ConfigMap":
        out += _configmap_causes(obj)
    elif kind == "Pod":
        out += _pod_spec_causes(obj.get("spec"), "spec")
    elif kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"):
        out += _workload_causes(obj)
    elif kind == "PodDisruptionBudget":
        out += _pdb_causes(obj)
    return out


_POD_MUTABLE_CONTAINER_FIELDS = ("image",)


def _pod_spec_without_mutable(spec: Mapping[str, Any]) -> dict[str, Any]:
    s = json.loads(json.dumps(spec))
    for field in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"):
        s.pop(field, None)
    for group in ("containers", "initContainers"):
        for c in s.get(group) or []:
            for f in _POD_MUTABLE_CONTAINER_FIELDS:
                c.pop(f, None)
    return s


def validate_update(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, str]]:
    """Causes for an update that changes an immutable field."""
    kind = new.get("kind")
    if kind == "Pod":
        if _pod_spec_without_mutable(old.get("spec") or {}) != _pod_spec_without_mutable(new.get("spec") or {}):
            return [cause("spec", "Forbidden: pod updates may not change fields other than `spec.containers[*].image`, "
                          "`spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` "
                          "(only additions to existing tolerations) or `spec.terminationGracePeriodSeconds`",
                          "FieldValueForbidden")]
    if kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"):
        if (old.get("spec") or {}).get("selector") != (new.get("spec") or {}).get("selector"):
            return [cause("spec.selector", f"Invalid value: {json.dumps((new.get('spec') or {}).get('selector'))}: "
                          "field is immutable")]
    if kind == "ConfigMap" and old.get("immutable") and (old.get("data") != new.get("data")
                                                         or old.get("binaryData") != new.get("binaryData")):
        return [cause("data", "Forbidden: field is immutable when `immutable` is set", "FieldValueForbidden")]
    return []
