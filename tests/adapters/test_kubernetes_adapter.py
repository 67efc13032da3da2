"""KubernetesCluster (the production Cluster port) against the devcluster over real HTTP."""

from __future__ import annotations

import socket

import pytest
import yaml
from kubernetes import client

from kubeskippy.adapters.kubernetes import KubernetesCluster
from kubeskippy.clock import ManualClock
from kubeskippy.devcluster import ObjectStore
from kubeskippy.devcluster.builders import configmap, container, deployment, healing_policy, pdb, pod
from kubeskippy.devcluster.server import DevClusterServer
from kubeskippy.errors import (
    APIConflict,
    APIError,
    APINotFound,
    APITooManyRequests,
    InvalidInput,
    TemporaryError,
)
from kubeskippy.ports import Cluster

pytestmark = pytest.mark.slow


@pytest.fixture
def server():
    with DevClusterServer(ObjectStore(ManualClock(1_700_000_000), seed=13)) as srv:
        yield srv


@pytest.fixture
def cluster(server):
    api = server.api_client()
    yield KubernetesCluster(api, request_timeout=(2.0, 5.0))
    api.close()


def test_the_adapter_satisfies_the_cluster_port(cluster):
    assert isinstance(cluster, Cluster)


def test_create_get_list_replace_and_delete_round_trip_plain_dicts(cluster):
    created = cluster.create(configmap("a", data={"k": "1"}, labels={"team": "x"}))
    assert created["metadata"]["resourceVersion"] and created["kind"] == "ConfigMap"
    fetched = cluster.get("v1", "ConfigMap", "a", "default")
    assert fetched == created
    listed = cluster.list("v1", "ConfigMap", "default", label_selector="team in (x, y)")
    assert [o["metadata"]["name"] for o in listed] == ["a"]
    assert listed[0]["apiVersion"] == "v1" and listed[0]["kind"] == "ConfigMap"  # filled in for list items
    fetched["data"]["k"] = "2"
    assert cluster.replace(fetched)["data"] == {"k": "2"}
    assert cluster.delete("v1", "ConfigMap", "a", "default") is None
    with pytest.raises(APINotFound):
        cluster.get("v1", "ConfigMap", "a", "default")


def test_api_errors_map_to_the_kubeskippy_tree_with_the_status_as_payload_and_the_cause_chained(cluster):
    first = cluster.create(configmap("a"))
    with pytest.raises(APIConflict) as exists:
        cluster.create(configmap("a"))
    assert exists.value.payload["reason"] == "AlreadyExists"
    assert isinstance(exists.value.__cause__, client.ApiException)
    cluster.patch("v1", "ConfigMap", "a", "default", {"data": {"x": "1"}})
    with pytest.raises(APIConflict) as stale:
        cluster.replace(first)
    assert stale.value.payload["reason"] == "Conflict" and stale.value.status == 409
    with pytest.raises(APINotFound) as missing:
        cluster.get("apps/v1", "Deployment", "ghost", "default")
    assert 'deployments.apps "ghost" not found' in str(missing.value)


def test_the_three_patch_types_and_dry_run(cluster):
    cluster.create(deployment("web", containers=[container("app"), container("side")]))
    out = cluster.patch("apps/v1", "Deployment", "web", "default",
                        {"spec": {"template": {"spec": {"containers": [{"name": "side", "$patch": "delete"}]}}}},
                        patch_type="strategic")
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == ["app"]
    out = cluster.patch("apps/v1", "Deployment", "web", "default", {"metadata": {"labels": {"a": "b"}}})
    assert out["metadata"]["labels"]["a"] == "b"
    out = cluster.patch("apps/v1", "Deployment", "web", "default",
                        [{"op": "replace", "path": "/spec/replicas", "value": 3}], patch_type="json")
    assert out["spec"]["replicas"] == 3
    dry = cluster.patch("apps/v1", "Deployment", "web", "default", {"spec": {"replicas": 9}}, dry_run=True)
    assert dry["spec"]["replicas"] == 9
    assert cluster.get("apps/v1", "Deployment", "web", "default")["spec"]["replicas"] == 3
    with pytest.raises(InvalidInput):
        cluster.patch("apps/v1", "Deployment", "web", "default", {"spec": {}}, patch_type="json")


def test_status_and_scale_subresources(cluster):
    cluster.create(deployment("web", replicas=2))
    out = cluster.patch("apps/v1", "Deployment", "web", "default", {"status": {"readyReplicas": 2}},
                        subresource="status")
    assert out["status"] == {"readyReplicas": 2}
    scale = cluster.patch("apps/v1", "Deployment", "web", "default", {"spec": {"replicas": 4}}, subresource="scale")
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 4
    parent = cluster.get("apps/v1", "Deployment", "web", "default")
    parent["spec"]["replicas"] = 1
    assert cluster.replace(parent, subresource="scale")["spec"]["replicas"] == 1
    with pytest.raises(APIConflict):
        cluster.replace(parent, subresource="scale")  # the parent's resourceVersion is now stale


def test_custom_resources_go_through_the_same_generic_path(cluster):
    cluster.create(healing_policy("p"))
    got = cluster.patch("kubeskippy.io/v1alpha1", "HealingPolicy", "p", "default", {"status": {"phase": "Active"}},
                        subresource="status")
    assert got["status"] == {"phase": "Active"}
    with pytest.raises(APIError) as caught:
        cluster.patch("kubeskippy.io/v1alpha1", "HealingPolicy", "p", "default", {"spec": {}}, patch_type="strategic")
    assert caught.value.status == 415


def test_eviction_429_and_success_and_delete_options(server, cluster):
    server.store.load([pod(f"web-{i}", labels={"app": "web"}, node="n1", phase="Running", ready=True)
                       for i in range(2)])
    cluster.create(pdb("web", match_labels={"app": "web"}, min_available=2))
    with pytest.raises(APITooManyRequests) as blocked:
        cluster.evict("web-0", "default")
    assert blocked.value.payload["details"]["causes"][0]["reason"] == "DisruptionBudget"
    cluster.delete("policy/v1", "PodDisruptionBudget", "web", "default")
    cluster.evict("web-0", "default", dry_run=True)
    assert cluster.get("v1", "Pod", "web-0", "default")
    cluster.evict("web-0", "default", grace_period_seconds=0)
    with pytest.raises(APINotFound):
        cluster.get("v1", "Pod", "web-0", "default")
    cluster.delete("v1", "Pod", "web-1", "default", grace_period_seconds=0, propagation_policy="Background",
                   dry_run=True)
    assert cluster.get("v1", "Pod", "web-1", "default")


def test_logs_are_text_with_tail_and_container(server, cluster):
    server.store.load([pod("p", containers=[container("app"), container("side")])])
    server.store.set_log("default", "p", "x\ny\nz\n", container="side")
    assert cluster.logs("p", "default", container="side", tail_lines=1) == "z\n"
    with pytest.raises(APIError) as caught:
        cluster.logs("p", "default")
    assert caught.value.status == 400


def test_server_errors_and_retry_after_become_temporary_errors_with_a_delay(server, cluster):
    server.faults.inject(status=503, retry_after=2, verbs=["patch"])
    cluster.create(configmap("a"))
    with pytest.raises(APIError) as caught:
        cluster.patch("v1", "ConfigMap", "a", "default", {"data": {"x": "1"}})
    assert isinstance(caught.value, TemporaryError)
    assert caught.value.status == 503 and caught.value.delay == 2.0
    server.faults.inject(status=500, verbs=["create"])
    with pytest.raises(APIError) as internal:
        cluster.create(configmap("b"))
    assert internal.value.status == 500 and internal.value.payload["reason"] == "InternalError"


def test_timeouts_and_refused_connections_are_temporary_errors(server, cluster):
    server.faults.inject(delay=1.5, count=None, verbs=["get"])
    slow = KubernetesCluster(cluster.api_client, request_timeout=0.2)
    with pytest.raises(TemporaryError) as timed_out:
        slow.get("v1", "ConfigMap", "a", "default")
    assert not isinstance(timed_out.value, APIError) and timed_out.value.__cause__ is not None
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    config = client.Configuration()
    config.host = f"http://127.0.0.1:{dead_port}"
    config.retries = False
    with client.ApiClient(config) as api:
        with pytest.raises(TemporaryError):
            KubernetesCluster(api).list("v1", "Pod", "default")


def test_bad_input_is_rejected_before_any_request(server, cluster):
    with pytest.raises(InvalidInput) as unknown:
        cluster.get("example.com/v1", "Widget", "w", "default")
    assert unknown.value.errors[0].path == "kind"
    with pytest.raises(InvalidInput) as no_ns:
        cluster.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}})
    assert no_ns.value.errors[0].path == "metadata.namespace"
    with pytest.raises(InvalidInput):
        cluster.get("v1", "Pod", "p")  # a namespaced object needs its namespace
    assert server.requests == []


def test_bearer_tokens_from_the_configuration_reach_the_server(server):
    server.authorize({"reader": [{"verbs": ["list"], "apiGroups": [""], "resources": ["pods"]}]})
    with server.api_client(token="reader") as api:
        assert KubernetesCluster(api).list("v1", "Pod", "default") == []
        with pytest.raises(APIError) as denied:
            KubernetesCluster(api).get("v1", "Pod", "p", "default")
        assert denied.value.status == 403


def test_from_environment_reads_a_kubeconfig_when_not_in_a_pod(server, tmp_path, monkeypatch):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "dev",
        "clusters": [{"name": "dev", "cluster": {"server": server.url}}],
        "users": [{"name": "dev", "user": {"token": "dev-token"}}],
        "contexts": [{"name": "dev", "context": {"cluster": "dev", "user": "dev", "namespace": "default"}}]}))
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    server.authorize({"dev": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]},
                     tokens={"dev-token": "dev"})
    cluster = KubernetesCluster.from_environment()
    try:
        cluster.create(configmap("hello"))
        assert [o["metadata"]["name"] for o in cluster.list("v1", "ConfigMap", "default")] == ["hello"]
    finally:
        cluster.api_client.close()
    assert server.requests[-1].user == "dev"
