"""From breaches to findings: one finding per policy × trigger × workload.

Three Pods of one Deployment over their memory limit are one problem, so breaches are grouped by
the top of each target's owner chain. The finding keeps the evidence of every breaching Pod and
names one of them as its target: the first by namespace/name (then kind), so a redelivery or a second
replica of the detect function picks the same one.

Ids are content-derived (:func:`~kubeskippy.events.model.stable_id`):

* ``fingerprint = stable_id(policy, trigger, top owner)`` — the same for every detection of the
  same problem, so cooldowns and leases downstream key on it;
* ``id = stable_id(source, fingerprint)`` where the source is the CloudEvent id of the resource
  event, the alert's id, or the sweep's time bucket — a redelivered event yields the same id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from ..events.model import Evidence, Finding, ObjectRef, stable_id
from .compiled import CompiledPolicy, CompiledTrigger
from .objects import key_of, meta_of
from .reading import ObjectReader

__all__ = ["Breach", "assemble_findings", "fingerprint_for"]


@dataclass
class Breach:
    """One target that breached one trigger of one policy, with the evidence for it."""

    policy: CompiledPolicy
    trigger: CompiledTrigger
    target: dict
    evidence: list[Evidence] = field(default_factory=list)


def _ref(obj: dict) -> ObjectRef:
    meta = meta_of(obj)
    return ObjectRef(api_version=obj.get("apiVersion") or "v1", kind=obj.get("kind", ""), name=meta.get("name", ""),
                     namespace=meta.get("namespace") or None, uid=meta.get("uid") or None)


def fingerprint_for(policy: str, trigger: str, workload: ObjectRef) -> str:
    """Stable per policy × trigger × workload (kind/namespace/name; the uid is left out so a
    recreated Deployment of the same name stays the same problem for cooldowns)."""
    return stable_id("finding", policy, trigger, workload.kind, workload.namespace or "", workload.name)


def assemble_findings(breaches: Iterable[Breach], reader: ObjectReader, *, source: str, observed_at: float,
                      source_event_id: str | None) -> list[Finding]:
    """Group breaches by policy × trigger × top owner and build one Finding per group."""
    groups: dict[tuple, list[Breach]] = {}
    for breach in breaches:
        chain = reader.owner_chain(breach.target)
        top = key_of(chain[-1]) if chain else key_of(breach.target)
        groups.setdefault((breach.policy.key, breach.trigger.name, top), []).append(breach)
    findings: list[Finding] = []
    for (policy, trigger, _top), members in sorted(groups.items(), key=lambda item: item[0]):
        members.sort(key=lambda b: (key_of(b.target).namespace, key_of(b.target).name, key_of(b.target).kind))
        representative = members[0]
        chain = [_ref(owner) for owner in reader.owner_chain(representative.target)]
        target = _ref(representative.target)
        fingerprint = fingerprint_for(policy, trigger, chain[-1] if chain else target)
        evidence: list[Evidence] = []
        seen_targets: set = set()
        for member in members:
            member_key = key_of(member.target)
            if member_key in seen_targets:
                continue  # the same object reached twice (e.g. two listings): keep the first evidence
            seen_targets.add(member_key)
            evidence.extend(member.evidence)
        findings.append(Finding(
            id=stable_id("finding", source, fingerprint),
            policy=policy,
            trigger=trigger,
            trigger_type=representative.trigger.type,  # type: ignore[arg-type]
            target=target,
            owner_chain=chain,
            fingerprint=fingerprint,
            evidence=evidence,
            observed_at=observed_at,
            source_event_id=source_event_id,
        ))
    return findings
