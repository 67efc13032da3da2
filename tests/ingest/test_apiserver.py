"""ApiServerSource events in both modes become ResourceEvents; malformed ones are InvalidInput."""

from __future__ import annotations

import pytest

from kubeskippy.clock import ManualClock
from kubeskippy.errors import APINotFound, InvalidInput, TemporaryError
from kubeskippy.events.cloudevents import CloudEvent, encode, parse_http
from kubeskippy.ingest.apiserver import apiserver_event, apiserver_subject, decode_apiserver_event

T0 = 1_767_225_600.0


def pod(name="web-7d4b9c-x1", namespace="shop", **status) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "uid": "u-1", "resourceVersion": "42",
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d4b9c"}]},
            "status": {"phase": "Running", **status}}


class DictCluster:
    """Only what ref mode needs: get() by identity, counting calls."""

    def __init__(self, *objects: dict, fail: Exception | None = None) -> None:
        self.objects = {(o["apiVersion"], o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]): o
                        for o in objects}
        self.fail = fail
        self.gets: list[tuple] = []

    def get(self, api_version, kind, name, namespace=None):
        self.gets.append((api_version, kind, name, namespace))
        if self.fail:
            raise self.fail
        try:
            obj = dict(self.objects[(api_version, kind, namespace, name)])
        except KeyError:
            raise APINotFound(404, f"{kind} {name} not found") from None
        obj.pop("apiVersion"), obj.pop("kind")  # as some list/get paths return it
        return obj


@pytest.mark.parametrize("verb", ["add", "update", "delete"])
def test_a_resource_mode_event_carries_the_whole_object(verb):
    event = apiserver_event(verb, pod(), time=T0)
    decoded = decode_apiserver_event(event, cluster=None)
    assert (decoded.verb, decoded.obj, decoded.event_id, decoded.time) == (verb, pod(), event["id"], T0)
    assert (decoded.kind, decoded.namespace, decoded.name) == ("Pod", "shop", "web-7d4b9c-x1")


def test_the_builder_produces_the_shape_apiserversource_sends():
    event = apiserver_event("add", pod(), time=T0)
    assert event["type"] == "dev.knative.apiserver.resource.add"
    assert event["source"] == "https://kubernetes.default.svc"
    assert event["subject"] == "/apis/v1/namespaces/shop/pods/web-7d4b9c-x1"
    assert (event["kind"], event["name"], event["namespace"], event["apiversion"]) == ("Pod", "web-7d4b9c-x1", "shop", "v1")
    assert event["id"] == apiserver_event("add", pod(), time=T0 + 5)["id"]  # same change, same id
    assert event["id"] != apiserver_event("update", pod(), time=T0)["id"]


@pytest.mark.parametrize("api_version, kind, namespace, expected", [
    pytest.param("apps/v1", "Deployment", "shop", "/apis/apps/v1/namespaces/shop/deployments/x", id="deployment"),
    pytest.param("events.k8s.io/v1", "Event", "shop", "/apis/events.k8s.io/v1/namespaces/shop/events/x", id="event"),
    pytest.param("v1", "Node", None, "/apis/v1/namespaces//nodes/x", id="node-cluster-scoped"),
    pytest.param("kubeskippy.io/v1alpha1", "HealingAction", "shop",
                 "/apis/kubeskippy.io/v1alpha1/namespaces/shop/healingactions/x", id="healingaction"),
])
def test_subjects_use_the_plural_and_the_apis_prefix_like_the_source(api_version, kind, namespace, expected):
    assert apiserver_subject(api_version, kind, "x", namespace) == expected


def test_a_ref_add_reads_the_object_through_the_cluster_port():
    cluster = DictCluster(pod(phase="Pending"))
    event = apiserver_event("add", pod(), mode="ref", time=T0)
    assert event["type"] == "dev.knative.apiserver.ref.add"
    assert event.get_data() == {"kind": "Pod", "namespace": "shop", "name": "web-7d4b9c-x1", "apiVersion": "v1"}
    decoded = decode_apiserver_event(event, cluster)
    assert cluster.gets == [("v1", "Pod", "web-7d4b9c-x1", "shop")]
    assert decoded.verb == "add"
    assert decoded.obj["status"]["phase"] == "Pending"  # what the cluster holds now
    assert (decoded.obj["apiVersion"], decoded.obj["kind"]) == ("v1", "Pod")


def test_a_ref_delete_yields_a_minimal_object_without_reading():
    cluster = DictCluster()
    decoded = decode_apiserver_event(apiserver_event("delete", pod(), mode="ref", time=T0), cluster)
    assert cluster.gets == []
    assert decoded.verb == "delete"
    assert decoded.obj == {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-7d4b9c-x1", "namespace": "shop"}}


def test_a_ref_update_for_an_object_already_gone_is_reported_as_its_delete():
    decoded = decode_apiserver_event(apiserver_event("update", pod(), mode="ref", time=T0), DictCluster())
    assert decoded.verb == "delete" and decoded.obj["metadata"] == {"name": "web-7d4b9c-x1", "namespace": "shop"}


def test_a_cluster_fault_in_ref_mode_propagates_so_the_event_is_redelivered():
    cluster = DictCluster(fail=TemporaryError("API server unavailable"))
    with pytest.raises(TemporaryError):
        decode_apiserver_event(apiserver_event("add", pod(), mode="ref", time=T0), cluster)


def test_ref_mode_without_a_cluster_is_refused_clearly():
    with pytest.raises(InvalidInput, match="need a Cluster"):
        decode_apiserver_event(apiserver_event("add", pod(), mode="ref", time=T0), cluster=None)


def test_an_event_without_time_is_stamped_by_the_clock():
    event = apiserver_event("add", pod())
    del event["time"]
    assert decode_apiserver_event(event, None, clock=ManualClock(T0 + 7)).time == T0 + 7
    with pytest.raises(InvalidInput) as info:
        decode_apiserver_event(event, None)
    assert info.value.errors[0].path == "time"


@pytest.mark.parametrize("mode", ["binary", "structured"])
def test_events_decode_the_same_after_crossing_http(mode):
    event = apiserver_event("update", pod(), time=T0)
    decoded = decode_apiserver_event(parse_http(*encode(event, mode=mode)), None)
    assert decoded.obj == pod() and decoded.time == T0 and decoded.event_id == event["id"]


def _raw(event_type="dev.knative.apiserver.resource.add", data=None, **ext):
    return CloudEvent({"type": event_type, "source": "https://10.96.0.1:443", "id": "e1",
                       "time": "2026-01-01T00:00:00Z", **ext}, data)


@pytest.mark.parametrize("event, expected", [
    pytest.param(_raw("dev.knative.apiserver.resource.patch", pod()), "type", id="unknown-verb"),
    pytest.param(_raw("io.kubeskippy.finding", pod()), "type", id="not-apiserver"),
    pytest.param(_raw(data=None), "data: required", id="no-data"),
    pytest.param(_raw(data=[pod()]), "data: must be a JSON object", id="list"),
    pytest.param(_raw(data={"apiVersion": "v1", "kind": "Pod"}), "data.metadata: required", id="no-metadata"),
    pytest.param(_raw(data={"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": "a"}}),
                 "data.metadata.name: required", id="no-name"),
    pytest.param(_raw(data={**pod(), "kind": "Secret"}), "data.kind: unsupported kind v1/Secret", id="unsupported"),
    pytest.param(_raw("dev.knative.apiserver.ref.add", {"kind": "Pod", "name": 5, "apiVersion": "v1"}),
                 "data.name: must be a string", id="ref-bad-name"),
    pytest.param(_raw(data=pod(), name="other-pod"), "name: extension says 'other-pod'", id="extension-mismatch"),
])
def test_malformed_events_name_what_is_wrong(event, expected):
    with pytest.raises(InvalidInput) as info:
        decode_apiserver_event(event, DictCluster(pod()))
    assert any(str(e).startswith(expected) for e in info.value.errors), info.value.errors


@pytest.mark.parametrize("obj", [
    {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "web.17a", "namespace": "shop"},
     "reason": "BackOff", "type": "Warning"},
    {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "web.17b", "namespace": "shop"}, "count": 3},
    {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "shop"}},
    {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": "kube-system"}},
    {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"}},
    {"apiVersion": "kubeskippy.io/v1alpha1", "kind": "HealingAction", "metadata": {"name": "h", "namespace": "shop"}},
], ids=lambda o: f"{o['apiVersion']}/{o['kind']}")
def test_every_supported_kind_decodes(obj):
    decoded = decode_apiserver_event(apiserver_event("add", obj, time=T0), None)
    assert decoded.obj == obj
