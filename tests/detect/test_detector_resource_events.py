import pytest

from kubeskippy.clock import ManualClock
from kubeskippy.detect import Detector, fingerprint_for
from kubeskippy.errors import InvalidInput
from kubeskippy.events.model import ObjectRef
from kubeskippy.ingest.model import ResourceEvent

from .builders import (T0, condition, condition_trigger, container, deployment_with_pods, event_new, event_trigger,
                       event_v1, make_policy, node, pod, workload)
from .fakes import FakeCluster

DEPLOY = [{"apiVersion": "apps/v1", "kind": "Deployment"}]


def detector(policies, objects=(), **kwargs):
    cluster = FakeCluster(objects)
    return Detector(policies, cluster=cluster, metrics=None, clock=ManualClock(T0), **kwargs), cluster


def observe(det, obj, verb="update", event_id="ce-1"):
    return det.on_resource_event(ResourceEvent(verb=verb, obj=obj, event_id=event_id, time=T0))


def crashlooping(**kwargs):
    return dict(conditions=[condition("ContainersReady", "False", T0 - 600)],
                containers=[container(ready=False, waiting="CrashLoopBackOff")], **kwargs)


# -- condition triggers on pods ----------------------------------------------------------------

def test_a_crash_looping_pod_of_a_deployment_yields_one_finding_with_its_owner_chain():
    objs = deployment_with_pods("web", 1, **crashlooping())
    policy = make_policy(resources=DEPLOY, triggers=[condition_trigger("crash", "CrashLoopBackOff", "True", "5m")])
    det, _ = detector([policy], objs)
    [finding] = observe(det, objs[2])
    assert finding.policy == "default/heal" and finding.trigger == "crash" and finding.trigger_type == "condition"
    assert str(finding.target) == "Pod/default/web-abc-0"
    assert [str(o) for o in finding.owner_chain] == ["ReplicaSet/default/web-abc", "Deployment/default/web"]
    assert finding.fingerprint == fingerprint_for("default/heal", "crash", finding.owner_chain[-1])
    assert finding.observed_at == T0 and finding.source_event_id == "ce-1"
    [evidence] = finding.evidence
    assert evidence.kind == "state" and evidence.since == T0 - 600 and evidence.value == 600
    assert evidence.details["target"] == "Pod/default/web-abc-0"


def test_redelivery_gives_the_same_finding_id_and_a_new_event_a_new_id_with_the_same_fingerprint():
    objs = deployment_with_pods("web", 1, **crashlooping())
    det, _ = detector([make_policy(triggers=[condition_trigger("crash", "CrashLoopBackOff", "True", "0s")])], objs)
    first, again, later = observe(det, objs[2], event_id="a")[0], observe(det, objs[2], event_id="a")[0], \
        observe(det, objs[2], event_id="b")[0]
    assert first.id == again.id
    assert later.id != first.id and later.fingerprint == first.fingerprint


def test_a_condition_held_just_short_of_its_duration_yields_nothing():
    p = pod("a", conditions=[condition("Ready", "False", T0 - 119)])
    det, _ = detector([make_policy(triggers=[condition_trigger("notready", "Ready", "False", "2m")])])
    assert observe(det, p) == []
    p["status"]["conditions"] = [condition("Ready", "False", T0 - 120)]
    assert len(observe(det, p)) == 1


@pytest.mark.parametrize("verb, deleting", [("delete", False), ("update", True)])
def test_deleted_or_deleting_objects_yield_nothing(verb, deleting):
    p = pod("a", deleting=deleting, **crashlooping())
    det, _ = detector([make_policy(triggers=[condition_trigger("c", "CrashLoopBackOff", "True", "0s")])])
    assert observe(det, p, verb=verb) == []


def test_unselected_pods_yield_nothing_and_cost_no_reads():
    p = pod("a", labels={"app": "api"}, **crashlooping())
    det, cluster = detector([make_policy(match_labels={"app": "web"},
                                         triggers=[condition_trigger("c", "CrashLoopBackOff", "True", "0s")])])
    assert observe(det, p) == []
    assert cluster.calls == []


def test_policies_are_evaluated_in_name_order():
    p = pod("a", **crashlooping())
    trig = [condition_trigger("c", "CrashLoopBackOff", "True", "0s")]
    det, _ = detector([make_policy("zeta", triggers=trig), make_policy("alpha", triggers=trig),
                       make_policy("mid", namespace="other", triggers=trig)])
    assert [f.policy for f in observe(det, p)] == ["default/alpha", "default/zeta", "other/mid"]


def test_every_breaching_trigger_of_a_policy_yields_its_own_finding():
    p = pod("a", **crashlooping())
    det, _ = detector([make_policy(triggers=[condition_trigger("crash", "CrashLoopBackOff", "True", "0s"),
                                             condition_trigger("unready", "ContainersReady", "False", "1m"),
                                             condition_trigger("oom", "OOMKilled", "True", "0s")])])
    assert [f.trigger for f in observe(det, p)] == ["crash", "unready"]


def test_deployment_and_node_conditions_target_the_object_itself():
    d = workload("Deployment", "web", conditions=[condition("Available", "False", T0 - 900)])
    n = node("n1", conditions=[condition("MemoryPressure", "True", T0 - 900)])
    det, _ = detector([
        make_policy("deploys", resources=DEPLOY, triggers=[condition_trigger("unavailable", "Available", "False")]),
        make_policy("nodes", resources=[{"apiVersion": "v1", "kind": "Node"}],
                    triggers=[condition_trigger("pressure", "MemoryPressure", "True")]),
    ])
    [fd] = observe(det, d)
    [fn] = observe(det, n)
    assert (str(fd.target), fd.owner_chain) == ("Deployment/default/web", [])
    assert (str(fn.target), fn.target.namespace) == ("Node/n1", None)


def test_kube_system_pods_are_detected_like_any_other():
    p = pod("coredns-1", "kube-system", **crashlooping())
    det, _ = detector([make_policy(triggers=[condition_trigger("c", "CrashLoopBackOff", "True", "0s")])])
    assert len(observe(det, p)) == 1


def test_objects_of_kinds_no_policy_selects_are_ignored():
    det, _ = detector([make_policy(triggers=[condition_trigger()])])
    assert observe(det, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "default"}}) == []


# -- event triggers ----------------------------------------------------------------------------

def test_an_event_on_a_selected_pod_yields_a_finding_for_the_pod():
    objs = deployment_with_pods("web", 1)
    ev = event_v1("web.1", "default", objs[2], "BackOff", count=3, first=T0 - 60, last=T0 - 5)
    det, _ = detector([make_policy(resources=DEPLOY, triggers=[event_trigger(count=3)])], objs)
    [f] = observe(det, ev)
    assert (f.trigger_type, str(f.target), str(f.workload)) == ("event", "Pod/default/web-abc-0",
                                                                "Deployment/default/web")
    [e] = f.evidence
    assert (e.kind, e.value, e.threshold, e.since) == ("event", 3, 3, T0 - 60)
    assert e.details["events"] == ["default/web.1"]


def test_count_zero_or_one_fires_on_any_single_occurrence():
    p = pod("a")
    ev = event_v1("a.1", "default", p, "BackOff")
    for count in (0, 1):
        det, _ = detector([make_policy(triggers=[event_trigger(count=count)])], [p])
        assert len(observe(det, ev)) == 1


def test_event_count_below_the_trigger_count_adds_the_other_events_of_the_same_object():
    p = pod("a")
    other = event_v1("a.2", "default", p, "Unhealthy", count=2, first=T0 - 100, last=T0 - 50)
    unrelated = event_v1("b.1", "default", pod("b"), "Unhealthy", count=9, first=T0 - 100, last=T0 - 50)
    ev = event_v1("a.1", "default", p, "BackOff", count=2, first=T0 - 30, last=T0)
    det, cluster = detector([make_policy(triggers=[event_trigger(reason="BackOff|Unhealthy", count=4)])],
                            [p, other, unrelated, ev])
    [f] = observe(det, ev)
    assert f.evidence[0].value == 4 and sorted(f.evidence[0].details["events"]) == ["default/a.1", "default/a.2"]
    det5, _ = detector([make_policy(triggers=[event_trigger(reason="BackOff|Unhealthy", count=5)])],
                       [p, other, unrelated, ev])
    assert observe(det5, ev) == []


def test_summing_related_events_can_be_turned_off():
    from kubeskippy.detect import DetectorSettings

    p = pod("a")
    other = event_v1("a.2", "default", p, "BackOff", count=2, first=T0 - 100, last=T0 - 50)
    ev = event_v1("a.1", "default", p, "BackOff", count=2, first=T0 - 30, last=T0)
    det, cluster = detector([make_policy(triggers=[event_trigger(count=4)])], [p, other, ev],
                            settings=DetectorSettings(sum_related_events=False))
    assert observe(det, ev) == []
    assert not [c for c in cluster.calls if c[0] == "list"]


def test_an_event_outside_its_window_is_not_news():
    p = pod("a")
    ev = event_v1("a.1", "default", p, "BackOff", count=50, first=T0 - 4000, last=T0 - 301)
    det, _ = detector([make_policy(triggers=[event_trigger(window="5m")])], [p])
    assert observe(det, ev) == []


def test_event_type_filter_is_applied():
    p = pod("a")
    normal = event_v1("a.1", "default", p, "Killing", type_="Normal")
    warning = event_v1("a.2", "default", p, "Killing", type_="Warning")
    det, _ = detector([make_policy(triggers=[event_trigger(reason="Killing", type_="Warning")])], [p])
    assert observe(det, normal) == [] and len(observe(det, warning)) == 1


def test_events_k8s_io_events_with_a_series_are_counted():
    p = pod("a")
    ev = event_new("a.1", "default", p, "BackOff", event_time=T0 - 120, series_count=6, last_observed=T0 - 1)
    det, _ = detector([make_policy(triggers=[event_trigger(count=6)])], [p])
    [f] = observe(det, ev)
    assert f.evidence[0].value == 6


@pytest.mark.parametrize("case", ["involved-missing", "involved-deleting", "involved-replaced"])
def test_events_about_gone_objects_yield_nothing(case):
    p = pod("a")
    ev = event_v1("a.1", "default", p, "BackOff")
    objects = {"involved-missing": [], "involved-deleting": [pod("a", deleting=True)],
               "involved-replaced": [pod("a", uid="new-uid")]}[case]
    det, _ = detector([make_policy(triggers=[event_trigger()])], objects)
    assert observe(det, ev) == []


def test_an_event_with_a_reason_no_trigger_wants_costs_no_reads():
    p = pod("a")
    det, cluster = detector([make_policy(triggers=[event_trigger(reason="BackOff")])], [p])
    assert observe(det, event_v1("a.1", "default", p, "Pulled", type_="Normal")) == []
    assert cluster.calls == []


def test_the_selector_applies_to_the_object_an_event_is_about():
    p = pod("web-canary", labels={"app": "web"})
    det, _ = detector([make_policy(resources=[{"apiVersion": "v1", "kind": "Pod", "excludeNames": ["*-canary"]}],
                                   triggers=[event_trigger()])], [p])
    assert observe(det, event_v1("x.1", "default", p, "BackOff")) == []


def test_an_invalid_reason_regex_is_refused_with_its_field_path():
    with pytest.raises(InvalidInput) as err:
        detector([make_policy(triggers=[condition_trigger(), event_trigger(reason="Back(Off")])])
    assert err.value.errors[0].path == "default/heal: spec.triggers[1].eventTrigger.reason"


def test_an_invalid_namespace_is_refused_with_its_field_path():
    with pytest.raises(InvalidInput) as err:
        detector([make_policy(namespaces=["ok", "Not Valid"], triggers=[condition_trigger()])])
    assert err.value.errors[0].path == "default/heal: spec.selector.namespaces[1]"


def test_set_policies_replaces_the_policy_set_and_its_indexes():
    p = pod("a", **crashlooping())
    det, _ = detector([make_policy("one", triggers=[condition_trigger("c", "CrashLoopBackOff", "True", "0s")])])
    assert [f.policy for f in observe(det, p)] == ["default/one"]
    det.set_policies([make_policy("two", triggers=[condition_trigger("c", "CrashLoopBackOff", "True", "0s")])])
    assert [f.policy for f in observe(det, p)] == ["default/two"]
    assert [x.name for x in det.policies] == ["two"]


def test_workload_ref_of_a_finding_is_its_top_owner():
    objs = deployment_with_pods("web", 1, **crashlooping())
    det, _ = detector([make_policy(triggers=[condition_trigger("c", "CrashLoopBackOff", "True", "0s")])], objs)
    [f] = observe(det, objs[2])
    assert f.workload == ObjectRef(api_version="apps/v1", kind="Deployment", name="web", namespace="default",
                                   uid="uid-web")


def test_two_policies_with_the_same_namespace_and_name_are_refused():
    with pytest.raises(InvalidInput) as err:
        detector([make_policy(triggers=[condition_trigger()]), make_policy(triggers=[event_trigger()])])
    assert "duplicate policy default/heal" in str(err.value)


@pytest.mark.parametrize("mangle", [
    pytest.param(lambda e: e.update(reason=5), id="reason-not-a-string"),
    pytest.param(lambda e: e.update(involvedObject="pod/a"), id="involved-object-not-a-map"),
    pytest.param(lambda e: e.update(firstTimestamp="yesterday", lastTimestamp=None), id="unreadable-times"),
    pytest.param(lambda e: e.update(metadata=None), id="no-metadata"),
    pytest.param(lambda e: e.update(series="many"), id="series-not-a-map"),
])
def test_malformed_events_yield_nothing_and_never_crash(mangle):
    p = pod("a")
    ev = event_v1("a.1", "default", p, "BackOff")
    mangle(ev)
    det, _ = detector([make_policy(triggers=[event_trigger(reason=".*")])], [p])
    findings = observe(det, ev)
    assert all(str(f.target) == "Pod/default/a" for f in findings)


def test_malformed_pods_never_crash():
    det, _ = detector([make_policy(triggers=[condition_trigger("c", "CrashLoopBackOff", "True", "0s"),
                                             condition_trigger()])])
    for status in (None, "Running", {"conditions": "nope", "containerStatuses": [None, 3, {"state": None}]},
                   {"conditions": [None, {"type": "Ready"}, {"type": "Ready", "status": "False",
                                                              "lastTransitionTime": "garbage"}]}):
        obj = pod("a")
        obj["status"] = status
        assert observe(det, obj) == []
