"""The simulated cluster answers and acts like the API server through the Cluster port."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeskippy.clock import ManualClock
from kubeskippy.errors import APINotFound, APITooManyRequests, InvalidInput
from kubeskippy.ports import Cluster
from kubeskippy.simulator.scenario import builtin_scenario_path, parse_scenario
from kubeskippy.simulator.world import SimulatedCluster

from .helpers import scenario_with, world_after

STEADY = {"name": "web", "model": "steady", "replicas": 2, "termination_grace": 10, "pdb_min_available": 2}


def cluster_for(world) -> SimulatedCluster:
    return SimulatedCluster(world, ManualClock(world.epoch + world._t))


def test_the_simulated_cluster_implements_the_cluster_port():
    assert isinstance(cluster_for(world_after(scenario_with(STEADY), 15)), Cluster)


def test_an_eviction_that_would_break_the_disruption_budget_gets_429():
    world = world_after(scenario_with(STEADY), 30)
    cluster = cluster_for(world)
    pod = cluster.list("v1", "Pod", "demo-apps", "app=web")[0]
    with pytest.raises(APITooManyRequests):
        cluster.evict(pod["metadata"]["name"], "demo-apps")
    assert cluster.mutations == []


def test_a_scale_patch_adds_pods_that_become_ready():
    world = world_after(scenario_with(dict(STEADY, pdb_min_available=None)), 30)
    cluster = cluster_for(world)
    cluster.patch("apps/v1", "Deployment", "web", "demo-apps", {"spec": {"replicas": 4}}, subresource="scale")
    for t in range(45, 120, 15):
        world.step(float(t))
    dep = cluster.get("apps/v1", "Deployment", "web", "demo-apps")
    assert dep["spec"]["replicas"] == 4 and dep["status"]["availableReplicas"] == 4


def test_a_rollout_restart_replaces_every_pod_through_a_new_replicaset():
    world = world_after(scenario_with(dict(STEADY, pdb_min_available=None)), 30)
    cluster = cluster_for(world)
    before = {p["metadata"]["name"] for p in cluster.list("v1", "Pod", "demo-apps")}
    patch = {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "now"}}}}}
    cluster.patch("apps/v1", "Deployment", "web", "demo-apps", patch, patch_type="strategic")
    for t in range(45, 300, 15):
        world.step(float(t))
    after = cluster.list("v1", "Pod", "demo-apps")
    assert len(after) == 2 and not before & {p["metadata"]["name"] for p in after}
    assert len(cluster.list("apps/v1", "ReplicaSet", "demo-apps")) == 2
    dep = cluster.get("apps/v1", "Deployment", "web", "demo-apps")
    assert dep["status"]["updatedReplicas"] == 2 and dep["status"]["availableReplicas"] == 2


def test_a_deleted_pod_terminates_for_its_grace_period_and_is_replaced():
    world = world_after(scenario_with(dict(STEADY, pdb_min_available=None)), 30)
    cluster = cluster_for(world)
    name = cluster.list("v1", "Pod", "demo-apps")[0]["metadata"]["name"]
    cluster.delete("v1", "Pod", name, "demo-apps")
    assert "deletionTimestamp" in cluster.get("v1", "Pod", name, "demo-apps")["metadata"]
    assert len(cluster.list("v1", "Pod", "demo-apps")) == 3  # the replacement is created at once
    world.step(45.0)
    with pytest.raises(APINotFound):
        cluster.get("v1", "Pod", name, "demo-apps")


def test_kubelet_events_are_listed_like_the_api_server_aggregates_them():
    world = world_after(scenario_with({"name": "crashloop-app", "model": "crash_loop", "replicas": 1}), 600)
    events = cluster_for(world).list("v1", "Event", "demo-apps", field_selector="reason=BackOff")
    assert len(events) == 1 and events[0]["count"] >= 3 and events[0]["type"] == "Warning"
    assert events[0]["involvedObject"]["kind"] == "Pod"


def test_listing_one_objects_events_returns_exactly_what_filtering_the_full_list_returns():
    world = world_after(scenario_with({"name": "crashloop-app", "model": "crash_loop", "replicas": 2}), 600)
    cluster = cluster_for(world)
    everything = cluster.list("v1", "Event", "demo-apps")
    pod = everything[-1]["involvedObject"]
    narrowed = cluster.list("v1", "Event", "demo-apps",
                            field_selector=f"involvedObject.kind=Pod,involvedObject.name={pod['name']}")
    expected = [e for e in everything if e["involvedObject"]["kind"] == "Pod"
                and e["involvedObject"]["name"] == pod["name"]]
    assert narrowed == expected and 3 <= len(narrowed) < len(everything)
    narrowed[0]["involvedObject"]["name"] = "changed"  # a copy: the shared Event object is untouched
    assert cluster.list("v1", "Event", "demo-apps")[everything.index(expected[0])]["involvedObject"]["name"] == pod["name"]


def test_a_scenario_with_an_unknown_field_is_rejected_with_its_path():
    with pytest.raises(InvalidInput, match=r"workloads\[0\]\.replica"):
        parse_scenario({"name": "x", "workloads": [{"name": "a", "model": "steady", "replica": 2}]})
    with pytest.raises(InvalidInput, match="signals.scrape_interval"):
        parse_scenario({"name": "x", "resolution": "10s", "signals": {"scrape_interval": "15s"}})


def test_the_embedded_demo_policies_are_the_demo_folders_policies():
    shipped = builtin_scenario_path("demo").parent / "policies"
    repo = Path(__file__).resolve().parents[2] / "demo" / "policies"
    if not repo.is_dir():
        pytest.skip("not running from a source checkout (demo/ absent)")
    names = sorted(p.name for p in repo.glob("*.yaml"))
    assert names == sorted(p.name for p in shipped.glob("*.yaml"))
    for name in names:
        assert (shipped / name).read_text() == (repo / name).read_text(), f"{name} drifted: copy demo/policies again"


