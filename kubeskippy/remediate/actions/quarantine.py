"""quarantine: take a misbehaving Pod out of service but keep it for debugging.

The labels its owner's selector and any Service selector use are removed (the Service's
endpoints controller drops it, the ReplicaSet no longer counts it and starts a replacement), its
ownerReferences are removed (so garbage collection and scale-down never delete it), and it gets
``kubeskippy.io/quarantined=true`` plus an annotation holding the removed labels, so a person can
put it back by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from ...errors import APINotFound, Refused
from ..model import ActionContext, ActionReport, Intent, change
from ..objects import meta, owner_of
from ..params import ParamReader
from .base import Action, load_ref, ref_dict

__all__ = ["QuarantineParams", "QuarantineAction", "QUARANTINED_LABEL", "QUARANTINED_LABELS_ANNOTATION"]

QUARANTINED_LABEL = "kubeskippy.io/quarantined"
QUARANTINED_LABELS_ANNOTATION = "kubeskippy.io/quarantined-labels"


@dataclass(frozen=True)
class QuarantineParams:
    labels: tuple[str, ...] = ()


def _selector_keys(selector: dict | None) -> set[str]:
    if not selector:
        return set()
    keys = set((selector.get("matchLabels") or {}).keys())
    keys |= {e.get("key") for e in selector.get("matchExpressions") or [] if e.get("key")}
    return keys


class QuarantineAction(Action):
    type_name = "quarantine"
    kinds = frozenset({"Pod"})

    def parse(self, params: Mapping[str, Any]) -> QuarantineParams:
        r = ParamReader(params)
        p = QuarantineParams(labels=tuple(r.string_list("labels")))
        r.finish()
        return p

    def prepare(self, ctx: ActionContext, target: dict, params: QuarantineParams) -> Intent:
        labels = meta(target).get("labels") or {}
        keys = set(params.labels)
        services = []
        if not keys:
            owner = owner_of(ctx.cluster, target)
            if owner is not None:
                keys |= _selector_keys((owner.get("spec") or {}).get("selector"))
            for svc in ctx.cluster.list("v1", "Service", meta(target).get("namespace")):
                sel = (svc.get("spec") or {}).get("selector") or {}
                if sel and all(labels.get(k) == v for k, v in sel.items()):
                    keys |= set(sel)
                    services.append(meta(svc).get("name"))
        remove = {k: labels[k] for k in sorted(keys) if k in labels}
        if not remove and not meta(target).get("ownerReferences"):
            raise Refused("nothing_to_quarantine", f"pod {meta(target).get('name')} has no owner and no selected "
                          "labels: it serves nothing and no controller counts it")
        return {"target": ref_dict(target), "remove": remove, "services": services}

    def apply(self, ctx: ActionContext, intent: Intent) -> ActionReport:
        ref = load_ref(intent["target"])
        try:
            live = ctx.cluster.get("v1", "Pod", ref.name, ref.namespace)
        except APINotFound:
            raise Refused("target_gone", f"{ref} no longer exists") from None
        m = meta(live)
        if ref.uid and m.get("uid") != ref.uid:
            raise Refused("target_gone", f"{ref} was replaced (uid {m.get('uid')})")
        labels = m.get("labels") or {}
        if labels.get(QUARANTINED_LABEL) == "true" and not m.get("ownerReferences") and \
                not any(k in labels for k in intent["remove"]):
            return ActionReport(message=f"{ref} is already quarantined")
        patch = {"metadata": {
            "labels": {**{k: None for k in intent["remove"]}, QUARANTINED_LABEL: "true"},
            "annotations": {QUARANTINED_LABELS_ANNOTATION: json.dumps(intent["remove"], sort_keys=True)},
            "ownerReferences": None,
        }}
        ctx.cluster.patch("v1", "Pod", ref.name, ref.namespace, patch, patch_type="merge", dry_run=ctx.dry_run)
        changes = [change(live, "patch", f"metadata.labels[{k}]", v, None) for k, v in intent["remove"].items()]
        changes.append(change(live, "patch", f"metadata.labels[{QUARANTINED_LABEL}]", labels.get(QUARANTINED_LABEL),
                              "true"))
        if m.get("ownerReferences"):
            owners = [f"{o.get('kind')}/{o.get('name')}" for o in m["ownerReferences"]]
            changes.append(change(live, "patch", "metadata.ownerReferences", ", ".join(owners), None))
        where = f" (selected by Service {', '.join(intent['services'])})" if intent["services"] else ""
        return ActionReport(message=f"quarantined {ref}{where}: removed labels {sorted(intent['remove'])} and its "
                            "owner references; kept for debugging", changes=changes)
