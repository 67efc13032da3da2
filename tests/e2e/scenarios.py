"""The scenarios' policies and the crash-loop story, shared by the test modules and the benchmark.

Policies come from demo/policies with the smallest changes a test needs, each said here:

- ``crashloop-recovery`` carries ``kubeskippy.io/min-confidence: "0"``. The rules analyzer finds no
  cause for a container that ran for a quarter of an hour and then crash-loops (confidence 0.10),
  and by default the guard lets a mutating action through only at 0.5 and above; with the
  annotation the policy author says "for a crash loop, recreate the pod whatever the diagnosis",
  which is what the demo policy's comment intends.
- ``crashloop-approval`` is the same policy in ``manual`` mode for pods labelled
  ``kubeskippy.io/scenario: crashloop-approval``: every action waits for a person.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

from .world import APPS_NAMESPACE, World, demo_policy, scenario_deployment, wait_until

__all__ = ["CRASHLOOP_POLICY", "APPROVAL_POLICY", "crashloop_policy", "approval_policy", "shared_policies",
           "CrashLoopRun", "run_crash_loop", "healing_actions_for", "pod_deletes"]

CRASHLOOP_POLICY = "crashloop-recovery"
APPROVAL_POLICY = "crashloop-approval"
MIN_CONFIDENCE = "kubeskippy.io/min-confidence"


def crashloop_policy(max_actions_per_hour: int | None = None) -> dict:
    policy = demo_policy(CRASHLOOP_POLICY)
    policy["metadata"].setdefault("annotations", {})[MIN_CONFIDENCE] = "0"
    if max_actions_per_hour is not None:
        policy["spec"]["safetyRules"]["maxActionsPerHour"] = max_actions_per_hour
    return policy


def approval_policy() -> dict:
    policy = copy.deepcopy(crashloop_policy())
    policy["metadata"]["name"] = APPROVAL_POLICY
    policy["spec"]["mode"] = "manual"
    policy["spec"]["selector"]["labelSelector"]["matchLabels"] = {"kubeskippy.io/scenario": APPROVAL_POLICY}
    return policy


def shared_policies() -> list[dict]:
    return [crashloop_policy(), approval_policy()]


@dataclass
class CrashLoopRun:
    """What one crash-loop scenario did and saw, with wall-clock times (``time.time()``)."""

    app: str
    victim: dict
    replacement: dict
    healing_action: dict
    crashed_at: float
    deleted_at: float
    first_event: int
    """Index into the broker's accepted events where this scenario began."""

    @property
    def victim_name(self) -> str:
        return self.victim["metadata"]["name"]


def healing_actions_for(world: World, pod_name: str, action_type: str = "delete") -> list[dict]:
    """The HealingActions of one kind on one pod (the demo policy also captures diagnostics first)."""
    return [ha for ha in world.healing_actions()
            if ((ha.get("spec") or {}).get("targetResource") or {}).get("name") == pod_name
            and ((ha.get("spec") or {}).get("action") or {}).get("type") == action_type]


def pod_deletes(world: World, pod_name: str) -> list:
    """DELETE and eviction requests the double answered for this pod, whoever sent them."""
    path = f"/api/v1/namespaces/{APPS_NAMESPACE}/pods/{pod_name}"
    return [r for r in world.requests
            if (r.method == "DELETE" and r.path == path) or (r.method == "POST" and r.path == path + "/eviction")]


def run_crash_loop(world: World, app: str, *, replicas: int = 2, scenario: str = "crashloop",
                   timeout: float = 60.0) -> CrashLoopRun:
    """Deployment → ReplicaSet → pods; one pod crash-loops; wait until KubeSkippy deleted it, the
    ReplicaSet replaced it, the HealingAction succeeded, and (after a PingSource tick) verified."""
    assert world.mesh is not None
    world.add(scenario_deployment(app, scenario, replicas=replicas))
    wait_until(lambda: len([p for p in world.pods(app) if _ready(p)]) == replicas, timeout=10,
               what=f"{replicas} ready pods of {app}")
    originals = {p["metadata"]["name"] for p in world.pods(app)}
    victim = world.pods(app)[0]
    first_event = len(world.mesh.broker.accepted)
    crashed_at = time.time()
    world.crash_loop(victim)
    name = victim["metadata"]["name"]
    wait_until(lambda: world.store.find("v1", "Pod", name, APPS_NAMESPACE) is None, timeout=timeout,
               what=lambda: f"KubeSkippy to delete the crash-looping pod {name}\n{world.diagnostics()}")
    deleted_at = time.time()
    replacement = wait_until(lambda: _replacement(world, app, originals, replicas), timeout=10,
                             what=f"the ReplicaSet to replace {name}")
    wait_until(lambda: _phase(healing_actions_for(world, name)) == "Succeeded", timeout=timeout,
               what=lambda: f"the HealingAction for {name} to succeed\n{world.diagnostics()}")

    def verified() -> bool:
        [ha] = healing_actions_for(world, name)
        return _condition(ha, "Verified") == "True"

    deadline = time.monotonic() + timeout
    while not verified():  # a PingSource tick makes remediate check pending verifications
        assert time.monotonic() < deadline, f"no verification for {name}\n{world.diagnostics()}"
        world.tick()
        world.wait_idle()
    world.wait_idle()
    [ha] = healing_actions_for(world, name)
    return CrashLoopRun(app=app, victim=victim, replacement=replacement, healing_action=ha, crashed_at=crashed_at,
                        deleted_at=deleted_at, first_event=first_event)


def _ready(pod: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def _replacement(world: World, app: str, originals: set[str], replicas: int) -> dict | None:
    """The one new ready pod, once the workload has ``replicas`` ready pods again."""
    pods = [p for p in world.pods(app) if _ready(p)]
    fresh = [p for p in pods if p["metadata"]["name"] not in originals]
    return fresh[0] if len(pods) == replicas and len(fresh) == 1 else None


def _phase(actions: list[dict]) -> str | None:
    return (actions[0].get("status") or {}).get("phase") if len(actions) == 1 else None


def _condition(obj: dict, kind: str) -> str | None:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == kind:
            return c.get("status")
    return None

