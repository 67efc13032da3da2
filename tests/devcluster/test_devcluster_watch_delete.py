"""Watches resuming from a resourceVersion, and deletion with propagation policies."""

from __future__ import annotations

import threading

import pytest

from kubeskippy.clock import ManualClock
from kubeskippy.devcluster import ObjectStore
from kubeskippy.devcluster.builders import configmap, deployment, namespace, pod, replicaset
from kubeskippy.errors import APIConflict, APIError, APINotFound


@pytest.fixture
def store() -> ObjectStore:
    return ObjectStore(ManualClock(1_700_000_000), seed=11)


def _seen(events):
    return [(e.type, e.object["metadata"]["name"]) for e in events]


def test_a_watch_from_a_resource_version_sees_only_later_changes(store):
    store.create(configmap("before"))
    mark = store.resource_version
    store.create(configmap("after"))
    store.patch("v1", "ConfigMap", "before", "default", {"data": {"x": "1"}})
    store.delete("v1", "ConfigMap", "after", "default")
    events = list(store.watch("v1", "ConfigMap", "default", resource_version=mark))
    assert _seen(events) == [("ADDED", "after"), ("MODIFIED", "before"), ("DELETED", "after")]
    versions = [e.resource_version for e in events]
    assert versions == sorted(versions) and all(v > int(mark) for v in versions)
    assert events[-1].object["metadata"]["resourceVersion"] == str(versions[-1])


def test_a_watch_without_a_resource_version_starts_with_the_current_objects(store):
    store.create(configmap("a"))
    store.create(configmap("b"))
    store.create(configmap("c", namespace="other"))
    assert _seen(store.watch("v1", "ConfigMap", "default")) == [("ADDED", "a"), ("ADDED", "b")]


def test_a_selector_watch_reports_objects_entering_and_leaving_the_selection(store):
    store.create(configmap("a", labels={"team": "x"}))
    mark = store.resource_version
    store.patch("v1", "ConfigMap", "a", "default", {"metadata": {"labels": {"team": "y"}}})
    store.patch("v1", "ConfigMap", "a", "default", {"metadata": {"labels": {"team": "x"}}})
    store.patch("v1", "ConfigMap", "a", "default", {"data": {"k": "v"}})
    events = list(store.watch("v1", "ConfigMap", "default", resource_version=mark, label_selector="team=x"))
    assert [e.type for e in events] == ["DELETED", "ADDED", "MODIFIED"]


def test_a_watch_from_a_version_that_fell_out_of_the_history_is_410_expired(store):
    small = ObjectStore(ManualClock(), watch_history=3)
    first = small.create(configmap("a"))
    for i in range(5):
        small.patch("v1", "ConfigMap", "a", "default", {"data": {"i": str(i)}})
    with pytest.raises(APIError) as caught:
        list(small.watch("v1", "ConfigMap", resource_version=first["metadata"]["resourceVersion"]))
    assert caught.value.status == 410 and caught.value.payload["reason"] == "Expired"
    assert caught.value.payload["message"].startswith("too old resource version")


def test_a_blocking_watch_wakes_up_for_a_change_made_by_another_thread(store):
    flt = store.compile_filter("v1", "ConfigMap", "default")
    _, after = store.watch_start(flt, store.resource_version)
    writer = threading.Timer(0.05, lambda: store.create(configmap("late")))
    writer.start()
    events, _ = store.wait_for_events(flt, after, timeout=5)
    writer.join()
    assert _seen(events) == [("ADDED", "late")]


def test_an_invalid_resource_version_is_400(store):
    with pytest.raises(APIError) as caught:
        list(store.watch("v1", "ConfigMap", resource_version="abc"))
    assert caught.value.status == 400


# --- deletion ------------------------------------------------------------------------------

def _family(store):
    """deployment → replicaset → two pods, linked by ownerReferences."""
    d = store.create(deployment("web"))
    rs_obj = replicaset("web-1")
    rs_obj["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                              "uid": d["metadata"]["uid"], "controller": True}]
    rs = store.create(rs_obj)
    store.load([pod(f"web-1-{i}", labels={"app": "web"}, owner=rs) for i in range(2)])
    return store.resource_version


def _events_since(store, mark):
    flt_kinds = [("apps/v1", "Deployment"), ("apps/v1", "ReplicaSet"), ("v1", "Pod")]
    events = []
    for av, kind in flt_kinds:
        events += list(store.watch(av, kind, "default", resource_version=mark))
    return sorted(((e.resource_version, e.type, e.object["kind"], e.object["metadata"]["name"]) for e in events))


def test_background_deletion_removes_the_owner_then_its_dependents(store):
    mark = _family(store)
    store.delete("apps/v1", "Deployment", "web", "default", propagation_policy="Background")
    assert [(t, k, n) for _, t, k, n in _events_since(store, mark)] == [
        ("DELETED", "Deployment", "web"), ("DELETED", "ReplicaSet", "web-1"),
        ("DELETED", "Pod", "web-1-0"), ("DELETED", "Pod", "web-1-1")]


def test_foreground_deletion_removes_dependents_before_the_owner(store):
    mark = _family(store)
    store.delete("apps/v1", "Deployment", "web", "default", propagation_policy="Foreground")
    # each level is first marked (deletionTimestamp + foregroundDeletion finalizer), as upstream
    assert [(t, k, n) for _, t, k, n in _events_since(store, mark)] == [
        ("MODIFIED", "Deployment", "web"), ("MODIFIED", "ReplicaSet", "web-1"),
        ("MODIFIED", "Pod", "web-1-0"), ("DELETED", "Pod", "web-1-0"),
        ("MODIFIED", "Pod", "web-1-1"), ("DELETED", "Pod", "web-1-1"),
        ("DELETED", "ReplicaSet", "web-1"), ("DELETED", "Deployment", "web")]


def test_orphan_deletion_keeps_dependents_and_drops_their_owner_reference(store):
    _family(store)
    store.delete("apps/v1", "Deployment", "web", "default", propagation_policy="Orphan")
    rs = store.get("apps/v1", "ReplicaSet", "web-1", "default")
    assert "ownerReferences" not in rs["metadata"]
    assert len(store.list("v1", "Pod", "default")) == 2


def test_a_dependent_with_another_live_owner_survives_and_loses_only_the_dangling_reference(store):
    a = store.create(configmap("owner-a"))
    b = store.create(configmap("owner-b"))
    child = configmap("child")
    child["metadata"]["ownerReferences"] = [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner-a", "uid": a["metadata"]["uid"]},
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner-b", "uid": b["metadata"]["uid"]}]
    store.create(child)
    store.delete("v1", "ConfigMap", "owner-a", "default")
    refs = store.get("v1", "ConfigMap", "child", "default")["metadata"]["ownerReferences"]
    assert [r["name"] for r in refs] == ["owner-b"]


def test_deletion_follows_owner_references_as_they_are_now_not_as_they_were_created(store):
    """Dependents are found through an index kept on every write: a reference dropped by an
    update no longer cascades, one added later does, and a deleted dependent is forgotten."""
    owner = store.create(configmap("owner"))
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner["metadata"]["uid"]}
    for name in ("released", "adopted-later", "kept", "gone-before"):
        child = configmap(name)
        if name != "adopted-later":
            child["metadata"]["ownerReferences"] = [dict(ref)]
        store.create(child)
    released = store.get("v1", "ConfigMap", "released", "default")
    del released["metadata"]["ownerReferences"]
    store.replace(released)
    adopted = store.get("v1", "ConfigMap", "adopted-later", "default")
    adopted["metadata"]["ownerReferences"] = [dict(ref)]
    store.replace(adopted)
    store.delete("v1", "ConfigMap", "gone-before", "default")
    store.delete("v1", "ConfigMap", "owner", "default")
    assert sorted(o["metadata"]["name"] for o in store.list("v1", "ConfigMap", "default")) == ["released"]


def test_a_namespaced_owner_takes_only_dependents_in_its_own_namespace(store):
    """Owner references never cross namespaces: a same-uid reference elsewhere is not a dependent."""
    store.create(namespace("other"))
    owner = store.create(configmap("owner"))
    stray = configmap("stray", namespace="other")
    stray["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner",
                                             "uid": owner["metadata"]["uid"]}]
    store.create(stray)
    store.delete("v1", "ConfigMap", "owner", "default")
    assert [o["metadata"]["name"] for o in store.list("v1", "ConfigMap", "other")] == ["stray"]


def test_an_unknown_propagation_policy_is_422_and_a_missing_object_404(store):
    store.create(configmap("a"))
    with pytest.raises(APIError) as caught:
        store.delete("v1", "ConfigMap", "a", "default", propagation_policy="Sideways")
    assert caught.value.status == 422
    with pytest.raises(APINotFound):
        store.delete("v1", "ConfigMap", "ghost", "default")


def test_delete_preconditions_guard_against_deleting_a_newer_object(store):
    first = store.create(configmap("a"))
    store.patch("v1", "ConfigMap", "a", "default", {"data": {"x": "1"}})
    with pytest.raises(APIConflict):
        store.delete("v1", "ConfigMap", "a", "default",
                     preconditions={"resourceVersion": first["metadata"]["resourceVersion"]})


def test_graceful_pod_deletion_waits_for_the_grace_period_on_the_clock():
    clock = ManualClock(1_700_000_000)
    store = ObjectStore(clock, graceful_pod_deletion=True)
    store.load([pod("p", node="n1", phase="Running", ready=True)])
    obj, deleted_now = store.delete("v1", "Pod", "p", "default", grace_period_seconds=20)
    assert not deleted_now
    assert obj["metadata"]["deletionTimestamp"] == "2023-11-14T22:13:40Z"
    assert obj["metadata"]["deletionGracePeriodSeconds"] == 20
    clock.advance(19)
    assert store.finish_terminations() == []
    clock.advance(1)
    assert store.finish_terminations() == ["default/p"]
    assert store.find("v1", "Pod", "p", "default") is None


def test_grace_period_zero_deletes_a_pod_at_once_even_in_graceful_mode():
    store = ObjectStore(ManualClock(), graceful_pod_deletion=True)
    store.load([pod("p", node="n1", phase="Running")])
    _, deleted_now = store.delete("v1", "Pod", "p", "default", grace_period_seconds=0)
    assert deleted_now and store.find("v1", "Pod", "p", "default") is None


def test_deleting_a_namespace_deletes_its_contents(store):
    store.create(namespace("team"))
    store.create(configmap("a", namespace="team"))
    store.create(configmap("b", namespace="default"))
    store.delete("v1", "Namespace", "team")
    assert store.list("v1", "ConfigMap", "team") == []
    assert len(store.list("v1", "ConfigMap", "default")) == 1
