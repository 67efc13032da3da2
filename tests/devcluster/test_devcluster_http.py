"""The devcluster over real HTTP, driven by the real ``kubernetes`` client (CoreV1Api, AppsV1Api,
CustomObjectsApi, PolicyV1Api and the raw ApiClient)."""

from __future__ import annotations

import json
import threading
import time

import pytest
import urllib3
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from kubeskippy.clock import ManualClock
from kubeskippy.devcluster import Controller, ObjectStore
from kubeskippy.devcluster.builders import configmap, container, deployment, healing_policy, pdb, pod
from kubeskippy.devcluster.server import DevClusterServer

pytestmark = pytest.mark.slow


@pytest.fixture
def server():
    with DevClusterServer(ObjectStore(ManualClock(1_700_000_000), seed=9), max_watch_seconds=5) as srv:
        yield srv


@pytest.fixture
def api_client(server):
    api = server.api_client()
    yield api
    api.close()


@pytest.fixture
def core(api_client):
    return client.CoreV1Api(api_client)


@pytest.fixture
def apps(api_client):
    return client.AppsV1Api(api_client)


def _status(err: ApiException) -> dict:
    return json.loads(err.body)


def test_resource_version_is_a_string_that_changes_on_every_write(core):
    a = core.create_namespaced_config_map("default", configmap("a", data={"v": "1"}))
    b = core.patch_namespaced_config_map("a", "default", {"data": {"v": "2"}})
    assert isinstance(a.metadata.resource_version, str)
    assert int(b.metadata.resource_version) > int(a.metadata.resource_version)
    assert a.metadata.uid == b.metadata.uid and a.metadata.creation_timestamp is not None


def test_a_stale_put_is_409_with_a_conflict_status(core):
    a = core.create_namespaced_config_map("default", configmap("a", data={"v": "1"}))
    core.replace_namespaced_config_map("a", "default", {**configmap("a", data={"v": "2"}),
                                                         "metadata": {"name": "a", "namespace": "default",
                                                                      "resourceVersion": a.metadata.resource_version}})
    stale = configmap("a", data={"v": "3"})
    stale["metadata"]["resourceVersion"] = a.metadata.resource_version
    with pytest.raises(ApiException) as caught:
        core.replace_namespaced_config_map("a", "default", stale)
    status = _status(caught.value)
    assert caught.value.status == 409
    assert (status["kind"], status["status"], status["reason"], status["code"]) == ("Status", "Failure", "Conflict", 409)
    assert status["details"] == {"name": "a", "kind": "configmaps"}


def test_creating_twice_is_409_already_exists(core):
    core.create_namespaced_config_map("default", configmap("a"))
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map("default", configmap("a"))
    assert caught.value.status == 409 and _status(caught.value)["reason"] == "AlreadyExists"


def test_a_missing_object_is_a_404_status(apps):
    with pytest.raises(ApiException) as caught:
        apps.read_namespaced_deployment("ghost", "default")
    assert caught.value.status == 404
    assert _status(caught.value) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'deployments.apps "ghost" not found', "reason": "NotFound",
        "details": {"name": "ghost", "group": "apps", "kind": "deployments"}, "code": 404}


def test_label_and_field_selectors_filter_lists(server, core):
    server.store.load([pod("a", labels={"app": "web", "tier": "front"}, node="n1", phase="Running"),
                       pod("b", labels={"app": "web"}, node="n2", phase="Pending"),
                       pod("c", labels={"app": "db"}, node="n1", phase="Running")])
    names = lambda pods: [p.metadata.name for p in pods.items]  # noqa: E731
    assert names(core.list_namespaced_pod("default", label_selector="app in (web),tier")) == ["a"]
    assert names(core.list_namespaced_pod("default", label_selector="app!=web")) == ["c"]
    assert names(core.list_pod_for_all_namespaces(field_selector="spec.nodeName=n1,status.phase=Running")) == ["a", "c"]
    with pytest.raises(ApiException) as caught:
        core.list_namespaced_pod("default", field_selector="spec.bogus=x")
    assert caught.value.status == 400


def test_list_items_of_builtin_kinds_come_without_kind_but_the_list_has_a_resource_version(server, api_client):
    server.store.create(configmap("a"))
    response = api_client.call_api(*api_client.param_serialize("GET", "/api/v1/namespaces/default/configmaps"))
    doc = json.loads(response.read())
    assert doc["kind"] == "ConfigMapList" and doc["metadata"]["resourceVersion"] == server.store.resource_version
    assert "kind" not in doc["items"][0] and doc["items"][0]["metadata"]["name"] == "a"


def test_the_three_patch_content_types(server, api_client, apps):
    apps.create_namespaced_deployment("default", deployment("web", containers=[container("app"), container("side")]))

    def raw_patch(content_type, body):
        request = api_client.param_serialize("PATCH", "/apis/apps/v1/namespaces/default/deployments/web",
                                             header_params={"Content-Type": content_type}, body=body)
        response = api_client.call_api(*request)
        return response.status, json.loads(response.read())

    status, doc = raw_patch("application/strategic-merge-patch+json", {"spec": {"template": {"spec": {
        "containers": [{"name": "side", "image": "side:2"}]}}}})
    assert status == 200 and [c["image"] for c in doc["spec"]["template"]["spec"]["containers"]] == ["nginx:1.27", "side:2"]
    status, doc = raw_patch("application/merge-patch+json", {"metadata": {"labels": {"team": "a"}}})
    assert status == 200 and doc["metadata"]["labels"]["team"] == "a"
    status, doc = raw_patch("application/json-patch+json", [{"op": "replace", "path": "/spec/replicas", "value": 4}])
    assert status == 200 and doc["spec"]["replicas"] == 4
    status, doc = raw_patch("application/json-patch+json", [{"op": "test", "path": "/spec/replicas", "value": 9}])
    assert status == 422 and doc["kind"] == "Status"
    status, doc = raw_patch("application/apply-patch+yaml", {"spec": {}})
    assert status == 415 and doc["reason"] == "UnsupportedMediaType"


def test_typed_client_patches_arrive_as_strategic_merge(apps):
    apps.create_namespaced_deployment("default", deployment("web", containers=[container("app"), container("side")]))
    out = apps.patch_namespaced_deployment("web", "default", {"spec": {"template": {"spec": {
        "containers": [{"name": "app", "image": "nginx:2"}]}}}})
    assert [c.name for c in out.spec.template.spec.containers] == ["app", "side"]


def test_status_subresource_ignores_spec_and_scale_returns_a_scale(apps):
    apps.create_namespaced_deployment("default", deployment("web", replicas=2))
    body = apps.read_namespaced_deployment("web", "default").to_dict()
    out = apps.patch_namespaced_deployment_status("web", "default",
                                                  {"spec": {"replicas": 7}, "status": {"readyReplicas": 2}})
    assert out.spec.replicas == 2 and out.status.ready_replicas == 2
    scale = apps.read_namespaced_deployment_scale("web", "default")
    assert (scale.kind, scale.api_version, scale.spec.replicas, scale.status.selector) == \
        ("Scale", "autoscaling/v1", 2, "app=web")
    scaled = apps.replace_namespaced_deployment_scale("web", "default", {
        "apiVersion": "autoscaling/v1", "kind": "Scale",
        "metadata": {"name": "web", "namespace": "default", "resourceVersion": scale.metadata.resource_version},
        "spec": {"replicas": 5}})
    assert scaled.spec.replicas == 5
    assert apps.read_namespaced_deployment("web", "default").spec.replicas == 5
    assert body["metadata"]["generation"] == 1


def test_healing_policies_are_custom_resources_with_a_status_subresource(api_client):
    custom = client.CustomObjectsApi(api_client)
    args = ("kubeskippy.io", "v1alpha1", "default", "healingpolicies")
    created = custom.create_namespaced_custom_object(*args, healing_policy("p"))
    assert created["kind"] == "HealingPolicy" and created["status"] == {}
    custom.patch_namespaced_custom_object_status(*args, "p", {"status": {"phase": "Active"}})
    listed = custom.list_namespaced_custom_object(*args)
    assert listed["items"][0]["status"] == {"phase": "Active"} and listed["items"][0]["kind"] == "HealingPolicy"
    custom.delete_namespaced_custom_object(*args, "p")
    with pytest.raises(ApiException) as caught:
        custom.get_namespaced_custom_object(*args, "p")
    assert caught.value.status == 404
    assert _status(caught.value)["message"] == 'healingpolicies.kubeskippy.io "p" not found'


def test_eviction_is_refused_by_a_budget_with_429_and_otherwise_deletes_the_pod(server, core):
    server.store.load([pod(f"web-{i}", labels={"app": "web"}, node="n1", phase="Running", ready=True) for i in range(2)]
                      + [pod("lonely", node="n1", phase="Running", ready=True)])
    client.PolicyV1Api(core.api_client).create_namespaced_pod_disruption_budget(
        "default", pdb("web", match_labels={"app": "web"}, min_available=2))
    eviction = lambda name: {"apiVersion": "policy/v1", "kind": "Eviction",  # noqa: E731
                             "metadata": {"name": name, "namespace": "default"}}
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_pod_eviction("web-0", "default", eviction("web-0"))
    assert caught.value.status == 429 and _status(caught.value)["reason"] == "TooManyRequests"
    core.create_namespaced_pod_eviction("lonely", "default", eviction("lonely"))
    with pytest.raises(ApiException) as gone:
        core.read_namespaced_pod("lonely", "default")
    assert gone.value.status == 404


def test_a_watch_from_a_resource_version_sees_later_changes(server, core):
    core.create_namespaced_config_map("default", configmap("early"))
    mark = server.store.resource_version

    def later():
        time.sleep(0.1)
        server.store.create(configmap("late"))
        server.store.patch("v1", "ConfigMap", "late", "default", {"data": {"x": "1"}})
        server.store.delete("v1", "ConfigMap", "late", "default")

    writer = threading.Thread(target=later)
    writer.start()
    seen = []
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_config_map, "default", resource_version=mark, timeout_seconds=5):
        seen.append((event["type"], event["object"].metadata.name, event["object"].metadata.resource_version))
        if len(seen) == 3:
            w.stop()
    writer.join()
    assert [(t, n) for t, n, _ in seen] == [("ADDED", "late"), ("MODIFIED", "late"), ("DELETED", "late")]
    assert all(int(rv) > int(mark) for _, _, rv in seen)


def test_a_watch_from_a_too_old_resource_version_raises_410_expired():
    with DevClusterServer(ObjectStore(ManualClock(), watch_history=2)) as server:
        server.store.create(configmap("a"))
        for i in range(4):
            server.store.patch("v1", "ConfigMap", "a", "default", {"data": {"i": str(i)}})
        with server.api_client() as api:
            with pytest.raises(ApiException) as caught:
                list(watch.Watch().stream(client.CoreV1Api(api).list_namespaced_config_map, "default",
                                          resource_version="1", timeout_seconds=2))
    assert caught.value.status == 410 and "Expired" in caught.value.reason


def test_dry_run_stores_nothing(server, core, apps):
    created = core.create_namespaced_config_map("default", configmap("a"), dry_run="All")
    assert created.metadata.uid and created.metadata.resource_version is None
    assert core.list_namespaced_config_map("default").items == []
    apps.create_namespaced_deployment("default", deployment("web"))
    version = server.store.resource_version
    apps.patch_namespaced_deployment("web", "default", {"spec": {"replicas": 9}}, dry_run="All")
    apps.delete_namespaced_deployment("web", "default", dry_run="All")
    assert apps.read_namespaced_deployment("web", "default").spec.replicas == 1
    assert server.store.resource_version == version
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map("default", configmap("a"), dry_run="Sometimes")
    assert caught.value.status == 400


def test_propagation_policies_through_delete_options(server, core, apps):
    controller = Controller(server.store)
    apps.create_namespaced_deployment("default", deployment("orphaned", replicas=1))
    apps.create_namespaced_deployment("default", deployment("cascaded", replicas=1, labels={"app": "c"}))
    controller.settle()
    apps.delete_namespaced_deployment("orphaned", "default", body=client.V1DeleteOptions(propagation_policy="Orphan"))
    apps.delete_namespaced_deployment("cascaded", "default", propagation_policy="Foreground")
    replicasets = apps.list_namespaced_replica_set("default").items
    assert [rs.metadata.name.startswith("orphaned-") for rs in replicasets] == [True]
    assert replicasets[0].metadata.owner_references is None
    assert [p.metadata.labels["app"] for p in core.list_namespaced_pod("default").items] == ["orphaned"]


def test_deleting_returns_the_pod_for_pods_and_a_success_status_otherwise(server, api_client):
    server.store.load([pod("p")])
    server.store.create(configmap("c"))

    def raw_delete(path):
        response = api_client.call_api(*api_client.param_serialize("DELETE", path))
        return response.status, json.loads(response.read())

    status, doc = raw_delete("/api/v1/namespaces/default/pods/p")
    assert status == 200 and doc["kind"] == "Pod"
    status, doc = raw_delete("/api/v1/namespaces/default/configmaps/c")
    assert status == 200 and (doc["kind"], doc["status"], doc["details"]["name"]) == ("Status", "Success", "c")


def test_pod_logs_are_served_as_text(server, core):
    server.store.load([pod("p")])
    server.store.set_log("default", "p", "a\nb\nc\n")
    assert core.read_namespaced_pod_log("p", "default", tail_lines=2) == "b\nc\n"


def test_cluster_scoped_kinds_and_discovery(server, core, api_client):
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    assert [n.metadata.name for n in core.list_namespace().items] == ["team"]
    assert client.VersionApi(api_client).get_code().git_version.startswith("v1.31")
    groups = {g.name for g in client.ApisApi(api_client).get_api_versions().groups}
    assert {"apps", "policy", "kubeskippy.io"} <= groups
    resources = {r.name for r in core.get_api_resources().resources}
    assert {"pods", "pods/log", "pods/eviction", "configmaps"} <= resources


def test_injected_500s_fire_count_times_then_stop(server, core):
    core.create_namespaced_config_map("default", configmap("a"))
    fault = server.faults.inject(status=500, count=3, verbs=["patch"], path=r"/configmaps/a$")
    for _ in range(3):
        with pytest.raises(ApiException) as caught:
            core.patch_namespaced_config_map("a", "default", {"data": {"x": "1"}})
        assert caught.value.status == 500 and _status(caught.value)["reason"] == "InternalError"
    assert core.patch_namespaced_config_map("a", "default", {"data": {"x": "1"}}).data == {"x": "1"}
    assert fault.hits == 3
    assert [r.status for r in server.requests if r.verb == "patch"] == [500, 500, 500, 200]


def test_a_429_fault_carries_retry_after(server, api_client):
    # on a POST: urllib3 itself would sleep and retry a GET that carries Retry-After
    server.faults.inject(status=429, retry_after=7, verbs=["create"])
    response = api_client.call_api(*api_client.param_serialize("POST", "/api/v1/namespaces/default/configmaps",
                                                                body=configmap("a")))
    assert response.status == 429 and response.headers["Retry-After"] == "7"
    assert json.loads(response.read())["details"]["retryAfterSeconds"] == 7


def test_added_latency_makes_a_client_time_out(server, core):
    server.faults.inject(delay=1.0, count=None, verbs=["get"])  # every attempt: urllib3 retries reads
    with pytest.raises(urllib3.exceptions.HTTPError):
        core.read_namespace("default", _request_timeout=0.2)


def test_a_dropped_connection_is_a_connection_error_for_the_client(server, api_client):
    server.faults.inject(drop=True, count=None, verbs=["list"])
    request = api_client.param_serialize("GET", "/api/v1/namespaces/default/pods")
    with pytest.raises(urllib3.exceptions.HTTPError):
        api_client.call_api(*request)
    server.faults.clear()
    assert api_client.call_api(*request).status == 200


def test_rbac_denies_with_403_and_unknown_tokens_with_401(server):
    server.store.load([pod("p")])
    server.authorize({"remediator": [
        {"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]},
        {"verbs": ["create"], "apiGroups": [""], "resources": ["pods/eviction"]}]})
    with server.api_client(token="remediator") as api:
        core = client.CoreV1Api(api)
        assert core.read_namespaced_pod("p", "default").metadata.name == "p"
        with pytest.raises(ApiException) as denied:
            core.delete_namespaced_pod("p", "default")
        assert denied.value.status == 403
        assert _status(denied.value)["message"] == ('pods "p" is forbidden: User "remediator" cannot delete resource '
                                                    '"pods" in API group "" in the namespace "default"')
        core.create_namespaced_pod_eviction("p", "default", {"apiVersion": "policy/v1", "kind": "Eviction",
                                                             "metadata": {"name": "p"}})
    with server.api_client(token="stranger") as api:
        with pytest.raises(ApiException) as unknown:
            client.CoreV1Api(api).list_namespaced_pod("default")
        assert unknown.value.status == 401
    assert [r.user for r in server.requests][-2:] == ["remediator", None]


def test_rbac_from_manifests_resolves_bindings_for_a_service_account(server):
    docs = [
        {"kind": "Role", "metadata": {"name": "read", "namespace": "apps"},
         "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["a"]}]},
        {"kind": "RoleBinding", "metadata": {"name": "read", "namespace": "apps"},
         "roleRef": {"kind": "Role", "name": "read"},
         "subjects": [{"kind": "ServiceAccount", "name": "detect", "namespace": "kubeskippy"}]},
    ]
    server.store.create(configmap("a", namespace="apps"))
    server.store.create(configmap("b", namespace="apps"))
    server.store.create(configmap("a", namespace="other"))
    server.authorize_manifests(docs)
    with server.api_client(token="system:serviceaccount:kubeskippy:detect") as api:
        core = client.CoreV1Api(api)
        assert core.read_namespaced_config_map("a", "apps").metadata.name == "a"
        for name, ns in (("b", "apps"), ("a", "other")):
            with pytest.raises(ApiException) as denied:
                core.read_namespaced_config_map(name, ns)
            assert denied.value.status == 403


def test_eight_concurrent_clients_do_not_lose_a_write(server):
    server.store.create(configmap("counter", data={"n": "0"}))
    conflicts = []

    def bump(times):
        with server.api_client() as api:
            core = client.CoreV1Api(api)
            for _ in range(times):
                while True:
                    cm = core.read_namespaced_config_map("counter", "default")
                    cm.data["n"] = str(int(cm.data["n"]) + 1)
                    try:
                        core.replace_namespaced_config_map("counter", "default", cm)
                        break
                    except ApiException as err:
                        assert err.status == 409
                        conflicts.append(1)

    threads = [threading.Thread(target=bump, args=(10,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert server.store.get("v1", "ConfigMap", "counter", "default")["data"]["n"] == "80"
    assert len([r for r in server.requests if r.verb == "update" and r.status == 200]) == 80
    assert len([r for r in server.requests if r.verb == "update" and r.status == 409]) == len(conflicts)


def test_watches_end_when_the_server_stops():
    server = DevClusterServer(ObjectStore(ManualClock())).start()
    api = server.api_client()
    received = []

    def watcher():
        try:
            for event in watch.Watch().stream(client.CoreV1Api(api).list_namespaced_config_map, "default",
                                              timeout_seconds=60):
                received.append(event)
        except Exception:  # noqa: BLE001 - a closed connection is the expected end
            pass

    thread = threading.Thread(target=watcher)
    thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    server.stop()
    thread.join(timeout=5)
    api.close()
    assert not thread.is_alive() and time.monotonic() - started < 5


def test_a_watch_whose_client_went_away_ends_on_the_server(server):
    import socket
    from urllib.parse import urlsplit

    def watch_threads() -> int:
        return sum(1 for t in threading.enumerate() if t.is_alive() and t.name.startswith("Thread-")
                   and "process_request_thread" in repr(getattr(t, "_target", "")))

    before = watch_threads()
    url = urlsplit(server.url)
    sock = socket.create_connection((url.hostname, url.port))
    sock.sendall(b"GET /api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=60 HTTP/1.1\r\n"
                 b"Host: x\r\n\r\n")
    assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    assert watch_threads() == before + 1
    sock.close()
    deadline = time.monotonic() + 2.5  # the fixture's watches time out after 5 s
    while watch_threads() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert watch_threads() == before  # within an idle tick (0.5 s), not after the 60 s timeout
