"""The Cluster port over the simulated world.

Pods, ReplicaSets, Deployments, Nodes, Events and PodDisruptionBudgets are the simulated ones:
reads build Kubernetes-shaped dicts, writes change the world (a rollout-restart annotation rolls
the Deployment, a scale patch adds pods, a delete terminates one, an eviction honours PDBs with
429). Every other kind (ConfigMaps for the safety leases, HealingActions, HealingPolicies …) is
kept by the dev cluster's in-memory API engine with the same CAS rules as the real API server.
Patches use the same merge/strategic/JSON patch code as that engine.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

from kubeskippy.clock import Clock, to_rfc3339
from kubeskippy.devcluster import status as st
from kubeskippy.devcluster.disruption import budget_status, pdb_matches_pod
from kubeskippy.devcluster.patches import apply_json_patch, apply_merge_patch, apply_strategic_merge_patch
from kubeskippy.devcluster.scale import scale_of, scale_replicas_causes
from kubeskippy.devcluster.selectors import (fields_match, labels_match, parse_field_selector,
                                             parse_label_selector)
from kubeskippy.devcluster.store import ObjectStore
from kubeskippy.errors import APINotFound, api_error_for_status
from kubeskippy.jsoncopy import copy_json
from kubeskippy.kinds import kind_info

from .objects import deployment_object, node_object, pod_object, replicaset_object
from .naming import template_hash
from .world import World

__all__ = ["SimulatedCluster", "Mutation", "SIMULATED_KINDS"]

SIMULATED_KINDS = frozenset({("v1", "Pod"), ("apps/v1", "Deployment"), ("apps/v1", "ReplicaSet"), ("v1", "Node"),
                             ("v1", "Event"), ("policy/v1", "PodDisruptionBudget")})


@dataclass(frozen=True)
class Mutation:
    """One effective change to a simulated object (dry runs and refusals are not mutations)."""

    at: float
    verb: str  # delete, evict, patch, scale, replace
    kind: str
    namespace: str
    name: str
    detail: str = ""


def _not_found(kind: str, name: str) -> APINotFound:
    info = kind_info(None, kind)
    return st.status_error(404, f'{info.plural}{"." + info.group if info.group else ""} "{name}" not found',
                           details={"name": name, "kind": info.plural})


class SimulatedCluster:
    """Implements :class:`kubeskippy.ports.Cluster` on a :class:`World`."""

    def __init__(self, world: World, clock: Clock) -> None:
        self.world = world
        self.clock = clock
        self.store = ObjectStore(clock, seed=world.seed)
        self.mutations: list[Mutation] = []
        self.posted_events: list[dict] = []  # Events written by KubeSkippy itself (e.g. KubeSkippyRestart)
        self.calls: dict[str, int] = {}

    # ------------------------------------------------------------------ helpers

    def _count(self, verb: str) -> None:
        self.calls[verb] = self.calls.get(verb, 0) + 1

    def _record(self, verb: str, kind: str, namespace: str, name: str, detail: str = "") -> None:
        self.mutations.append(Mutation(self.world.now(), verb, kind, namespace, name, detail))

    def _pod_row(self, name: str, namespace: str | None) -> int:
        serial = self.world.pod_names.get((namespace or "default", name))
        if serial is None:
            raise _not_found("Pod", name)
        return self.world.row_of[serial]

    def _deployment(self, name: str, namespace: str | None):
        dep = self.world.by_name.get((namespace or "default", name))
        if dep is None or dep.deleted:
            raise _not_found("Deployment", name)
        return dep

    def _replicaset(self, name: str, namespace: str | None):
        for rs in self.world.replicasets:
            dep = self.world.deployments[rs.dep]
            if rs.name == name and dep.namespace == (namespace or "default") and not dep.deleted:
                return rs
        raise _not_found("ReplicaSet", name)

    def _pdbs(self, namespace: str | None = None) -> list[dict]:
        out = [p for p in self.world.pdbs if namespace in (None, p["metadata"]["namespace"])]
        return out

    # ------------------------------------------------------------------ reads

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict:
        self._count("get")
        key = (api_version, kind)
        if key == ("v1", "Pod"):
            return pod_object(self.world, self._pod_row(name, namespace))
        if key == ("apps/v1", "Deployment"):
            return deployment_object(self.world, self._deployment(name, namespace))
        if key == ("apps/v1", "ReplicaSet"):
            return replicaset_object(self.world, self._replicaset(name, namespace))
        if key == ("v1", "Node"):
            for node in self.world.nodes:
                if node.name == name:
                    return node_object(self.world, node.index)
            raise _not_found("Node", name)
        if key in (("v1", "Event"), ("policy/v1", "PodDisruptionBudget")):
            for obj in self.list(api_version, kind, namespace):
                if obj["metadata"]["name"] == name:
                    return obj
            raise _not_found(kind, name)
        return self.store.get(api_version, kind, name, namespace)

    def list(self, api_version: str, kind: str, namespace: str | None = None, label_selector: str | None = None,
             field_selector: str | None = None) -> list[dict]:
        self._count("list")
        key = (api_version, kind)
        if key not in SIMULATED_KINDS:
            return self.store.list(api_version, kind, namespace, label_selector, field_selector)
        labels = parse_label_selector(label_selector)
        fields = parse_field_selector(field_selector, api_version, kind)
        world = self.world
        out: list[dict] = []
        if key == ("v1", "Pod"):
            for rs in world.replicasets:
                dep = world.deployments[rs.dep]
                if namespace not in (None, dep.namespace) or not rs.rows:
                    continue
                if not labels_match(labels, (rs.template.get("metadata") or {}).get("labels")):
                    continue
                out.extend(pod_object(world, r) for r in sorted(rs.rows, key=lambda r: world.table.serial[r]))
        elif key == ("apps/v1", "Deployment"):
            out = [deployment_object(world, d) for d in world.deployments
                   if not d.deleted and namespace in (None, d.namespace) and labels_match(labels, d.obj["metadata"]["labels"])]
        elif key == ("apps/v1", "ReplicaSet"):
            for rs in world.replicasets:
                dep = world.deployments[rs.dep]
                if dep.deleted or namespace not in (None, dep.namespace):
                    continue
                obj = replicaset_object(world, rs)
                if labels_match(labels, obj["metadata"]["labels"]):
                    out.append(obj)
        elif key == ("v1", "Node"):
            out = [node_object(world, n.index) for n in world.nodes]
        elif key == ("v1", "Event"):
            # The decision code asks for one object's Events (involvedObject.kind/name): narrow
            # by subject before any Event object is built; the full selector still decides.
            subject = {r.field.split(".", 1)[1]: r.value for r in fields
                       if not r.negated and r.field in ("involvedObject.kind", "involvedObject.name")}
            shared = world.recorder.objects(world.now(), namespace, kind=subject.get("kind"),
                                            name=subject.get("name")) + [
                e for e in self.posted_events if namespace in (None, e["metadata"]["namespace"])]
            # Built Events are cached and shared: copy only what the selectors let through.
            return [copy_json(o) for o in shared if fields_match(fields, o) and
                    labels_match(labels, o["metadata"].get("labels"))]
        else:
            out = [copy_json(p) for p in self._pdbs(namespace)
                   if labels_match(labels, p["metadata"].get("labels"))]
        return [o for o in out if fields_match(fields, o)]

    def logs(self, name: str, namespace: str, *, container: str | None = None, tail_lines: int = 50) -> str:
        self._count("logs")
        row = self._pod_row(name, namespace)
        tbl = self.world.table
        dep = self.world.deployments[tbl.dep[row]]
        lines = [f"{dep.spec.model}: {dep.model.description}"]
        if tbl.restarts[row]:
            lines.append(f"previous container exited with code {int(tbl.lt_code[row])}")
        if tbl.mem_limit[row]:
            lines.append(f"memory {tbl.mem[row] / 2**20:.0f}Mi of {tbl.mem_limit[row] / 2**20:.0f}Mi")
        return "\n".join(lines[-tail_lines:]) + "\n"

    # ------------------------------------------------------------------ writes

    def create(self, obj: dict, *, dry_run: bool = False) -> dict:
        self._count("create")
        key = (obj.get("apiVersion"), obj.get("kind"))
        if key == ("policy/v1", "PodDisruptionBudget"):
            if dry_run:
                return copy.deepcopy(obj)
            stored = copy.deepcopy(obj)
            stored.setdefault("metadata", {}).setdefault("namespace", "default")
            self.world.pdbs.append(stored)
            return copy.deepcopy(stored)
        if key == ("v1", "Event"):
            stored = copy.deepcopy(obj)
            meta = stored.setdefault("metadata", {})
            meta.setdefault("namespace", "default")
            if not meta.get("name"):
                meta["name"] = f"{meta.get('generateName', 'event.')}{len(self.posted_events):x}"
            meta.setdefault("creationTimestamp", to_rfc3339(self.clock.now()))
            if not dry_run:
                self.posted_events.append(stored)
            return copy.deepcopy(stored)
        if key in SIMULATED_KINDS:
            raise st.status_error(405, f"the simulator does not create {obj.get('kind')} objects through the API; "
                                       f"declare workloads in the scenario")
        namespace = (obj.get("metadata") or {}).get("namespace")
        return self.store.create(obj, namespace=namespace, dry_run=dry_run)

    def replace(self, obj: dict, *, dry_run: bool = False, subresource: str | None = None) -> dict:
        self._count("replace")
        key = (obj.get("apiVersion"), obj.get("kind"))
        meta = obj.get("metadata") or {}
        if subresource == "scale" or obj.get("kind") == "Scale":
            return self._write_scale("Deployment", meta.get("name", ""), meta.get("namespace"),
                                     (obj.get("spec") or {}).get("replicas"), meta.get("resourceVersion"), dry_run)
        if key == ("apps/v1", "Deployment"):
            dep = self._deployment(meta.get("name", ""), meta.get("namespace"))
            version = meta.get("resourceVersion")
            if version and version != str(dep.resource_version):
                raise st.status_error(409, f'Operation cannot be fulfilled on deployments.apps "{dep.name}": the object '
                                           f"has been modified; please apply your changes to the latest version and try again")
            return self._apply_deployment(dep, copy.deepcopy(obj), dry_run, "replace")
        if key in SIMULATED_KINDS:
            raise st.status_error(405, f"the simulator does not support replacing {obj.get('kind')} objects")
        return self.store.replace(obj, namespace=meta.get("namespace"), dry_run=dry_run, subresource=subresource)

    def patch(self, api_version: str, kind: str, name: str, namespace: str | None, patch: dict | list, *,
              patch_type: str = "merge", subresource: str | None = None, dry_run: bool = False) -> dict:
        self._count("patch")
        key = (api_version, kind)
        if key not in SIMULATED_KINDS:
            return self.store.patch(api_version, kind, name, namespace, patch, patch_type=patch_type,
                                    subresource=subresource, dry_run=dry_run)
        if key == ("apps/v1", "Deployment"):
            dep = self._deployment(name, namespace)
            current = scale_of(deployment_object(self.world, dep)) if subresource == "scale" else deployment_object(self.world, dep)
            patched = _apply_patch(current, patch, patch_type)
            if subresource == "scale":
                meta = patched.get("metadata") or {}
                return self._write_scale("Deployment", name, namespace, (patched.get("spec") or {}).get("replicas"),
                                         meta.get("resourceVersion"), dry_run)
            version = (patched.get("metadata") or {}).get("resourceVersion")
            if version and version != str(dep.resource_version):
                raise st.status_error(409, f'Operation cannot be fulfilled on deployments.apps "{name}": the object '
                                           "has been modified")
            return self._apply_deployment(dep, patched, dry_run, "patch")
        if key == ("v1", "Pod"):
            row = self._pod_row(name, namespace)
            current = pod_object(self.world, row)
            patched = _apply_patch(current, patch, patch_type)
            if patched.get("spec") != current.get("spec"):
                raise st.status_error(422, f'Pod "{name}" is invalid: spec: Forbidden: pod updates may not change '
                                           "fields other than image, activeDeadlineSeconds, tolerations")
            if not dry_run:
                meta = patched.get("metadata") or {}
                serial = int(self.world.table.serial[row])
                self.world.pod_meta[serial] = {"labels": dict(meta.get("labels") or {}),
                                               "annotations": dict(meta.get("annotations") or {})}
                self.world.table.rv[row] = self.world._next_rv()
                self.world._changed.append(np.array([row]))
                self._record("patch", "Pod", namespace or "default", name, "metadata")
                patched = pod_object(self.world, row)
            return patched
        raise st.status_error(405, f"the simulator does not support patching {kind} objects")

    def _write_scale(self, kind: str, name: str, namespace: str | None, replicas: Any, version: str | None,
                     dry_run: bool) -> dict:
        dep = self._deployment(name, namespace)
        causes = scale_replicas_causes({"spec": {"replicas": replicas}})
        if causes:
            raise st.status_error(422, f'Scale.autoscaling "{name}" is invalid: {causes[0]["message"]}',
                                  details={"causes": causes})
        if version and version != str(dep.resource_version):
            raise st.status_error(409, f'Operation cannot be fulfilled on deployments.apps "{name}": the object has '
                                       "been modified")
        if not dry_run and replicas != dep.replicas:
            old = dep.replicas
            dep.obj["spec"]["replicas"] = int(replicas)
            self.world.desired_changed()
            dep.generation += 1
            dep.resource_version = self.world._next_rv()
            self._record("scale", "Deployment", dep.namespace, dep.name, f"{old}->{replicas}")
            self.world.reconcile(dep)
            self.world._notify("update", dep)
        obj = deployment_object(self.world, dep)
        if dry_run:
            obj["spec"]["replicas"] = int(replicas)
        return scale_of(obj)

    def _apply_deployment(self, dep, new_obj: dict, dry_run: bool, verb: str) -> dict:
        spec = new_obj.get("spec") or {}
        causes = scale_replicas_causes({"spec": {"replicas": spec.get("replicas", 1)}})
        template = spec.get("template") or {}
        containers = (template.get("spec") or {}).get("containers") or []
        if not containers:
            causes.append(st.cause("spec.template.spec.containers", "Required value"))
        if causes:
            raise st.status_error(422, f'Deployment.apps "{dep.name}" is invalid: {causes[0]["message"]}',
                                  details={"causes": causes})
        changed_template = template_hash(template) != template_hash(dep.obj["spec"]["template"])
        changed_replicas = spec.get("replicas", 1) != dep.replicas
        if dry_run:
            return new_obj
        new_obj.pop("status", None)
        meta = new_obj.get("metadata") or {}
        dep.obj["metadata"]["labels"] = meta.get("labels", dep.obj["metadata"]["labels"])
        dep.obj["metadata"]["annotations"] = meta.get("annotations", dep.obj["metadata"].get("annotations", {}))
        dep.obj["spec"] = spec
        self.world.desired_changed()
        if changed_template or changed_replicas:
            dep.generation += 1
        dep.resource_version = self.world._next_rv()
        detail = "template" if changed_template else ("replicas" if changed_replicas else "metadata")
        self._record(verb, "Deployment", dep.namespace, dep.name, detail)
        self.world.reconcile(dep)
        self.world._notify("update", dep)
        return deployment_object(self.world, dep)

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None, *,
               grace_period_seconds: int | None = None, propagation_policy: str | None = None,
               dry_run: bool = False) -> None:
        self._count("delete")
        key = (api_version, kind)
        if key == ("v1", "Pod"):
            row = self._pod_row(name, namespace)
            if dry_run:
                return None
            self._record("delete", "Pod", namespace or "default", name)
            self.world.delete_pod(row, grace=grace_period_seconds)
            return None
        if key == ("apps/v1", "Deployment"):
            dep = self._deployment(name, namespace)
            if not dry_run:
                dep.deleted = True
                self.world.desired_changed()
                self._record("delete", "Deployment", dep.namespace, name)
                self.world.reconcile(dep)
            return None
        if key in SIMULATED_KINDS:
            raise st.status_error(405, f"the simulator does not support deleting {kind} objects")
        self.store.delete(api_version, kind, name, namespace, grace_period_seconds=grace_period_seconds,
                          propagation_policy=propagation_policy, dry_run=dry_run)
        return None

    def evict(self, name: str, namespace: str, *, grace_period_seconds: int | None = None,
              dry_run: bool = False) -> None:
        self._count("evict")
        row = self._pod_row(name, namespace)
        pod = pod_object(self.world, row)
        for pdb in self._pdbs(namespace):
            if not pdb_matches_pod(pdb, pod):
                continue
            pods = self.list("v1", "Pod", namespace)
            status = budget_status(pdb, pods, self._replicas_of)
            if status["disruptionsAllowed"] <= 0:
                raise api_error_for_status(
                    429, "Cannot evict pod as it would violate the pod's disruption budget.",
                    payload=st.status_document(429, "Cannot evict pod as it would violate the pod's disruption budget.",
                                               reason="TooManyRequests",
                                               details={"causes": [{"reason": "DisruptionBudget", "message":
                                                        f"The disruption budget {pdb['metadata']['name']} needs "
                                                        f"{status['desiredHealthy']} healthy pods and has "
                                                        f"{status['currentHealthy']} currently"}]}))
        if dry_run:
            return None
        self._record("evict", "Pod", namespace, name)
        self.world.stats.evictions += 1
        self.world.delete_pod(row, grace=grace_period_seconds)
        return None

    def _replicas_of(self, ref, namespace: str) -> int | None:
        if ref.get("kind") == "ReplicaSet":
            try:
                return self._replicaset(ref["name"], namespace).replicas
            except APINotFound:
                return None
        return None


def _apply_patch(current: dict, patch: Any, patch_type: str) -> dict:
    if patch_type == "merge":
        if not isinstance(patch, dict):
            raise st.bad_request("a merge patch must be a JSON object")
        return apply_merge_patch(current, patch)
    if patch_type == "json":
        return apply_json_patch(current, patch)
    if patch_type == "strategic":
        return apply_strategic_merge_patch(current, patch)
    raise st.status_error(415, f"unsupported patch type {patch_type!r}")
