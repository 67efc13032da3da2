"""ConfigMapStore: compare-and-swap on ConfigMaps, against the devcluster in memory and over HTTP."""

from __future__ import annotations

import threading

import pytest

from kubeskippy.adapters.configmap_store import MANAGED_BY_LABEL, ConfigMapStore
from kubeskippy.clock import ManualClock
from kubeskippy.devcluster import MemoryCluster, ObjectStore
from kubeskippy.errors import APIConflict, APINotFound, InvalidInput
from kubeskippy.ports import VersionedStore


@pytest.fixture
def cluster() -> MemoryCluster:
    return MemoryCluster(ObjectStore(ManualClock(), seed=17))


@pytest.fixture
def store(cluster) -> ConfigMapStore:
    return ConfigMapStore(cluster, "kubeskippy")


def test_the_store_satisfies_the_versioned_store_port(store):
    assert isinstance(store, VersionedStore)


def test_read_of_a_missing_record_is_none(store):
    assert store.read("leases") is None


def test_create_then_read_returns_data_and_the_resource_version(store, cluster):
    created = store.create("leases", {"web": "holder-a"})
    assert created.name == "leases" and created.data == {"web": "holder-a"}
    cm = cluster.get("v1", "ConfigMap", "kubeskippy-safety-leases", "kubeskippy")
    assert created.version == cm["metadata"]["resourceVersion"]
    assert cm["metadata"]["labels"] == {MANAGED_BY_LABEL: "kubeskippy"}
    assert store.read("leases") == created


def test_creating_an_existing_record_is_a_conflict(store):
    store.create("leases", {})
    with pytest.raises(APIConflict):
        store.create("leases", {"x": "y"})


def test_replace_with_the_version_read_succeeds_and_a_stale_version_conflicts(store):
    v1 = store.create("counts", {"n": "1"})
    v2 = store.replace("counts", {"n": "2"}, v1.version)
    assert v2.data == {"n": "2"} and v2.version != v1.version
    with pytest.raises(APIConflict):
        store.replace("counts", {"n": "3"}, v1.version)
    assert store.read("counts").data == {"n": "2"}


def test_replace_of_a_deleted_record_is_not_found(store, cluster):
    v1 = store.create("counts", {})
    cluster.delete("v1", "ConfigMap", "kubeskippy-safety-counts", "kubeskippy")
    with pytest.raises(APINotFound):
        store.replace("counts", {}, v1.version)


def test_two_writers_racing_one_loses_with_409_then_wins_after_rereading(store):
    store.create("rate", {"count": "0"})
    writer_a = store.read("rate")
    writer_b = store.read("rate")
    store.replace("rate", {"count": str(int(writer_b.data["count"]) + 1)}, writer_b.version)
    with pytest.raises(APIConflict):
        store.replace("rate", {"count": str(int(writer_a.data["count"]) + 1)}, writer_a.version)
    again = store.read("rate")
    store.replace("rate", {"count": str(int(again.data["count"]) + 1)}, again.version)
    assert store.read("rate").data == {"count": "2"}


@pytest.mark.parametrize(("name", "data", "path"), [
    pytest.param("Bad_Name", {}, "name", id="uppercase-name"),
    pytest.param("", {}, "name", id="empty-name"),
    pytest.param("ok", {"bad key": "v"}, "data['bad key']", id="bad-key"),
    pytest.param("ok", {"k": 1}, "data['k']", id="non-string-value"),
])
def test_bad_names_and_data_are_invalid_input_naming_the_field(store, name, data, path):
    with pytest.raises(InvalidInput) as caught:
        store.create(name, data)
    assert caught.value.errors[0].path == path


def test_a_record_over_the_configmap_size_limit_is_refused_by_the_api(store):
    from kubeskippy.errors import APIError

    with pytest.raises(APIError) as caught:
        store.create("big", {"blob": "x" * (1024 * 1024)})
    assert caught.value.status == 422


@pytest.mark.slow
def test_four_writers_racing_over_http_lose_no_increment():
    from kubeskippy.adapters.kubernetes import KubernetesCluster
    from kubeskippy.devcluster.server import DevClusterServer

    with DevClusterServer(ObjectStore(ManualClock())) as server:
        setup_client = server.api_client()
        ConfigMapStore(KubernetesCluster(setup_client), "kubeskippy").create("counter", {"n": "0"})
        conflicts: list[int] = []

        def writer() -> None:
            with server.api_client() as api:
                store = ConfigMapStore(KubernetesCluster(api), "kubeskippy")
                for _ in range(15):
                    while True:
                        current = store.read("counter")
                        try:
                            store.replace("counter", {"n": str(int(current.data["n"]) + 1)}, current.version)
                            break
                        except APIConflict:
                            conflicts.append(1)

        threads = [threading.Thread(target=writer) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        final = ConfigMapStore(KubernetesCluster(setup_client), "kubeskippy").read("counter")
        setup_client.close()
        updates = [r for r in server.requests if r.verb == "update"]
    assert final.data == {"n": "60"}
    assert len([r for r in updates if r.status == 200]) == 60
    assert len([r for r in updates if r.status == 409]) == len(conflicts)
