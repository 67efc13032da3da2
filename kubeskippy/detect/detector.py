"""The Detector: policies in, observations in, findings out.

Three ways in, one way out:

* :meth:`Detector.on_resource_event` — one object changed (ApiServerSource). Pods, workloads and
  Nodes are checked against condition triggers; core Events against event triggers. Metric
  triggers are not evaluated here: Prometheus evaluates them (compiled rules → alerts) and the
  sweep re-checks them.
* :meth:`Detector.on_alert` — a Prometheus alert compiled by ``kubeskippy rules`` fired; its labels
  name the policy, the trigger and the target.
* :meth:`Detector.sweep` — the periodic safety net: re-list what the policies can select and
  evaluate every trigger, metric triggers through range queries.

All three are synchronous and read the world only through the Cluster and Metrics ports. The
hot path (a Pod or Event update, tens of thousands a second) is kept cheap by indexes built once
per policy set: candidate policies per (kind, API group, namespace) and matching event triggers
per (reason, type), so most observations are dismissed after two dictionary lookups; condition
checks run before selection, so a healthy Pod never costs an owner-chain read.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, NamedTuple, Sequence

from ..clock import Clock
from ..errors import TemporaryError
from ..events.model import Finding
from ..policy.model import HealingPolicy
from ..ingest.model import ResourceEvent
from ..ports import Cluster, Fanout, Metrics
from .compiled import CompiledPolicy, CompiledTrigger, ConditionCheck, compile_policies
from .conditions import ConditionView
from .event_counting import EventRecord, count_in_window, read_event
from .evidence import alert_evidence, condition_evidence, event_evidence, metric_evidence
from .findings import Breach, assemble_findings
from .metric_eval import MetricBreach, RangeSettings, evaluate_metric
from .objects import api_group, is_being_deleted, labels_of, meta_of
from .reading import ObjectReader
from .selection import SelectionPlan
from .sweep_listing import list_for_sweep, listed_objects
from .targets import target_of

if TYPE_CHECKING:  # the Alert model is built on detect's first alert, not on its cold start
    from ..events.alert import Alert

__all__ = ["Detector", "DetectorSettings"]

log = logging.getLogger("kubeskippy.detect")

_EVENT_GROUPS = frozenset({"", "events.k8s.io"})
_CACHE_LIMIT = 4096


class _ConditionCandidates(NamedTuple):
    policies: tuple[tuple[CompiledPolicy, SelectionPlan], ...]
    checks: tuple[ConditionCheck, ...]
    """Distinct checks of those policies (equal checks are one object: see compiled.py)."""


@dataclass(frozen=True)
class DetectorSettings:
    range: RangeSettings = field(default_factory=RangeSettings)
    """Step rule for metric durations (see :mod:`kubeskippy.detect.metric_eval`)."""
    sweep_bucket: float = 60.0
    """Seconds. Sweeps in the same bucket give the same finding ids (two replicas answering the
    same PingSource tick, or a retried sweep, are recognised as one)."""
    sum_related_events: bool = True
    """When one Event object alone is below an event trigger's count, list the other Events of the
    same object and add theirs (one extra list call, only then)."""


class Detector:
    """Evaluate HealingPolicy triggers against observations; return deduplicated findings.

    ``fanout`` (optional) runs independent reads at once: a Pod's ReplicaSet and its likely
    Deployment are then read in one round (:meth:`ObjectReader.owner_chain`)."""

    def __init__(self, policies: Sequence[HealingPolicy], *, cluster: Cluster, metrics: Metrics | None,
                 clock: Clock, settings: DetectorSettings | None = None, fanout: Fanout | None = None) -> None:
        self._cluster = cluster
        self._fanout = fanout
        self._metrics = metrics
        self._clock = clock
        self._settings = settings or DetectorSettings()
        self.set_policies(policies)

    # -- policies ---------------------------------------------------------------------------

    def set_policies(self, policies: Sequence[HealingPolicy]) -> None:
        """Replace the policy set; raises InvalidInput (with field paths) and keeps the old set then."""
        compiled = compile_policies(policies)
        self._policies: tuple[CompiledPolicy, ...] = compiled
        self._by_key = {p.key: p for p in compiled}
        self._condition_candidates: dict[tuple[str, str, str], _ConditionCandidates | None] = {}
        self._event_candidates: dict[tuple[str, str], tuple[tuple[CompiledPolicy, CompiledTrigger], ...]] = {}

    @property
    def policies(self) -> tuple[HealingPolicy, ...]:
        return tuple(p.policy for p in self._policies)

    def _conditions_for(self, kind: str, group: str, namespace: str) -> _ConditionCandidates | None:
        """Policies with condition triggers that can select objects of this kind in this namespace,
        and the distinct checks among their triggers (``None`` when there are none)."""
        key = (kind, group, namespace)
        if key in self._condition_candidates:
            return self._condition_candidates[key]
        policies = tuple((p, p.selector.plan(kind, group)) for p in self._policies
                         if p.condition_triggers and p.selector.in_scope(namespace)
                         and p.selector.plan(kind, group).possible)
        checks: dict[int, ConditionCheck] = {}
        for policy, _plan in policies:
            for trigger in policy.condition_triggers:
                assert trigger.condition is not None
                checks[id(trigger.condition)] = trigger.condition
        found = _ConditionCandidates(policies, tuple(checks.values())) if policies else None
        if len(self._condition_candidates) >= _CACHE_LIMIT:
            self._condition_candidates.clear()
        self._condition_candidates[key] = found
        return found

    def _events_for(self, reason: str, type_: str) -> tuple[tuple[CompiledPolicy, CompiledTrigger], ...]:
        """Event triggers (of any policy) whose reason and type match."""
        key = (reason, type_)
        found = self._event_candidates.get(key)
        if found is None:
            found = tuple((p, t) for p in self._policies for t in p.event_triggers
                          if t.event is not None and t.event.matches(reason, type_))
            if len(self._event_candidates) >= _CACHE_LIMIT:
                self._event_candidates.clear()
            self._event_candidates[key] = found
        return found

    # -- entry points -----------------------------------------------------------------------

    def on_resource_event(self, event: ResourceEvent, *, cluster: Cluster | None = None,
                          fanout: Fanout | None = None) -> list[Finding]:
        """Findings caused by one object change; a delete, or a deleting object, yields none.

        ``cluster`` (and its ``fanout``) read for this call instead of the detector's own (detect's
        event loop passes ones that replay reads awaited on the loop; see
        :mod:`kubeskippy.services.read_replay`)."""
        obj = event.obj
        if event.verb == "delete" or not isinstance(obj, dict) or is_being_deleted(obj):
            return []
        kind = obj.get("kind", "")
        group = api_group(obj.get("apiVersion"))
        if kind == "Event" and group in _EVENT_GROUPS:
            if not self._events_for(str(obj.get("reason") or ""), str(obj.get("type") or "")):
                return []  # the common case: a Normal event nobody asked about
            record = read_event(obj)
            if record is None:
                return []
            now = self._clock.now()
            reader = self._reader(cluster, fanout)
            breaches = self._event_record_breaches(record, reader, now)
        else:
            if self._conditions_for(kind, group, meta_of(obj).get("namespace") or "") is None:
                return []
            now = self._clock.now()
            reader = self._reader(cluster, fanout)
            reader.remember(obj)
            breaches = self._condition_breaches(obj, reader, now)
        if not breaches:
            return []
        return assemble_findings(breaches, reader, source=f"resource:{event.event_id}", observed_at=now,
                                 source_event_id=event.event_id)

    def _reader(self, cluster: Cluster | None, fanout: Fanout | None) -> ObjectReader:
        return ObjectReader(self._cluster, self._fanout) if cluster is None else ObjectReader(cluster, fanout)

    def on_alert(self, alert: Alert) -> list[Finding]:
        """The finding a firing alert of a compiled rule stands for; resolved alerts yield none."""
        if alert.status != "firing":
            return []
        policy = self._by_key.get(alert.labels.get("kubeskippy_policy", ""))
        trigger = policy.trigger(alert.labels.get("kubeskippy_trigger", "")) if policy else None
        if policy is None or trigger is None or trigger.metric is None:
            log.info("alert %s names no metric trigger of a loaded policy (policy=%r trigger=%r); ignored",
                     alert.alertname, alert.labels.get("kubeskippy_policy"), alert.labels.get("kubeskippy_trigger"))
            return []
        ref = target_of(alert.labels)
        if ref is None:
            log.info("alert %s has no namespace/pod (or other object) labels; no target, ignored", alert.alertname)
            return []
        now = self._clock.now()
        reader = ObjectReader(self._cluster, self._fanout)
        obj = reader.get(ref.api_version, ref.kind, ref.name, ref.namespace)
        if obj is None or is_being_deleted(obj) or not policy.selector.selects(obj, lambda: reader.owner_chain(obj)):
            return []
        value = _float_or_none(alert.annotations.get("kubeskippy_value"))
        check = trigger.metric
        details = {"alertname": alert.alertname, "fingerprint": alert.fingerprint,
                   "generator_url": alert.generator_url, "starts_at": alert.starts_at}
        evidence = alert_evidence(obj, check, alert.alertname, value, alert.starts_at - check.duration, details)
        return assemble_findings([Breach(policy, trigger, obj, [evidence])], reader, source=f"alert:{alert.id}",
                                 observed_at=now, source_event_id=alert.id)

    def sweep(self, namespaces: Sequence[str] | None = None) -> list[Finding]:
        """Re-list what the policies can select and evaluate every trigger.

        ``namespaces`` restricts the sweep (and then cluster-scoped objects such as Nodes are left
        out); ``None`` sweeps everything the policies can select.
        """
        now = self._clock.now()
        wanted = frozenset(namespaces) if namespaces is not None else None
        policies = [p for p in self._policies if _overlaps(p, wanted)]
        reader = ObjectReader(self._cluster, self._fanout)
        breaches: list[Breach] = []
        list_for_sweep(policies, wanted, reader)
        for obj in listed_objects(policies, wanted, reader):
            breaches.extend(self._condition_breaches(obj, reader, now))
        if any(p.event_triggers for p in policies):
            breaches.extend(self._sweep_events(reader, wanted, now))
        breaches.extend(self._sweep_metrics(policies, reader, wanted, now))
        if not breaches:
            return []
        bucket = int(math.floor(now / self._settings.sweep_bucket) * self._settings.sweep_bucket)
        return assemble_findings(breaches, reader, source=f"sweep:{bucket}", observed_at=now,
                                 source_event_id=f"sweep:{bucket}")

    # -- condition triggers -----------------------------------------------------------------

    def _condition_breaches(self, obj: dict, reader: ObjectReader, now: float) -> list[Breach]:
        """Condition checks first (cheap, on the object itself; each distinct check once), selection
        after — so a healthy Pod costs a few dict lookups and never an owner-chain read."""
        meta = meta_of(obj)
        candidates = self._conditions_for(obj.get("kind", ""), api_group(obj.get("apiVersion")),
                                          meta.get("namespace") or "")
        if candidates is None or is_being_deleted(obj):
            return []
        view = ConditionView(obj)
        results = {id(c): view.hits(c.type, c.status, c.duration, now) for c in candidates.checks}
        if not any(results.values()):
            return []
        name, labels = meta.get("name", ""), labels_of(obj)
        out: list[Breach] = []
        for policy, plan in candidates.policies:
            fired = [(t, results[id(t.condition)]) for t in policy.condition_triggers if results[id(t.condition)]]
            if not fired or not plan.selects(name, labels, lambda: reader.owner_chain(obj)):
                continue
            for trigger, hits in fired:
                check = trigger.condition
                assert check is not None
                out.append(Breach(policy, trigger, obj, [condition_evidence(obj, check, h, now) for h in hits]))
        return out

    # -- event triggers ---------------------------------------------------------------------

    def _involved(self, record: EventRecord, reader: ObjectReader) -> dict | None:
        """The object an Event is about, or None when it is gone (or a namesake replaced it)."""
        try:
            obj = reader.get(record.involved_api_version, record.involved_kind, record.involved_name,
                             record.involved_namespace)
        except KeyError:  # a kind the Cluster adapter cannot read; no policy can act on it either
            return None
        if obj is None or is_being_deleted(obj):
            return None
        uid = meta_of(obj).get("uid")
        if record.involved_uid and uid and uid != record.involved_uid:
            return None
        return obj

    def _event_pairs(self, records: Iterable[EventRecord], kind: str, group: str, namespace: str | None
                     ) -> list[tuple[CompiledPolicy, CompiledTrigger, SelectionPlan]]:
        """(policy, trigger, plan) of the event triggers matching some record that can select the
        involved object's kind in its namespace, in policy-name then trigger-name order."""
        pairs: dict[tuple[str, str], tuple[CompiledPolicy, CompiledTrigger, SelectionPlan]] = {}
        for record in records:
            for policy, trigger in self._events_for(record.reason, record.type):
                if (policy.key, trigger.name) in pairs or not policy.selector.in_scope(namespace):
                    continue
                plan = policy.selector.plan(kind, group)
                if plan.possible:
                    pairs[(policy.key, trigger.name)] = (policy, trigger, plan)
        return [pairs[k] for k in sorted(pairs)]

    def _selects_involved(self, plan: SelectionPlan, involved: dict, reader: ObjectReader) -> bool:
        meta = meta_of(involved)
        return plan.selects(meta.get("name", ""), labels_of(involved), lambda: reader.owner_chain(involved))

    def _event_record_breaches(self, record: EventRecord, reader: ObjectReader, now: float) -> list[Breach]:
        pairs = self._event_pairs((record,), record.involved_kind, api_group(record.involved_api_version),
                                  record.involved_namespace)
        if not pairs:
            return []
        involved: dict | None = None
        related: list[EventRecord] | None = None
        out: list[Breach] = []
        for policy, trigger, plan in pairs:
            check = trigger.event
            assert check is not None
            start = now - check.window
            count, since, used = count_in_window((record,), start)
            if count == 0:
                continue  # this change is outside the window: not news, whatever else happened
            if count < check.needed and self._settings.sum_related_events:
                if related is None:
                    related = self._related_events(record, reader)
                matching = [r for r in related if check.matches(r.reason, r.type)]
                count, since, used = count_in_window(matching, start)
            if count < check.needed:
                continue
            if involved is None:
                involved = self._involved(record, reader)
                if involved is None:
                    return []
            if self._selects_involved(plan, involved, reader):
                out.append(Breach(policy, trigger, involved, [event_evidence(involved, check, count, since, used)]))
        return out

    def _related_events(self, record: EventRecord, reader: ObjectReader) -> list[EventRecord]:
        """All Events about the same object (this one in its newest form), one list call."""
        selector = f"involvedObject.kind={record.involved_kind},involvedObject.name={record.involved_name}"
        records = {record.key: record}
        for obj in reader.list("v1", "Event", namespace=record.namespace or None, field_selector=selector):
            other = read_event(obj)
            if other is None or other.key in records or not _same_subject(other, record):
                continue
            records[other.key] = other
        return list(records.values())

    def _sweep_events(self, reader: ObjectReader, wanted: frozenset[str] | None, now: float) -> list[Breach]:
        groups: dict[tuple, list[EventRecord]] = {}
        for obj in reader.listed("v1", "Event"):
            record = read_event(obj)
            if record is None or (wanted is not None and record.namespace not in wanted):
                continue
            subject = (record.involved_kind, api_group(record.involved_api_version), record.involved_namespace or "",
                       record.involved_name, record.involved_uid or "")
            groups.setdefault(subject, []).append(record)
        out: list[Breach] = []
        for subject in sorted(groups):
            records = groups[subject]
            pairs = self._event_pairs(records, subject[0], subject[1], subject[2] or None)
            involved: dict | None = None
            for policy, trigger, plan in pairs:
                check = trigger.event
                assert check is not None
                matching = [r for r in records if check.matches(r.reason, r.type)]
                count, since, used = count_in_window(matching, now - check.window)
                if count == 0 or count < check.needed:
                    continue
                if involved is None:
                    involved = self._involved(records[0], reader)
                    if involved is None:
                        break
                if self._selects_involved(plan, involved, reader):
                    out.append(Breach(policy, trigger, involved,
                                      [event_evidence(involved, check, count, since, used)]))
        return out

    # -- metric triggers --------------------------------------------------------------------

    def _sweep_metrics(self, policies: Sequence[CompiledPolicy], reader: ObjectReader,
                       wanted: frozenset[str] | None, now: float) -> list[Breach]:
        metric_policies = [p for p in policies if p.metric_triggers]
        if not metric_policies:
            return []
        if self._metrics is None:
            log.warning("%d policies have metric triggers but no Metrics port is configured; skipped",
                        len(metric_policies))
            return []
        results: dict[tuple[str, str, float, float], list[MetricBreach]] = {}
        out: list[Breach] = []
        for policy in metric_policies:
            for trigger in policy.metric_triggers:
                check = trigger.metric
                assert check is not None
                key = (check.promql, check.operator, check.threshold, check.duration)
                if key not in results:
                    try:
                        results[key] = evaluate_metric(self._metrics, check.promql, check.operator,
                                                       check.threshold, check.duration, now, self._settings.range)
                    except TemporaryError as e:
                        # One unreachable or failing query must not hide the condition and event
                        # findings of this sweep; the next sweep (or the compiled rule) checks it again.
                        log.warning("metric trigger %s of %s not evaluated this sweep: %s", trigger.name,
                                    policy.key, e)
                        results[key] = []
                for breach in results[key]:
                    ref = target_of(breach.labels)
                    if ref is None or (wanted is not None and ref.namespace not in wanted):
                        continue
                    try:
                        obj = reader.get(ref.api_version, ref.kind, ref.name, ref.namespace)
                    except KeyError:
                        continue
                    if obj is None or is_being_deleted(obj):
                        continue
                    if policy.selector.selects(obj, lambda: reader.owner_chain(obj)):
                        out.append(Breach(policy, trigger, obj, [metric_evidence(obj, check, breach)]))
        return out


def _overlaps(policy: CompiledPolicy, wanted: frozenset[str] | None) -> bool:
    if wanted is None or policy.selector.namespaces is None:
        return True
    return not policy.selector.namespaces.isdisjoint(wanted)


def _same_subject(a: EventRecord, b: EventRecord) -> bool:
    return (a.involved_kind == b.involved_kind and a.involved_name == b.involved_name
            and (a.involved_namespace or "") == (b.involved_namespace or "")
            and (not a.involved_uid or not b.involved_uid or a.involved_uid == b.involved_uid))


def _float_or_none(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None
