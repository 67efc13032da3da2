"""One fixture scenario per root cause, with the cause, confidence band and plan the rules must
produce. Numbers in comments are the documented weights (docs/analysis.md) that add up to the band."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from kubeskippy.events.model import Finding

from .world import MI, World, flat, ramp


@dataclass(frozen=True)
class Expected:
    cause: str
    band: tuple[float, float]
    actions: tuple[str, ...]  # planned action names in order (max one change)


def _base(world: World, *, image: str = "shop/api:1.0", memory: str = "512Mi", cpu: str = "500m"):
    deploy = world.deployment(image=image, memory=memory, cpu=cpu)
    rs = world.replicaset(deploy, 1, age=2 * 86400, image=image)
    return deploy, rs


def memory_leak(w: World) -> Finding:
    # steady growth 0.45 + tight fit 0.15 + limit within the hour 0.15 + memory trigger 0.05 = 0.80
    _, rs = _base(w)
    pod = w.pod(rs)
    w.metrics.add("memory", w.namespace, pod["metadata"]["name"], ramp(w.clock, 200 * MI, 440 * MI), container="app")
    return w.finding(pod, trigger="high-memory")


def memory_limit_too_low(w: World) -> Finding:
    # OOM 70 s after start 0.5 + flat near limit 0.25 + repeated 0.1 + memory trigger 0.05 = 0.90
    _, rs = _base(w)
    pod = w.pod(rs, restarts=4, last={"reason": "OOMKilled", "exitCode": 137, "startedAt": w.ts(130),
                                      "finishedAt": w.ts(60)},
                state={"running": {"startedAt": w.ts(50)}})
    w.metrics.add("memory", w.namespace, pod["metadata"]["name"], flat(w.clock, 500 * MI, wobble=2 * MI), container="app")
    return w.finding(pod, trigger="high-memory")


def crash_loop_after_rollout(w: World) -> Finding:
    # crashing + rollout 10 min ago 0.5 + crashes after it 0.2 + image changed 0.1 + restarts 0.1 = 0.90
    deploy = w.deployment(image="shop/api:1.1")
    w.replicaset(deploy, 1, age=2 * 86400, image="shop/api:1.0")
    rs2 = w.replicaset(deploy, 2, age=600, image="shop/api:1.1")
    pod = w.pod(rs2, image="shop/api:1.1", ready=False, restarts=5,
                state={"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 2m40s restarting failed container"}},
                last={"reason": "Error", "exitCode": 2, "startedAt": w.ts(200), "finishedAt": w.ts(150)})
    w.event(pod, "BackOff", "Back-off restarting failed container app", count=7)
    return w.finding(pod, trigger="crashloop", trigger_type="condition")


def crash_loop_config(w: World) -> Finding:
    # CreateContainerConfigError 0.7 + config text 0.2 + missing reference 0.15 → capped at 0.97
    _, rs = _base(w)
    pod = w.pod(rs, ready=False, state={"waiting": {"reason": "CreateContainerConfigError",
                                                    "message": 'configmap "api-config" not found'}})
    w.event(pod, "Failed", 'Error: configmap "api-config" not found', count=4)
    return w.finding(pod, trigger="crashloop", trigger_type="condition")


def crash_loop_config_exit1(w: World) -> Finding:
    # exit 1 within 30 s 0.35 + config text in the log 0.2 = 0.55
    _, rs = _base(w)
    pod = w.pod(rs, ready=False, restarts=3,
                state={"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}},
                last={"reason": "Error", "exitCode": 1, "startedAt": w.ts(100), "finishedAt": w.ts(98)})
    w.log(pod, "starting api\nFATAL: environment variable DATABASE_URL is not set\n")
    return w.finding(pod, trigger="crashloop", trigger_type="condition")


def cpu_saturation(w: World) -> Finding:
    # near the CPU limit 0.45 + throttled 0.25 + sustained 0.1 + cpu trigger 0.05 = 0.85
    _, rs = _base(w)
    pod = w.pod(rs)
    name = pod["metadata"]["name"]
    w.metrics.add("cpu", w.namespace, name, flat(w.clock, 0.49, wobble=0.005), container="app")
    w.metrics.add("cpu_throttling", w.namespace, name, flat(w.clock, 0.4, wobble=0.02), container="app")
    w.metrics.add("memory", w.namespace, name, flat(w.clock, 200 * MI), container="app")
    return w.finding(pod, trigger="high-cpu")


def failing_probes(w: World) -> Finding:
    # Unhealthy events 0.4 + many 0.2 + running but not ready 0.15 = 0.75
    _, rs = _base(w)
    pod = w.pod(rs, ready=False)
    w.event(pod, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", count=5)
    return w.finding(pod, trigger="not-ready", trigger_type="condition")


def image_pull_failure(w: World) -> Finding:
    # ImagePullBackOff 0.65 + pull events 0.2 + trigger names the image 0.1 = 0.95
    _, rs = _base(w)
    pod = w.pod(rs, image="shop/api:9.9", ready=False,
                state={"waiting": {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "shop/api:9.9"'}})
    w.event(pod, "Failed", 'Failed to pull image "shop/api:9.9": manifest unknown', count=3)
    return w.finding(pod, trigger="image-pull-backoff", trigger_type="condition")


def node_pressure(w: World) -> Finding:
    # MemoryPressure 0.6 + evictions 0.2 = 0.80
    _, rs = _base(w)
    w.node("node-1", MemoryPressure="True")
    pod = w.pod(rs, node="node-1")
    w.event(pod, "Evicted", "The node was low on resource: memory.", count=1)
    return w.finding(pod, trigger="evictions", trigger_type="event")


def error_rate_spike(w: World) -> Finding:
    # error rate 1 % → 20 % 0.5 + sustained 0.15 + error trigger 0.1 = 0.75
    _, rs = _base(w)
    pod = w.pod(rs)
    points = [(t, 0.01 if i < 40 else 0.2) for i, (t, _) in enumerate(flat(w.clock, 0.0))]
    w.metrics.add("error_rate", w.namespace, pod["metadata"]["name"], points)
    return w.finding(pod, trigger="high-error-rate")


def nothing_wrong(w: World) -> Finding:
    _, rs = _base(w)
    pod = w.pod(rs)
    w.metrics.add("memory", w.namespace, pod["metadata"]["name"], flat(w.clock, 100 * MI), container="app")
    return w.finding(pod, trigger="high-memory")


SCENARIOS: dict[str, tuple[Callable[[World], Finding], Expected]] = {
    "memory_leak": (memory_leak, Expected("memory_leak", (0.79, 0.81),
                                          ("capture-diagnostics", "restart-pods", "notify-oncall"))),
    "memory_limit_too_low": (memory_limit_too_low, Expected("memory_limit_too_low", (0.89, 0.91),
                                                            ("capture-diagnostics", "raise-memory-limit", "notify-oncall"))),
    "crash_loop_after_rollout": (crash_loop_after_rollout, Expected("crash_loop_after_rollout", (0.89, 0.91),
                                                                    ("capture-diagnostics", "rollback-deployment", "notify-oncall"))),
    "crash_loop_config": (crash_loop_config, Expected("crash_loop_config", (0.96, 0.97),
                                                      ("capture-diagnostics", "notify-oncall"))),
    "crash_loop_config_exit1": (crash_loop_config_exit1, Expected("crash_loop_config", (0.54, 0.56),
                                                                  ("capture-diagnostics", "notify-oncall"))),
    "cpu_saturation": (cpu_saturation, Expected("cpu_saturation", (0.84, 0.86), ("scale-up", "notify-oncall"))),
    "failing_probes": (failing_probes, Expected("failing_probes", (0.74, 0.76),
                                                ("capture-diagnostics", "restart-pods", "notify-oncall"))),
    "image_pull_failure": (image_pull_failure, Expected("image_pull_failure", (0.94, 0.96),
                                                        ("capture-diagnostics", "notify-oncall"))),
    "node_pressure": (node_pressure, Expected("node_pressure", (0.79, 0.81), ("cordon-node", "notify-oncall"))),
    "error_rate_spike": (error_rate_spike, Expected("error_rate_spike", (0.74, 0.76),
                                                    ("capture-diagnostics", "restart-pods", "notify-oncall"))),
    "nothing_wrong": (nothing_wrong, Expected("unknown", (0.0, 0.25), ("capture-diagnostics", "notify-oncall"))),
}
