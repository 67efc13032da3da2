"""The HTTP front encodes a GET's object and a LIST's items once, straight from the store, and
the bytes are exactly those of the document ``ObjectStore.get`` / ``list_objects`` return (the
front used to copy each object through JSON and then encode the copy again)."""

from __future__ import annotations

import json
import urllib.request

import pytest

import kubeskippy.devcluster.store as store_module
from kubeskippy.clock import ManualClock
from kubeskippy.devcluster import ObjectStore
from kubeskippy.devcluster.builders import configmap, container, deployment, pod
from kubeskippy.devcluster.server import DevClusterServer

pytestmark = pytest.mark.slow


def _compact(doc) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


@pytest.fixture
def server():
    with DevClusterServer(ObjectStore(ManualClock(1_700_000_000), seed=9), max_watch_seconds=5) as srv:
        srv.store.create(pod("web-1", labels={"app": "web"}, containers=[container("app", "img:1")]))
        srv.store.create(pod("web-2", labels={"app": "web"}, containers=[container("app", "img:1")]))
        srv.store.create(configmap("settings", data={"k": "v"}))
        srv.store.create(deployment("web", replicas=2, containers=[container("app", "img:1")]))
        yield srv


def _get(server, path: str) -> bytes:
    with urllib.request.urlopen(server.url + path, timeout=10) as response:
        return response.read()


@pytest.fixture
def clones(monkeypatch):
    """How many JSON copies of stored objects the store makes."""
    count = [0]
    original = store_module.clone_document

    def counting(obj):
        count[0] += 1
        return original(obj)

    monkeypatch.setattr(store_module, "clone_document", counting)
    return count


def test_a_get_sends_the_stored_object_encoded_once_and_unchanged(server, clones):
    store = server.store
    expected = _compact(store.get("v1", "Pod", "web-1", "default"))
    clones[0] = 0
    assert _get(server, "/api/v1/namespaces/default/pods/web-1") == expected
    assert _get(server, "/api/v1/namespaces/default/pods/web-1/status") == expected
    assert clones[0] == 0
    scale = _get(server, "/apis/apps/v1/namespaces/default/deployments/web/scale")
    assert scale == _compact(store.get("apps/v1", "Deployment", "web", "default", subresource="scale"))


def test_a_list_sends_its_items_encoded_once_as_the_api_server_shapes_them(server, clones):
    store = server.store
    items = store.list_objects("v1", "Pod", "default", label_selector="app=web").items
    for item in items:  # built-in kinds: items without apiVersion and kind
        item.pop("apiVersion", None)
        item.pop("kind", None)
    expected = _compact({"apiVersion": "v1", "kind": "PodList",
                         "metadata": {"resourceVersion": store.resource_version}, "items": items})
    clones[0] = 0
    assert _get(server, "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb") == expected
    assert clones[0] == 0
    empty = _get(server, "/api/v1/namespaces/default/pods?labelSelector=app%3Dnone")
    assert json.loads(empty) == {"apiVersion": "v1", "kind": "PodList",
                                 "metadata": {"resourceVersion": store.resource_version}, "items": []}


def test_a_list_of_a_custom_kind_keeps_each_items_identity(server):
    server.store.create({"apiVersion": "kubeskippy.io/v1alpha1", "kind": "HealingAction",
                         "metadata": {"name": "ha-1", "namespace": "default"},
                         "spec": {"policyRef": {"name": "p"}, "targetResource": {"kind": "Pod", "name": "web-1"},
                                  "action": {"name": "restart", "type": "restart"}}})
    doc = json.loads(_get(server, "/apis/kubeskippy.io/v1alpha1/namespaces/default/healingactions"))
    assert [(i["apiVersion"], i["kind"], i["metadata"]["name"]) for i in doc["items"]] == \
        [("kubeskippy.io/v1alpha1", "HealingAction", "ha-1")]
