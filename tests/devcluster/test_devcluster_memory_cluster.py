"""MemoryCluster: the Cluster port over the engine, with injectable faults."""

from __future__ import annotations

import pytest

from kubeskippy.clock import ManualClock
from kubeskippy.devcluster import MemoryCluster, ObjectStore
from kubeskippy.devcluster.builders import configmap, deployment, pdb, pod
from kubeskippy.errors import APIConflict, APIError, APINotFound, APITooManyRequests, InvalidInput, TemporaryError
from kubeskippy.ports import Cluster


@pytest.fixture
def cluster() -> MemoryCluster:
    return MemoryCluster(ObjectStore(ManualClock(), seed=4))


def test_memory_cluster_satisfies_the_cluster_port(cluster):
    assert isinstance(cluster, Cluster)


def test_seed_keeps_status_and_the_port_reads_and_lists(cluster):
    cluster.seed([pod("a", labels={"app": "web"}, phase="Running", ready=True), pod("b", labels={"app": "db"})])
    assert cluster.get("v1", "Pod", "a", "default")["status"]["phase"] == "Running"
    assert [p["metadata"]["name"] for p in cluster.list("v1", "Pod", "default", label_selector="app=web")] == ["a"]


def test_port_errors_are_the_kubeskippy_api_errors(cluster):
    cluster.create(configmap("a"))
    with pytest.raises(APIConflict):
        cluster.create(configmap("a"))
    with pytest.raises(APINotFound):
        cluster.get("v1", "ConfigMap", "b", "default")
    cluster.seed([pod("p", labels={"app": "web"}, phase="Running", ready=True)])
    cluster.create(pdb("web", match_labels={"app": "web"}, min_available=1))
    with pytest.raises(APITooManyRequests):
        cluster.evict("p", "default")


def test_replace_patch_delete_and_dry_run_through_the_port(cluster):
    cm = cluster.create(configmap("a", data={"k": "1"}))
    cm["data"] = {"k": "2"}
    assert cluster.replace(cm)["data"] == {"k": "2"}
    with pytest.raises(APIConflict):
        cluster.replace(cm)  # cm still carries the version it was read at
    assert cluster.patch("v1", "ConfigMap", "a", "default", [{"op": "add", "path": "/data/j", "value": "3"}],
                         patch_type="json")["data"] == {"k": "2", "j": "3"}
    cluster.delete("v1", "ConfigMap", "a", "default", dry_run=True)
    assert cluster.get("v1", "ConfigMap", "a", "default")
    assert cluster.delete("v1", "ConfigMap", "a", "default") is None
    with pytest.raises(APINotFound):
        cluster.get("v1", "ConfigMap", "a", "default")


def test_scale_through_replace_takes_the_parent_object(cluster):
    d = cluster.create(deployment("web", replicas=1))
    d["spec"]["replicas"] = 4
    scale = cluster.replace(d, subresource="scale")
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 4
    with pytest.raises(InvalidInput):
        cluster.replace({"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "web"},
                         "spec": {"replicas": 1}}, subresource="scale")


def test_logs_through_the_port_use_the_tail(cluster):
    cluster.seed([pod("p")])
    cluster.store.set_log("default", "p", "".join(f"line {i}\n" for i in range(100)))
    assert cluster.logs("p", "default", tail_lines=2) == "line 98\nline 99\n"


def test_injected_faults_fire_count_times_on_matching_requests(cluster):
    cluster.create(configmap("a"))
    fault = cluster.faults.inject(status=503, count=2, verbs=["get"], path=r"/configmaps/a$", retry_after=3)
    for _ in range(2):
        with pytest.raises(APIError) as caught:
            cluster.get("v1", "ConfigMap", "a", "default")
        assert caught.value.status == 503 and caught.value.delay == 3.0
        assert isinstance(caught.value, TemporaryError)
    assert cluster.get("v1", "ConfigMap", "a", "default")
    assert fault.hits == 2 and fault.exhausted


def test_a_conflict_storm_hits_writes_only(cluster):
    cluster.create(configmap("a"))
    cluster.faults.conflict_storm(3)
    for _ in range(3):
        cluster.get("v1", "ConfigMap", "a", "default")
        with pytest.raises(APIConflict):
            cluster.patch("v1", "ConfigMap", "a", "default", {"data": {"x": "1"}})
    assert cluster.patch("v1", "ConfigMap", "a", "default", {"data": {"x": "1"}})["data"] == {"x": "1"}


def test_delay_faults_wait_on_the_injected_sleep_and_drops_are_temporary(cluster):
    clock = ManualClock(0)
    slow = MemoryCluster(cluster.store, sleep=clock.advance)
    slow.create(configmap("a"))
    slow.faults.inject(delay=2.5, verbs=["get"])
    slow.get("v1", "ConfigMap", "a", "default")
    assert clock.now() == 2.5
    slow.faults.inject(drop=True, verbs=["list"])
    with pytest.raises(TemporaryError):
        slow.list("v1", "ConfigMap")
