"""Never make more than a fraction of a workload unavailable at once, counting pods already down."""

from __future__ import annotations

import pytest

from kubeskippy.devcluster import builders as b
from kubeskippy.errors import InvalidInput
from kubeskippy.events.model import ObjectRef
from kubeskippy.safety.blast_radius import (Availability, allowed_unavailable, blast_radius_reason, disrupted_pods,
                                            selector_string, workload_availability)

from .cluster_fixtures import new_cluster, owned, seed_deployment

FRACTION = 0.34


def dep_ref(name: str) -> ObjectRef:
    return ObjectRef(api_version="apps/v1", kind="Deployment", name=name, namespace="prod")


def pod_ref(name: str) -> ObjectRef:
    return ObjectRef(api_version="v1", kind="Pod", name=name, namespace="prod")


@pytest.mark.parametrize("desired, allowed", [(0, 0), (1, 0), (2, 1), (3, 1), (5, 1), (6, 2), (9, 3), (10, 3), (100, 34)])
def test_the_allowance_rounds_down_but_is_at_least_one_pod_from_two_replicas(desired, allowed):
    assert allowed_unavailable(desired, FRACTION) == allowed


def test_availability_is_read_live_through_the_owner_chain():
    cluster = new_cluster()
    seed_deployment(cluster, "web", replicas=3, ready=[True, False, True])
    seed_deployment(cluster, "webhook", replicas=2)  # similar name, different selector: not counted
    stray = b.pod("web-stray", "prod", labels={"app": "web"}, ready=True)  # matches the selector, owned by nobody
    cluster.seed([stray])
    got = workload_availability(cluster, dep_ref("web"))
    assert got == Availability("Deployment/prod/web", 3, ("web-5d8f-0", "web-5d8f-2"), ("web-5d8f-1",))
    assert got.unavailable == 1


def test_restarting_one_pod_of_three_healthy_ones_is_allowed():
    a = Availability("Deployment/prod/web", 3, ("a", "b", "c"), ())
    assert blast_radius_reason(a, ["a"], FRACTION) is None


def test_restarting_a_second_pod_while_one_is_down_is_refused():
    a = Availability("Deployment/prod/web", 3, ("a", "b"), ("c",))
    reason = blast_radius_reason(a, ["a"], FRACTION)
    assert reason == ("Deployment/prod/web: 1 of 3 replicas unavailable now; taking down 1 Ready pod(s) would make "
                      "2 unavailable, over the allowance of 1 (0.34 of replicas)")


def test_acting_on_a_pod_that_is_already_down_is_always_allowed():
    a = Availability("Deployment/prod/web", 3, ("a",), ("b", "c"))
    assert blast_radius_reason(a, ["b"], FRACTION) is None


def test_missing_pods_count_as_unavailable():
    a = Availability("Deployment/prod/web", 3, ("a", "b"), ())  # the third is not even scheduled yet
    assert blast_radius_reason(a, ["a"], FRACTION) is not None


def test_a_single_ready_replica_is_never_disrupted_automatically():
    a = Availability("Deployment/prod/solo", 1, ("solo-0",), ())
    assert "single replica" in blast_radius_reason(a, ["solo-0"], FRACTION)


def test_a_single_replica_whose_pod_is_broken_may_be_restarted():
    a = Availability("Deployment/prod/solo", 1, (), ("solo-0",))
    assert blast_radius_reason(a, ["solo-0"], FRACTION) is None


def test_two_of_six_may_go_at_once_but_not_three():
    a = Availability("Deployment/prod/big", 6, tuple("abcdef"), ())
    assert blast_radius_reason(a, ["a", "b"], FRACTION) is None
    assert blast_radius_reason(a, ["a", "b", "c"], FRACTION) is not None


@pytest.mark.parametrize("action, strategy, target, expected", [
    ("restart", "rolling", "deployment", ()),
    ("restart", "graceful", "deployment", ()),
    ("restart", "recreate", "deployment", ("a", "b", "c")),
    ("delete", "rolling", "deployment", ("a", "b", "c")),
    ("patch", "rolling", "deployment", ()),
    ("scale", "rolling", "deployment", ()),
    ("restart", "rolling", "pod", ("a",)),
    ("delete", "rolling", "pod", ("a",)),
    ("patch", "rolling", "pod", ()),
])
def test_which_pods_an_action_takes_down(action, strategy, target, expected):
    a = Availability("Deployment/prod/web", 3, ("a", "b"), ("c",))
    ref = dep_ref("web") if target == "deployment" else pod_ref("a")
    assert disrupted_pods(action, ref, a, restart_strategy=strategy) == expected


def test_a_recreate_restart_of_a_healthy_deployment_is_refused_end_to_end():
    cluster = new_cluster()
    seed_deployment(cluster, "web", replicas=3)
    a = workload_availability(cluster, dep_ref("web"))
    assert blast_radius_reason(a, disrupted_pods("restart", dep_ref("web"), a, restart_strategy="recreate"),
                               FRACTION) is not None
    assert blast_radius_reason(a, disrupted_pods("restart", pod_ref("web-5d8f-0"), a), FRACTION) is None


def test_statefulset_pods_are_found_by_direct_ownership():
    cluster = new_cluster()
    [sts] = cluster.seed([b.statefulset("kafka", "prod", replicas=2)])
    cluster.seed([owned(b.pod(f"kafka-{i}", "prod", labels={"app": "kafka"}, ready=True), sts) for i in range(2)])
    a = workload_availability(cluster, ObjectRef(api_version="apps/v1", kind="StatefulSet", name="kafka",
                                                 namespace="prod"))
    assert (a.desired, a.ready_pods) == (2, ("kafka-0", "kafka-1"))


def test_a_bare_pod_is_its_own_single_replica_workload():
    cluster = new_cluster()
    cluster.seed([b.pod("lonely", "prod", ready=True)])
    a = workload_availability(cluster, pod_ref("lonely"))
    assert (a.desired, a.ready_pods) == (1, ("lonely",))


def test_a_terminating_pod_is_not_ready():
    cluster = new_cluster()
    pod = b.pod("dying", "prod", ready=True)
    pod["metadata"]["deletionTimestamp"] = "2023-11-14T22:13:20Z"
    pod["metadata"]["finalizers"] = ["example.com/hold"]
    cluster.seed([pod])
    assert workload_availability(cluster, pod_ref("dying")).ready_pods == ()


def test_kinds_without_replicas_are_rejected_by_field():
    with pytest.raises(InvalidInput, match="workload.kind"):
        workload_availability(new_cluster(), ObjectRef(api_version="v1", kind="Node", name="n1"))


def test_selectors_become_list_query_strings():
    selector = {"matchLabels": {"app": "web", "tier": "fe"},
                "matchExpressions": [{"key": "env", "operator": "In", "values": ["a", "b"]},
                                     {"key": "canary", "operator": "DoesNotExist"},
                                     {"key": "zone", "operator": "NotIn", "values": ["x"]},
                                     {"key": "team", "operator": "Exists"}]}
    assert selector_string(selector) == "app=web,tier=fe,env in (a,b),!canary,zone notin (x),team"
