"""The CustomResourceDefinitions of HealingPolicy and HealingAction, generated from the models.

One source of truth: the pydantic models give the structural schema (see
:func:`kubeskippy.events.schemas.crd_openapi_schema`); this module adds what only a CRD has —
status subresource, short names, printer columns, and CEL rules (x-kubernetes-validations) for
the cross-field checks the models make, so the API server rejects a bad policy without an
admission webhook. ``kubeskippy crds`` writes deploy/knative/crds.yaml; a test fails on drift.
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

from ..events.schemas import crd_openapi_schema
from .model import API_VERSION, HealingAction, HealingPolicy

__all__ = ["crd_documents", "render_crds", "CEL_RULES"]

GROUP, VERSION = API_VERSION.split("/")

# (path of properties from the spec root, rule, message) — each mirrors a model validator.
CEL_RULES: dict[str, list[tuple[tuple[str, ...], str, str]]] = {
    "HealingPolicy": [
        (("spec", "triggers", "[]"), "self.type != 'metric' || has(self.metricTrigger)",
         "metricTrigger is required when type is metric"),
        (("spec", "triggers", "[]"), "self.type != 'event' || has(self.eventTrigger)",
         "eventTrigger is required when type is event"),
        (("spec", "triggers", "[]"), "self.type != 'condition' || has(self.conditionTrigger)",
         "conditionTrigger is required when type is condition"),
        (("spec", "actions", "[]"), "self.type != 'scale' || has(self.scaleAction)",
         "scaleAction is required when type is scale"),
        (("spec", "actions", "[]"), "self.type != 'patch' || has(self.patchAction)",
         "patchAction is required when type is patch"),
        (("spec", "actions", "[]", "scaleAction"),
         "!has(self.minReplicas) || !has(self.maxReplicas) || self.minReplicas <= self.maxReplicas",
         "minReplicas must not exceed maxReplicas"),
        (("spec", "actions", "[]", "patchAction"),
         "(has(self.patch) && size(self.patch) > 0) || (has(self.patches) && size(self.patches) > 0)",
         "one of patch or patches is required"),
        (("spec", "triggers"), "self.all(t, self.exists_one(u, u.name == t.name))",
         "trigger names must be unique"),
        (("spec", "actions"), "self.all(a, self.exists_one(b, b.name == a.name))",
         "action names must be unique"),
    ],
    "HealingAction": [
        (("spec", "action"), "self.type != 'scale' || has(self.scaleAction)",
         "scaleAction is required when type is scale"),
        (("spec", "action"), "self.type != 'patch' || has(self.patchAction)",
         "patchAction is required when type is patch"),
    ],
}

PRINTER_COLUMNS = {
    "HealingPolicy": [
        {"name": "Mode", "type": "string", "jsonPath": ".spec.mode"},
        {"name": "Actions", "type": "integer", "jsonPath": ".status.actionsTaken"},
        {"name": "Last Action", "type": "date", "jsonPath": ".status.lastActionTime"},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ],
    "HealingAction": [
        {"name": "Target", "type": "string", "jsonPath": ".spec.targetResource.name"},
        {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
        {"name": "Success", "type": "boolean", "jsonPath": ".status.result.success"},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ],
}

NAMES = {
    "HealingPolicy": ("healingpolicies", "healingpolicy", "HealingPolicyList", ["hp"]),
    "HealingAction": ("healingactions", "healingaction", "HealingActionList", ["ha"]),
}


def _node(schema: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    node = schema
    for step in path:
        node = node["items"] if step == "[]" else node["properties"][step]
    return node


def _schema_for(kind: str) -> dict[str, Any]:
    model = HealingPolicy if kind == "HealingPolicy" else HealingAction
    schema = copy.deepcopy(crd_openapi_schema(model))
    for path, rule, message in CEL_RULES[kind]:
        _node(schema, path).setdefault("x-kubernetes-validations", []).append({"rule": rule, "message": message})
    # status is written by the functions through the status subresource; keep what they write.
    schema["properties"]["status"] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return schema


def crd_documents() -> list[dict[str, Any]]:
    out = []
    for kind in ("HealingPolicy", "HealingAction"):
        plural, singular, list_kind, short = NAMES[kind]
        out.append({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{GROUP}", "labels": {"app.kubernetes.io/part-of": "kubeskippy"}},
            "spec": {
                "group": GROUP,
                "scope": "Namespaced",
                "names": {"kind": kind, "plural": plural, "singular": singular, "listKind": list_kind,
                          "shortNames": short, "categories": ["kubeskippy"]},
                "versions": [{
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": PRINTER_COLUMNS[kind],
                    "schema": {"openAPIV3Schema": _schema_for(kind)},
                }],
            },
        })
    return out


def render_crds() -> str:
    header = ("# Generated by `kubeskippy crds` from the pydantic models (kubeskippy/policy/model.py).\n"
              "# Do not edit: tests/deploy/test_crds.py fails when this file drifts from the models.\n")
    return header + yaml.safe_dump_all(crd_documents(), sort_keys=False, width=120)
