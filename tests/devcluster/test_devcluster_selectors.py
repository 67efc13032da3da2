"""Label and field selectors: grammar and matching as the API server defines them."""

from __future__ import annotations

import pytest

from kubeskippy.clock import ManualClock
from kubeskippy.devcluster import ObjectStore
from kubeskippy.devcluster.builders import event, pod
from kubeskippy.devcluster.selectors import (
    labels_match,
    parse_label_selector,
    selector_object_matches,
    selector_object_to_string,
)
from kubeskippy.errors import APIError

LABELS = {"app": "web", "tier": "front", "version": "3"}


@pytest.mark.parametrize(("selector", "matches"), [
    ("", True),
    ("app=web", True),
    ("app==web", True),
    ("app=api", False),
    ("app!=api", True),
    ("missing!=x", True),
    ("app in (web,api)", True),
    ("app in (api)", False),
    ("app notin (api, db)", True),
    ("missing notin (x)", True),
    ("app notin (web)", False),
    ("tier", True),
    ("missing", False),
    ("!missing", True),
    ("!app", False),
    ("app=web,tier=front", True),
    ("app=web,tier=back", False),
    ("app in (web),!canary,tier", True),
    ("version>2", True),
    ("version<3", False),
])
def test_label_selector_operators(selector, matches):
    assert labels_match(parse_label_selector(selector), LABELS) is matches


@pytest.mark.parametrize("selector", ["app in ()", "=web", "app=we b", "app in (a", "app=,", "-bad-=x"])
def test_a_malformed_label_selector_is_400(selector):
    with pytest.raises(APIError) as caught:
        parse_label_selector(selector)
    assert caught.value.status == 400


def test_selector_objects_match_with_expressions_and_render_as_strings():
    selector = {"matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "edge"]},
                                     {"key": "canary", "operator": "DoesNotExist"}]}
    assert selector_object_matches(selector, LABELS)
    assert not selector_object_matches(selector, {**LABELS, "canary": "1"})
    assert selector_object_matches({}, {"anything": "x"})
    assert not selector_object_matches(None, LABELS)
    assert selector_object_to_string(selector) == "app=web,tier in (edge,front),!canary"


@pytest.fixture
def store() -> ObjectStore:
    s = ObjectStore(ManualClock(), seed=3)
    s.load([
        pod("a", labels={"app": "web"}, node="n1", phase="Running"),
        pod("b", labels={"app": "web", "canary": "yes"}, node="n2", phase="Pending"),
        pod("c", labels={"app": "db"}, node="n1", phase="Running"),
        pod("d", "other", labels={"app": "web"}, node="n1", phase="Failed"),
    ])
    return s


def _names(items):
    return [f"{o['metadata'].get('namespace', '')}/{o['metadata']['name']}" for o in items]


def test_list_filters_by_label_selector_and_namespace(store):
    assert _names(store.list("v1", "Pod", "default", label_selector="app=web")) == ["default/a", "default/b"]
    assert _names(store.list("v1", "Pod", None, label_selector="app=web,!canary")) == ["default/a", "other/d"]


@pytest.mark.parametrize(("selector", "expected"), [
    ("status.phase=Running", ["default/a", "default/c"]),
    ("status.phase!=Running", ["default/b", "other/d"]),
    ("spec.nodeName=n1,status.phase==Running", ["default/a", "default/c"]),
    ("metadata.name=d", ["other/d"]),
    ("metadata.namespace=other", ["other/d"]),
])
def test_list_filters_pods_by_field_selector(store, selector, expected):
    assert _names(store.list("v1", "Pod", field_selector=selector)) == expected


def test_a_list_of_one_objects_events_follows_creates_moves_and_deletes(store):
    a, c = store.get("v1", "Pod", "a", "default"), store.get("v1", "Pod", "c", "default")
    store.create(event("e1", a, reason="BackOff"))
    store.create(event("e2", a, reason="Pulled", type_="Normal"))
    store.create(event("e3", c, reason="BackOff"))

    def of(name: str, *more: str) -> list[str]:
        return _names(store.list("v1", "Event", "default", field_selector=",".join((f"involvedObject.name={name}",
                                                                                    *more))))
    assert of("a") == ["default/e1", "default/e2"] and of("c") == ["default/e3"] and of("nobody") == []
    assert of("a", "type!=Normal") == ["default/e1"]
    moved = store.get("v1", "Event", "e2", "default")
    moved["involvedObject"] = {**moved["involvedObject"], "name": "c"}
    store.replace(moved)  # an Event re-pointed at another object is found under that one only
    store.delete("v1", "Event", "e1", "default")
    assert of("a") == [] and of("c") == ["default/e2", "default/e3"]
    assert store.list("v1", "Event", "other", field_selector="involvedObject.name=c") == []
    scanned = [e for e in store.list("v1", "Event", "default") if e["involvedObject"]["name"] == "c"]
    assert _names(scanned) == of("c")


def test_an_unsupported_field_selector_is_400(store):
    with pytest.raises(APIError) as caught:
        store.list("v1", "Pod", field_selector="spec.containers=x")
    assert caught.value.status == 400
    assert caught.value.payload["message"] == "field label not supported: spec.containers"


def test_events_are_selected_by_involved_object(store):
    target = store.get("v1", "Pod", "a", "default")
    other = store.get("v1", "Pod", "c", "default")
    store.create(event("e1", target, reason="BackOff"))
    store.create(event("e2", other, reason="BackOff"))
    store.create(event("e3", target, reason="Pulled", type_="Normal"))
    picked = store.list("v1", "Event", "default",
                        field_selector=f"involvedObject.name=a,involvedObject.kind=Pod,"
                                       f"involvedObject.uid={target['metadata']['uid']},type=Warning")
    assert _names(picked) == ["default/e1"]
