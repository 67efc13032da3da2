"""Condition triggers: a status condition, or a container state reason, held for a duration.

* **Status conditions** (``status.conditions`` of Pods, Nodes, Deployments, …): the trigger holds
  when the condition of that ``type`` has that ``status`` (compared case-insensitively) and has
  had it for at least ``duration``, measured from its ``lastTransitionTime``. A condition without
  a ``lastTransitionTime`` holds only for a zero duration: how long it held is unknown. An object
  without a condition of that type never holds.
* **Container reasons** (Pods only, when the pod has no status condition of that type):
  ``CrashLoopBackOff``, ``ImagePullBackOff``, ``ErrImagePull``, ``CreateContainerConfigError``,
  ``OOMKilled``, ``Error``, … count as a condition of that name with status ``"True"`` while
  present in any container (init, regular or ephemeral):

  - ``state.waiting.reason``: held since the pod's ``ContainersReady`` condition turned False
    (else ``Ready`` turned False, else the pod's ``startTime``). A container without a readiness
    probe that runs briefly between back-offs turns ContainersReady True each time, which restarts
    this clock;
  - ``state.terminated.reason``: held since ``finishedAt``;
  - ``lastState.terminated.reason`` *while the container is not ready* (a crash-looping container
    that was OOM-killed shows OOMKilled here, not in ``state``): held since that ``finishedAt``.

  A container reason with status ``"False"`` or ``"Unknown"`` never holds: absence has no start
  time to measure a duration from.
"""

from __future__ import annotations

from typing import NamedTuple


from .objects import parse_time

__all__ = ["ConditionHit", "ConditionView", "condition_hits", "CONTAINER_STATUS_FIELDS"]

CONTAINER_STATUS_FIELDS = ("initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses")


class ConditionHit(NamedTuple):
    where: str
    """``condition`` or ``container <name>``."""
    state: str
    """``condition``, ``waiting``, ``terminated`` or ``lastState.terminated``."""
    since: float | None
    reason: str
    message: str


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _conditions(obj: dict) -> list:
    return _list(_dict(obj.get("status")).get("conditions"))


def _container_statuses(obj: dict) -> list[dict]:
    status = _dict(obj.get("status"))
    return [cs for field in CONTAINER_STATUS_FIELDS for cs in _list(status.get(field)) if isinstance(cs, dict)]


def _held(since: float | None, duration: float, now: float) -> bool:
    if since is None:
        return duration <= 0
    return now - since >= duration


def _not_ready_since(pod: dict) -> float | None:
    found: dict[str, float | None] = {}
    for cond in _conditions(pod):
        if isinstance(cond, dict) and cond.get("type") in ("ContainersReady", "Ready") \
                and str(cond.get("status", "")).lower() != "true":
            found[cond["type"]] = parse_time(cond.get("lastTransitionTime"))
    for kind in ("ContainersReady", "Ready"):
        if found.get(kind) is not None:
            return found[kind]
    return parse_time(_dict(pod.get("status")).get("startTime"))


def _container_hits(pod: dict, reason: str) -> list[ConditionHit]:
    hits: list[ConditionHit] = []
    for cs in _container_statuses(pod):
        where = f"container {cs.get('name', '?')}"
        state = _dict(cs.get("state"))
        waiting, terminated = _dict(state.get("waiting")), _dict(state.get("terminated"))
        last = _dict(_dict(cs.get("lastState")).get("terminated"))
        if waiting.get("reason") == reason:
            hits.append(ConditionHit(where, "waiting", _not_ready_since(pod), reason, str(waiting.get("message", ""))))
        elif terminated.get("reason") == reason:
            hits.append(ConditionHit(where, "terminated", parse_time(terminated.get("finishedAt")), reason,
                                     str(terminated.get("message", ""))))
        elif last.get("reason") == reason and not cs.get("ready"):
            hits.append(ConditionHit(where, "lastState.terminated", parse_time(last.get("finishedAt")), reason,
                                     str(last.get("message", ""))))
    return hits


class ConditionView:
    """One object's conditions and container reasons, read once and asked many times (every
    policy's condition triggers are checked against the same observed object)."""

    __slots__ = ("obj", "conditions", "_reasons")

    def __init__(self, obj: dict) -> None:
        self.obj = obj
        self.conditions: dict[str, dict] = {}
        for cond in _conditions(obj):
            if isinstance(cond, dict) and isinstance(cond.get("type"), str):
                self.conditions.setdefault(cond["type"], cond)
        self._reasons: frozenset[str] | None = None

    def _container_reasons(self) -> frozenset[str]:
        if self._reasons is None:
            found: set[str] = set()
            for cs in _container_statuses(self.obj):
                state = _dict(cs.get("state"))
                for part in (state.get("waiting"), state.get("terminated"), _dict(cs.get("lastState")).get("terminated")):
                    reason = _dict(part).get("reason")
                    if isinstance(reason, str) and reason:
                        found.add(reason)
            self._reasons = frozenset(found)
        return self._reasons

    def hits(self, type_: str, status: str, duration: float, now: float) -> list[ConditionHit]:
        """The places where condition ``type_`` has ``status`` and has held ≥ ``duration``."""
        cond = self.conditions.get(type_)
        if cond is not None:
            if str(cond.get("status", "")).lower() != status.lower():
                return []
            since = parse_time(cond.get("lastTransitionTime"))
            if not _held(since, duration, now):
                return []
            return [ConditionHit("condition", "condition", since, str(cond.get("reason", "")),
                                 str(cond.get("message", "")))]
        if self.obj.get("kind") != "Pod" or status.lower() != "true" or type_ not in self._container_reasons():
            return []
        return [hit for hit in _container_hits(self.obj, type_) if _held(hit.since, duration, now)]


def condition_hits(obj: dict, type_: str, status: str, duration: float, now: float) -> list[ConditionHit]:
    """The places in ``obj`` where condition ``type_`` has ``status`` and has held ≥ ``duration``."""
    return ConditionView(obj).hits(type_, status, duration, now)
