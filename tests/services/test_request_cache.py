"""RequestCachedCluster: repeated reads inside one request are served once, and nothing else."""

from __future__ import annotations

import threading

import pytest

from kubeskippy.devcluster.builders import deployment
from kubeskippy.devcluster.memory_cluster import MemoryCluster
from kubeskippy.errors import APIConflict, APINotFound
from kubeskippy.services.request_cache import RequestCachedCluster


class CountingCluster(MemoryCluster):
    """A MemoryCluster that counts the reads that reach it."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[tuple] = []

    def get(self, api_version, kind, name, namespace=None):
        self.reads.append(("get", kind, name))
        return super().get(api_version, kind, name, namespace)

    def list(self, api_version, kind, namespace=None, label_selector=None, field_selector=None):
        self.reads.append(("list", kind, label_selector))
        return super().list(api_version, kind, namespace, label_selector, field_selector)


@pytest.fixture
def inner() -> CountingCluster:
    cluster = CountingCluster()
    cluster.seed([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}},
                  deployment("web", "apps", replicas=2, labels={"app": "web"})])
    return cluster


def test_a_repeated_get_inside_one_scope_reaches_the_api_once(inner):
    cached = RequestCachedCluster(inner)
    with cached.scope():
        first = cached.get("apps/v1", "Deployment", "web", "apps")
        second = cached.get("apps/v1", "Deployment", "web", "apps")
    assert first == second
    assert inner.reads == [("get", "Deployment", "web")]
    assert cached.hits == 1


def test_lists_are_cached_by_their_selectors(inner):
    cached = RequestCachedCluster(inner)
    with cached.scope():
        cached.list("apps/v1", "Deployment", "apps", label_selector="app=web")
        cached.list("apps/v1", "Deployment", "apps", label_selector="app=web")
        cached.list("apps/v1", "Deployment", "apps", label_selector="app=other")
    assert inner.reads == [("list", "Deployment", "app=web"), ("list", "Deployment", "app=other")]


def test_nothing_is_cached_outside_a_scope(inner):
    cached = RequestCachedCluster(inner)
    cached.get("apps/v1", "Deployment", "web", "apps")
    cached.get("apps/v1", "Deployment", "web", "apps")
    assert len(inner.reads) == 2


def test_reads_are_not_shared_between_requests(inner):
    cached = RequestCachedCluster(inner)
    with cached.scope():
        cached.get("apps/v1", "Deployment", "web", "apps")
    with cached.scope():
        cached.get("apps/v1", "Deployment", "web", "apps")
    assert len(inner.reads) == 2


def test_a_write_through_the_wrapper_makes_the_next_read_fresh(inner):
    cached = RequestCachedCluster(inner)
    with cached.scope():
        before = cached.get("apps/v1", "Deployment", "web", "apps")
        cached.patch("apps/v1", "Deployment", "web", "apps", {"spec": {"replicas": 5}})
        after = cached.get("apps/v1", "Deployment", "web", "apps")
    assert before["spec"]["replicas"] == 2
    assert after["spec"]["replicas"] == 5
    assert len(inner.reads) == 2


def test_a_failed_write_still_drops_the_cache_so_a_retry_rereads(inner):
    cached = RequestCachedCluster(inner)
    with cached.scope():
        stale = cached.get("apps/v1", "Deployment", "web", "apps")
        inner.patch("apps/v1", "Deployment", "web", "apps", {"spec": {"replicas": 3}})  # another writer
        with pytest.raises(APIConflict):
            cached.replace(stale)
        fresh = cached.get("apps/v1", "Deployment", "web", "apps")
    assert fresh["spec"]["replicas"] == 3


def test_a_caller_editing_a_result_does_not_change_what_the_next_caller_reads(inner):
    cached = RequestCachedCluster(inner)
    with cached.scope():
        cached.get("apps/v1", "Deployment", "web", "apps")["spec"]["replicas"] = 99
        again = cached.get("apps/v1", "Deployment", "web", "apps")
    assert again["spec"]["replicas"] == 2


def test_a_missing_object_is_not_cached(inner):
    cached = RequestCachedCluster(inner)
    with cached.scope():
        with pytest.raises(APINotFound):
            cached.get("apps/v1", "Deployment", "api", "apps")
        inner.create(deployment("api", "apps", replicas=1, labels={"app": "api"}))
        found = cached.get("apps/v1", "Deployment", "api", "apps")
    assert found["metadata"]["name"] == "api"


def test_a_nested_scope_shares_the_outer_requests_reads(inner):
    cached = RequestCachedCluster(inner)
    with cached.scope():
        cached.get("apps/v1", "Deployment", "web", "apps")
        with cached.scope():
            cached.get("apps/v1", "Deployment", "web", "apps")
        cached.get("apps/v1", "Deployment", "web", "apps")
    assert len(inner.reads) == 1


def test_concurrent_requests_in_other_threads_keep_their_own_reads(inner):
    cached = RequestCachedCluster(inner)
    inside = threading.Event()
    release = threading.Event()

    def other_request() -> None:
        with cached.scope():
            cached.get("apps/v1", "Deployment", "web", "apps")
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=other_request)
    thread.start()
    assert inside.wait(5)
    with cached.scope():
        cached.get("apps/v1", "Deployment", "web", "apps")
    release.set()
    thread.join(5)
    assert len(inner.reads) == 2


def _healing_action(name: str) -> dict:
    return {"apiVersion": "kubeskippy.io/v1alpha1", "kind": "HealingAction",
            "metadata": {"name": name, "namespace": "apps"}, "spec": {}}


def test_writing_a_bookkeeping_object_keeps_the_reads_of_other_kinds(inner):
    cached = RequestCachedCluster(inner)
    with cached.scope():
        cached.get("apps/v1", "Deployment", "web", "apps")
        cached.get("v1", "Namespace", "apps")
        cached.create(_healing_action("restart-1"))
        cached.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ledger", "namespace": "apps"},
                       "data": {}})
        cached.get("apps/v1", "Deployment", "web", "apps")
        cached.get("v1", "Namespace", "apps")
    assert inner.reads == [("get", "Deployment", "web"), ("get", "Namespace", "apps")]


def test_a_bookkeeping_object_we_wrote_reads_back_as_the_server_answered_without_a_request(inner):
    cached = RequestCachedCluster(inner)
    with cached.scope():
        created = cached.create({"apiVersion": "v1", "kind": "ConfigMap",
                                 "metadata": {"name": "ledger", "namespace": "apps"}, "data": {"slots": "1"}})
        first = cached.get("v1", "ConfigMap", "ledger", "apps")
        replaced = cached.replace({**first, "data": {"slots": "2"}})
        second = cached.get("v1", "ConfigMap", "ledger", "apps")
        second["data"]["slots"] = "edited by the caller"
        third = cached.get("v1", "ConfigMap", "ledger", "apps")
    assert first == created and second["metadata"]["resourceVersion"] == replaced["metadata"]["resourceVersion"]
    assert third == replaced and third["data"] == {"slots": "2"}
    assert inner.reads == []


def test_writing_a_bookkeeping_object_drops_the_lists_of_its_kind(inner):
    cached = RequestCachedCluster(inner)
    with cached.scope():
        cached.list("v1", "ConfigMap", "apps")
        cached.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ledger", "namespace": "apps"},
                       "data": {}})
        listed = cached.list("v1", "ConfigMap", "apps")
    assert [m["metadata"]["name"] for m in listed] == ["ledger"]
    assert inner.reads == [("list", "ConfigMap", None)] * 2


def test_a_dry_run_a_failed_write_or_another_kind_is_not_read_back_from_the_write(inner):
    cached = RequestCachedCluster(inner)
    ledger = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ledger", "namespace": "apps"},
              "data": {"slots": "1"}}
    with cached.scope():
        cached.create(ledger, dry_run=True)
        with pytest.raises(APINotFound):
            cached.get("v1", "ConfigMap", "ledger", "apps")
        stored = cached.create(ledger)
        stale = {**stored, "metadata": {**stored["metadata"], "resourceVersion": "1"}}
        cached.replace({**stored, "data": {"slots": "2"}})
        with pytest.raises(APIConflict):
            cached.replace({**stale, "data": {"slots": "3"}})
        assert cached.get("v1", "ConfigMap", "ledger", "apps")["data"] == {"slots": "2"}
        web = cached.get("apps/v1", "Deployment", "web", "apps")
        cached.replace({**web, "spec": {**web["spec"], "replicas": 3}})
        cached.get("apps/v1", "Deployment", "web", "apps")
    assert inner.reads == [("get", "ConfigMap", "ledger"), ("get", "ConfigMap", "ledger"),
                           ("get", "Deployment", "web"), ("get", "Deployment", "web")]


def test_a_missing_healing_action_is_remembered_until_a_healing_action_is_written(inner):
    cached = RequestCachedCluster(inner)
    with cached.scope():
        for _ in range(2):
            with pytest.raises(APINotFound):
                cached.get("kubeskippy.io/v1alpha1", "HealingAction", "restart-1", "apps")
        cached.create(_healing_action("restart-1"))  # read back from the create's answer
        found = cached.get("kubeskippy.io/v1alpha1", "HealingAction", "restart-1", "apps")
    assert found["metadata"]["name"] == "restart-1"
    assert inner.reads == [("get", "HealingAction", "restart-1")]


def test_writing_one_bookkeeping_object_keeps_the_reads_of_another_of_its_kind_but_drops_its_lists(inner):
    cached = RequestCachedCluster(inner)
    with cached.scope():
        with pytest.raises(APINotFound):
            cached.get("kubeskippy.io/v1alpha1", "HealingAction", "diagnostics-1", "apps")
        cached.list("kubeskippy.io/v1alpha1", "HealingAction", "apps")
        cached.create(_healing_action("restart-1"))  # another step's record
        with pytest.raises(APINotFound):
            cached.get("kubeskippy.io/v1alpha1", "HealingAction", "diagnostics-1", "apps")
        listed = cached.list("kubeskippy.io/v1alpha1", "HealingAction", "apps")
    assert [m["metadata"]["name"] for m in listed] == ["restart-1"]
    assert inner.reads == [("get", "HealingAction", "diagnostics-1"), ("list", "HealingAction", None),
                           ("list", "HealingAction", None)]


def test_a_bookkeeping_object_created_with_a_generated_name_drops_every_read_of_its_kind(inner):
    cached = RequestCachedCluster(inner)
    inner.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ledger", "namespace": "apps"},
                  "data": {}})
    with cached.scope():
        cached.get("v1", "ConfigMap", "ledger", "apps")
        cached.create({"apiVersion": "v1", "kind": "ConfigMap", "data": {},
                       "metadata": {"generateName": "note-", "namespace": "apps"}})
        cached.get("v1", "ConfigMap", "ledger", "apps")
    assert inner.reads == [("get", "ConfigMap", "ledger")] * 2


def test_reads_made_by_a_fan_out_land_in_the_requests_cache(inner):
    from kubeskippy.services.fanout import ThreadFanout

    cached, fanout = RequestCachedCluster(inner), ThreadFanout(workers=2)
    try:
        with cached.scope():
            fanout([lambda: cached.get("apps/v1", "Deployment", "web", "apps"),
                    lambda: cached.get("v1", "Namespace", "apps")])
            cached.get("apps/v1", "Deployment", "web", "apps")
            cached.get("v1", "Namespace", "apps")
    finally:
        fanout.shutdown()
    assert sorted(inner.reads) == [("get", "Deployment", "web"), ("get", "Namespace", "apps")]
