"""scale: change a workload's replicas through the scale subresource.

``direction`` up/down adds/removes ``replicas``; absolute sets it. The result is clamped into
[minReplicas, maxReplicas] and the clamping is recorded. The target replica count is computed
once (in the intent): re-driving "up by 2" never becomes "up by 4".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ...errors import FieldError
from ...ports import Cluster
from ..model import ActionContext, ActionReport, Intent, change
from ..params import ParamReader
from .base import Action, load_ref, ref_dict, workload_for

__all__ = ["ScaleParams", "ScaleAction"]


@dataclass(frozen=True)
class ScaleParams:
    direction: str
    replicas: int
    min_replicas: int = 0
    max_replicas: int = 100


class ScaleAction(Action):
    type_name = "scale"
    kinds = frozenset({"Deployment", "StatefulSet", "ReplicaSet"})

    def parse(self, params: Mapping[str, Any]) -> ScaleParams:
        r = ParamReader(params)
        direction = r.choice("direction", ("up", "down", "absolute"))
        if direction is None:
            r.errors.append(FieldError("params.direction", "is required: up, down or absolute"))
        replicas = r.integer("replicas", None, minimum=0)
        if replicas is None:
            r.errors.append(FieldError("params.replicas", "is required"))
        lo = r.integer("minReplicas", 0, minimum=0)
        hi = r.integer("maxReplicas", 100, minimum=0)
        if lo is not None and hi is not None and lo > hi:
            r.errors.append(FieldError("params.minReplicas", f"must not exceed maxReplicas ({lo} > {hi})"))
        r.finish()
        return ScaleParams(direction=direction or "absolute", replicas=replicas or 0, min_replicas=lo or 0,
                           max_replicas=hi if hi is not None else 100)

    def resolve_target(self, cluster: Cluster, live: dict) -> dict:
        return workload_for(self.type_name, cluster, live, self.kinds)

    def prepare(self, ctx: ActionContext, target: dict, params: ScaleParams) -> Intent:
        current = int((target.get("spec") or {}).get("replicas", 1))
        requested = {"up": current + params.replicas, "down": current - params.replicas,
                     "absolute": params.replicas}[params.direction]
        desired = min(max(requested, params.min_replicas), params.max_replicas)
        return {"target": ref_dict(target), "from": current, "requested": requested, "to": desired,
                "clamped": desired != requested, "bounds": [params.min_replicas, params.max_replicas],
                "direction": params.direction}

    def apply(self, ctx: ActionContext, intent: Intent) -> ActionReport:
        ref = load_ref(intent["target"])
        live = ctx.cluster.get(ref.api_version, ref.kind, ref.name, ref.namespace)
        current = int((live.get("spec") or {}).get("replicas", 1))
        clamp_note = (f" (requested {intent['requested']}, clamped to {intent['to']} by bounds "
                      f"[{intent['bounds'][0]}, {intent['bounds'][1]}])" if intent["clamped"] else "")
        metrics = {"replicas.requested": str(intent["requested"]), "replicas.target": str(intent["to"])}
        if intent["clamped"]:
            metrics["replicas.clamped"] = "true"
        if current == intent["to"]:
            return ActionReport(message=f"{ref} already at {current} replicas{clamp_note}", metrics=metrics,
                                details={"clamped": intent["clamped"]})
        result = ctx.cluster.patch(ref.api_version, ref.kind, ref.name, ref.namespace,
                                   {"spec": {"replicas": intent["to"]}}, patch_type="merge", subresource="scale",
                                   dry_run=ctx.dry_run)
        new = (result.get("spec") or {}).get("replicas", intent["to"])
        return ActionReport(message=f"scaled {ref} from {current} to {new} replicas{clamp_note}",
                            changes=[change(live, "scale", "spec.replicas", current, new)], metrics=metrics,
                            details={"clamped": intent["clamped"], "requested": intent["requested"]})
