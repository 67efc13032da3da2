"""The feed turns watched changes into ApiServerSource-shaped CloudEvents (through the real
kubernetes client against the devcluster API server)."""

from __future__ import annotations

import time

from kubeskippy.devcluster.server import DevClusterServer
from kubeskippy.events.cloudevents import parse_http
from kubeskippy.mesh.feed import ApiServerFeed, WatchedKind
from tests.harness.scripted_http import ScriptedServer


def pod(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "demo"},
            "spec": {"containers": [{"name": "app", "image": "busybox"}]}}


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_existing_objects_are_silent_and_later_changes_become_events():
    from kubeskippy.adapters.kubernetes import KubernetesCluster

    with DevClusterServer() as server, ScriptedServer() as sink:
        cluster = KubernetesCluster(server.api_client())
        cluster.create(pod("before"))
        feed = ApiServerFeed(server.api_client(), sink.url + "/", [WatchedKind("v1", "Pod")], watch_timeout=2).start()
        try:
            cluster.create(pod("after"))
            cluster.patch("v1", "Pod", "after", "demo", {"metadata": {"labels": {"x": "1"}}})
            cluster.delete("v1", "Pod", "after", "demo")
            wait_for(lambda: len(sink.received) >= 3)
        finally:
            feed.stop()
    events = [parse_http(r.headers, r.body) for r in sink.received]
    assert [e["type"] for e in events] == ["dev.knative.apiserver.resource.add",
                                           "dev.knative.apiserver.resource.update",
                                           "dev.knative.apiserver.resource.delete"]
    assert {e["name"] for e in events} == {"after"}
    assert events[0]["subject"] == "/apis/v1/namespaces/demo/pods/after"  # ApiServerSource writes /apis even for core
    assert events[1].get_data()["metadata"]["labels"] == {"x": "1"}
