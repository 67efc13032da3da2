"""The JSON Schemas KubeSkippy publishes, generated from the pydantic models.

Why generate rather than hand-write: the models are the contract the code enforces, so the
published schema (the CloudEvent ``dataschema`` attribute, the CRD's openAPIV3Schema) can never
say something the code does not. A test fails when the files under ``schemas/`` drift from the
models; ``kubeskippy policy schema`` regenerates them.

Three shapes are produced:

* ``schemas/<event type>.json`` and ``schemas/healingpolicy.json`` / ``healingaction.json``:
  self-contained JSON Schema (draft 2020-12, no ``$ref``), camelCase for the policy language;
* ``schemas/crd/<kind>.openapi.json``: the structural OpenAPI v3 subset a CRD's
  ``openAPIV3Schema`` accepts (``nullable`` instead of ``anyOf null``, unknown fields pruned by
  the API server instead of ``additionalProperties: false``);
* ``schemas/examples/<event type>.json``: one valid payload per event type.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..durations import format_duration
from ..policy.model import API_VERSION, HealingAction, HealingPolicy
from .model import (
    Alert, Change, EventModel, Evidence, Finding, Notification, ObjectRef, Outcome, Plan,
    PlannedAction, RootCause, Verification, stable_id,
)
from .types import (
    ALERT_FIRING, ALERT_RESOLVED, EVENT_MODELS, FINDING, NOTIFICATION, OUTCOME, PLAN, VERIFICATION,
    dataschema_for,
)

__all__ = [
    "SCHEMA_DIALECT",
    "json_schema",
    "crd_openapi_schema",
    "event_schema",
    "policy_schema_id",
    "example_payloads",
    "render_schema_files",
    "write_schema_files",
    "stale_schema_files",
]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_DURATION_PATTERN_MARK = "(ns|us|µs|ms|s|m|h)"
_POLICY_FILES = {"healingpolicy": HealingPolicy, "healingaction": HealingAction}


def policy_schema_id(kind: str) -> str:
    return f"https://kubeskippy.io/schemas/{API_VERSION.replace('/', '-')}/{kind.lower()}.json"


def _inline_refs(node: Any, defs: dict[str, Any], stack: tuple[str, ...] = ()) -> Any:
    if isinstance(node, list):
        return [_inline_refs(item, defs, stack) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        name = ref[len("#/$defs/"):]
        if name in stack:
            raise ValueError(f"recursive model {name} cannot be inlined")
        target = _inline_refs(copy.deepcopy(defs[name]), defs, stack + (name,))
        siblings = {k: _inline_refs(v, defs, stack) for k, v in node.items() if k != "$ref"}
        return {**target, **siblings}
    return {k: _inline_refs(v, defs, stack) for k, v in node.items() if k != "$defs"}


def _tidy(node: Any, *, in_properties: bool = False) -> Any:
    """Drop pydantic's generated titles and give Duration defaults their wire form ("2m0s")."""
    if isinstance(node, list):
        return [_tidy(item) for item in node]
    if not isinstance(node, dict):
        return node
    if in_properties:  # keys here are field names (a field may be called "title")
        return {k: _tidy(v) for k, v in node.items()}
    out = {k: _tidy(v, in_properties=(k == "properties")) for k, v in node.items() if k != "title"}
    if (out.get("type") == "string" and _DURATION_PATTERN_MARK in str(out.get("pattern", ""))
            and isinstance(out.get("default"), (int, float)) and not isinstance(out.get("default"), bool)):
        out["default"] = format_duration(float(out["default"]))
    return out


def json_schema(model: type[BaseModel], *, schema_id: str, title: str, by_alias: bool = True) -> dict[str, Any]:
    """A self-contained JSON Schema (no ``$ref``) of what ``model`` accepts."""
    raw = model.model_json_schema(by_alias=by_alias, mode="validation")
    body = _tidy(_inline_refs(raw, raw.get("$defs", {})))
    return {"$schema": SCHEMA_DIALECT, "$id": schema_id, "title": title, **body}


def event_schema(event_type: str) -> dict[str, Any]:
    """The dataschema of one event type. The two alert types pin ``status`` to their own value."""
    model = EVENT_MODELS[event_type]
    schema = json_schema(model, schema_id=dataschema_for(event_type), title=event_type)
    if event_type in (ALERT_FIRING, ALERT_RESOLVED):
        status = event_type.rsplit(".", 1)[1]
        schema["properties"]["status"] = {"type": "string", "enum": [status]}
    return schema


def _structural(node: Any, *, in_properties: bool = False) -> Any:
    if isinstance(node, list):
        return [_structural(item) for item in node]
    if not isinstance(node, dict):
        return node
    if in_properties:
        return {k: _structural(v) for k, v in node.items()}
    node = dict(node)
    options = node.get("anyOf")
    if isinstance(options, list):
        non_null = [o for o in options if o != {"type": "null"}]
        if len(non_null) == 1 and len(non_null) < len(options):
            del node["anyOf"]
            node = {**non_null[0], **node, "nullable": True}
            if node.get("default", 0) is None:
                del node["default"]
    for key in ("$schema", "$id", "title"):
        node.pop(key, None)
    extra = node.get("additionalProperties")
    if extra is False:
        del node["additionalProperties"]  # the API server prunes unknown fields instead
    elif extra is True:
        del node["additionalProperties"]
        node["x-kubernetes-preserve-unknown-fields"] = True
    return {k: _structural(v, in_properties=(k == "properties")) for k, v in node.items()}


def crd_openapi_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The structural schema for a CRD version's ``schema.openAPIV3Schema``.

    ``metadata`` is reduced to ``type: object``: the API server validates ObjectMeta itself and
    rejects CRD schemas that constrain more than name and generateName.
    """
    schema = _structural(json_schema(model, schema_id="", title=model.__name__))
    schema["properties"]["metadata"] = {"type": "object"}
    schema["properties"]["apiVersion"] = {"type": "string"}
    schema["properties"]["kind"] = {"type": "string"}
    schema["required"] = [r for r in schema.get("required", []) if r not in ("metadata", "apiVersion", "kind")]
    return schema


def example_payloads() -> dict[str, EventModel]:
    """One realistic, valid payload per event type (fixed times, so the files are stable)."""
    t0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
    pod = ObjectRef(api_version="v1", kind="Pod", name="cart-6f9c7d8b5-x2k4q", namespace="shop",
                    uid="0b6c1f1e-7f3a-4d8e-9a51-3c2e1d0f9b77")
    rs = ObjectRef(api_version="apps/v1", kind="ReplicaSet", name="cart-6f9c7d8b5", namespace="shop")
    deploy = ObjectRef(api_version="apps/v1", kind="Deployment", name="cart", namespace="shop")
    labels = {"alertname": "KubeSkippyMemoryHigh", "namespace": "shop", "pod": pod.name,
              "severity": "warning", "kubeskippy_policy": "shop/memory-leak-restart",
              "kubeskippy_trigger": "memory-high"}
    firing = Alert(status="firing", alertname=labels["alertname"], labels=labels,
                   annotations={"summary": "memory above 85% of the limit for 3m"},
                   starts_at=t0, fingerprint="9c2e4b1f6a7d3e05",
                   generator_url="http://prometheus:9090/graph?g0.expr=...", receiver="kubeskippy",
                   group_key='{}:{alertname="KubeSkippyMemoryHigh"}')
    resolved = firing.model_copy(update={"status": "resolved", "ends_at": t0 + 600})
    fingerprint = stable_id("finding", "shop/memory-leak-restart", "memory-high", str(deploy))
    finding = Finding(
        id=stable_id("finding", fingerprint, t0 + 180), policy="shop/memory-leak-restart", trigger="memory-high",
        trigger_type="metric", target=pod, owner_chain=[rs, deploy], fingerprint=fingerprint,
        evidence=[Evidence(kind="metric", description="memory_usage_percent above 85 for 3m",
                           value=91.4, threshold=85.0, since=t0)],
        observed_at=t0 + 180, source_event_id=firing.id)
    plan = Plan(
        id=stable_id("plan", finding.id), finding=finding,
        root_cause=RootCause(category="memory_leak", confidence=0.82,
                             explanation="working set grew steadily for 40 minutes without plateau",
                             evidence=[Evidence(kind="trend", description="+3.1 MiB/min over 40m", value=3.1)]),
        analyzer="rules",
        actions=[PlannedAction(action="restart-leaking-pod", type="restart", target=pod,
                               params={"strategy": "graceful", "gracePeriodSeconds": 30},
                               reason="restart frees the leaked memory until a fix ships")],
        created_at=t0 + 181)
    outcome = Outcome(
        id=stable_id("outcome", plan.id, "restart-leaking-pod"), plan_id=plan.id, finding_fingerprint=fingerprint,
        policy=finding.policy, action="restart-leaking-pod", action_type="restart", target=pod, status="executed",
        changes=[Change(resource_ref=str(pod), change_type="delete", field="pod", old_value=pod.name)],
        healing_action="shop/memory-leak-restart-7c1d2e", at=t0 + 183)
    verification = Verification(
        id=stable_id("verification", outcome.id), plan_id=plan.id, outcome_id=outcome.id,
        finding_fingerprint=fingerprint, target=deploy, healthy=True,
        detail="3/3 replicas ready; memory_usage_percent 41.0", started_at=t0 + 183, checked_at=t0 + 483)
    notification = Notification(
        id=stable_id("notification", outcome.id), severity="info", title="cart restarted",
        message="KubeSkippy restarted shop/cart-6f9c7d8b5-x2k4q (memory leak, confidence 0.82)",
        target=pod, plan_id=plan.id, finding_fingerprint=fingerprint, at=t0 + 184)
    return {ALERT_FIRING: firing, ALERT_RESOLVED: resolved, FINDING: finding, PLAN: plan, OUTCOME: outcome,
            VERIFICATION: verification, NOTIFICATION: notification}


def _dump(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def render_schema_files() -> dict[str, str]:
    """Every generated file: relative path under ``schemas/`` → exact content."""
    files: dict[str, str] = {}
    for name, model in _POLICY_FILES.items():
        files[f"{name}.json"] = _dump(json_schema(model, schema_id=policy_schema_id(name), title=model.__name__))
        files[f"crd/{name}.openapi.json"] = _dump(crd_openapi_schema(model))
    examples = example_payloads()
    for event_type in EVENT_MODELS:
        files[f"{event_type}.json"] = _dump(event_schema(event_type))
        files[f"examples/{event_type}.json"] = _dump(examples[event_type].model_dump(mode="json"))
    return dict(sorted(files.items()))


def write_schema_files(out_dir: str | Path) -> list[Path]:
    """(Re)write every generated file under ``out_dir``; returns the paths written."""
    root = Path(out_dir)
    written = []
    for rel, content in render_schema_files().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


def stale_schema_files(out_dir: str | Path) -> list[str]:
    """Relative paths whose committed content differs from the models (missing ones included)."""
    root = Path(out_dir)
    stale = []
    for rel, content in render_schema_files().items():
        path = root / rel
        if not path.is_file() or path.read_text(encoding="utf-8") != content:
            stale.append(rel)
    return stale
