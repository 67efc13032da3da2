"""raise_limit: raise a container's memory or CPU limit by a percentage, up to a cap, on the pod
template of the owning workload (a Pod target acts on its Deployment/StatefulSet/DaemonSet —
a running pod's limits cannot change, its template's can).

Params: ``resource`` (memory|cpu), ``percent`` (> 0), ``max`` (a quantity cap), optional
``container`` (default: every container that has a limit for the resource). Containers already
at the cap are left alone; when none can grow, the action is refused (``at_cap``). New values are
computed once into the intent, so a re-drive never raises twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping

from ...errors import Refused
from ...ports import Cluster
from ..model import ActionContext, ActionReport, Intent, change
from ..params import ParamReader
from ..quantities import format_quantity, parse_quantity
from .base import Action, load_ref, ref_dict, workload_for

__all__ = ["RaiseLimitParams", "RaiseLimitAction"]


@dataclass(frozen=True)
class RaiseLimitParams:
    resource: str
    percent: float
    max: Decimal
    container: str | None = None


def _containers(workload: dict) -> list[dict]:
    return ((((workload.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or [])


class RaiseLimitAction(Action):
    type_name = "raise_limit"
    kinds = frozenset({"Deployment", "StatefulSet", "DaemonSet"})

    def parse(self, params: Mapping[str, Any]) -> RaiseLimitParams:
        r = ParamReader(params)
        resource = r.choice("resource", ("memory", "cpu"), "memory") or "memory"
        percent = r.number("percent", None, minimum=0, exclusive_minimum=True)
        if percent is None and not any(e.path == "params.percent" for e in r.errors):
            r.fail("percent", "is required (e.g. 25 for +25 %)")
        cap = r.quantity("max", required=True)
        container = r.text("container", None)
        r.finish()
        return RaiseLimitParams(resource=resource, percent=percent or 0.0, max=cap or Decimal(0), container=container)

    def resolve_target(self, cluster: Cluster, live: dict) -> dict:
        return workload_for(self.type_name, cluster, live, self.kinds)

    def prepare(self, ctx: ActionContext, target: dict, params: RaiseLimitParams) -> Intent:
        plans, notes = [], []
        containers = _containers(target)
        if params.container and not any(c.get("name") == params.container for c in containers):
            raise Refused("no_such_container", f"{ref_dict(target)['name']} has no container {params.container!r}")
        for c in containers:
            name = c.get("name", "")
            if params.container and name != params.container:
                continue
            current_text = ((c.get("resources") or {}).get("limits") or {}).get(params.resource)
            if current_text is None:
                notes.append(f"{name}: no {params.resource} limit set, left alone")
                continue
            current = parse_quantity(current_text)
            if current >= params.max:
                cap = format_quantity(params.max, params.resource)
                notes.append(f"{name}: {current_text} already at or above the cap {cap}")
                continue
            raised = min(current * (Decimal(1) + Decimal(str(params.percent)) / 100), params.max)
            new_text = format_quantity(raised, params.resource)
            capped = raised == params.max
            plans.append({"container": name, "old": current_text, "new": new_text, "capped": capped})
        if not plans:
            raise Refused("at_cap", f"no {params.resource} limit of {ref_dict(target)['name']} can be raised: "
                          + ("; ".join(notes) or "no containers"))
        return {"target": ref_dict(target), "resource": params.resource, "percent": params.percent,
                "containers": plans, "notes": notes}

    def apply(self, ctx: ActionContext, intent: Intent) -> ActionReport:
        ref = load_ref(intent["target"])
        live = ctx.cluster.get(ref.api_version, ref.kind, ref.name, ref.namespace)
        resource = intent["resource"]
        current = {c.get("name"): ((c.get("resources") or {}).get("limits") or {}).get(resource)
                   for c in _containers(live)}
        todo = [p for p in intent["containers"] if current.get(p["container"]) != p["new"]]
        if not todo:
            return ActionReport(message=f"{resource} limits of {ref} already raised")
        patch = {"spec": {"template": {"spec": {"containers": [
            {"name": p["container"], "resources": {"limits": {resource: p["new"]}}} for p in todo]}}}}
        result = ctx.cluster.patch(ref.api_version, ref.kind, ref.name, ref.namespace, patch,
                                   patch_type="strategic", dry_run=ctx.dry_run)
        after = {c.get("name"): ((c.get("resources") or {}).get("limits") or {}).get(resource)
                 for c in _containers(result)}
        changes = [change(live, "patch", f"spec.template.spec.containers[{p['container']}].resources.limits.{resource}",
                          current.get(p["container"]), after.get(p["container"], p["new"])) for p in todo]
        capped = [p["container"] for p in todo if p["capped"]]
        msg = (f"raised {resource} limit of {ref} by {intent['percent']:g}%: "
               + ", ".join(f"{p['container']} {current.get(p['container'])} → {p['new']}" for p in todo)
               + (f" (capped: {', '.join(capped)})" if capped else ""))
        return ActionReport(message=msg, changes=changes, details={"notes": intent.get("notes", [])})
