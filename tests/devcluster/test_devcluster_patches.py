"""The three patch formats, on documents and through the engine."""

from __future__ import annotations

import pytest

from kubeskippy.clock import ManualClock
from kubeskippy.devcluster import ObjectStore
from kubeskippy.devcluster.builders import container, deployment, healing_policy, pod
from kubeskippy.devcluster.patches import apply_json_patch, apply_merge_patch, apply_strategic_merge_patch
from kubeskippy.errors import APIConflict, APIError


# --- RFC 7386 ---------------------------------------------------------------------------

@pytest.mark.parametrize(("target", "patch", "expected"), [
    pytest.param({"a": "b"}, {"a": "c"}, {"a": "c"}, id="replace-value"),
    pytest.param({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}, id="add-key"),
    pytest.param({"a": "b"}, {"a": None}, {}, id="null-deletes"),
    pytest.param({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}, id="null-deletes-only-that"),
    pytest.param({"a": ["b"]}, {"a": "c"}, {"a": "c"}, id="list-to-scalar"),
    pytest.param({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}, id="scalar-to-list"),
    pytest.param({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}, id="nested"),
    pytest.param({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}, id="lists-replaced-whole"),
    pytest.param({"e": None}, {"a": 1}, {"e": None, "a": 1}, id="keeps-existing-null"),
    pytest.param({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}, id="creates-nested-without-nulls"),
])
def test_merge_patch_follows_the_rfc_7386_examples(target, patch, expected):
    assert apply_merge_patch(target, patch) == expected


# --- RFC 6902 ---------------------------------------------------------------------------

def test_json_patch_supports_every_operation():
    doc = {"a": {"b": [1, 2, 3]}, "c": "x", "d~/e": 1}
    out = apply_json_patch(doc, [
        {"op": "add", "path": "/a/b/1", "value": 9},
        {"op": "add", "path": "/a/b/-", "value": 4},
        {"op": "remove", "path": "/a/b/0"},
        {"op": "replace", "path": "/c", "value": "y"},
        {"op": "copy", "from": "/c", "path": "/f"},
        {"op": "move", "from": "/d~0~1e", "path": "/g"},
        {"op": "test", "path": "/a/b", "value": [9, 2, 3, 4]},
    ])
    assert out == {"a": {"b": [9, 2, 3, 4]}, "c": "y", "f": "y", "g": 1}
    assert doc == {"a": {"b": [1, 2, 3]}, "c": "x", "d~/e": 1}


def test_a_failed_json_patch_test_is_422_and_changes_nothing():
    with pytest.raises(APIError) as caught:
        apply_json_patch({"a": 1}, [{"op": "replace", "path": "/a", "value": 2}, {"op": "test", "path": "/a", "value": 1}])
    assert caught.value.status == 422


@pytest.mark.parametrize("ops", [
    pytest.param({"op": "add"}, id="not-a-list"),
    pytest.param([{"op": "add", "path": "/a"}], id="add-without-value"),
    pytest.param([{"op": "frobnicate", "path": "/a"}], id="unknown-op"),
    pytest.param([{"op": "add", "path": "a", "value": 1}], id="pointer-without-slash"),
])
def test_a_malformed_json_patch_is_400(ops):
    with pytest.raises(APIError) as caught:
        apply_json_patch({}, ops)
    assert caught.value.status == 400


@pytest.mark.parametrize("ops", [
    pytest.param([{"op": "remove", "path": "/missing"}], id="remove-missing"),
    pytest.param([{"op": "replace", "path": "/missing", "value": 1}], id="replace-missing"),
    pytest.param([{"op": "add", "path": "/list/5", "value": 1}], id="index-out-of-range"),
    pytest.param([{"op": "move", "from": "/list", "path": "/list/0"}], id="move-into-child"),
])
def test_a_json_patch_that_cannot_apply_is_422(ops):
    with pytest.raises(APIError) as caught:
        apply_json_patch({"list": [1]}, ops)
    assert caught.value.status == 422


# --- strategic merge patch ----------------------------------------------------------------

def _spec(*containers):
    return {"spec": {"containers": list(containers)}}


def test_strategic_merge_merges_containers_by_name():
    target = _spec(container("app", "a:1", env=[{"name": "X", "value": "1"}]), container("side", "s:1"))
    out = apply_strategic_merge_patch(target, _spec({"name": "app", "image": "a:2", "env": [{"name": "Y", "value": "2"}]}))
    assert out == _spec(container("app", "a:2", env=[{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]),
                        container("side", "s:1"))


def test_strategic_merge_delete_directive_removes_a_list_element():
    target = _spec(container("app"), container("side"))
    out = apply_strategic_merge_patch(target, _spec({"name": "side", "$patch": "delete"}))
    assert out == _spec(container("app"))


def test_strategic_merge_replace_directive_replaces_a_list_or_a_map():
    target = {"spec": {"containers": [container("app"), container("side")], "nodeSelector": {"a": "1", "b": "2"}}}
    out = apply_strategic_merge_patch(target, {"spec": {
        "containers": [container("only"), {"$patch": "replace"}],
        "nodeSelector": {"c": "3", "$patch": "replace"}}})
    assert out == {"spec": {"containers": [container("only")], "nodeSelector": {"c": "3"}}}


def test_strategic_merge_replaces_lists_without_a_merge_key_and_merges_finalizers_as_a_set():
    target = {"metadata": {"finalizers": ["a"]}, "spec": {"containers": [container("app", args=["x", "y"])]}}
    out = apply_strategic_merge_patch(target, {"metadata": {"finalizers": ["b", "a"]},
                                               "spec": {"containers": [{"name": "app", "args": ["z"]}]}})
    assert out["metadata"]["finalizers"] == ["a", "b"]
    assert out["spec"]["containers"][0]["args"] == ["z"]


def test_strategic_merge_honours_delete_from_primitive_list_and_element_order():
    target = {"metadata": {"finalizers": ["a", "b", "c"]}, "spec": {"containers": [container("x"), container("y")]}}
    out = apply_strategic_merge_patch(target, {
        "metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]},
        "spec": {"$setElementOrder/containers": [{"name": "y"}, {"name": "x"}]}})
    assert out["metadata"]["finalizers"] == ["a", "c"]
    assert [c["name"] for c in out["spec"]["containers"]] == ["y", "x"]


def test_strategic_merge_null_deletes_a_key():
    out = apply_strategic_merge_patch({"metadata": {"annotations": {"a": "1", "b": "2"}}},
                                      {"metadata": {"annotations": {"a": None}}})
    assert out == {"metadata": {"annotations": {"b": "2"}}}


# --- through the engine -------------------------------------------------------------------

@pytest.fixture
def store() -> ObjectStore:
    return ObjectStore(ManualClock(), seed=1)


def test_rollout_restart_annotation_is_a_strategic_patch_of_the_template(store):
    store.create(deployment("web", containers=[container("app"), container("side")]))
    out = store.patch("apps/v1", "Deployment", "web", "default", {"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": "2024-01-01T00:00:00Z"}}}}}, patch_type="strategic")
    assert out["spec"]["template"]["metadata"]["annotations"] == {
        "kubectl.kubernetes.io/restartedAt": "2024-01-01T00:00:00Z"}
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == ["app", "side"]
    assert out["metadata"]["generation"] == 2


def test_a_patch_carrying_a_stale_resource_version_is_409(store):
    first = store.create(deployment("web"))
    store.patch("apps/v1", "Deployment", "web", "default", {"spec": {"replicas": 2}})
    with pytest.raises(APIConflict):
        store.patch("apps/v1", "Deployment", "web", "default",
                    {"metadata": {"resourceVersion": first["metadata"]["resourceVersion"]}, "spec": {"replicas": 3}})


def test_json_patch_through_the_engine_can_test_then_replace(store):
    store.create(deployment("web", replicas=2))
    out = store.patch("apps/v1", "Deployment", "web", "default", [
        {"op": "test", "path": "/spec/replicas", "value": 2},
        {"op": "replace", "path": "/spec/replicas", "value": 5}], patch_type="json")
    assert out["spec"]["replicas"] == 5


def test_custom_resources_refuse_strategic_merge_with_415(store):
    store.create(healing_policy("p"))
    with pytest.raises(APIError) as caught:
        store.patch("kubeskippy.io/v1alpha1", "HealingPolicy", "p", "default", {"spec": {"mode": "automatic"}},
                    patch_type="strategic")
    assert caught.value.status == 415
    merged = store.patch("kubeskippy.io/v1alpha1", "HealingPolicy", "p", "default", {"spec": {"mode": "automatic"}})
    assert merged["spec"]["mode"] == "automatic"


def test_status_patch_of_a_pod_cannot_touch_its_spec(store):
    store.create(pod("p"))
    out = store.patch("v1", "Pod", "p", "default", {"spec": {"nodeName": "x"}, "status": {"phase": "Running"}},
                      subresource="status")
    assert out["status"]["phase"] == "Running"
    assert "nodeName" not in out["spec"]
