import pytest

from kubeskippy.clock import ManualClock
from kubeskippy.detect import Detector
from kubeskippy.detect.builtin_metrics import BUILTIN_METRICS

from .builders import (T0, condition, condition_trigger, container, deployment_with_pods, event_trigger, event_v1,
                       make_policy, metric_trigger, node, pod)
from .fakes import FakeCluster, FakeMetrics

DEPLOY = [{"apiVersion": "apps/v1", "kind": "Deployment"}]
MEM_ALL = BUILTIN_METRICS["memory_usage_percent"].promql()


def hot(metrics, promql, pod_name, namespace="default", value=95.0, seconds=120):
    metrics.add_series(promql, {"namespace": namespace, "pod": pod_name},
                       [(T0 - seconds + i, value) for i in range(seconds + 1)])


def setup(policies, objects, clock=None):
    cluster, metrics = FakeCluster(objects), FakeMetrics()
    det = Detector(policies, cluster=cluster, metrics=metrics, clock=clock or ManualClock(T0))
    return det, cluster, metrics


def test_three_breaching_pods_of_one_deployment_are_one_finding_with_three_evidences():
    objs = deployment_with_pods("web", 3) + deployment_with_pods("api", 1)
    det, _, metrics = setup([make_policy(resources=DEPLOY, triggers=[metric_trigger()])], objs)
    for name in ("web-abc-2", "web-abc-0", "web-abc-1", "api-abc-0"):
        hot(metrics, MEM_ALL, name)
    findings = det.sweep()
    assert [str(f.workload) for f in findings] == ["Deployment/default/api", "Deployment/default/web"]
    web = findings[1]
    assert str(web.target) == "Pod/default/web-abc-0"
    assert [e.details["target"] for e in web.evidence] == [f"Pod/default/web-abc-{i}" for i in range(3)]
    assert all(e.kind == "metric" and e.value == 95.0 and e.threshold == 85 and e.since == T0 - 120
               for e in web.evidence)


def test_builtin_metrics_are_queried_as_their_promql_restricted_to_the_policy_namespaces():
    det, _, metrics = setup([make_policy(namespaces=["team-b", "team-a"], triggers=[metric_trigger()])], [])
    det.sweep()
    [call] = metrics.calls
    assert call[0] == "query_range" and call[1] == BUILTIN_METRICS["memory_usage_percent"].promql(["team-a", "team-b"])
    assert 'namespace=~"team-a|team-b"' in call[1]
    assert call[2:] == (T0 - 120, T0, 12.0)


def test_any_other_query_is_evaluated_as_promql_unchanged():
    q = 'sum by (namespace, pod) (rate(app_errors_total[1m]))'
    det, _, metrics = setup([make_policy(triggers=[metric_trigger(query=f"  {q} ", threshold=1)])], [pod("a")])
    hot(metrics, q, "a")
    assert len(det.sweep()) == 1
    assert metrics.calls[0][1] == q


def test_one_query_serves_every_policy_with_the_same_trigger():
    trig = [metric_trigger()]
    det, _, metrics = setup([make_policy("a", triggers=trig), make_policy("b", triggers=trig)], [pod("x")])
    hot(metrics, MEM_ALL, "x")
    assert [f.policy for f in det.sweep()] == ["default/a", "default/b"]
    assert len(metrics.calls) == 1


def test_series_of_deleted_or_deleting_pods_yield_nothing():
    det, _, metrics = setup([make_policy(triggers=[metric_trigger()])], [pod("deleting", deleting=True)])
    hot(metrics, MEM_ALL, "gone")
    hot(metrics, MEM_ALL, "deleting")
    assert det.sweep() == []


def test_series_of_excluded_or_unselected_pods_yield_nothing():
    policy = make_policy(resources=[{"apiVersion": "v1", "kind": "Pod", "excludeNames": ["batch-*"]}],
                         match_labels={"app": "web"}, triggers=[metric_trigger()])
    det, _, metrics = setup([policy], [pod("batch-1", labels={"app": "web"}), pod("other", labels={"app": "x"}),
                                       pod("web-1", labels={"app": "web"})])
    for name in ("batch-1", "other", "web-1"):
        hot(metrics, MEM_ALL, name)
    assert [str(f.target) for f in det.sweep()] == ["Pod/default/web-1"]


def test_series_that_name_no_object_yield_nothing():
    det, _, metrics = setup([make_policy(triggers=[metric_trigger(query="cluster_wide", threshold=1)])], [pod("a")])
    metrics.add_series("cluster_wide", {"job": "kubelet"}, [(T0 - 120 + i, 5.0) for i in range(121)])
    assert det.sweep() == []


def test_a_pod_with_neither_limits_nor_requests_has_no_series_and_no_finding():
    # The built-in PromQL yields no series for such a pod (verified against Prometheus in
    # test_builtin_metrics_promql.py); the Detector must not invent one.
    det, _, metrics = setup([make_policy(triggers=[metric_trigger()])], [pod("unbounded")])
    assert det.sweep() == []


def test_deployment_label_series_map_to_the_deployment():
    q = "kube_deployment_status_replicas_unavailable"
    objs = deployment_with_pods("web", 1)
    det, _, metrics = setup([make_policy(resources=DEPLOY, triggers=[metric_trigger(query=q, threshold=0)])], objs)
    metrics.add_series(q, {"namespace": "default", "deployment": "web"}, [(T0 - 120 + i, 1.0) for i in range(121)])
    [f] = det.sweep()
    assert str(f.target) == "Deployment/default/web" and f.owner_chain == []


def test_sweep_finding_ids_are_stable_within_a_bucket_and_change_across_buckets():
    clock = ManualClock(T0)
    det, _, metrics = setup([make_policy(triggers=[metric_trigger(duration="0s")])], [pod("a")], clock)
    metrics.add_series(MEM_ALL, {"namespace": "default", "pod": "a"}, [(T0 - 1, 99.0)])
    first = det.sweep()[0]
    clock.advance(39)  # T0 is 20 s into its minute: the bucket ends at T0 + 40
    assert det.sweep()[0].id == first.id
    clock.advance(1)
    later = det.sweep()[0]
    assert later.id != first.id and later.fingerprint == first.fingerprint
    assert first.source_event_id == "sweep:1699999980"


def test_sweep_evaluates_conditions_of_listed_pods_and_dedups_by_deployment():
    crash = dict(conditions=[condition("ContainersReady", "False", T0 - 600)],
                 containers=[container(ready=False, waiting="CrashLoopBackOff")])
    objs = deployment_with_pods("web", 3, **crash) + [pod("healthy")]
    det, cluster, _ = setup([make_policy(resources=DEPLOY,
                                         triggers=[condition_trigger("crash", "CrashLoopBackOff", "True", "5m")])],
                            objs)
    [f] = det.sweep()
    assert str(f.target) == "Pod/default/web-abc-0" and len(f.evidence) == 3
    assert not [c for c in cluster.calls if c[0] == "get"], "owners come from the listing"


def test_sweep_sums_listed_events_per_involved_object():
    p, q = pod("a"), pod("b")
    objs = [p, q,
            event_v1("a.1", "default", p, "BackOff", count=2, first=T0 - 100, last=T0 - 10),
            event_v1("a.2", "default", p, "Unhealthy", count=2, first=T0 - 100, last=T0 - 10),
            event_v1("b.1", "default", q, "BackOff", count=3, first=T0 - 100, last=T0 - 10)]
    det, _, _ = setup([make_policy(triggers=[event_trigger(reason="BackOff|Unhealthy", count=4)])], objs)
    [f] = det.sweep()
    assert str(f.target) == "Pod/default/a" and f.evidence[0].value == 4


def test_sweep_namespaces_restrict_listing_and_leave_out_nodes():
    objs = [pod("a", "team-a", containers=[container(ready=False, waiting="CrashLoopBackOff")]),
            pod("b", "team-b", containers=[container(ready=False, waiting="CrashLoopBackOff")]),
            node("n1", conditions=[condition("MemoryPressure", "True", T0 - 999)])]
    policies = [make_policy("pods", triggers=[condition_trigger("c", "CrashLoopBackOff", "True", "0s")]),
                make_policy("nodes", resources=[{"apiVersion": "v1", "kind": "Node"}],
                            triggers=[condition_trigger("p", "MemoryPressure", "True", "1m")])]
    det, cluster, _ = setup(policies, objs)
    assert [str(f.target) for f in det.sweep(["team-a"])] == ["Pod/team-a/a"]
    assert all(c[2] == "team-a" for c in cluster.calls)
    assert sorted(str(f.target) for f in det.sweep()) == ["Node/n1", "Pod/team-a/a", "Pod/team-b/b"]


def test_namespaced_policies_list_only_their_namespaces():
    det, cluster, _ = setup([make_policy(namespaces=["x", "y"], triggers=[condition_trigger()])], [])
    det.sweep()
    assert sorted({c[2] for c in cluster.calls}) == ["x", "y"]


def test_without_a_metrics_port_metric_triggers_are_skipped():
    det = Detector([make_policy(triggers=[metric_trigger()])], cluster=FakeCluster([pod("a")]), metrics=None,
                   clock=ManualClock(T0))
    assert det.sweep() == []


@pytest.mark.parametrize("seconds, expected", [(119, 0), (120, 1)])
def test_metric_duration_just_short_and_just_met_through_the_detector(seconds, expected):
    det, _, metrics = setup([make_policy(triggers=[metric_trigger(duration="2m")])], [pod("a")])
    hot(metrics, MEM_ALL, "a", seconds=seconds)
    assert len(det.sweep()) == expected


def test_a_failing_metrics_query_skips_that_trigger_but_keeps_the_other_findings(caplog):
    from kubeskippy.errors import TemporaryError

    class Down(FakeMetrics):
        def query_range(self, promql, start, end, step):
            raise TemporaryError("prometheus unreachable")

    crashing = pod("a", containers=[container(ready=False, waiting="CrashLoopBackOff")])
    det = Detector([make_policy(triggers=[metric_trigger(), condition_trigger("c", "CrashLoopBackOff", "True", "0s")])],
                   cluster=FakeCluster([crashing]), metrics=Down(), clock=ManualClock(T0))
    assert [f.trigger for f in det.sweep()] == ["c"]
    assert "metric trigger mem of default/heal not evaluated this sweep" in caplog.text


def test_cluster_faults_propagate_so_the_caller_can_retry():
    from kubeskippy.errors import TemporaryError

    class Flaky(FakeCluster):
        def list(self, *args, **kwargs):
            raise TemporaryError("api server down")

    det = Detector([make_policy(triggers=[condition_trigger()])], cluster=Flaky(), metrics=None,
                   clock=ManualClock(T0))
    with pytest.raises(TemporaryError):
        det.sweep()
