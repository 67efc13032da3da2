"""What the analyzers look at: the finding plus everything around it, read through the ports.

Gathering is separate from judging so that the rules analyzer, the LLM prompt and the tests all
see one immutable snapshot. Reads the analysis cannot do without (the target, its owners, its
events, its rollouts) let a transient API fault propagate as :class:`TemporaryError` so the
function answers 5xx and the Broker retries; optional sources (metrics, logs) degrade into a
recorded gap instead, because a diagnosis without them is still useful.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, NamedTuple, Sequence

from ..clock import Clock, from_rfc3339
from ..errors import APINotFound, KubeSkippyError
from ..events.model import Finding, ObjectRef
from ..ports import Cluster, Fanout, Metrics, run_in_order
from .quantities import parse_quantity
from .trends import Trend, trend_of

__all__ = [
    "container_states",
    "ContainerState",
    "Revision",
    "EventRecord",
    "AnalysisContext",
    "ContextQueries",
    "ContextConfig",
    "ContextGatherer",
    "Fanout",
    "REVISION_ANNOTATION",
]

log = logging.getLogger(__name__)

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"


class ContainerState(NamedTuple):
    """One container of one pod: its current state, its last termination and its limits."""

    pod: str
    name: str
    namespace: str = ""
    image: str = ""
    ready: bool = False
    restart_count: int = 0
    state: str = "unknown"  # running | waiting | terminated | unknown
    reason: str = ""  # current waiting/terminated reason, e.g. CrashLoopBackOff
    message: str = ""
    exit_code: int | None = None
    started_at: float | None = None  # running.startedAt
    last_reason: str = ""  # lastState.terminated.reason, e.g. OOMKilled
    last_exit_code: int | None = None
    last_started_at: float | None = None
    last_finished_at: float | None = None
    memory_limit: float | None = None  # bytes
    cpu_limit: float | None = None  # cores
    memory_request: float | None = None
    cpu_request: float | None = None

    @property
    def last_run_seconds(self) -> float | None:
        """How long the previous run lasted before it terminated."""
        if self.last_started_at is None or self.last_finished_at is None:
            return None
        return max(0.0, self.last_finished_at - self.last_started_at)


class Revision(NamedTuple):
    """One ReplicaSet of a Deployment: a rollout revision."""

    name: str
    revision: int
    created_at: float | None
    replicas: int
    images: tuple[str, ...] = ()


class EventRecord(NamedTuple):
    """One Kubernetes Event about the target or an owner (message is DATA, never instructions)."""

    involved: str  # Kind/namespace/name
    type: str
    reason: str
    message: str
    count: int
    last_seen: float | None


@dataclass(frozen=True)
class AnalysisContext:
    """An immutable snapshot of a finding's surroundings at ``now``."""

    finding: Finding
    now: float
    target: dict | None = None
    owners: tuple[dict, ...] = ()
    pods: tuple[dict, ...] = ()
    containers: tuple[ContainerState, ...] = ()
    node: dict | None = None
    revisions: tuple[Revision, ...] = ()  # newest first
    events: tuple[EventRecord, ...] = ()  # newest first
    trends: tuple[Trend, ...] = ()
    logs: Mapping[str, str] = field(default_factory=dict)  # "pod/container" -> tail
    gaps: tuple[str, ...] = ()

    def trends_for(self, signal: str) -> list[Trend]:
        return [t for t in self.trends if t.signal == signal]

    def in_scope(self) -> list[ObjectRef]:
        """The objects an action may touch: the finding's target and its owner chain."""
        return [self.finding.target, *self.finding.owner_chain]

    def node_ref(self) -> ObjectRef | None:
        """The node the target pod runs on (in scope for node-level actions only)."""
        if self.node is None:
            return None
        return ObjectRef.of(self.node)

    def node_conditions(self) -> dict[str, str]:
        if not self.node:
            return {}
        return {c.get("type", ""): str(c.get("status", "")) for c in (self.node.get("status") or {}).get("conditions") or []}

    def deployment(self) -> dict | None:
        for owner in self.owners:
            if owner.get("kind") == "Deployment":
                return owner
        return None

    def live_objects(self) -> list[dict]:
        """Target and owners as read (for label-based protection checks)."""
        return [o for o in (self.target, *self.owners) if o]


class ContextQueries(NamedTuple):
    """PromQL templates, formatted with ``namespace`` and ``pod``. Each must keep a ``container``
    label where it has one so values can be matched to that container's limit."""

    memory: str = 'container_memory_working_set_bytes{{namespace="{namespace}",pod="{pod}",container!=""}}'
    cpu: str = 'rate(container_cpu_usage_seconds_total{{namespace="{namespace}",pod="{pod}",container!=""}}[2m])'
    cpu_throttling: str = (
        'rate(container_cpu_cfs_throttled_periods_total{{namespace="{namespace}",pod="{pod}",container!=""}}[2m])'
        ' / rate(container_cpu_cfs_periods_total{{namespace="{namespace}",pod="{pod}",container!=""}}[2m])'
    )
    error_rate: str = (
        'sum(rate(http_requests_total{{namespace="{namespace}",pod="{pod}",code=~"5.."}}[2m]))'
        ' / sum(rate(http_requests_total{{namespace="{namespace}",pod="{pod}"}}[2m]))'
    )


@dataclass(frozen=True)
class ContextConfig:
    """How much to gather; small enough to keep one analysis well under a second."""

    metrics_window: float = 1800.0
    """Seconds of metric history for trends (30 min: long enough to see a leak's slope)."""
    metrics_step: float = 30.0
    """Resolution of the range queries."""
    events_window: float = 3600.0
    """Only events seen within this many seconds count."""
    max_events: int = 50
    max_pods: int = 5
    """A workload target is represented by at most this many of its pods."""
    log_lines: int = 30
    """Log tail per crashing container; 0 disables log reads."""
    queries: ContextQueries = field(default_factory=ContextQueries)


def _ts(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and value:
        try:
            return from_rfc3339(value)
        except ValueError:
            return None
    return None


def _int(value: object, default: int = 0) -> int:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default


def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def container_states(pod: dict) -> list[ContainerState]:
    """Flatten a Pod's spec and status into one ContainerState per container."""
    spec_by_name = {c.get("name"): c for c in (pod.get("spec") or {}).get("containers") or []}
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    by_status = {s.get("name"): s for s in statuses}
    names = list(spec_by_name) + [n for n in by_status if n not in spec_by_name]
    out = []
    for name in names:
        spec = spec_by_name.get(name) or {}
        st = by_status.get(name) or {}
        resources = spec.get("resources") or {}
        limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
        state, reason, message, exit_code, started = "unknown", "", "", None, None
        for key in ("running", "waiting", "terminated"):
            detail = (st.get("state") or {}).get(key)
            if detail is not None:
                state = key
                reason = detail.get("reason", "") or ""
                message = detail.get("message", "") or ""
                exit_code = detail.get("exitCode") if key == "terminated" else None
                started = _ts(detail.get("startedAt"))
                break
        last = ((st.get("lastState") or {}).get("terminated")) or {}
        out.append(ContainerState(
            pod=_meta(pod).get("name", ""), name=str(name), namespace=_meta(pod).get("namespace", "") or "",
            image=spec.get("image", st.get("image", "")) or "",
            ready=bool(st.get("ready", False)), restart_count=_int(st.get("restartCount")),
            state=state, reason=reason, message=message,
            exit_code=_int(exit_code) if exit_code is not None else None, started_at=started,
            last_reason=last.get("reason", "") or "",
            last_exit_code=_int(last["exitCode"]) if "exitCode" in last else None,
            last_started_at=_ts(last.get("startedAt")), last_finished_at=_ts(last.get("finishedAt")),
            memory_limit=parse_quantity(limits.get("memory")), cpu_limit=parse_quantity(limits.get("cpu")),
            memory_request=parse_quantity(requests.get("memory")), cpu_request=parse_quantity(requests.get("cpu")),
        ))
    return out


def _event_time(ev: dict) -> float | None:
    series = ev.get("series") or {}
    for value in (series.get("lastObservedTime"), ev.get("lastTimestamp"), ev.get("eventTime"),
                  ev.get("deprecatedLastTimestamp"), ev.get("firstTimestamp"), _meta(ev).get("creationTimestamp")):
        t = _ts(value)
        if t is not None:
            return t
    return None


def _event_record(ev: dict) -> EventRecord:
    inv = ev.get("involvedObject") or ev.get("regarding") or {}
    ref = f"{inv.get('kind', '?')}/{inv.get('namespace', '')}/{inv.get('name', '?')}"
    count = _int((ev.get("series") or {}).get("count")) or _int(ev.get("count"), 1) or _int(ev.get("deprecatedCount"), 1)
    return EventRecord(involved=ref, type=str(ev.get("type", "")), reason=str(ev.get("reason", "")),
                       message=str(ev.get("message", ev.get("note", "")) or ""), count=max(1, count),
                       last_seen=_event_time(ev))


def _ignoring_faults(call: Callable[[], Any]) -> Callable[[], None]:
    def run() -> None:
        try:
            call()
        except KubeSkippyError:
            pass
    return run


class ContextGatherer:
    """Reads a finding's surroundings through the Cluster and Metrics ports.

    Two rounds of reads, each made of independent reads handed to ``fanout`` together (one
    round trip instead of one per read when the fan-out runs them at once): the target and its
    owners; then everything that depends on them (node, rollouts, Events, metrics, logs). The
    snapshot is the same whatever order the reads of one round finish in.
    """

    def __init__(self, *, cluster: Cluster, metrics: Metrics | None, clock: Clock,
                 config: ContextConfig | None = None, fanout: Fanout | None = None) -> None:
        self.cluster = cluster
        self.metrics = metrics
        self.clock = clock
        self.config = config or ContextConfig()
        self.fanout: Fanout = fanout or run_in_order

    def gather(self, finding: Finding, *, alongside: Sequence[Callable[[], Any]] = ()) -> AnalysisContext:
        """The snapshot. ``alongside``: more reads to make in the second round (the caller's own
        read-ahead, e.g. the learning record); their results and faults are the caller's
        business, so both are ignored here."""
        now = self.clock.now()
        refs = [finding.target, *finding.owner_chain]
        read_gaps: list[list[str]] = [[] for _ in refs]
        objects = self.fanout([lambda ref=ref, g=g: self._read(ref, g) for ref, g in zip(refs, read_gaps)])
        gaps = [gap for g in read_gaps for gap in g]
        target = objects[0]
        owners = tuple(o for o in objects[1:] if o)
        pods = self._pods(finding, target, owners)
        containers = tuple(c for pod in pods for c in container_states(pod))
        deployment = next((o for o in owners if o.get("kind") == "Deployment"), None)
        if deployment is None and target and target.get("kind") == "Deployment":
            deployment = target
        subjects = self._event_subjects(finding, target, owners, pods)
        node_gaps: list[str] = []
        trend_gaps: list[str] = []
        log_gaps: list[str] = []
        node, revisions, trends, logs, *event_lists = self.fanout([
            lambda: self._node(pods, node_gaps),
            lambda: self._revisions(deployment) if deployment else (),
            lambda: self._trends(pods, containers, now, trend_gaps),
            lambda: self._logs(containers, log_gaps),
            *[lambda subject=subject: self._list_events(*subject) for subject in subjects],
            *[_ignoring_faults(call) for call in alongside],
        ])[: 4 + len(subjects)]
        events = self._events(subjects, event_lists, now)
        gaps += node_gaps + trend_gaps + log_gaps
        return AnalysisContext(finding=finding, now=now, target=target, owners=owners, pods=pods,
                               containers=containers, node=node, revisions=revisions, events=events,
                               trends=trends, logs=logs, gaps=tuple(gaps))

    # -- cluster reads (transient faults propagate) ------------------------------------------

    def _read(self, ref: ObjectRef, gaps: list[str]) -> dict | None:
        try:
            return self.cluster.get(ref.api_version, ref.kind, ref.name, ref.namespace)
        except APINotFound:
            gaps.append(f"{ref} not found")
            return None
        except KeyError:  # a kind the port does not know
            gaps.append(f"{ref}: unsupported kind")
            return None

    def _pods(self, finding: Finding, target: dict | None, owners: tuple[dict, ...]) -> tuple[dict, ...]:
        if target and target.get("kind") == "Pod":
            return (target,)
        workload = target if target and target.get("kind") != "Pod" else (owners[0] if owners else None)
        if not workload:
            return ()
        selector = (((workload.get("spec") or {}).get("selector")) or {}).get("matchLabels") or {}
        if not selector:
            return ()
        label_selector = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        pods = self.cluster.list("v1", "Pod", namespace=_meta(workload).get("namespace"), label_selector=label_selector)
        pods = [p for p in pods if all((_meta(p).get("labels") or {}).get(k) == v for k, v in selector.items())]
        pods.sort(key=lambda p: _meta(p).get("name", ""))
        return tuple(pods[: self.config.max_pods])

    def _node(self, pods: tuple[dict, ...], gaps: list[str]) -> dict | None:
        name = next((((p.get("spec") or {}).get("nodeName")) for p in pods if (p.get("spec") or {}).get("nodeName")), None)
        if not name:
            return None
        try:
            return self.cluster.get("v1", "Node", name)
        except APINotFound:
            gaps.append(f"Node/{name} not found")
            return None

    def _revisions(self, deployment: dict) -> tuple[Revision, ...]:
        meta = _meta(deployment)
        selector = (((deployment.get("spec") or {}).get("selector")) or {}).get("matchLabels") or {}
        label_selector = ",".join(f"{k}={v}" for k, v in sorted(selector.items())) or None
        sets = self.cluster.list("apps/v1", "ReplicaSet", namespace=meta.get("namespace"), label_selector=label_selector)
        out = []
        for rs in sets:
            rs_meta = _meta(rs)
            owned = any(o.get("kind") == "Deployment" and (o.get("uid") == meta.get("uid") if meta.get("uid") and o.get("uid")
                                                           else o.get("name") == meta.get("name"))
                        for o in rs_meta.get("ownerReferences") or [])
            if not owned:
                continue
            containers = (((rs.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
            out.append(Revision(name=rs_meta.get("name", ""),
                                revision=_int((rs_meta.get("annotations") or {}).get(REVISION_ANNOTATION)),
                                created_at=_ts(rs_meta.get("creationTimestamp")),
                                replicas=_int((rs.get("spec") or {}).get("replicas")),
                                images=tuple(str(c.get("image", "")) for c in containers)))
        out.sort(key=lambda r: (r.revision, r.created_at or 0.0), reverse=True)
        return tuple(out)

    @staticmethod
    def _event_subjects(finding: Finding, target: dict | None, owners: tuple[dict, ...],
                        pods: tuple[dict, ...]) -> list[tuple[str, str, str]]:
        """(namespace, kind, name) of every object whose Events count, in a stable order."""
        subjects: set[tuple[str, str, str]] = set()
        for obj in (*pods, *owners, *([target] if target else [])):
            meta = _meta(obj)
            subjects.add((meta.get("namespace") or "", obj.get("kind", ""), meta.get("name", "")))
        if not subjects:
            ref = finding.target
            subjects.add((ref.namespace or "", ref.kind, ref.name))
        return sorted(subjects)

    def _list_events(self, namespace: str, kind: str, name: str) -> list[dict]:
        return self.cluster.list("v1", "Event", namespace=namespace or None,
                                 field_selector=f"involvedObject.kind={kind},involvedObject.name={name}")

    def _events(self, subjects: list[tuple[str, str, str]], lists: list[list[dict]],
                now: float) -> tuple[EventRecord, ...]:
        records: list[EventRecord] = []
        seen: set[tuple] = set()
        for (_, kind, name), items in zip(subjects, lists):
            for ev in items:
                inv = ev.get("involvedObject") or ev.get("regarding") or {}
                if inv.get("name") != name or (inv.get("kind") and inv.get("kind") != kind):
                    continue  # the port may ignore field selectors; filter here too
                key = (_meta(ev).get("uid") or _meta(ev).get("name"), ev.get("reason"), inv.get("name"))
                if key in seen:
                    continue
                seen.add(key)
                rec = _event_record(ev)
                if rec.last_seen is not None and now - rec.last_seen > self.config.events_window:
                    continue
                records.append(rec)
        records.sort(key=lambda r: r.last_seen or 0.0, reverse=True)
        return tuple(records[: self.config.max_events])

    # -- optional sources (faults degrade into gaps) -----------------------------------------

    def _logs(self, containers: Iterable[ContainerState], gaps: list[str]) -> dict[str, str]:
        if self.config.log_lines <= 0:
            return {}
        out: dict[str, str] = {}
        for c in containers:
            troubled = c.restart_count > 0 or c.state in ("waiting", "terminated") or c.last_reason
            if not troubled or not c.namespace:
                continue
            try:
                out[f"{c.pod}/{c.name}"] = self.cluster.logs(c.pod, c.namespace, container=c.name,
                                                             tail_lines=self.config.log_lines)
            except KubeSkippyError as e:
                gaps.append(f"logs of {c.pod}/{c.name}: {e}")
            if len(out) >= 3:
                break
        return out

    def _trends(self, pods: tuple[dict, ...], containers: tuple[ContainerState, ...], now: float,
                gaps: list[str]) -> tuple[Trend, ...]:
        if self.metrics is None:
            gaps.append("metrics: no Metrics port configured")
            return ()
        cfg = self.config
        start = now - cfg.metrics_window
        limits = {(c.pod, c.name): c for c in containers}
        out: list[Trend] = []
        for pod in pods:
            meta = _meta(pod)
            ns, name = meta.get("namespace", ""), meta.get("name", "")
            for signal, template in (("memory", cfg.queries.memory), ("cpu", cfg.queries.cpu),
                                     ("cpu_throttling", cfg.queries.cpu_throttling), ("error_rate", cfg.queries.error_rate)):
                if not template:
                    continue
                try:
                    series = self.metrics.query_range(template.format(namespace=ns, pod=name), start, now, cfg.metrics_step)
                except KubeSkippyError as e:
                    gaps.append(f"metrics {signal} of {ns}/{name}: {e}")
                    continue
                for s in series:
                    labels = dict(s.labels)
                    labels.setdefault("pod", name)
                    container = labels.get("container")
                    limit = None
                    if signal in ("memory", "cpu"):
                        attr = "memory_limit" if signal == "memory" else "cpu_limit"
                        if container:
                            c = limits.get((name, container))
                            limit = getattr(c, attr) if c else None
                        else:
                            values = [getattr(c, attr) for c in containers if c.pod == name]
                            limit = sum(values) if values and all(v is not None for v in values) else None  # type: ignore[misc]
                    out.append(trend_of(signal, s.points, limit, labels))
        return tuple(out)
