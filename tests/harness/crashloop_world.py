"""A devcluster HTTP server with a 2-replica Deployment, one of whose pods crash-loops because of
its liveness probe (Unhealthy, Killing and BackOff Events on it), and the demo policy that heals it."""

from __future__ import annotations

import time
from pathlib import Path

from kubeskippy.clock import OffsetClock, to_rfc3339
from kubeskippy.devcluster import Controller, ObjectStore
from kubeskippy.devcluster.builders import deployment, event
from kubeskippy.devcluster.server import DevClusterServer

__all__ = ["Cluster", "NAMESPACE", "DEMO_POLICY", "ShiftedClock"]

NAMESPACE = "demo-apps"
DEMO_POLICY = Path(__file__).resolve().parents[2] / "demo" / "policies" / "crashloop-recovery.yaml"

ShiftedClock = OffsetClock  # the wall clock plus a settable offset


class Cluster:
    """The devcluster HTTP server with a 2-replica Deployment, one of whose pods crash-loops."""

    def __init__(self) -> None:
        self.clock = ShiftedClock()
        self.store = ObjectStore(self.clock)
        self.server = DevClusterServer(self.store).start()
        controller = Controller(self.store)
        labels = {"app": "web", "kubeskippy.io/scenario": "crashloop"}
        with self.clock.shifted(-900):
            for ns in (NAMESPACE, "kubeskippy"):
                self.store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
            self.store.create(deployment("web", NAMESPACE, replicas=2, labels=labels))
            controller.settle()
        self.crashing, self.healthy = sorted(self.store.list("v1", "Pod", NAMESPACE),
                                             key=lambda p: p["metadata"]["name"])
        name = self.crashing["metadata"]["name"]
        with self.clock.shifted(-180):
            self.crashing = controller.crash_pod(NAMESPACE, name)
        stamp = to_rfc3339(time.time() - 60)
        for i, (reason, kind, message, count) in enumerate([
                ("Unhealthy", "Warning", "Liveness probe failed: HTTP probe failed with statuscode: 500", 6),
                ("Killing", "Normal", "Container app failed liveness probe, will be restarted", 3),
                ("BackOff", "Warning", "Back-off restarting failed container app", 4)]):
            obj = event(f"{name}.{i}", self.crashing, reason=reason, message=message, type_=kind, count=count)
            obj.update(firstTimestamp=to_rfc3339(time.time() - 170), lastTimestamp=stamp)
            self.store.create(obj)

    def pod_exists(self, pod: dict) -> bool:
        return self.store.find("v1", "Pod", pod["metadata"]["name"], NAMESPACE) is not None
