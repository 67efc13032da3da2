"""The engine's semantics, pinned to the Kubernetes API conventions (no sockets)."""

from __future__ import annotations

import pytest

from kubeskippy.clock import ManualClock
from kubeskippy.devcluster import ObjectStore
from kubeskippy.devcluster.builders import configmap, deployment, healing_policy, pod
from kubeskippy.errors import APIConflict, APIError, APINotFound


@pytest.fixture
def store() -> ObjectStore:
    return ObjectStore(ManualClock(1_700_000_000), seed=7)


def test_create_assigns_uid_timestamp_generation_and_a_string_resource_version(store):
    created = store.create(configmap("settings", data={"a": "1"}))
    meta = created["metadata"]
    assert isinstance(meta["resourceVersion"], str) and meta["resourceVersion"].isdigit()
    assert len(meta["uid"]) == 36
    assert meta["creationTimestamp"] == "2023-11-14T22:13:20Z"
    assert meta["generation"] == 1


def test_every_write_changes_the_resource_version_and_versions_are_global(store):
    a = store.create(configmap("a"))
    b = store.create(configmap("b"))
    a2 = store.patch("v1", "ConfigMap", "a", "default", {"data": {"x": "1"}})
    versions = [int(a["metadata"]["resourceVersion"]), int(b["metadata"]["resourceVersion"]),
                int(a2["metadata"]["resourceVersion"])]
    assert versions == sorted(set(versions))
    assert store.resource_version == a2["metadata"]["resourceVersion"]


def test_a_write_that_changes_nothing_keeps_the_resource_version(store):
    a = store.create(configmap("a", data={"x": "1"}))
    again = store.patch("v1", "ConfigMap", "a", "default", {"data": {"x": "1"}})
    assert again["metadata"]["resourceVersion"] == a["metadata"]["resourceVersion"]


def test_creating_an_existing_name_is_409_already_exists(store):
    store.create(configmap("a"))
    with pytest.raises(APIConflict) as caught:
        store.create(configmap("a"))
    assert caught.value.payload["reason"] == "AlreadyExists"
    assert caught.value.payload["message"] == 'configmaps "a" already exists'
    assert caught.value.payload["details"] == {"name": "a", "kind": "configmaps"}


def test_replacing_with_a_stale_resource_version_is_409_conflict(store):
    first = store.create(configmap("a", data={"v": "1"}))
    store.replace({**first, "data": {"v": "2"}})
    with pytest.raises(APIConflict) as caught:
        store.replace({**first, "data": {"v": "3"}})
    assert caught.value.payload["reason"] == "Conflict"
    assert "the object has been modified" in caught.value.payload["message"]
    assert store.get("v1", "ConfigMap", "a", "default")["data"] == {"v": "2"}


def test_a_missing_object_is_404_not_found_with_the_api_servers_message(store):
    with pytest.raises(APINotFound) as caught:
        store.get("apps/v1", "Deployment", "ghost", "default")
    assert caught.value.status == 404
    assert caught.value.payload == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'deployments.apps "ghost" not found', "reason": "NotFound",
        "details": {"name": "ghost", "group": "apps", "kind": "deployments"}, "code": 404}


def test_replace_without_resource_version_is_unconditional_for_builtins_but_required_for_custom_resources(store):
    cm = store.create(configmap("a"))
    del cm["metadata"]["resourceVersion"]
    assert store.replace({**cm, "data": {"k": "v"}})["data"] == {"k": "v"}
    hp = store.create(healing_policy("p"))
    del hp["metadata"]["resourceVersion"]
    with pytest.raises(APIError) as caught:
        store.replace(hp)
    assert caught.value.status == 422
    assert caught.value.payload["details"]["causes"][0]["field"] == "metadata.resourceVersion"


def test_status_writes_ignore_spec_and_main_writes_ignore_status(store):
    d = store.create(deployment("web", replicas=2))
    assert d["status"] == {}
    d["spec"]["replicas"] = 5
    d["status"] = {"replicas": 2}
    after_status = store.replace(d, subresource="status")
    assert after_status["spec"]["replicas"] == 2 and after_status["status"] == {"replicas": 2}
    after_status["spec"]["replicas"] = 3
    after_status["status"] = {"replicas": 99}
    after_main = store.replace(after_status)
    assert after_main["spec"]["replicas"] == 3 and after_main["status"] == {"replicas": 2}


def test_generation_moves_with_spec_changes_only(store):
    d = store.create(deployment("web"))
    assert d["metadata"]["generation"] == 1
    labelled = store.patch("apps/v1", "Deployment", "web", "default", {"metadata": {"labels": {"x": "y"}}})
    assert labelled["metadata"]["generation"] == 1
    scaled = store.patch("apps/v1", "Deployment", "web", "default", {"spec": {"replicas": 4}})
    assert scaled["metadata"]["generation"] == 2
    status = store.patch("apps/v1", "Deployment", "web", "default", {"status": {"replicas": 4}},
                         subresource="status")
    assert status["metadata"]["generation"] == 2


def test_create_resets_status_of_kinds_with_a_status_subresource_but_load_keeps_it(store):
    created = store.create(pod("p", phase="Running", ready=True))
    assert created["status"] == {"phase": "Pending"}
    loaded = store.load([pod("q", phase="Running", ready=True)])[0]
    assert loaded["status"]["phase"] == "Running"


def test_validation_rejects_a_deployment_whose_selector_misses_its_template(store):
    bad = deployment("web")
    bad["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    with pytest.raises(APIError) as caught:
        store.create(bad)
    assert caught.value.status == 422
    assert caught.value.payload["details"]["causes"][0]["field"] == "spec.template.metadata.labels"


def test_a_configmap_over_one_mebibyte_is_rejected(store):
    with pytest.raises(APIError) as caught:
        store.create(configmap("big", data={"blob": "x" * (1024 * 1024)}))
    assert caught.value.status == 422 and "Too long" in caught.value.payload["message"]


def test_pod_spec_is_immutable_except_images(store):
    store.create(pod("p"))
    assert store.patch("v1", "Pod", "p", "default", {"spec": {"containers": [{"name": "app", "image": "nginx:2"}]}},
                       patch_type="strategic")["spec"]["containers"][0]["image"] == "nginx:2"
    with pytest.raises(APIError) as caught:
        store.patch("v1", "Pod", "p", "default", {"spec": {"containers": [
            {"name": "app", "resources": {"limits": {"memory": "1Gi"}}}]}}, patch_type="strategic")
    assert caught.value.status == 422


def test_dry_run_create_update_patch_and_delete_store_nothing(store):
    would_be = store.create(configmap("a", data={"k": "v"}), dry_run=True)
    assert would_be["metadata"]["uid"] and "resourceVersion" not in would_be["metadata"]
    assert store.find("v1", "ConfigMap", "a", "default") is None
    real = store.create(configmap("a", data={"k": "v"}))
    version = store.resource_version
    patched = store.patch("v1", "ConfigMap", "a", "default", {"data": {"k": "w"}}, dry_run=True)
    assert patched["data"] == {"k": "w"}
    replaced = store.replace({**real, "data": {"k": "z"}}, dry_run=True)
    assert replaced["data"] == {"k": "z"}
    store.delete("v1", "ConfigMap", "a", "default", dry_run=True)
    assert store.get("v1", "ConfigMap", "a", "default")["data"] == {"k": "v"}
    assert store.resource_version == version


def test_dry_run_still_validates(store):
    with pytest.raises(APIError) as caught:
        store.create(pod("p", containers=[{"name": "app"}]), dry_run=True)
    assert caught.value.status == 422
    assert caught.value.payload["details"]["causes"][0]["field"] == "spec.containers[0].image"


def test_generate_name_makes_a_unique_name_with_the_prefix(store):
    obj = configmap("")
    obj["metadata"] = {"generateName": "web-", "namespace": "default"}
    a = store.create(obj)
    b = store.create(obj)
    assert a["metadata"]["name"].startswith("web-") and len(a["metadata"]["name"]) == 9
    assert a["metadata"]["name"] != b["metadata"]["name"]


def test_unknown_kinds_are_404_like_a_missing_resource_type(store):
    with pytest.raises(APINotFound) as caught:
        store.create({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})
    assert caught.value.payload["message"] == "the server could not find the requested resource"


def test_namespaces_must_exist_only_when_asked(store):
    store.create(configmap("a", namespace="nowhere"))
    strict = ObjectStore(ManualClock(), require_namespaces=True)
    with pytest.raises(APINotFound) as caught:
        strict.create(configmap("a", namespace="nowhere"))
    assert caught.value.payload["message"] == 'namespaces "nowhere" not found'


def test_reads_return_copies_that_cannot_change_stored_state(store):
    store.create(configmap("a", data={"k": "v"}))
    got = store.get("v1", "ConfigMap", "a", "default")
    got["data"]["k"] = "mutated"
    assert store.get("v1", "ConfigMap", "a", "default")["data"] == {"k": "v"}


def test_cluster_scoped_objects_drop_a_namespace(store):
    node = store.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "namespace": "x"}})
    assert "namespace" not in node["metadata"]
    assert store.get("v1", "Node", "n1")["metadata"]["name"] == "n1"
