from kubeskippy.clock import ManualClock
from kubeskippy.detect import Detector
from kubeskippy.events.model import Alert

from .builders import T0, deployment_with_pods, make_policy, metric_trigger, pod
from .fakes import FakeCluster


def alert(status="firing", **labels):
    base = {"alertname": "kubeskippy_default_heal_mem", "kubeskippy_policy": "default/heal",
            "kubeskippy_trigger": "mem", "namespace": "default", "pod": "web-abc-0", "severity": "warning"}
    base.update(labels)
    return Alert(status=status, alertname=base["alertname"], labels={k: v for k, v in base.items() if v is not None},
                 annotations={"kubeskippy_value": "93.5"}, starts_at=T0 - 30, fingerprint="f00d",
                 generator_url="http://prom/graph")


def detector(policies=None, objects=None):
    objs = deployment_with_pods("web", 2) if objects is None else objects
    return Detector(policies or [make_policy(triggers=[metric_trigger(duration="2m")])], cluster=FakeCluster(objs),
                    metrics=None, clock=ManualClock(T0))


def test_a_firing_alert_becomes_a_finding_for_the_pod_it_names():
    a = alert()
    [f] = detector().on_alert(a)
    assert (f.policy, f.trigger, f.trigger_type, str(f.target)) == ("default/heal", "mem", "metric",
                                                                    "Pod/default/web-abc-0")
    assert str(f.workload) == "Deployment/default/web"
    assert f.source_event_id == a.id
    [e] = f.evidence
    assert (e.kind, e.value, e.threshold, e.since) == ("alert", 93.5, 85, T0 - 30 - 120)
    assert e.details["alertname"] == "kubeskippy_default_heal_mem"


def test_a_resent_alert_gives_the_same_finding_id():
    det = detector()
    assert det.on_alert(alert())[0].id == det.on_alert(alert())[0].id


def test_a_resolved_alert_yields_nothing():
    assert detector().on_alert(alert(status="resolved")) == []


def test_alerts_of_unknown_policies_or_triggers_yield_nothing():
    det = detector()
    assert det.on_alert(alert(kubeskippy_policy="default/other")) == []
    assert det.on_alert(alert(kubeskippy_trigger="nope")) == []
    assert det.on_alert(alert(kubeskippy_policy=None)) == []


def test_alerts_naming_a_missing_pod_yield_nothing():
    assert detector().on_alert(alert(pod="web-abc-9")) == []


def test_the_selector_still_applies_to_alerts():
    policy = make_policy(resources=[{"apiVersion": "v1", "kind": "Pod", "excludeNames": ["web-*"]}],
                         triggers=[metric_trigger()])
    assert detector([policy]).on_alert(alert()) == []
    other_ns = make_policy(namespaces=["prod"], triggers=[metric_trigger()])
    assert detector([other_ns]).on_alert(alert()) == []


def test_an_alert_without_object_labels_yields_nothing():
    assert detector().on_alert(alert(namespace=None, pod=None)) == []


def test_exported_labels_win_over_the_exporters_own():
    objs = [pod("real", "apps"), pod("kube-state-metrics-0", "monitoring")]
    a = alert(namespace="monitoring", pod="kube-state-metrics-0", exported_namespace="apps", exported_pod="real")
    [f] = detector(objects=objs).on_alert(a)
    assert str(f.target) == "Pod/apps/real"
