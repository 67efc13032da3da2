"""rollback: put a Deployment's pod template back to an earlier ReplicaSet's, like
``kubectl rollout undo``.

The Deployment's ReplicaSets are those it owns (ownerReference uid); their revision is the
``deployment.kubernetes.io/revision`` annotation. The default target is the highest revision below
the current one; ``toRevision`` picks one. The chosen ReplicaSet is fixed in the intent: after a
rollback the old revision becomes the newest, so recomputing "previous" on a re-drive would roll
forward again.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Mapping

from ...errors import Refused
from ...ports import Cluster
from ..model import ActionContext, ActionReport, Intent, change
from ..objects import meta
from ..params import ParamReader
from .base import Action, load_ref, ref_dict, workload_for

__all__ = ["RollbackParams", "RollbackAction", "REVISION"]

REVISION = "deployment.kubernetes.io/revision"


@dataclass(frozen=True)
class RollbackParams:
    to_revision: int | None = None


def _revision(obj: dict) -> int:
    try:
        return int((meta(obj).get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def _images(template: dict) -> dict[str, str]:
    return {c.get("name", "?"): c.get("image", "") for c in ((template.get("spec") or {}).get("containers") or [])}


def _clean_template(template: dict) -> dict:
    """The ReplicaSet's template minus the label its controller added."""
    t = copy.deepcopy(template)
    labels = (t.get("metadata") or {}).get("labels")
    if labels:
        labels.pop("pod-template-hash", None)
    return t


class RollbackAction(Action):
    type_name = "rollback"
    kinds = frozenset({"Deployment"})

    def parse(self, params: Mapping[str, Any]) -> RollbackParams:
        r = ParamReader(params)
        p = RollbackParams(to_revision=r.integer("toRevision", None, minimum=1))
        r.finish()
        return p

    def resolve_target(self, cluster: Cluster, live: dict) -> dict:
        return workload_for(self.type_name, cluster, live, self.kinds)

    def prepare(self, ctx: ActionContext, target: dict, params: RollbackParams) -> Intent:
        uid = meta(target).get("uid")
        sets = [rs for rs in ctx.cluster.list("apps/v1", "ReplicaSet", meta(target).get("namespace"))
                if any(o.get("uid") == uid and o.get("kind") == "Deployment"
                       for o in meta(rs).get("ownerReferences") or [])]
        current = _revision(target) or max((_revision(rs) for rs in sets), default=0)
        if params.to_revision is not None:
            chosen = next((rs for rs in sets if _revision(rs) == params.to_revision), None)
            if chosen is None:
                raise Refused("no_such_revision", f"{ref_dict(target)['name']} has no revision {params.to_revision}; "
                              f"known: {sorted(_revision(rs) for rs in sets)}")
        else:
            older = [rs for rs in sets if 0 < _revision(rs) < current]
            if not older:
                raise Refused("no_previous_revision", f"Deployment {meta(target).get('name')} has no revision "
                              f"before {current} to roll back to")
            chosen = max(older, key=_revision)
        return {"target": ref_dict(target), "replicaSet": meta(chosen).get("name"), "from": current,
                "to": _revision(chosen)}

    def apply(self, ctx: ActionContext, intent: Intent) -> ActionReport:
        ref = load_ref(intent["target"])
        live = ctx.cluster.get(ref.api_version, ref.kind, ref.name, ref.namespace)
        rs = ctx.cluster.get("apps/v1", "ReplicaSet", intent["replicaSet"], ref.namespace)
        wanted = _clean_template((rs.get("spec") or {}).get("template") or {})
        current = (live.get("spec") or {}).get("template") or {}
        if current == wanted:
            return ActionReport(message=f"{ref} already runs the template of revision {intent['to']}")
        result = ctx.cluster.patch(ref.api_version, ref.kind, ref.name, ref.namespace,
                                   [{"op": "replace", "path": "/spec/template", "value": wanted}],
                                   patch_type="json", dry_run=ctx.dry_run)
        old_images, new_images = _images(current), _images((result.get("spec") or {}).get("template") or wanted)
        changes = [change(live, "patch", "spec.template", f"revision {intent['from']}",
                          f"revision {intent['to']} (ReplicaSet {intent['replicaSet']})")]
        for name in sorted(set(old_images) | set(new_images)):
            if old_images.get(name) != new_images.get(name):
                changes.append(change(live, "patch", f"spec.template.spec.containers[{name}].image",
                                      old_images.get(name), new_images.get(name)))
        return ActionReport(message=f"rolled {ref} back from revision {intent['from']} to {intent['to']}",
                            changes=changes, metrics={"rollback.from": str(intent["from"]),
                                                      "rollback.to": str(intent["to"])})
