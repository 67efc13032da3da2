"""Kubernetes-shaped dicts of the simulated objects, built on read.

Detection, analysis and remediation read exactly these shapes from the real API server, so
the fields they use are filled the way the API server and kubelet fill them: container
``state``/``lastState`` with reasons and RFC 3339 times, ``restartCount``, the four pod
conditions, ownerReferences up to the Deployment, Deployment status with its conditions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from kubeskippy.clock import to_rfc3339
from kubeskippy.jsoncopy import copy_json

from .state import DeploymentState, ReplicaSetState
from .table import BACKOFF, CREATING, NONE, RUNNING, TERM_REASONS, TERMINATED

if TYPE_CHECKING:
    from .world import World

__all__ = ["pod_object", "deployment_object", "replicaset_object", "node_object", "pod_phase"]


def _ts(world: "World", t: float) -> str:
    return to_rfc3339(world.wall(float(t)))


def pod_phase(world: "World", row: int) -> str:
    return "Pending" if world.table.cstate[row] in (NONE, CREATING) and world.table.restarts[row] == 0 else "Running"


def _terminated(world: "World", row: int) -> dict:
    tbl = world.table
    return {"exitCode": int(tbl.lt_code[row]), "reason": TERM_REASONS.get(int(tbl.lt_reason[row]), "Error"),
            "startedAt": _ts(world, tbl.lt_started[row]), "finishedAt": _ts(world, tbl.lt_finished[row]),
            "containerID": f"containerd://{int(tbl.serial[row]):08x}{int(tbl.restarts[row]) - 1:04x}"}


def pod_object(world: "World", row: int) -> dict:
    tbl = world.table
    ident = world.pods[int(tbl.serial[row])]
    rs = world.replicasets[int(tbl.rs[row])]
    template = rs.template
    meta_t = template.get("metadata") or {}
    spec = copy_json(template["spec"])
    state_code = int(tbl.cstate[row])
    now = world.now()
    container = spec["containers"][0]
    cstatus: dict = {"name": container["name"], "image": container.get("image", ""),
                     "imageID": f"docker.io/library/{container.get('image', '')}@sha256:{rs.hash}",
                     "restartCount": int(tbl.restarts[row]), "ready": bool(tbl.ready[row]),
                     "started": state_code == RUNNING}
    if state_code == RUNNING:
        cstatus["state"] = {"running": {"startedAt": _ts(world, tbl.started[row])}}
        cstatus["containerID"] = f"containerd://{int(tbl.serial[row]):08x}{int(tbl.restarts[row]):04x}"
    elif state_code == BACKOFF:
        cstatus["state"] = {"waiting": {"reason": "CrashLoopBackOff",
                                        "message": f"back-off {int(tbl.backoff[row])}s restarting failed "
                                                   f"container={container['name']} pod={ident.name}_{ident.namespace}"
                                                   f"({ident.uid})"}}
    elif state_code == TERMINATED:
        cstatus["state"] = {"terminated": _terminated(world, row)}
    else:
        cstatus["state"] = {"waiting": {"reason": "ContainerCreating"}}
    if tbl.restarts[row] > 0:
        cstatus["lastState"] = {"terminated": _terminated(world, row)}
    else:
        cstatus["lastState"] = {}
    scheduled = state_code != NONE
    ready = bool(tbl.ready[row])
    created = _ts(world, tbl.created[row])
    last_ready = tbl.started[row] if ready else (tbl.lt_finished[row] if tbl.restarts[row] else tbl.created[row])
    conditions = [
        {"type": "PodReadyToStartContainers", "status": "True" if scheduled else "False",
         "lastTransitionTime": _ts(world, tbl.scheduled[row]) if scheduled else created},
        {"type": "Initialized", "status": "True", "lastTransitionTime": created},
        {"type": "Ready", "status": "True" if ready else "False",
         "lastTransitionTime": _ts(world, last_ready if not np.isnan(last_ready) else tbl.created[row])},
        {"type": "ContainersReady", "status": "True" if ready else "False",
         "lastTransitionTime": _ts(world, last_ready if not np.isnan(last_ready) else tbl.created[row])},
        {"type": "PodScheduled", "status": "True" if scheduled else "False",
         "lastTransitionTime": _ts(world, tbl.scheduled[row]) if scheduled else created},
    ]
    if not ready:
        for c in conditions[2:4]:
            c["reason"] = "ContainersNotReady"
            c["message"] = f"containers with unready status: [{container['name']}]"
    if not scheduled and row in world._pending and tbl.created[row] + world.scenario.cluster.scheduling_delay <= now:
        conditions[-1].update(reason="Unschedulable", message="0/%d nodes are available" % len(world.nodes))
    if scheduled:
        spec["nodeName"] = ident.node
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("serviceAccountName", "default")
    meta: dict = {
        "name": ident.name, "namespace": ident.namespace, "uid": ident.uid,
        "labels": dict(meta_t.get("labels") or {}), "annotations": dict(meta_t.get("annotations") or {}),
        "creationTimestamp": created, "resourceVersion": str(int(tbl.rv[row])),
        "generateName": f"{rs.name}-",
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs.name, "uid": rs.uid,
                             "controller": True, "blockOwnerDeletion": True}],
    }
    override = world.pod_meta.get(ident.serial)
    if override:
        meta["labels"], meta["annotations"] = dict(override["labels"]), dict(override["annotations"])
    if not np.isnan(tbl.deleting[row]):
        meta["deletionTimestamp"] = _ts(world, tbl.gone_at[row])
        meta["deletionGracePeriodSeconds"] = int(round(tbl.gone_at[row] - tbl.deleting[row]))
    status: dict = {"phase": pod_phase(world, row), "conditions": conditions, "qosClass": _qos(container),
                    "containerStatuses": [cstatus]}
    if scheduled:
        status["hostIP"] = f"10.0.0.{int(tbl.node[row]) + 1}"
        status["podIP"] = f"10.244.{(int(tbl.serial[row]) >> 8) & 255}.{int(tbl.serial[row]) & 255}"
        status["startTime"] = _ts(world, tbl.scheduled[row])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


def _qos(container: dict) -> str:
    res = container.get("resources") or {}
    req, lim = res.get("requests") or {}, res.get("limits") or {}
    if lim and all(req.get(k, lim.get(k)) == lim.get(k) for k in ("cpu", "memory")) and set(lim) >= {"cpu", "memory"}:
        return "Guaranteed"
    return "Burstable" if req or lim else "BestEffort"


def replicaset_object(world: "World", rs: ReplicaSetState) -> dict:
    dep = world.deployments[rs.dep]
    tbl = world.table
    rows = list(rs.rows)
    ready = sum(1 for r in rows if tbl.ready[r])
    available = world._available(rows)
    labels = dict((rs.template.get("metadata") or {}).get("labels") or {})
    selector = {"matchLabels": {**dep.obj["spec"]["selector"]["matchLabels"], "pod-template-hash": rs.hash}}
    return {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": rs.name, "namespace": dep.namespace, "uid": rs.uid, "labels": labels,
                     "annotations": {"deployment.kubernetes.io/revision": str(rs.revision),
                                     "deployment.kubernetes.io/desired-replicas": str(dep.replicas)},
                     "creationTimestamp": _ts(world, rs.created), "resourceVersion": str(rs.resource_version),
                     "generation": 1,
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": dep.name,
                                          "uid": dep.uid, "controller": True, "blockOwnerDeletion": True}]},
        "spec": {"replicas": rs.replicas, "selector": selector, "template": copy_json(rs.template)},
        "status": {"replicas": sum(1 for r in rows if np.isnan(tbl.deleting[r])), "fullyLabeledReplicas": len(rows),
                   "readyReplicas": ready, "availableReplicas": available, "observedGeneration": 1},
    }


def deployment_object(world: "World", dep: DeploymentState) -> dict:
    obj = copy_json(dep.obj)
    rows = world.rows_of(dep)
    tbl = world.table
    new = world.current_rs(dep)
    live = [r for r in rows if np.isnan(tbl.deleting[r])]
    available = world._available(rows)
    updated = len([r for r in new.rows if np.isnan(tbl.deleting[r])]) if new else 0
    now = _ts(world, world.now())
    desired = dep.replicas
    progressing_done = updated == desired and len(live) == desired and available >= desired
    obj["metadata"]["resourceVersion"] = str(dep.resource_version)
    obj["metadata"]["generation"] = dep.generation
    if new is not None:
        obj["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/revision"] = str(new.revision)
    obj["status"] = {
        "observedGeneration": dep.generation,
        "replicas": len(live),
        "updatedReplicas": updated,
        "readyReplicas": sum(1 for r in live if tbl.ready[r]),
        "availableReplicas": available,
        "unavailableReplicas": max(0, len(live) - available) if len(live) >= desired else desired - available,
        "conditions": [
            {"type": "Available", "status": "True" if available >= desired - _max_unavailable(dep) else "False",
             "reason": "MinimumReplicasAvailable" if available >= desired - _max_unavailable(dep)
             else "MinimumReplicasUnavailable", "lastUpdateTime": now, "lastTransitionTime": now},
            {"type": "Progressing", "status": "True",
             "reason": "NewReplicaSetAvailable" if progressing_done else "ReplicaSetUpdated",
             "message": f'ReplicaSet "{new.name if new else dep.name}" '
                        + ("has successfully progressed." if progressing_done else "is progressing."),
             "lastUpdateTime": now, "lastTransitionTime": now},
        ],
    }
    return obj


def _max_unavailable(dep: DeploymentState) -> int:
    from kubeskippy.devcluster.disruption import scaled_value

    value = ((dep.obj["spec"].get("strategy") or {}).get("rollingUpdate") or {}).get("maxUnavailable", "25%")
    return scaled_value(value, dep.replicas, round_up=False)


def node_object(world: "World", index: int) -> dict:
    node = world.nodes[index]
    free = world._node_free[index]
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": node.name, "uid": node.uid, "labels": {"kubernetes.io/hostname": node.name},
                     "creationTimestamp": _ts(world, 0.0), "resourceVersion": "1"},
        "spec": {},
        "status": {
            "capacity": {"cpu": f"{node.cpu:g}", "memory": f"{int(node.memory / 1024)}Ki", "pods": str(node.pods)},
            "allocatable": {"cpu": f"{node.cpu:g}", "memory": f"{int(node.memory / 1024)}Ki", "pods": str(node.pods)},
            "conditions": [
                {"type": "Ready", "status": "True", "reason": "KubeletReady"},
                {"type": "MemoryPressure", "status": "True" if free[1] < 0.05 * node.memory else "False"},
                {"type": "DiskPressure", "status": "False"},
                {"type": "PIDPressure", "status": "False"},
            ],
        },
    }
