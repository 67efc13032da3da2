from kubeskippy.detect.reading import ObjectReader

from .builders import deployment_with_pods, owner, pod, workload
from .fakes import FakeCluster


def names(chain):
    return [(o["kind"], o["metadata"]["name"]) for o in chain]


def test_pod_replicaset_deployment_chain_nearest_first():
    objs = deployment_with_pods("web", 1)
    reader = ObjectReader(FakeCluster(objs))
    assert names(reader.owner_chain(objs[2])) == [("ReplicaSet", "web-abc"), ("Deployment", "web")]


def test_a_missing_owner_ends_the_chain():
    objs = deployment_with_pods("web", 1)
    reader = ObjectReader(FakeCluster(objs[1:]))  # the Deployment is gone
    assert names(reader.owner_chain(objs[2])) == [("ReplicaSet", "web-abc")]


def test_an_owner_recreated_under_the_same_name_ends_the_chain():
    p = pod("web-1", owners=[owner("ReplicaSet", "web-abc", uid="old-uid")])
    reader = ObjectReader(FakeCluster([workload("ReplicaSet", "web-abc", uid="new-uid")]))
    assert reader.owner_chain(p) == []


def test_statefulset_daemonset_and_job_owners_are_followed():
    cluster = FakeCluster([workload("StatefulSet", "db"), workload("DaemonSet", "agent"), workload("Job", "batch")])
    reader = ObjectReader(cluster)
    for kind, name, api in (("StatefulSet", "db", "apps/v1"), ("DaemonSet", "agent", "apps/v1"),
                            ("Job", "batch", "batch/v1")):
        p = pod(f"{name}-0", owners=[owner(kind, name, api_version=api)])
        assert names(reader.owner_chain(p)) == [(kind, name)]


def test_owners_of_kinds_we_do_not_follow_end_the_chain_without_a_read():
    cluster = FakeCluster([workload("Job", "nightly-1", owners=[owner("CronJob", "nightly", api_version="batch/v1")])])
    reader = ObjectReader(cluster)
    p = pod("nightly-1-x", owners=[owner("Job", "nightly-1", api_version="batch/v1")])
    assert names(reader.owner_chain(p)) == [("Job", "nightly-1")]
    assert [c[1] for c in cluster.calls] == ["Job"]


def test_the_controller_reference_wins_over_other_owners():
    p = pod("x", owners=[{**owner("StatefulSet", "other"), "controller": False}, owner("ReplicaSet", "web-abc")])
    reader = ObjectReader(FakeCluster([workload("ReplicaSet", "web-abc"), workload("StatefulSet", "other")]))
    assert names(reader.owner_chain(p)) == [("ReplicaSet", "web-abc")]


def test_a_reference_cycle_stops():
    a = workload("ReplicaSet", "a", owners=[owner("ReplicaSet", "b")])
    b = workload("ReplicaSet", "b", owners=[owner("ReplicaSet", "a")])
    reader = ObjectReader(FakeCluster([a, b]))
    assert names(reader.owner_chain(a)) == [("ReplicaSet", "b")]


def test_owner_lookups_are_cached_within_one_reader():
    objs = deployment_with_pods("web", 3)
    cluster = FakeCluster(objs)
    reader = ObjectReader(cluster)
    for p in objs[2:]:
        reader.owner_chain(p)
    assert reader.reads == 2
    assert sorted(c[1] for c in cluster.calls) == ["Deployment", "ReplicaSet"]


def test_a_complete_listing_answers_absent_objects_without_a_read():
    cluster = FakeCluster([pod("a")])
    reader = ObjectReader(cluster)
    reader.list("v1", "Pod", "default")
    assert reader.get("v1", "Pod", "gone", "default") is None
    assert reader.get("v1", "Pod", "a", "default") is not None
    assert reader.reads == 1


class RecordingFanout:
    """Runs the calls in order, remembering each batch (what a thread fan-out would run at once)."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def __call__(self, calls):
        self.batches.append(len(calls))
        return [call() for call in calls]


def hashed_pod(name: str, rs: str, template_hash: str) -> dict:
    return pod(name, labels={"pod-template-hash": template_hash}, owners=[owner("ReplicaSet", rs)])


def test_with_a_fanout_a_pods_replicaset_and_its_likely_deployment_are_read_in_one_batch():
    cluster = FakeCluster([workload("ReplicaSet", "web-5d8f", owners=[owner("Deployment", "web")]),
                           workload("Deployment", "web")])
    fanout = RecordingFanout()
    reader = ObjectReader(cluster, fanout)
    chain = reader.owner_chain(hashed_pod("web-5d8f-x1", "web-5d8f", "5d8f"))
    assert names(chain) == [("ReplicaSet", "web-5d8f"), ("Deployment", "web")]
    assert fanout.batches == [2]
    assert len(cluster.calls) == 2 and reader.reads == 2


def test_a_wrong_deployment_guess_costs_one_read_and_the_real_owner_is_followed():
    cluster = FakeCluster([workload("ReplicaSet", "web-5d8f", owners=[owner("Deployment", "frontend")]),
                           workload("Deployment", "frontend"), workload("Deployment", "web")])
    reader = ObjectReader(cluster, RecordingFanout())
    chain = reader.owner_chain(hashed_pod("web-5d8f-x1", "web-5d8f", "5d8f"))
    assert names(chain) == [("ReplicaSet", "web-5d8f"), ("Deployment", "frontend")]
    assert len(cluster.calls) == 3


def test_no_guess_is_made_when_the_replicaset_name_does_not_carry_the_pods_template_hash():
    cluster = FakeCluster([workload("ReplicaSet", "custom-rs")])
    fanout = RecordingFanout()
    reader = ObjectReader(cluster, fanout)
    assert names(reader.owner_chain(hashed_pod("p", "custom-rs", "5d8f"))) == [("ReplicaSet", "custom-rs")]
    assert fanout.batches == [] and len(cluster.calls) == 1
