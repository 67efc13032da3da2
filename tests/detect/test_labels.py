import pytest

from kubeskippy.detect.labels import compile_label_selector
from kubeskippy.policy.model import LabelSelector


def sel(match_labels=None, expressions=()):
    return compile_label_selector(LabelSelector.model_validate(
        {"matchLabels": match_labels or {}, "matchExpressions": list(expressions)}))


def test_no_selector_selects_everything():
    assert compile_label_selector(None).matches({})
    assert compile_label_selector(None).matches({"a": "b"})
    assert sel().selects_everything


def test_match_labels_need_every_pair():
    s = sel({"app": "web", "tier": "front"})
    assert s.matches({"app": "web", "tier": "front", "extra": "x"})
    assert not s.matches({"app": "web"})
    assert not s.matches({"app": "web", "tier": "back"})


@pytest.mark.parametrize("labels, expected", [
    pytest.param({"env": "prod"}, True, id="value-listed"),
    pytest.param({"env": "dev"}, False, id="value-not-listed"),
    pytest.param({}, False, id="key-absent"),
])
def test_in_requires_the_key_with_a_listed_value(labels, expected):
    assert sel(expressions=[{"key": "env", "operator": "In", "values": ["prod", "stage"]}]).matches(labels) is expected


@pytest.mark.parametrize("labels, expected", [
    pytest.param({"env": "prod"}, False, id="value-listed"),
    pytest.param({"env": "dev"}, True, id="value-not-listed"),
    pytest.param({}, True, id="key-absent-matches-like-kubernetes"),
])
def test_not_in_holds_when_the_key_is_absent(labels, expected):
    assert sel(expressions=[{"key": "env", "operator": "NotIn", "values": ["prod"]}]).matches(labels) is expected


def test_exists_and_does_not_exist_look_only_at_the_key():
    exists = sel(expressions=[{"key": "canary", "operator": "Exists"}])
    missing = sel(expressions=[{"key": "canary", "operator": "DoesNotExist"}])
    assert exists.matches({"canary": ""}) and not exists.matches({})
    assert missing.matches({}) and not missing.matches({"canary": "true"})


def test_labels_and_expressions_combine_with_and():
    s = sel({"app": "web"}, [{"key": "env", "operator": "In", "values": ["prod"]},
                             {"key": "legacy", "operator": "DoesNotExist"}])
    assert s.matches({"app": "web", "env": "prod"})
    assert not s.matches({"app": "web", "env": "prod", "legacy": "1"})
    assert not s.matches({"app": "api", "env": "prod"})


def test_selector_renders_in_kubernetes_string_form():
    s = sel({"app": "web"}, [{"key": "env", "operator": "In", "values": ["b", "a"]},
                             {"key": "x", "operator": "NotIn", "values": ["1"]},
                             {"key": "y", "operator": "Exists"}, {"key": "z", "operator": "DoesNotExist"}])
    assert s.to_query() == "app=web,env in (a,b),x notin (1),y,!z"
