"""Choosing the action and its parameters: layering, narrowing, custom mapping, validation."""

from __future__ import annotations

import pytest

from kubeskippy.errors import InvalidInput
from kubeskippy.events.model import ObjectRef, PlannedAction
from kubeskippy.remediate.actions import ACTIONS
from kubeskippy.remediate.actions.patch import patches_to_json_patch
from kubeskippy.remediate.params import resolve_action
from kubeskippy.remediate.quantities import format_quantity, parse_quantity

from .world import policy

TARGET = ObjectRef(api_version="apps/v1", kind="Deployment", name="web", namespace="default")


def _resolve(actions, planned_type, params, annotations=None):
    pol = policy(actions=actions, annotations=annotations)
    template = pol.spec.actions[0]
    return resolve_action(pol, template, PlannedAction(action=template.name, type=planned_type, target=TARGET,
                                                       params=params))


def test_plan_params_override_the_policy_template_but_cannot_widen_its_bounds():
    kind, params = _resolve([{"name": "s", "type": "scale", "scaleAction": {
        "direction": "up", "replicas": 1, "minReplicas": 2, "maxReplicas": 5}}], "scale",
        {"replicas": 3, "maxReplicas": 50, "minReplicas": 0})
    assert kind == "scale"
    assert params == {"direction": "up", "replicas": 3, "minReplicas": 2, "maxReplicas": 5}


def test_plan_params_may_narrow_a_policy_bound():
    _, params = _resolve([{"name": "s", "type": "scale", "scaleAction": {"direction": "up", "replicas": 1,
                                                                         "maxReplicas": 5}}], "scale",
                         {"maxReplicas": 3})
    assert params["maxReplicas"] == 3


def test_a_custom_action_takes_its_type_and_params_from_the_policy_annotation():
    kind, params = _resolve([{"name": "mem", "type": "custom"}], "custom", {"percent": 80},
                            annotations={"kubeskippy.io/custom-actions":
                                         "mem: {custom: raise-limit, resource: memory, percent: 25, max: 2Gi}"})
    assert kind == "raise_limit"
    assert params == {"resource": "memory", "percent": 25, "max": "2Gi"}  # 80 % would widen the policy's 25 %


def test_a_custom_action_may_be_named_by_the_plans_extended_type():
    kind, _ = _resolve([{"name": "undo", "type": "custom"}], "rollback", {})
    assert kind == "rollback"


def test_a_custom_action_without_a_type_names_params_custom():
    with pytest.raises(InvalidInput) as err:
        _resolve([{"name": "x", "type": "custom"}], "custom", {})
    assert err.value.errors[0].path == "params.custom"


def test_a_plan_type_that_contradicts_the_policy_is_rejected():
    with pytest.raises(InvalidInput) as err:
        _resolve([{"name": "r", "type": "restart"}], "delete", {})
    assert err.value.errors[0].path == "type"


@pytest.mark.parametrize("action,params,paths", [
    pytest.param("restart", {"strategy": "sideways", "maxConcurrent": 0}, ["params.maxConcurrent", "params.strategy"],
                 id="restart"),
    pytest.param("scale", {"direction": "up"}, ["params.replicas"], id="scale-missing-replicas"),
    pytest.param("scale", {"direction": "up", "replicas": 1, "minReplicas": 5, "maxReplicas": 2},
                 ["params.minReplicas"], id="scale-bounds"),
    pytest.param("patch", {"type": "json", "patch": '{"not": "a list"}'}, ["params.patch"], id="patch-json-shape"),
    pytest.param("patch", {"type": "merge", "patches": [{"path": [], "value": "x"}]}, ["params.patches[0].path"],
                 id="patch-empty-path"),
    pytest.param("patch", {"type": "merge", "patches": [{"path": ["a"], "value": 3}]}, ["params.patches[0].value"],
                 id="patch-value-not-string"),
    pytest.param("delete", {"propagationPolicy": "Sometimes"}, ["params.propagationPolicy"], id="delete"),
    pytest.param("raise_limit", {"resource": "disk", "percent": -1, "max": "lots"},
                 ["params.max", "params.percent", "params.resource"], id="raise-limit"),
    pytest.param("rollback", {"toRevision": 0}, ["params.toRevision"], id="rollback"),
    pytest.param("notify", {"severity": "loud"}, ["params.severity"], id="notify"),
    pytest.param("diagnostics", {"tailLines": 0}, ["params.tailLines"], id="diagnostics"),
    pytest.param("quarantine", {"labels": "app", "extra": 1}, ["params.extra"], id="quarantine-unknown"),
])
def test_every_action_names_the_bad_parameter(action, params, paths):
    with pytest.raises(InvalidInput) as err:
        ACTIONS[action].parse(params)
    assert sorted(e.path for e in err.value.errors) == sorted(paths)


def test_patches_entries_escape_pointer_segments_and_create_missing_parents():
    live = {"metadata": {"annotations": {"a/b": "1"}}, "spec": {"list": [1]}}
    ops = patches_to_json_patch(live, [(["metadata", "annotations", "a/b"], "2"),
                                       (["metadata", "labels", "x~y"], "z"),
                                       (["spec", "list", "0"], 5)])
    assert ops == [{"op": "replace", "path": "/metadata/annotations/a~1b", "value": "2"},
                   {"op": "add", "path": "/metadata/labels", "value": {"x~y": "z"}},
                   {"op": "replace", "path": "/spec/list/0", "value": 5}]


@pytest.mark.parametrize("text,resource,expected", [
    ("512Mi", "memory", "512Mi"), ("1Gi", "memory", "1Gi"), ("1G", "memory", "954Mi"),
    ("250m", "cpu", "250m"), ("1.5", "cpu", "1500m"), ("2", "cpu", "2"),
])
def test_quantities_round_trip_in_the_units_people_write(text, resource, expected):
    assert format_quantity(parse_quantity(text), resource) == expected
