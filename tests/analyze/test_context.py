"""Context gathering through the Cluster and Metrics ports."""

from __future__ import annotations

import pytest

from kubeskippy.analyze.context import ContextConfig, ContextGatherer
from kubeskippy.errors import APIError, TemporaryError
from kubeskippy.events.model import ObjectRef

from .scenarios import crash_loop_after_rollout, memory_leak
from .world import MI, World, ramp


def gather(world: World, finding, metrics="default", **config):
    return ContextGatherer(cluster=world.cluster(), metrics=world.metrics if metrics == "default" else metrics,
                           clock=world.clock, config=ContextConfig(**config)).gather(finding)


def test_the_target_owners_containers_and_limits_are_read():
    world = World()
    finding = memory_leak(world)
    world.node("node-1")
    ctx = gather(world, finding)
    assert ctx.target["metadata"]["name"] == "api-1abc-x1"
    assert [o["kind"] for o in ctx.owners] == ["ReplicaSet", "Deployment"]
    (c,) = ctx.containers
    assert (c.pod, c.name, c.namespace, c.memory_limit, c.cpu_limit) == ("api-1abc-x1", "app", "shop", 512 * MI, 0.5)
    assert ctx.gaps == ()


def test_rollouts_are_read_newest_first_with_their_age_and_images():
    world = World()
    finding = crash_loop_after_rollout(world)
    ctx = gather(world, finding)
    assert [(r.revision, r.images) for r in ctx.revisions] == [(2, ("shop/api:1.1",)), (1, ("shop/api:1.0",))]
    assert world.clock.now() - ctx.revisions[0].created_at == 600
    (c,) = ctx.containers
    assert (c.reason, c.restart_count, c.last_reason, c.last_exit_code, c.last_run_seconds) == \
        ("CrashLoopBackOff", 5, "Error", 2, 50.0)


def test_only_recent_events_about_the_target_and_its_owners_count():
    world = World()
    finding = memory_leak(world)
    pod, deploy = world.objects[2], world.objects[0]
    world.event(pod, "Unhealthy", "probe failed", count=3, age=100)
    world.event(deploy, "ScalingReplicaSet", "scaled up", type_="Normal", age=200)
    world.event(pod, "Unhealthy", "an old one", age=7200)
    stranger = dict(pod, metadata={**pod["metadata"], "name": "someone-else"})
    world.event(stranger, "Killing", "not ours", age=10)
    ctx = gather(world, finding)
    assert [(e.reason, e.count) for e in ctx.events] == [("Unhealthy", 3), ("ScalingReplicaSet", 1)]
    assert ctx.events[0].involved == "Pod/shop/api-1abc-x1"


def test_metric_trends_are_matched_to_the_containers_limit():
    world = World()
    finding = memory_leak(world)
    ctx = gather(world, finding)
    (trend,) = ctx.trends_for("memory")
    assert trend.limit == 512 * MI
    assert trend.line.slope == pytest.approx(8 * MI / 60)
    assert trend.seconds_to_limit(world.clock.now()) == pytest.approx(540.0)
    start, end = world.clock.now() - 1800, world.clock.now()
    assert all(start <= t <= end for t, _ in trend.points)


def test_a_pod_level_series_is_compared_with_the_sum_of_container_limits():
    world = World()
    finding = memory_leak(world)
    world.metrics.series.clear()
    world.metrics.add("memory", world.namespace, "api-1abc-x1", ramp(world.clock, 100 * MI, 200 * MI))  # no container label
    (trend,) = gather(world, finding).trends_for("memory")
    assert trend.limit == 512 * MI


def test_metrics_failures_degrade_into_recorded_gaps():
    world = World()
    finding = memory_leak(world)
    world.metrics.fail_with = TemporaryError("prometheus is down")
    ctx = gather(world, finding)
    assert ctx.trends == ()
    assert any("prometheus is down" in g for g in ctx.gaps)


def test_without_a_metrics_port_the_gap_is_named():
    world = World()
    ctx = gather(world, memory_leak(world), metrics=None)
    assert ctx.gaps == ("Node/node-1 not found", "metrics: no Metrics port configured")


def test_a_vanished_target_is_a_gap_not_an_error():
    world = World()
    finding = memory_leak(world)
    world.objects.remove(world.objects[2])  # the pod is gone
    ctx = gather(world, finding)
    assert ctx.target is None and "Pod/shop/api-1abc-x1 not found" in ctx.gaps


def test_a_transient_api_fault_propagates_so_the_broker_retries():
    world = World()
    finding = memory_leak(world)
    cluster = world.cluster()

    class Flaky:
        def __getattr__(self, name):
            return getattr(cluster, name)

        def list(self, *a, **kw):
            raise APIError(503, "apiserver unavailable")

    with pytest.raises(TemporaryError):
        ContextGatherer(cluster=Flaky(), metrics=None, clock=world.clock).gather(finding)


def test_a_workload_target_is_represented_by_its_pods():
    world = World()
    memory_leak(world)
    deploy = world.objects[0]
    finding = world.finding(deploy)
    ctx = gather(world, finding)
    assert [p["metadata"]["name"] for p in ctx.pods] == ["api-1abc-x1"]
    assert [r.revision for r in ctx.revisions] == [1]


def test_logs_are_read_only_for_troubled_containers():
    world = World()
    finding = crash_loop_after_rollout(world)
    world.log(world.objects[-2], "panic: nil map\n")
    ctx = gather(world, finding)
    assert ctx.logs == {"api-2abc-x1/app": "panic: nil map\n"}
    healthy = World()
    assert gather(healthy, memory_leak(healthy)).logs == {}


def test_in_scope_is_the_target_and_its_owner_chain():
    world = World()
    finding = memory_leak(world)
    world.node("node-1")
    ctx = gather(world, finding)
    assert [str(r) for r in ctx.in_scope()] == ["Pod/shop/api-1abc-x1", "ReplicaSet/shop/api-1abc", "Deployment/shop/api"]
    assert ctx.node_ref() == ObjectRef(api_version="v1", kind="Node", name="node-1", uid="uid-node-1")


@pytest.mark.parametrize("scenario", [memory_leak, crash_loop_after_rollout])
def test_gathering_with_a_fan_out_gives_the_same_snapshot_as_one_read_after_another(scenario):
    from kubeskippy.services.fanout import ThreadFanout

    world = World()
    finding = scenario(world)
    world.node("node-1")
    one_by_one = gather(world, finding)
    fanout = ThreadFanout(workers=4)
    try:
        at_once = ContextGatherer(cluster=world.cluster(), metrics=world.metrics, clock=world.clock,
                                  fanout=fanout).gather(finding)
    finally:
        fanout.shutdown()
    assert at_once == one_by_one
    assert at_once.owners and (at_once.events or at_once.trends)


def test_a_transient_fault_in_a_fanned_out_read_still_propagates():
    from kubeskippy.services.fanout import ThreadFanout

    world = World()
    finding = memory_leak(world)
    cluster = world.cluster()

    class EventsDown:
        def __getattr__(self, name):
            return getattr(cluster, name)

        def list(self, api_version, kind, *args, **kwargs):
            if kind == "Event":
                raise APIError(503, "etcd leader changed")
            return cluster.list(api_version, kind, *args, **kwargs)

    fanout = ThreadFanout(workers=4)
    try:
        with pytest.raises(TemporaryError):
            ContextGatherer(cluster=EventsDown(), metrics=None, clock=world.clock, fanout=fanout).gather(finding)
    finally:
        fanout.shutdown()
