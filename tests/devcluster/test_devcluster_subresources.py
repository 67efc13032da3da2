"""Scale subresource, eviction against PodDisruptionBudgets, and pod logs."""

from __future__ import annotations

import pytest

from kubeskippy.clock import ManualClock
from kubeskippy.devcluster import ObjectStore
from kubeskippy.devcluster.builders import container, deployment, pdb, pod, replicaset, statefulset
from kubeskippy.errors import APIConflict, APIError, APINotFound, APITooManyRequests


@pytest.fixture
def store() -> ObjectStore:
    return ObjectStore(ManualClock(1_700_000_000), seed=5)


# --- scale ---------------------------------------------------------------------------------

def test_scale_returns_an_autoscaling_v1_scale(store):
    created = store.create(deployment("web", replicas=3))
    scale = store.get("apps/v1", "Deployment", "web", "default", subresource="scale")
    assert scale == {
        "apiVersion": "autoscaling/v1", "kind": "Scale",
        "metadata": {"name": "web", "namespace": "default", "uid": created["metadata"]["uid"],
                     "resourceVersion": created["metadata"]["resourceVersion"],
                     "creationTimestamp": created["metadata"]["creationTimestamp"]},
        "spec": {"replicas": 3}, "status": {"replicas": 0, "selector": "app=web"}}


def test_writing_scale_changes_spec_replicas_with_resource_version_precondition(store):
    store.create(statefulset("db", replicas=1))
    scale = store.get("apps/v1", "StatefulSet", "db", "default", subresource="scale")
    scale["spec"]["replicas"] = 3
    out = store.replace(scale, subresource="scale", api_version="apps/v1", kind="StatefulSet", namespace="default")
    assert out["spec"]["replicas"] == 3
    assert store.get("apps/v1", "StatefulSet", "db", "default")["spec"]["replicas"] == 3
    scale["spec"]["replicas"] = 4  # still carries the old resourceVersion
    with pytest.raises(APIConflict):
        store.replace(scale, subresource="scale", api_version="apps/v1", kind="StatefulSet", namespace="default")


def test_patching_scale_and_rejecting_negative_replicas(store):
    store.create(deployment("web"))
    out = store.patch("apps/v1", "Deployment", "web", "default", {"spec": {"replicas": 0}}, subresource="scale")
    assert out["kind"] == "Scale" and out["spec"]["replicas"] == 0
    with pytest.raises(APIError) as caught:
        store.patch("apps/v1", "Deployment", "web", "default", {"spec": {"replicas": -1}}, subresource="scale")
    assert caught.value.status == 422


def test_kinds_without_scale_answer_404_for_it(store):
    store.create(pod("p"))
    with pytest.raises(APINotFound):
        store.get("v1", "Pod", "p", "default", subresource="scale")


# --- eviction ------------------------------------------------------------------------------

def _ready_pods(store, count, labels=None, ns="default"):
    store.load([pod(f"web-{i}", ns, labels=labels or {"app": "web"}, node="n1", phase="Running", ready=True)
                for i in range(count)])


def test_eviction_without_a_budget_deletes_the_pod(store):
    _ready_pods(store, 1)
    answer = store.evict("web-0", "default")
    assert answer["status"] == "Success" and answer["code"] == 201
    assert store.find("v1", "Pod", "web-0", "default") is None


def test_eviction_that_would_violate_min_available_is_429(store):
    _ready_pods(store, 2)
    store.create(pdb("web", match_labels={"app": "web"}, min_available=2))
    with pytest.raises(APITooManyRequests) as caught:
        store.evict("web-0", "default")
    status = caught.value.payload
    assert status["reason"] == "TooManyRequests" and status["code"] == 429
    assert status["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    assert status["details"]["causes"] == [{"reason": "DisruptionBudget",
                                            "message": "The disruption budget web needs 2 healthy pods and has 2 currently"}]
    assert store.find("v1", "Pod", "web-0", "default") is not None


def _owned_ready_pods(store, count, replicas=None):
    rs = store.load([replicaset("web", replicas=replicas if replicas is not None else count)])[0]
    store.load([pod(f"web-{i}", labels={"app": "web"}, node="n1", phase="Running", ready=True, owner=rs)
                for i in range(count)])


def test_eviction_within_the_budget_succeeds_until_it_is_spent(store):
    _owned_ready_pods(store, 3)
    store.create(pdb("web", match_labels={"app": "web"}, max_unavailable=1))
    store.evict("web-0", "default")
    with pytest.raises(APITooManyRequests):
        store.evict("web-1", "default")  # 3 expected, 1 already down
    status = store.get("policy/v1", "PodDisruptionBudget", "web", "default")["status"]
    assert status["disruptionsAllowed"] == 0 and "web-0" in status["disruptedPods"]


def test_max_unavailable_over_pods_without_a_controller_fails_safe(store):
    _ready_pods(store, 3)
    store.create(pdb("web", match_labels={"app": "web"}, max_unavailable=1))
    with pytest.raises(APITooManyRequests):
        store.evict("web-0", "default")
    assert store.budget_status(store.get("policy/v1", "PodDisruptionBudget", "web", "default"))["conditions"][0][
        "reason"] == "SyncFailed"


@pytest.mark.parametrize(("budget", "pods", "allowed"), [
    pytest.param({"min_available": "50%"}, 4, True, id="min-50pct-of-4"),
    pytest.param({"min_available": "100%"}, 4, False, id="min-100pct"),
    pytest.param({"min_available": "80%"}, 4, False, id="min-80pct-of-4-rounds-up-to-4"),
    pytest.param({"max_unavailable": "25%"}, 4, True, id="max-25pct-of-4-rounds-up-to-1"),
    pytest.param({"max_unavailable": "10%"}, 4, True, id="max-10pct-of-4-rounds-up-to-1"),
    pytest.param({"max_unavailable": 0}, 4, False, id="max-0"),
    pytest.param({"min_available": 4}, 4, False, id="min-all"),
    pytest.param({"min_available": 3}, 4, True, id="min-3-of-4"),
])
def test_budget_arithmetic_with_int_and_percent(store, budget, pods, allowed):
    _owned_ready_pods(store, pods)
    store.create(pdb("web", match_labels={"app": "web"}, **budget))
    if allowed:
        store.evict("web-0", "default")
        assert store.find("v1", "Pod", "web-0", "default") is None
    else:
        with pytest.raises(APITooManyRequests):
            store.evict("web-0", "default")


def test_unready_pods_do_not_count_as_healthy(store):
    store.load([pod("web-0", labels={"app": "web"}, node="n1", phase="Running", ready=True),
                pod("web-1", labels={"app": "web"}, node="n1", phase="Running", ready=False)])
    store.create(pdb("web", match_labels={"app": "web"}, min_available=1))
    with pytest.raises(APITooManyRequests):
        store.evict("web-0", "default")  # the only healthy pod
    store.evict("web-1", "default")  # an unready pod goes: the budget is still met


def test_pending_pods_and_other_namespaces_ignore_the_budget(store):
    store.load([pod("p", labels={"app": "web"}, phase="Pending")])
    _ready_pods(store, 1, ns="other")
    store.create(pdb("web", match_labels={"app": "web"}, min_available=5))
    store.evict("p", "default")
    store.evict("web-0", "other")


def test_dry_run_eviction_checks_the_budget_and_deletes_nothing(store):
    _ready_pods(store, 2)
    store.create(pdb("web", match_labels={"app": "web"}, min_available=1))
    version = store.resource_version
    store.evict("web-0", "default", dry_run=True)
    assert store.find("v1", "Pod", "web-0", "default") is not None
    assert store.resource_version == version


def test_two_budgets_on_one_pod_is_500(store):
    _ready_pods(store, 2)
    store.create(pdb("a", match_labels={"app": "web"}, min_available=1))
    store.create(pdb("b", match_labels={"app": "web"}, min_available=1))
    with pytest.raises(APIError) as caught:
        store.evict("web-0", "default")
    assert caught.value.status == 500


def test_evicting_a_missing_pod_is_404(store):
    with pytest.raises(APINotFound):
        store.evict("ghost", "default")


# --- logs ----------------------------------------------------------------------------------

def test_logs_return_stored_text_with_tail_and_container_rules(store):
    store.create(pod("p", containers=[container("app"), container("side")]))
    store.set_log("default", "p", "one\ntwo\nthree\n", container="app")
    store.set_log("default", "p", "boom\n", container="app", previous=True)
    assert store.read_log("p", "default", container="app", tail_lines=2) == "two\nthree\n"
    assert store.read_log("p", "default", container="app", previous=True) == "boom\n"
    assert store.read_log("p", "default", container="side") == ""
    with pytest.raises(APIError) as caught:
        store.read_log("p", "default")
    assert caught.value.status == 400 and "choose one of: [app side]" in caught.value.payload["message"]
    with pytest.raises(APIError):
        store.read_log("p", "default", container="nope")


def test_expected_pods_come_from_the_controllers_replicas(store):
    _owned_ready_pods(store, 2, replicas=4)  # two pods missing: the budget sees 2 of 4 healthy
    store.create(pdb("web", match_labels={"app": "web"}, min_available="50%"))
    status = store.budget_status(store.get("policy/v1", "PodDisruptionBudget", "web", "default"))
    assert (status["expectedPods"], status["desiredHealthy"], status["currentHealthy"],
            status["disruptionsAllowed"]) == (4, 2, 2, 0)
