"""What the trail says about healing: actions by type and outcome, and time to heal.

Time to heal, per finding fingerprint (one workload × policy × trigger):

- an *episode* starts at the ``observed_at`` of the earliest finding of that fingerprint not
  already inside an earlier episode;
- it ends at the ``checked_at`` of the first verification of that fingerprint that said
  ``healthy: true`` and was checked at or after the start;
- findings observed up to that verification belong to the same episode (detection keeps firing
  while the action takes effect); a finding observed after it opens a new episode;
- an episode without a healthy verification yet is *open*: counted, but not in the figures.

Only ``kind: event`` records count (a dead letter is the same event again, undelivered), and
each finding, outcome and verification counts once by its payload id, however often it was
delivered.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from ..clock import from_rfc3339
from ..events import types as event_types
from .reader import StoredRecord

__all__ = ["HealEpisode", "HealSummary", "AuditStats", "compute_stats", "heal_episodes", "summarize_heal"]


@dataclass(frozen=True)
class HealEpisode:
    fingerprint: str
    policy: str
    target: str
    started_at: float
    healed_at: float | None

    @property
    def seconds(self) -> float | None:
        return None if self.healed_at is None else self.healed_at - self.started_at


@dataclass(frozen=True)
class HealSummary:
    healed: int
    open: int
    mean: float | None
    median: float | None
    p90: float | None
    max: float | None


@dataclass
class AuditStats:
    records: Counter = field(default_factory=Counter)
    """Records by kind (event, dead_letter, healing_action)."""
    events_by_type: Counter = field(default_factory=Counter)
    actions: Counter = field(default_factory=Counter)
    """Outcomes by (action type, status)."""
    healing_action_phases: Counter = field(default_factory=Counter)
    """HealingAction transitions by the phase they moved to."""
    dead_letters: Counter = field(default_factory=Counter)
    """Dead letters by (event type, Knative error code)."""
    episodes: list[HealEpisode] = field(default_factory=list)
    unreadable: int = 0

    @property
    def heal(self) -> HealSummary:
        return summarize_heal(self.episodes)

    def as_dict(self) -> dict[str, Any]:
        heal = self.heal
        return {
            "records": dict(self.records),
            "events_by_type": dict(self.events_by_type),
            "actions": [{"action_type": t, "status": s, "count": n} for (t, s), n in sorted(self.actions.items())],
            "healing_action_phases": dict(self.healing_action_phases),
            "dead_letters": [{"type": t, "code": c, "count": n} for (t, c), n in sorted(self.dead_letters.items())],
            "time_to_heal": {
                "healed": heal.healed, "open": heal.open, "mean_seconds": heal.mean,
                "median_seconds": heal.median, "p90_seconds": heal.p90, "max_seconds": heal.max,
                "episodes": [{"fingerprint": e.fingerprint, "policy": e.policy, "target": e.target,
                              "started_at": e.started_at, "healed_at": e.healed_at, "seconds": e.seconds}
                             for e in self.episodes],
            },
            "unreadable": self.unreadable,
        }


def _seconds(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return from_rfc3339(value)
        except ValueError:
            return None
    return None


def _ref_text(ref: Any) -> str:
    if not isinstance(ref, Mapping) or not ref.get("name"):
        return ""
    ns = ref.get("namespace")
    return f"{ref.get('kind', '')}/{ns}/{ref['name']}" if ns else f"{ref.get('kind', '')}/{ref['name']}"


def heal_episodes(findings: Iterable[tuple[str, float, str, str]],
                  healthy_checks: Iterable[tuple[str, float]]) -> list[HealEpisode]:
    """Episodes from (fingerprint, observed_at, policy, target) findings and
    (fingerprint, checked_at) healthy verifications, by the definition in the module docstring."""
    by_fp: dict[str, list[tuple[float, str, str]]] = defaultdict(list)
    for fp, at, policy, target in findings:
        by_fp[fp].append((at, policy, target))
    healed_at: dict[str, list[float]] = defaultdict(list)
    for fp, at in healthy_checks:
        healed_at[fp].append(at)
    episodes: list[HealEpisode] = []
    for fp in sorted(by_fp):
        observed = sorted(by_fp[fp])
        checks = sorted(healed_at.get(fp, []))
        i = 0
        while i < len(observed):
            start, policy, target = observed[i]
            end = next((c for c in checks if c >= start), None)
            episodes.append(HealEpisode(fp, policy, target, start, end))
            if end is None:
                break
            while i < len(observed) and observed[i][0] <= end:
                i += 1
    return sorted(episodes, key=lambda e: (e.started_at, e.fingerprint))


def _nearest_rank(sorted_values: list[float], percent: float) -> float:
    return sorted_values[max(0, math.ceil(percent / 100 * len(sorted_values)) - 1)]


def summarize_heal(episodes: Iterable[HealEpisode]) -> HealSummary:
    """Mean, median (nearest rank, lower middle), p90 (nearest rank) and max of healed episodes."""
    episodes = list(episodes)
    durations = sorted(e.seconds for e in episodes if e.seconds is not None)
    opened = sum(1 for e in episodes if e.healed_at is None)
    if not durations:
        return HealSummary(0, opened, None, None, None, None)
    return HealSummary(healed=len(durations), open=opened, mean=sum(durations) / len(durations),
                       median=_nearest_rank(durations, 50), p90=_nearest_rank(durations, 90), max=durations[-1])


def compute_stats(records: Iterable[StoredRecord]) -> AuditStats:
    stats = AuditStats()
    seen: set[tuple[str, str]] = set()
    findings: list[tuple[str, float, str, str]] = []
    healthy: list[tuple[str, float]] = []

    for stored in records:
        if stored.record is None:
            stats.unreadable += 1
            continue
        kind = str(stored.record.get("kind", "event"))
        stats.records[kind] += 1
        event = stored.event
        etype = str(event.get("type", ""))
        data = event.get("data") if isinstance(event.get("data"), Mapping) else {}
        if kind == "dead_letter":
            code = str((stored.record.get("dead_letter") or {}).get("code", event.get("knativeerrorcode", "")))
            stats.dead_letters[(etype, code)] += 1
            continue
        if kind == "healing_action":
            phase = (data.get("status") or {}).get("phase") if isinstance(data.get("status"), Mapping) else None
            stats.healing_action_phases[str(phase or "(none)")] += 1
            continue
        stats.events_by_type[etype] += 1
        marker = (etype, str(data.get("id") or event.get("id")))
        if marker in seen:  # the same payload delivered again under another event id
            continue
        seen.add(marker)
        if etype == event_types.OUTCOME:
            stats.actions[(str(data.get("action_type", "?")), str(data.get("status", "?")))] += 1
        elif etype == event_types.FINDING:
            at = _seconds(data.get("observed_at"))
            if at is not None and data.get("fingerprint"):
                findings.append((str(data["fingerprint"]), at, str(data.get("policy", "")),
                                 _ref_text(data.get("target"))))
        elif etype == event_types.VERIFICATION and data.get("healthy") is True:
            at = _seconds(data.get("checked_at"))
            if at is not None and data.get("finding_fingerprint"):
                healthy.append((str(data["finding_fingerprint"]), at))
    stats.episodes = heal_episodes(findings, healthy)
    return stats
