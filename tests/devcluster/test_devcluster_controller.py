"""The explicit reconcile() stand-in for controllers, scheduler and kubelet."""

from __future__ import annotations

import pytest

from kubeskippy.clock import ManualClock
from kubeskippy.devcluster import Controller, ObjectStore
from kubeskippy.devcluster.builders import deployment, pdb, statefulset
from kubeskippy.devcluster.controller import REVISION_ANNOTATION


@pytest.fixture
def store() -> ObjectStore:
    return ObjectStore(ManualClock(1_700_000_000), seed=21)


@pytest.fixture
def controller(store) -> Controller:
    return Controller(store)


def _pods(store, ns="default"):
    return store.list("v1", "Pod", ns)


def test_reconcile_creates_a_replicaset_and_pending_pods_that_start_on_request(store, controller):
    store.create(deployment("web", replicas=3))
    controller.reconcile()
    [rs] = store.list("apps/v1", "ReplicaSet", "default")
    assert rs["metadata"]["ownerReferences"][0]["name"] == "web"
    pods = _pods(store)
    assert len(pods) == 3 and {p["status"]["phase"] for p in pods} == {"Pending"}
    assert all(p["spec"]["nodeName"] == "devcluster-node-1" for p in pods)
    assert all(p["metadata"]["name"].startswith(rs["metadata"]["name"] + "-") for p in pods)
    started = controller.start_pods()
    assert len(started) == 3
    controller.reconcile()
    status = store.get("apps/v1", "Deployment", "web", "default")["status"]
    assert (status["replicas"], status["readyReplicas"], status["updatedReplicas"]) == (3, 3, 3)
    assert status["observedGeneration"] == 1


def test_a_deleted_pod_is_replaced_under_a_new_name(store, controller):
    store.create(deployment("web", replicas=2))
    controller.settle()
    victim = _pods(store)[0]["metadata"]["name"]
    store.delete("v1", "Pod", victim, "default")
    controller.settle()
    names = [p["metadata"]["name"] for p in _pods(store)]
    assert len(names) == 2 and victim not in names


def test_rollout_restart_creates_a_new_replicaset_and_replaces_every_pod(store, controller):
    store.create(deployment("web", replicas=2))
    controller.settle()
    old_pods = {p["metadata"]["name"] for p in _pods(store)}
    store.patch("apps/v1", "Deployment", "web", "default", {"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": "2024-01-01T00:00:00Z"}}}}}, patch_type="strategic")
    controller.settle()
    replicasets = sorted(store.list("apps/v1", "ReplicaSet", "default"),
                         key=lambda rs: int(rs["metadata"]["annotations"][REVISION_ANNOTATION]))
    assert [rs["spec"]["replicas"] for rs in replicasets] == [0, 2]
    new_pods = _pods(store)
    assert len(new_pods) == 2 and not old_pods & {p["metadata"]["name"] for p in new_pods}
    assert all(p["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"] for p in new_pods)
    deployment_now = store.get("apps/v1", "Deployment", "web", "default")
    assert deployment_now["metadata"]["annotations"][REVISION_ANNOTATION] == "2"
    assert deployment_now["status"]["updatedReplicas"] == 2


def test_rolling_back_to_an_old_template_reuses_its_replicaset_under_a_new_revision(store, controller):
    store.create(deployment("web"))
    controller.settle()
    original = store.get("apps/v1", "Deployment", "web", "default")["spec"]["template"]
    store.patch("apps/v1", "Deployment", "web", "default",
                {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:broken"}]}}}},
                patch_type="strategic")
    controller.settle()
    store.patch("apps/v1", "Deployment", "web", "default", {"spec": {"template": original}})
    controller.settle()
    replicasets = store.list("apps/v1", "ReplicaSet", "default")
    assert len(replicasets) == 2
    active = [rs for rs in replicasets if rs["spec"]["replicas"] == 1]
    assert active[0]["metadata"]["annotations"][REVISION_ANNOTATION] == "3"
    assert _pods(store)[0]["spec"]["containers"][0]["image"] == "nginx:1.27"


def test_scaling_down_removes_pods_and_scaling_up_adds_them(store, controller):
    store.create(deployment("web", replicas=3))
    controller.settle()
    store.patch("apps/v1", "Deployment", "web", "default", {"spec": {"replicas": 1}}, subresource="scale")
    controller.settle()
    assert len(_pods(store)) == 1
    store.patch("apps/v1", "Deployment", "web", "default", {"spec": {"replicas": 4}}, subresource="scale")
    controller.settle()
    assert len(_pods(store)) == 4


def test_statefulset_pods_have_stable_ordinal_names_and_come_back_under_the_same_name(store, controller):
    store.create(statefulset("db", replicas=2))
    controller.settle()
    assert [p["metadata"]["name"] for p in _pods(store)] == ["db-0", "db-1"]
    old_uid = store.get("v1", "Pod", "db-1", "default")["metadata"]["uid"]
    store.delete("v1", "Pod", "db-1", "default")
    controller.settle()
    assert store.get("v1", "Pod", "db-1", "default")["metadata"]["uid"] != old_uid


def test_without_a_schedulable_node_pods_stay_pending(store):
    controller = Controller(store, node_names=())
    store.create(deployment("web"))
    controller.reconcile()
    assert controller.start_pods() == []
    assert "nodeName" not in _pods(store)[0]["spec"]


def test_crash_pod_makes_a_crashloop_that_counts_restarts(store, controller):
    store.create(deployment("web"))
    controller.settle()
    name = _pods(store)[0]["metadata"]["name"]
    controller.crash_pod("default", name)
    pod = controller.crash_pod("default", name, last_reason="OOMKilled", exit_code=137)
    cs = pod["status"]["containerStatuses"][0]
    assert cs["restartCount"] == 2 and cs["state"] == {"waiting": {"reason": "CrashLoopBackOff"}}
    assert cs["lastState"]["terminated"]["reason"] == "OOMKilled"
    ready = [c for c in pod["status"]["conditions"] if c["type"] == "Ready"][0]
    assert ready["status"] == "False"
    controller.reconcile()
    assert store.get("apps/v1", "Deployment", "web", "default")["status"]["readyReplicas"] == 0


def test_reconcile_publishes_budget_status_and_settles(store, controller):
    store.create(deployment("web", replicas=3))
    store.create(pdb("web", match_labels={"app": "web"}, max_unavailable=1))
    rounds = controller.settle()
    assert rounds <= 4
    status = store.get("policy/v1", "PodDisruptionBudget", "web", "default")["status"]
    assert (status["expectedPods"], status["currentHealthy"], status["disruptionsAllowed"]) == (3, 3, 1)
    assert controller.reconcile() == 0


def test_graceful_termination_finishes_during_reconcile_once_the_clock_passes():
    clock = ManualClock(1_700_000_000)
    store = ObjectStore(clock, graceful_pod_deletion=True, seed=2)
    controller = Controller(store)
    store.create(deployment("web"))
    controller.settle()
    name = _pods(store)[0]["metadata"]["name"]
    store.delete("v1", "Pod", name, "default")  # default grace: 30 s from the pod spec
    controller.settle()
    names = sorted(p["metadata"]["name"] for p in _pods(store))
    assert len(names) == 2 and name in names  # the replacement runs beside the terminating pod
    clock.advance(30)
    controller.settle()
    remaining = [p["metadata"]["name"] for p in _pods(store)]
    assert len(remaining) == 1 and name not in remaining
