"""The simulated cluster: nodes, Deployments → ReplicaSets → Pods, a kubelet, two controllers.

One ``step(t)`` advances everything to simulated time ``t`` (seconds since the run began) in a
fixed order: pods whose termination finished disappear; pending pods are scheduled; containers
whose start time has come start; workload models move the signals; containers that asked to
exit, or whose memory reached the limit, die (OOMKilled, exit codes, kubelet back-off); probes
run; readiness settles; the ReplicaSet and Deployment controllers reconcile what changed.
Transitions keep their exact times (a container that died at t=487 s says so in
``lastState.terminated.finishedAt``) even though they are processed at the tick.

Writes through the Cluster port (delete, evict, patch, scale) call into this object between
ticks and take effect at once, at the clock's current time.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from kubeskippy.analyze.quantities import parse_quantity
from kubeskippy.clock import to_rfc3339
from kubeskippy.devcluster.disruption import scaled_value
from kubeskippy.events.model import stable_id
from kubeskippy.ingest.model import ResourceEvent
from kubeskippy.jsoncopy import copy_json

from ..randomness import key_of_joined, key_prefix, mix64
from ..scenario import Scenario, WorkloadSpec
from ..workloads import new_models
from .naming import safe_suffix, template_hash, uid_for, uid_of_joined
from .recorder import EventRecorder, Subject
from .state import DeploymentState, NodeState, PodIdentity, ReplicaSetState
from .table import BACKOFF, CREATING, NONE, REASON_COMPLETED, REASON_ERROR, REASON_OOM, RUNNING, TERMINATED, PodTable

__all__ = ["World", "WorldStats", "BACKOFF_INITIAL", "BACKOFF_MAX", "BACKOFF_RESET", "backoff_after", "backoff_delay",
           "backoff_expired"]

BACKOFF_INITIAL = 10.0
BACKOFF_MAX = 300.0
BACKOFF_RESET = 2 * BACKOFF_MAX  # the kubelet forgets a back-off entry after 2 × max without failures
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def backoff_after(fails: np.ndarray, backoff_update: np.ndarray, fin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The kubelet's back-off after exits at ``fin``: the failure count (forgotten after
    ``BACKOFF_RESET`` since the entry's last update, i.e. the last restart) and the restart delay
    (0 for the first failure, then 10, 20, 40 … 300 s). One function (and its two parts,
    ``backoff_expired`` and ``backoff_delay``), because ``world.block`` also runs it ahead to
    predict when future incarnations start and to check the ones it laid out."""
    fails = np.where(backoff_expired(backoff_update, fin), 1, fails + 1).astype(np.int32)
    return fails, backoff_delay(fails)


def backoff_delay(fails: np.ndarray) -> np.ndarray:
    """The restart delay after the ``fails``-th failure in a row (``backoff_after``'s count)."""
    exponent = np.maximum(fails - 2, 0)
    return np.where(fails <= 1, 0.0, np.minimum(BACKOFF_INITIAL * 2.0 ** exponent, BACKOFF_MAX))


def backoff_expired(backoff_update: np.ndarray, fin: np.ndarray) -> np.ndarray:
    """Has the kubelet forgotten the back-off entry (never updated, or not for ``BACKOFF_RESET``)?"""
    return np.isnan(backoff_update) | (fin - backoff_update > BACKOFF_RESET)


def last_of(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For entries ``rows`` in the order things happened (a row may repeat: successive
    incarnations of one container): the distinct rows (ascending), the index of each one's last
    entry, and per entry whether it is its row's first. The table is left as each row's last
    entry leaves it."""
    order = np.argsort(rows, kind="stable")
    ranked = rows[order]
    tail = np.ones(len(rows), dtype=bool)
    tail[:-1] = ranked[:-1] != ranked[1:]
    head = np.ones(len(rows), dtype=bool)
    head[1:] = tail[:-1]
    first = np.empty(len(rows), dtype=bool)
    first[order] = head
    return ranked[tail], order[tail], first


_PROBE_READY, _PROBE_LIVE = 101, 102  # randomness purposes


class WorldStats:
    """Counters the report reads (per Deployment index)."""

    def __init__(self) -> None:
        self.oom_kills = np.zeros(0, dtype=np.int64)
        self.exits = np.zeros(0, dtype=np.int64)
        self.pods_created = np.zeros(0, dtype=np.int64)
        self.liveness_kills = np.zeros(0, dtype=np.int64)
        self.evictions = 0
        self.deletions = 0
        self.oom_times: list[tuple[int, float]] = []  # (deployment, time) for plots

    def grow(self, n: int) -> None:
        for name in ("oom_kills", "exits", "pods_created", "liveness_kills"):
            arr = getattr(self, name)
            if len(arr) < n:
                setattr(self, name, np.concatenate([arr, np.zeros(n - len(arr), dtype=np.int64)]))


class World:
    """State and tick of the simulated cluster. ``now()`` is simulated seconds since the start."""

    def __init__(self, scenario: Scenario, seed: int, *, now: Callable[[], float] | None = None) -> None:
        self.scenario = scenario
        self.seed = seed
        self.epoch = scenario.epoch_seconds
        self.now: Callable[[], float] = now or (lambda: self._t)
        self._t = 0.0
        self.table = PodTable(max(64, 2 * sum(w.replicas * w.count for w in scenario.workloads)))
        self.models = new_models()
        self.model_list = list(self.models.values())
        self._model_index = {m.name: i for i, m in enumerate(self.model_list)}
        self.nodes: list[NodeState] = []
        self.deployments: list[DeploymentState] = []
        self.by_name: dict[tuple[str, str], DeploymentState] = {}
        self.replicasets: list[ReplicaSetState] = []
        self.pods: dict[int, PodIdentity] = {}  # serial → identity (kept after deletion for Events)
        self.row_of: dict[int, int] = {}  # serial → row, live pods only
        self.pod_names: dict[tuple[str, str], int] = {}  # (namespace, name) → serial, live pods only
        self.pod_meta: dict[int, dict] = {}  # serial → labels/annotations patched onto one pod
        self.stats = WorldStats()
        self.exit_offsets = None  # ``world.block``'s predicted exits per row (built on first use)
        self.block_scratch: PodTable | None = None  # ``world.block``'s table for incarnations simulated ahead
        self.block_stats = {"passes": 0, "laid_out": 0, "kept": 0, "probed": 0}  # ``world.block``'s counts
        self.recorder = EventRecorder(self._resolve_subject, epoch=self.epoch, ttl=scenario.cluster.event_ttl)
        self.listeners: list[Callable[[ResourceEvent], None]] = []
        self.watch: Callable[[str, dict], bool] = lambda namespace, labels: False
        self.pdbs: list[dict] = []
        self._serial = 0
        self._rv = 1
        self._pending: list[int] = []
        self._dirty: set[int] = set()
        self._changed: list[np.ndarray] = []
        self._added: list[int] = []
        self._probe_rs = np.zeros((0, 6))
        self._probed = False  # does any ReplicaSet have a probe?
        self._ready_delay = np.zeros(0)
        self.desired = np.zeros(0, dtype=np.int64)  # per RS: ready delay, period, threshold, live delay, period, threshold
        self._settled_all: bool | None = None  # cache of "every Deployment settled", None: unknown
        self._build_nodes()

    # ------------------------------------------------------------------ setup

    def _build_nodes(self) -> None:
        pool = self.scenario.cluster.nodes
        for i in range(pool.count):
            name = f"sim-node-{i + 1}"
            self.nodes.append(NodeState(i, name, uid_for(self.seed, "node", name), parse_quantity(pool.cpu) or 0,
                                        parse_quantity(pool.memory) or 0, pool.pods))
        self._node_free = np.array([[n.cpu, n.memory, n.pods] for n in self.nodes], dtype=float)
        self._node_total = self._node_free.copy()

    def add_workloads(self) -> None:
        for i, spec in enumerate(self.scenario.workloads):
            names = [spec.name] if spec.count == 1 else [f"{spec.name}-{k}" for k in range(spec.count)]
            for name in names:
                self.add_deployment(spec, name, path=f"workloads[{i}].params")

    def add_deployment(self, spec: WorkloadSpec, name: str, *, path: str = "params") -> DeploymentState:
        from kubeskippy.errors import FieldError, InvalidInput

        if spec.model not in self.models:
            raise InvalidInput([FieldError(path.rsplit(".", 1)[0] + ".model",
                                           f"unknown model {spec.model!r} (known: {', '.join(self.models)})")])
        model = self.models[spec.model]
        index = len(self.deployments)
        params = dict(spec.params)
        if spec.model == "trace" and self.scenario.source:
            from pathlib import Path

            params.setdefault("base_dir", str(Path(self.scenario.source).parent))
        model.add_deployment(index, params, path=path)
        labels = {"app": name, **spec.labels}
        container: dict = {"name": spec.container, "image": spec.image,
                           "resources": {"requests": dict(spec.resources.requests),
                                         "limits": dict(spec.resources.limits)}}
        for key, probe in (("readinessProbe", spec.readiness_probe), ("livenessProbe", spec.liveness_probe)):
            if probe is not None:
                container[key] = {"httpGet": {"path": "/", "port": 8080}, "initialDelaySeconds": int(probe.initial_delay),
                                  "periodSeconds": int(probe.period), "failureThreshold": probe.failure_threshold,
                                  "timeoutSeconds": 1, "successThreshold": 1}
        template = {"metadata": {"labels": labels, **({"annotations": dict(spec.annotations)} if spec.annotations else {})},
                    "spec": {"containers": [container], "restartPolicy": "Always",
                             "terminationGracePeriodSeconds": spec.termination_grace}}
        t = self.now()
        uid = uid_for(self.seed, "deployment", spec.namespace, name)
        obj = {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": spec.namespace, "uid": uid, "labels": {"app": name},
                         "annotations": {}, "generation": 1, "creationTimestamp": to_rfc3339(self.epoch + t)},
            "spec": {"replicas": spec.replicas, "selector": {"matchLabels": {"app": name}}, "template": template,
                     "strategy": {"type": "RollingUpdate",
                                  "rollingUpdate": {"maxSurge": _int_or_str(spec.max_surge),
                                                    "maxUnavailable": _int_or_str(spec.max_unavailable)}},
                     "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600},
        }
        dep = DeploymentState(index, spec, obj, model, self._model_index[spec.model], uid, t)
        dep.watched = bool(self.watch(spec.namespace, labels))
        dep.resource_version = self._next_rv()
        self.deployments.append(dep)
        self.by_name[(spec.namespace, name)] = dep
        self.stats.grow(len(self.deployments))
        self._ready_delay = np.append(self._ready_delay, spec.readiness_delay)
        self.desired = np.append(self.desired, spec.replicas)
        if spec.pdb_min_available is not None or spec.pdb_max_unavailable is not None:
            pdb_spec: dict = {"selector": {"matchLabels": {"app": name}}}
            if spec.pdb_min_available is not None:
                pdb_spec["minAvailable"] = spec.pdb_min_available
            else:
                pdb_spec["maxUnavailable"] = spec.pdb_max_unavailable
            self.pdbs.append({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                              "metadata": {"name": name, "namespace": spec.namespace,
                                           "uid": uid_for(self.seed, "pdb", spec.namespace, name)},
                              "spec": pdb_spec})
        self._notify("add", dep)
        self.reconcile(dep)
        return dep

    # ------------------------------------------------------------------ small helpers

    def desired_changed(self) -> None:
        """Recompute the desired replicas per Deployment (after a create, scale or delete)."""
        self._settled_all = None
        self.desired = np.array([0 if d.deleted else d.replicas for d in self.deployments], dtype=np.int64)

    def _next_rv(self) -> int:
        self._rv += 1
        return self._rv

    def wall(self, t: float) -> float:
        return self.epoch + t

    def _resolve_subject(self, kind: str, ident: int) -> tuple[Subject, str]:
        if kind == "Pod":
            p = self.pods[ident]
            return Subject("v1", "Pod", p.namespace, p.name, p.uid, f"spec.containers{{{p.container}}}"), p.node
        if kind == "Node":
            n = self.nodes[ident]
            return Subject("v1", "Node", "", n.name, n.uid), n.name
        if kind == "ReplicaSet":
            rs = self.replicasets[ident]
            d = self.deployments[rs.dep]
            return Subject("apps/v1", "ReplicaSet", d.namespace, rs.name, rs.uid), ""
        d = self.deployments[ident]
        return Subject("apps/v1", "Deployment", d.namespace, d.name, d.uid), ""

    def _event(self, reason: str, type_: str, component: str, subjects, times, messages, *, kind: str = "Pod") -> None:
        self.recorder.record(reason, type_, component, subjects, times, messages, kind=kind)
        if not self.listeners or kind != "Pod":
            return
        subjects = np.atleast_1d(subjects)
        times = np.broadcast_to(np.asarray(times, dtype=float), subjects.shape)
        for i, serial in enumerate(subjects):
            self._emit_pod_event(reason, type_, component, int(serial), float(times[i]),
                                 messages if isinstance(messages, str) else messages[i])

    def _emit_pod_event(self, reason: str, type_: str, component: str, serial: int, when: float, message: str) -> None:
        """One Pod Event to the listeners (ApiServerSource), if they watch the pod."""
        row = self.row_of.get(serial)
        if row is None or not self.table.watched[row]:
            return
        subject, host = self._resolve_subject("Pod", serial)
        message = self.recorder.format(message, subject, host)
        from .recorder import _Aggregate

        obj = self.recorder.to_object(_Aggregate(subject, reason, type_, component, message, 1, when, when, host))
        self._emit(ResourceEvent("add", obj, stable_id("event", obj["metadata"]["name"], when), self.wall(when)))

    def _emit(self, event: ResourceEvent) -> None:
        for listener in list(self.listeners):
            listener(event)

    def _notify(self, verb: str, dep_or_rs) -> None:
        if not self.listeners:
            return
        from .objects import deployment_object, replicaset_object

        if isinstance(dep_or_rs, DeploymentState):
            if not dep_or_rs.watched:
                return
            obj = deployment_object(self, dep_or_rs)
        else:
            if not self.deployments[dep_or_rs.dep].watched:
                return
            obj = replicaset_object(self, dep_or_rs)
        rv = obj["metadata"]["resourceVersion"]
        self._emit(ResourceEvent(verb, obj, stable_id(obj["metadata"]["uid"], rv, verb), self.wall(self.now())))

    # ------------------------------------------------------------------ pods

    def _create_pods(self, rs: ReplicaSetState, count: int, t: float) -> None:
        """The ReplicaSet controller creates ``count`` pods at once: Python per pod only for its
        name and identity, one vector write per column, one Event batch."""
        self._settled_all = None
        dep = self.deployments[rs.dep]
        tbl = self.table
        container = rs.template["spec"]["containers"][0]["name"]
        rows, serials, ordinals, pkeys, names = [], [], [], [], []
        # the identity parts every pod of the batch shares, joined once (``randomness.key_prefix``)
        name_parts = key_prefix(self.seed, dep.namespace, dep.name)
        key_parts = key_prefix(self.seed, "pod", dep.namespace, dep.name)
        uid_parts = key_prefix(self.seed, "pod", dep.namespace)
        for _ in range(count):
            row = tbl.allocate()
            self._serial += 1
            serial = self._serial
            ordinal = dep.next_ordinal
            dep.next_ordinal += 1
            name = f"{rs.name}-{safe_suffix(key_of_joined(name_parts + str(ordinal)))}"
            self.pods[serial] = PodIdentity(serial, name, dep.namespace, uid_of_joined(f"{uid_parts}{name}\x1f{serial}"),
                                            dep.index, rs.index, container)
            self.row_of[serial] = row
            self.pod_names[(dep.namespace, name)] = serial
            rs.rows.add(row)
            rows.append(row)
            serials.append(serial)
            ordinals.append(ordinal)
            pkeys.append(key_of_joined(key_parts + str(ordinal)))
            names.append(name)
        r = np.array(rows, dtype=np.int64)
        tbl.alive[r] = True
        tbl.serial[r] = serials
        tbl.dep[r] = dep.index
        tbl.rs[r] = rs.index
        tbl.ordinal[r] = ordinals
        tbl.model[r] = dep.model_index
        tbl.watched[r] = dep.watched
        tbl.pkey[r] = np.array(pkeys, dtype=np.uint64)
        tbl.created[r] = t
        tbl.cstate[r] = NONE
        tbl.node[r] = -1
        tbl.mem_limit[r], tbl.cpu_limit[r] = rs.mem_limit, rs.cpu_limit
        tbl.mem_req[r], tbl.cpu_req[r] = rs.mem_req, rs.cpu_req
        tbl.rv[r] = np.arange(self._rv + 1, self._rv + 1 + count)  # one resource version each
        self._rv += count
        self._pending.extend(rows)
        self.stats.pods_created[dep.index] += count
        self._added.extend(rows)
        self._event("SuccessfulCreate", "Normal", "replicaset-controller", np.full(count, rs.index), t,
                    [f"Created pod: {name}" for name in names], kind="ReplicaSet")

    def delete_pod(self, row: int, *, grace: float | None = None, reason: str = "Killing") -> None:
        """Graceful deletion: deletionTimestamp now, gone when the container stops (PID 1 shells
        ignore SIGTERM, so usually after the whole grace period)."""
        tbl = self.table
        t = self.now()
        if not tbl.alive[row]:
            return
        self._settled_all = None
        dep = self.deployments[tbl.dep[row]]
        grace = float(dep.spec.termination_grace if grace is None else grace)
        stop = grace if dep.spec.sigterm_exits_after is None else min(grace, dep.spec.sigterm_exits_after)
        if tbl.cstate[row] != RUNNING:
            stop = 0.0
        if not np.isnan(tbl.deleting[row]):
            tbl.gone_at[row] = min(tbl.gone_at[row], t + stop)
            return
        tbl.deleting[row] = t
        tbl.gone_at[row] = t + stop
        self.replicasets[int(tbl.rs[row])].deleting += 1
        tbl.rv[row] = self._next_rv()
        self._changed.append(np.array([row]))
        self.stats.deletions += 1
        if tbl.cstate[row] == RUNNING:
            self._event("Killing", "Normal", "kubelet", tbl.serial[row], t, "Stopping container {container}")
        self.reconcile(dep)

    def _remove_pod(self, row: int) -> None:
        tbl = self.table
        serial = int(tbl.serial[row])
        rs = self.replicasets[tbl.rs[row]]
        rs.rows.discard(row)
        if not np.isnan(tbl.deleting[row]):
            rs.deleting -= 1
        node = int(tbl.node[row])
        if node >= 0:
            self._node_free[node] += (tbl.cpu_req[row], tbl.mem_req[row], 1)
        obj = None
        if self.listeners and tbl.watched[row]:
            from .objects import pod_object

            obj = pod_object(self, row)
        self.row_of.pop(serial, None)
        ident = self.pods[serial]
        self.pod_names.pop((ident.namespace, ident.name), None)
        try:
            self._pending.remove(row)
        except ValueError:
            pass
        tbl.release(row)
        if obj is not None:
            self._emit(ResourceEvent("delete", obj, stable_id(obj["metadata"]["uid"], "delete"), self.wall(self.now())))

    # ------------------------------------------------------------------ the tick

    def step(self, t1: float) -> None:
        """Advance the world from the previous tick to ``t1``."""
        t0 = self._t
        self._t = t1
        tbl = self.table
        n = tbl.size
        # Each phase first asks one question of a whole column ("is anything due by t1?";
        # released rows hold NaN there), so a tick where nothing happens costs a few operations.
        if n and _earliest(tbl.gone_at[:n]) <= t1:
            for row in np.flatnonzero(tbl.alive[:n] & (tbl.gone_at[:n] <= t1)):
                self._dirty.add(int(tbl.dep[row]))
                self._remove_pod(int(row))
        if self._pending:
            self._schedule(t1)
        n = tbl.size
        if n and _earliest(tbl.due[:n]) <= t1:
            self._start_due(t1)
        running = np.flatnonzero(tbl.alive[:n] & (tbl.cstate[:n] == RUNNING))
        if len(running):
            models = tbl.model[running]
            order = np.argsort(models, kind="stable")  # rows stay ascending within a model
            bounds = np.concatenate([[0], np.cumsum(np.bincount(models, minlength=len(self.model_list)))])
            T, Tprev = np.array([t1]), np.array([t0])
            for k in np.flatnonzero(bounds[1:] > bounds[:-1]):
                rows = running[order[bounds[k]:bounds[k + 1]]]
                self._apply_tick(rows, self.model_list[int(k)].run(tbl, rows, T, Tprev))
            limit = tbl.mem_limit[running]
            oom = running[(tbl.mem[running] >= limit) & (limit > 0) & np.isnan(tbl.exit_at[running])]
            if len(oom):
                tbl.exit_at[oom] = t1
                tbl.exit_code[oom] = 137
            if self._probed:
                self._probe(t1)
            if _earliest(tbl.exit_at[:n]) <= t1:
                self._process_exits(t1)
        if n and _earliest(tbl.ready_at[:n]) <= t1:
            self._settle_readiness(t1)
        self._count_traffic(t0, t1)
        if self._changed:
            self._dirty.update(tbl.dep[np.concatenate(self._changed)].tolist())
        for d in sorted(self._dirty):
            dep = self.deployments[d]
            if not self._settled(dep):
                self.reconcile(dep)
        self._dirty.clear()
        self._flush_notifications()
        self._settled_all = None

    def can_block(self) -> bool:
        """May the next ticks be advanced as a block (``step_block``)? Only when a tick can do
        nothing but run, exit and restart containers: no pod waits for a node or is being deleted,
        no controller has work, no probe runs, no exit is pending, and nobody is listening
        (the healing arm reacts between ticks, so it is ticked one by one)."""
        tbl = self.table
        n = tbl.size
        if self.listeners or self._pending or self._probed or not n:
            return False
        if not np.isnan(_earliest(tbl.gone_at[:n])) or not np.isnan(_earliest(tbl.exit_at[:n])):
            return False
        if self._settled_all is None:
            self._settled_all = all(self._settled(d) for d in self.deployments if not d.deleted) and \
                not (tbl.alive[:n] & (tbl.cstate[:n] == NONE)).any()
        return self._settled_all

    def step_block(self, T: np.ndarray, *, totals_from: int = 0):
        """Advance through ticks ``T`` at once (see ``world.block``); answers the per-tick values
        (the counters' running totals from row ``totals_from`` on: ``Frames.totals_from``)."""
        from .block import advance_block

        return advance_block(self, T, totals_from=totals_from)

    def _apply_tick(self, rows: np.ndarray, traj) -> None:
        """A model's one-tick trajectory into the table (an exit only where none is pending)."""
        tbl = self.table
        tbl.mem[rows] = traj.mem[-1]
        tbl.cpu[rows] = traj.cores
        tbl.cpu_total[rows] += traj.cpu_inc[-1]
        if traj.err is not None:
            tbl.err[rows] = traj.err[-1]
        if traj.lat is not None:
            tbl.lat[rows] = traj.lat[-1]
        asks = ~np.isnan(traj.exit_at) & np.isnan(tbl.exit_at[rows])
        if asks.any():
            tbl.exit_at[rows[asks]] = traj.exit_at[asks]
            tbl.exit_code[rows[asks]] = traj.exit_code[asks]

    def _schedule(self, t1: float) -> None:
        """The scheduler: pending pods in creation order, each onto the node that fits it with
        the most free CPU and memory (fractions summed). Placement is sequential (each one uses
        up capacity); the table writes and Events that follow are one batch."""
        tbl = self.table
        delay = self.scenario.cluster.scheduling_delay
        start_delay = self.scenario.cluster.container_start
        still: list[int] = []
        failed: list[int] = []
        placed: list[tuple[int, int, float, float, bool, str, float]] = []  # row, node, at, due, cached, image, pull
        # plain floats: a handful of nodes per pod, where numpy's per-call cost would dominate
        # (the same float64 arithmetic, so the same placements)
        free, total = self._node_free.tolist(), self._node_total.tolist()
        score = [(fr[0] / tt[0]) + (fr[1] / tt[1]) for fr, tt in zip(free, total)]
        for row in self._pending:
            if not tbl.alive[row] or not np.isnan(tbl.deleting[row]):
                continue
            at = max(float(tbl.created[row]) + delay, 0.0)
            if at > t1:
                still.append(row)
                continue
            need = (float(tbl.cpu_req[row]), float(tbl.mem_req[row]), 1.0)
            low = (need[0] - 1e-9, need[1] - 1e-9, need[2] - 1e-9)
            node, best = -1, -1.0
            for i, fr in enumerate(free):  # the first of the best-scored nodes that fit
                if fr[0] >= low[0] and fr[1] >= low[1] and fr[2] >= low[2] and (node < 0 or score[i] > best):
                    node, best = i, score[i]
            if node < 0:
                still.append(row)
                failed.append(row)
                continue
            fr = free[node]
            fr[0], fr[1], fr[2] = fr[0] - need[0], fr[1] - need[1], fr[2] - need[2]
            score[node] = (fr[0] / total[node][0]) + (fr[1] / total[node][1])
            dep = self.deployments[tbl.dep[row]]
            image = self.replicasets[tbl.rs[row]].template["spec"]["containers"][0].get("image", "")
            pull = dep.spec.image_pull if dep.spec.image_pull is not None else self.scenario.cluster.image_pull
            cached = image in self.nodes[node].images
            self.nodes[node].images.add(image)
            placed.append((row, node, at, at + (0.0 if cached else pull) + start_delay, cached, image, pull))
        self._node_free[:] = free
        if placed:
            rows = np.array([p[0] for p in placed], dtype=np.int64)
            nodes = np.array([p[1] for p in placed], dtype=np.int32)
            at = np.array([p[2] for p in placed])
            for row, node, *_ in placed:
                self.pods[int(tbl.serial[row])].node = self.nodes[node].name
            tbl.node[rows] = nodes
            tbl.scheduled[rows] = at
            tbl.pulled[rows] = [not p[4] for p in placed]
            tbl.cstate[rows] = CREATING
            tbl.due[rows] = [p[3] for p in placed]
            tbl.rv[rows] = np.arange(self._rv + 1, self._rv + 1 + len(placed))  # one resource version each
            self._rv += len(placed)
            self._changed.append(rows)
            events = []  # (reason, component, row, time, message) in the order the scheduler and kubelet emit them
            for row, node, when, _, cached, image, pull in placed:
                events.append(("Scheduled", "default-scheduler", row, when, "Successfully assigned {namespace}/{name} to {host}"))
                if cached:
                    events.append(("Pulled", "kubelet", row, when, f'Container image "{image}" already present on machine'))
                else:
                    events.append(("Pulling", "kubelet", row, when, f'Pulling image "{image}"'))
                    events.append(("Pulled", "kubelet", row, when + pull, f'Successfully pulled image "{image}" in {pull:g}s'))
            self._pod_events(events)
        if failed:
            ids = np.array([tbl.serial[r] for r in failed if tbl.created[r] + delay > t1 - self.scenario.resolution])
            if len(ids):
                self._event("FailedScheduling", "Warning", "default-scheduler", ids, t1,
                            f"0/{len(self.nodes)} nodes are available: {len(self.nodes)} Insufficient resources.")
        self._pending = still

    def _pod_events(self, events: list[tuple[str, str, int, float, str]]) -> None:
        """Normal Pod Events (reason, component, row, time, message): recorded one batch per
        reason, and handed to listeners one by one in the given order (as separate calls would)."""
        tbl = self.table
        by_reason: dict[tuple[str, str], list[tuple[int, float, str]]] = {}
        for reason, component, row, when, message in events:
            by_reason.setdefault((reason, component), []).append((int(tbl.serial[row]), when, message))
        for (reason, component), items in by_reason.items():
            self.recorder.record(reason, "Normal", component, np.array([i[0] for i in items], dtype=np.int64),
                                 np.array([i[1] for i in items]), [i[2] for i in items])
        if self.listeners:
            for reason, component, row, when, message in events:
                self._emit_pod_event(reason, "Normal", component, int(tbl.serial[row]), when, message)

    def _start_due(self, t1: float) -> None:
        tbl = self.table
        n = tbl.size
        rows = np.flatnonzero(tbl.due[:n] <= t1)  # due is NaN unless a waiting container has a start time
        cs = tbl.cstate[rows]
        rows = rows[tbl.alive[rows] & ((cs == CREATING) | (cs == BACKOFF) | (cs == TERMINATED)) &
                    np.isnan(tbl.deleting[rows])]
        if len(rows):
            self.start_rows(rows, tbl.due[rows])

    def start_rows(self, rows: np.ndarray, at: np.ndarray, *, restarts: np.ndarray | None = None,
                   rv: np.ndarray | None = None) -> None:
        """The kubelet starts waiting containers ``rows`` at times ``at`` (a new incarnation:
        its random key, fresh probe counters, the model's on_start).

        ``rows`` may repeat when ``restarts`` is given: successive starts of a container in the
        order they happen (a block's laid-out incarnations, ``world.block``), each with its
        restart count (each but a row's first follows an exit) and resource version ``rv``. The
        table is left as the last start of each row leaves it; Events record every start."""
        tbl = self.table
        if restarts is None:
            last, counts, restart = rows, None, tbl.cstate[rows] != CREATING
            when, version = at, self._next_rv()
        else:
            last_rows, i, first = last_of(rows)
            restart = ~first[i] | (tbl.cstate[last_rows] != CREATING)
            last, counts, when, version = last_rows, restarts[i], at[i], rv[i]
        self.begin_incarnation(tbl, last, when, restart, counts=counts)
        tbl.rv[last] = version
        self._changed.append(rows)
        self._event("Created", "Normal", "kubelet", tbl.serial[rows], at, "Created container {container}")
        self._event("Started", "Normal", "kubelet", tbl.serial[rows], at, "Started container {container}")

    def begin_incarnation(self, tbl: PodTable, rows: np.ndarray, at: np.ndarray, restart: np.ndarray,
                          *, counts: np.ndarray | None = None) -> None:
        """The container state a start leaves in ``tbl`` (the world's table, or a block's scratch
        copy of some rows, where future incarnations are simulated ahead: ``world.block``): its
        random key from the restart count (``counts``, default the table's), fresh probe
        counters, readiness due, the model's on_start."""
        counts = tbl.restarts[rows] if counts is None else counts
        tbl.rkey[rows] = mix64(tbl.pkey[rows] ^ (counts.astype(np.uint64) * _GOLDEN))  # arrays wrap
        tbl.cstate[rows] = RUNNING
        tbl.started[rows] = at
        tbl.due[rows] = np.nan  # nothing pending: keeps "is a start due?" a one-column question
        tbl.exit_at[rows] = np.nan
        tbl.ready[rows] = False
        tbl.rp_fail[rows] = 0
        tbl.lp_fail[rows] = 0
        tbl.rp_next[rows] = 0
        tbl.lp_next[rows] = 0
        tbl.err[rows] = 0.0
        tbl.lat[rows] = 0.0
        tbl.backoff_update[rows[restart]] = at[restart]
        probes = self._probe_rs[tbl.rs[rows]]
        delay = self._ready_delay[tbl.dep[rows]]
        tbl.ready_at[rows] = np.where(np.isfinite(probes[:, 1]), np.inf, at + delay)
        models = tbl.model[rows]
        for k in sorted(set(models.tolist())):  # a handful of rows: cheaper than np.unique
            sel = models == k
            self.model_list[k].on_start(tbl, rows[sel], at[sel])

    def _probe(self, t1: float) -> None:
        tbl = self.table
        n = tbl.size
        running = np.flatnonzero(tbl.alive[:n] & (tbl.cstate[:n] == RUNNING) & np.isnan(tbl.exit_at[:n]))
        if not len(running):
            return
        settings = self._probe_rs[tbl.rs[running]]
        for which in (0, 1):
            delay, period, threshold = settings[:, 3 * which], settings[:, 3 * which + 1], settings[:, 3 * which + 2]
            has = np.isfinite(period)
            if not has.any():
                continue
            rows, d, p, thr = running[has], delay[has], period[has], threshold[has]
            nxt_col = tbl.rp_next if which == 0 else tbl.lp_next
            fail_col = tbl.rp_fail if which == 0 else tbl.lp_fail
            purpose = _PROBE_READY if which == 0 else _PROBE_LIVE
            while True:
                when = tbl.started[rows] + d + nxt_col[rows] * p
                due = (when <= t1) & np.isnan(tbl.exit_at[rows])
                if not due.any():
                    break
                r, at = rows[due], when[due]
                failed = self._probe_fails(r, purpose)
                fail_col[r] = np.where(failed, fail_col[r] + 1, 0)
                nxt_col[r] += 1
                if failed.any():
                    kind = "Readiness" if which == 0 else "Liveness"
                    self._event("Unhealthy", "Warning", "kubelet", tbl.serial[r[failed]], at[failed],
                                f"{kind} probe failed: HTTP probe failed with statuscode: 500")
                if which == 0:
                    before = tbl.ready[r].copy()
                    tbl.ready[r] = np.where(failed, tbl.ready[r] & (fail_col[r] < thr[due]), True)
                    flipped = r[before != tbl.ready[r]]
                    if len(flipped):
                        tbl.rv[flipped] = self._next_rv()
                        self._changed.append(flipped)
                else:
                    kill = failed & (fail_col[r] >= thr[due])
                    if kill.any():
                        dead = r[kill]
                        for row, when_killed in zip(dead, at[kill]):
                            dep = self.deployments[tbl.dep[row]]
                            grace = dep.spec.termination_grace
                            stop = grace if dep.spec.sigterm_exits_after is None else min(grace, dep.spec.sigterm_exits_after)
                            tbl.exit_at[row] = when_killed + stop
                            tbl.exit_code[row] = 137
                            self.stats.liveness_kills[dep.index] += 1
                        self._event("Killing", "Normal", "kubelet", tbl.serial[dead], at[kill],
                                    "Container {container} failed liveness probe, will be restarted")

    def _probe_fails(self, rows: np.ndarray, purpose: int) -> np.ndarray:
        from ..randomness import uniform

        counter = self.table.rp_next[rows] if purpose == _PROBE_READY else self.table.lp_next[rows]
        return uniform(self.table.rkey[rows], purpose, counter) < self.table.err[rows]

    def _process_exits(self, t1: float) -> None:
        tbl = self.table
        n = tbl.size
        rows = np.flatnonzero(tbl.exit_at[:n] <= t1)  # exit_at is NaN unless an exit was asked for
        rows = rows[tbl.alive[rows] & (tbl.cstate[rows] == RUNNING)]
        if len(rows):
            self.exit_rows(rows, tbl.exit_at[rows], tbl.exit_code[rows])

    def restart_time(self, fin: np.ndarray, delay: np.ndarray) -> np.ndarray:
        """When a container that exited at ``fin`` starts again after back-off ``delay``."""
        return fin + delay + self.scenario.cluster.container_start

    def exit_rows(self, rows: np.ndarray, fin: np.ndarray, code: np.ndarray, *, mem: np.ndarray | None = None,
                  started: np.ndarray | None = None, update: np.ndarray | None = None,
                  rv: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        """Running containers ``rows`` ended at ``fin`` with ``code`` (137 with memory at the limit:
        OOMKilled): last state, restart count, the kubelet's back-off and the next start time.

        ``rows`` may repeat when ``started`` is given: successive exits of a container in the
        order they happen (a block's laid-out incarnations, ``world.block``), each with its
        start, its memory at the exit ``mem`` (default: the table's), the back-off entry's last
        update ``update`` (default: the table's for a row's first exit; its start for the others,
        which follow restarts) and resource version ``rv``. The table is left as the last exit of
        each row leaves it; stats and Events record every exit, in order. Answers per exit: OOM
        kill?, reason, container state, next start."""
        tbl = self.table
        mem = tbl.mem[rows] if mem is None else mem
        limit = tbl.mem_limit[rows]
        oom = (code == 137) & (mem >= limit) & (limit > 0)
        reason = np.where(oom, REASON_OOM, np.where(code == 0, REASON_COMPLETED, REASON_ERROR)).astype(np.int8)
        if started is None:
            last, i, version = rows, slice(None), self._next_rv()
            started = tbl.started[rows]
            fails, delay = backoff_after(tbl.fails[rows], tbl.backoff_update[rows], fin)
            tbl.restarts[rows] += 1
        else:
            last, i, first = last_of(rows)
            version = rv[i]
            if update is None:
                update = np.where(first, tbl.backoff_update[rows], started)
            fails, delay = backoff_after(self._fails_before(rows, first, update, fin), update, fin)
            tbl.restarts[last] += np.bincount(rows)[last].astype(tbl.restarts.dtype)
        deleting = ~np.isnan(tbl.deleting[rows])
        cstate = np.where(delay > 0, BACKOFF, TERMINATED).astype(np.int8)
        due = np.where(deleting, np.inf, self.restart_time(fin, delay))
        tbl.lt_reason[last] = reason[i]
        tbl.lt_code[last] = code[i]
        tbl.lt_started[last] = started[i]
        tbl.lt_finished[last] = fin[i]
        tbl.fails[last] = fails[i]
        tbl.cstate[last] = cstate[i]
        tbl.due[last] = due[i]
        tbl.backoff[last] = delay[i]
        tbl.ready[last] = False
        tbl.ready_at[last] = np.nan
        tbl.exit_at[last] = np.nan
        tbl.mem[last] = 0.0
        tbl.cpu[last] = 0.0
        tbl.err[last] = 0.0
        tbl.rv[last] = version
        deps = tbl.dep[rows]
        counts = len(self.stats.exits)
        self.stats.exits += np.bincount(deps, minlength=counts)
        if oom.any():
            self.stats.oom_kills += np.bincount(deps[oom], minlength=counts)
            self.stats.oom_times.extend(zip(deps[oom].tolist(), fin[oom].tolist()))
            nodes = tbl.node[rows[oom]]
            self.recorder.record("OOMKilling", "Warning", "kernel-monitor", nodes, fin[oom],
                                 "Memory cgroup out of memory: Killed process (pod {pod_namespace}/{pod}, "
                                 "container {pod_container})", kind="Node", extras=tbl.serial[rows[oom]])
        backing = (delay > 0) & ~deleting
        if backing.any():
            r = rows[backing]
            self._event("BackOff", "Warning", "kubelet", tbl.serial[r], fin[backing],
                        "Back-off restarting failed container {container} in pod {name}_{namespace}")
        self._changed.append(rows)
        return oom, reason, cstate, due

    def _fails_before(self, rows: np.ndarray, first: np.ndarray, update: np.ndarray, fin: np.ndarray) -> np.ndarray:
        """Per exit of successive exits ``rows`` (in order): the failure count before it — the
        table's for a row's first, else the count the exit before left (``backoff_after``'s
        recurrence, counted: the exits since the last that found the entry forgotten)."""
        order = np.argsort(rows, kind="stable")
        k = np.arange(len(rows))
        head = np.maximum.accumulate(np.where(first[order], k, 0))  # the row's first exit, in row order
        reset = np.maximum.accumulate(np.where(backoff_expired(update, fin)[order], k, -1))
        before = np.where(reset >= head, k - reset, self.table.fails[rows[order]] + (k - head))
        out = np.empty(len(rows), dtype=np.int64)
        out[order] = before
        return out

    def _settle_readiness(self, t1: float) -> None:
        tbl = self.table
        n = tbl.size
        rows = np.flatnonzero(tbl.ready_at[:n] <= t1)  # ready_at is NaN once settled
        rows = rows[tbl.alive[rows] & (tbl.cstate[rows] == RUNNING) & ~tbl.ready[rows]]
        if len(rows):
            tbl.ready[rows] = True
            tbl.ready_at[rows] = np.nan  # settled
            tbl.rv[rows] = self._next_rv()
            self._changed.append(rows)

    def _count_traffic(self, t0: float, t1: float) -> None:
        tbl = self.table
        n = tbl.size
        serving = tbl.alive[:n] & tbl.ready[:n] & np.isnan(tbl.deleting[:n])
        rps = self.scenario.signals.requests_per_second
        if rps <= 0 or not serving.any():
            return
        rows = np.flatnonzero(serving)
        span = t1 - np.maximum(t0, tbl.started[rows])
        requests = rps * np.maximum(span, 0.0)
        tbl.req_total[rows] += requests
        tbl.err_total[rows] += requests * tbl.err[rows]

    def _flush_notifications(self) -> None:
        """ApiServerSource: one event per watched pod that changed this tick (nothing to build
        when nobody listens: the no-healing arm)."""
        tbl = self.table
        if not self.listeners:
            self._changed.clear()
            self._added.clear()
            return
        changed = np.unique(np.concatenate(self._changed)) if self._changed else np.zeros(0, dtype=np.int64)
        added = set(self._added)
        self._changed.clear()
        self._added.clear()
        from .objects import pod_object

        rows = sorted(set(int(r) for r in changed if tbl.alive[r] and tbl.watched[r]) |
                      {r for r in added if tbl.alive[r] and tbl.watched[r]})
        for row in rows:
            obj = pod_object(self, row)
            verb = "add" if row in added else "update"
            self._emit(ResourceEvent(verb, obj, stable_id(obj["metadata"]["uid"], obj["metadata"]["resourceVersion"]),
                                     self.wall(self.now())))
        for dep in self.deployments:
            if dep.watched and not dep.deleted:
                status = self._status_key(dep)
                if status != dep.last_status:
                    dep.last_status = status
                    dep.resource_version = self._next_rv()
                    self._notify("update", dep)

    # ------------------------------------------------------------------ controllers

    def rows_of(self, dep: DeploymentState) -> list[int]:
        return [r for i in dep.replicasets for r in self.replicasets[i].rows]

    def _available(self, rows) -> int:
        tbl = self.table
        return sum(1 for r in rows if tbl.ready[r] and np.isnan(tbl.deleting[r]))

    def _status_key(self, dep: DeploymentState) -> tuple:
        rows = self.rows_of(dep)
        new = self.current_rs(dep)
        return (len(rows), self._available(rows), len(new.rows) if new else 0, dep.generation, dep.replicas)

    def template_hash_of(self, dep: DeploymentState) -> str:
        """pod-template-hash of the current template, cached until the template changes."""
        template = dep.obj["spec"]["template"]
        if dep.hash_cache is None or dep.hash_cache[0] is not template:
            dep.hash_cache = (template, template_hash(template))
        return dep.hash_cache[1]

    def current_rs(self, dep: DeploymentState) -> ReplicaSetState | None:
        h = self.template_hash_of(dep)
        for i in dep.replicasets:
            if self.replicasets[i].hash == h:
                return self.replicasets[i]
        return None

    def _new_rs(self, dep: DeploymentState, template: dict, h: str) -> ReplicaSetState:
        t = self.now()
        index = len(self.replicasets)
        revision = max((self.replicasets[i].revision for i in dep.replicasets), default=0) + 1
        tpl = copy_json(template)
        tpl.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = h
        rs = ReplicaSetState(index, dep.index, f"{dep.name}-{h}", uid_for(self.seed, "rs", dep.namespace, dep.name, h),
                             h, tpl, revision, t)
        container = tpl["spec"]["containers"][0]
        res = container.get("resources") or {}
        rs.mem_limit = parse_quantity((res.get("limits") or {}).get("memory")) or 0.0
        rs.cpu_limit = parse_quantity((res.get("limits") or {}).get("cpu")) or 0.0
        rs.mem_req = parse_quantity((res.get("requests") or {}).get("memory")) or rs.mem_limit
        rs.cpu_req = parse_quantity((res.get("requests") or {}).get("cpu")) or rs.cpu_limit
        probes = [math.inf] * 6
        for k, key in enumerate(("readinessProbe", "livenessProbe")):
            pr = container.get(key)
            if pr:
                probes[3 * k: 3 * k + 3] = [float(pr.get("initialDelaySeconds", 0)), float(pr.get("periodSeconds", 10)),
                                            float(pr.get("failureThreshold", 3))]
        if index >= len(self._probe_rs):
            grown = np.full((max(16, 2 * len(self._probe_rs)), 6), math.inf)
            grown[: len(self._probe_rs)] = self._probe_rs
            self._probe_rs = grown
        self._probe_rs[index] = probes
        self._probed = self._probed or bool(np.isfinite(probes).any())
        rs.resource_version = self._next_rv()
        self.replicasets.append(rs)
        dep.replicasets.append(index)
        self._notify("add", rs)
        return rs

    def reconcile(self, dep: DeploymentState) -> None:
        """Deployment controller (RollingUpdate) then ReplicaSet controller for one Deployment."""
        self._settled_all = None
        if dep.deleted:
            for i in dep.replicasets:
                self.replicasets[i].replicas = 0
        else:
            template = dep.obj["spec"]["template"]
            new = self.current_rs(dep) or self._new_rs(dep, template, self.template_hash_of(dep))
            olds = [self.replicasets[i] for i in dep.replicasets if i != new.index]
            desired = dep.replicas
            old_live = [rs for rs in olds if rs.replicas > 0 or rs.rows]
            if not old_live:
                self._scale_rs(dep, new, desired)
            else:
                strategy = (dep.obj["spec"].get("strategy") or {}).get("rollingUpdate") or {}
                surge = scaled_value(strategy.get("maxSurge", "25%"), desired, round_up=True)
                unavailable = scaled_value(strategy.get("maxUnavailable", "25%"), desired, round_up=False)
                if surge == 0 and unavailable == 0:
                    unavailable = 1
                total = new.replicas + sum(rs.replicas for rs in olds)
                if new.replicas < desired and total < desired + surge:
                    self._scale_rs(dep, new, min(desired, new.replicas + desired + surge - total))
                self._scale_down_old(dep, new, olds, desired - unavailable)
                if new.replicas > desired:
                    self._scale_rs(dep, new, desired)
        for i in dep.replicasets:
            self._sync_rs(self.replicasets[i])

    def _settled(self, dep: DeploymentState) -> bool:
        """Nothing for the controllers to do: one ReplicaSet, at the desired size, no pod leaving."""
        if dep.deleted or len(dep.replicasets) != 1:
            return False
        rs = self.replicasets[dep.replicasets[0]]
        return rs.replicas == dep.replicas and len(rs.rows) == rs.replicas and not rs.deleting and \
            self.template_hash_of(dep) == rs.hash

    def _scale_down_old(self, dep: DeploymentState, new: ReplicaSetState, olds: list[ReplicaSetState],
                        min_available: int) -> None:
        """The rolling update's scale-down half, as the Deployment controller does it: first old
        pods that are not available (they serve nothing), then healthy ones down to minAvailable."""
        olds = sorted(olds, key=lambda r: r.revision)
        total = new.replicas + sum(rs.replicas for rs in olds)
        max_down = total - min_available - (new.replicas - self._available(new.rows))
        if max_down <= 0:
            return
        cleaned = 0
        for rs in olds:
            unhealthy = rs.replicas - self._available(rs.rows)
            if cleaned >= max_down or rs.replicas == 0 or unhealthy <= 0:
                continue
            cut = min(max_down - cleaned, unhealthy)
            self._scale_rs(dep, rs, rs.replicas - cut)
            cleaned += cut
        available = self._available(new.rows) + sum(self._available(rs.rows) for rs in olds)
        budget = available - min_available
        for rs in olds:
            if budget <= 0:
                break
            cut = min(rs.replicas, budget)
            if cut > 0:
                self._scale_rs(dep, rs, rs.replicas - cut)
                budget -= cut

    def _scale_rs(self, dep: DeploymentState, rs: ReplicaSetState, replicas: int) -> None:
        if replicas == rs.replicas:
            return
        direction = "up" if replicas > rs.replicas else "down"
        old = rs.replicas
        rs.replicas = replicas
        rs.resource_version = self._next_rv()
        self._event("ScalingReplicaSet", "Normal", "deployment-controller", dep.index, self.now(),
                    f"Scaled {direction} replica set {rs.name} from {old} to {replicas}", kind="Deployment")
        self._notify("update", rs)

    def _sync_rs(self, rs: ReplicaSetState) -> None:
        tbl = self.table
        active = [r for r in rs.rows if np.isnan(tbl.deleting[r])]
        t = self.now()
        if len(active) < rs.replicas:
            self._create_pods(rs, rs.replicas - len(active), t)
        elif len(active) > rs.replicas:
            # Prefer unscheduled, then not ready, then the youngest (the ReplicaSet controller's ranking).
            ranked = sorted(active, key=lambda r: (tbl.node[r] >= 0, tbl.ready[r], -tbl.created[r], -r))
            for row in ranked[: len(active) - rs.replicas]:
                self._event("SuccessfulDelete", "Normal", "replicaset-controller", rs.index, t,
                            f"Deleted pod: {self.pods[int(tbl.serial[row])].name}", kind="ReplicaSet")
                self.delete_pod(row)

    # ------------------------------------------------------------------ queries for the report

    def ready_by_deployment(self) -> tuple[np.ndarray, np.ndarray]:
        """(available pods, existing pods) per Deployment index."""
        tbl = self.table
        n = tbl.size
        alive = tbl.alive[:n]
        deps = tbl.dep[:n]
        k = len(self.deployments)
        avail = np.bincount(deps[alive & tbl.ready[:n] & np.isnan(tbl.deleting[:n])], minlength=k)
        existing = np.bincount(deps[alive], minlength=k)
        return avail, existing


def _earliest(times: np.ndarray) -> float:
    """The earliest time in a column, ignoring NaN (nothing pending); NaN if none."""
    return float(np.fmin.reduce(times))


def _int_or_str(value: str) -> int | str:
    return value if value.endswith("%") else int(value)
