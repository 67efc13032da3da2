"""Builders shared by the safety tests: requests with sensible defaults and a sleep that records."""

from __future__ import annotations

from kubeskippy.events.model import ObjectRef
from kubeskippy.safety.contract import ActionRequest

T0 = 1_700_000_000.0


def deployment(name: str = "web", namespace: str = "prod") -> ObjectRef:
    return ObjectRef(api_version="apps/v1", kind="Deployment", name=name, namespace=namespace)


def request(step: str = "plan-1:restart", *, workload: ObjectRef | None = None, policy: str = "prod/heal",
            trigger: str = "crash", limit: int = 5, cooldown: float = 0.0, lease: float = 60.0,
            action_type: str = "restart") -> ActionRequest:
    workload = workload or deployment()
    return ActionRequest(step_id=step, policy=policy, trigger=trigger, target=workload, workload=workload,
                         action_type=action_type, max_actions_per_hour=limit, cooldown=cooldown,
                         lease_duration=lease)


class SleepRecorder:
    """Stands in for time.sleep: records the waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
