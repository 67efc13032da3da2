"""Pydantic errors become short, kubectl-like messages with dotted paths."""

import pytest

from kubeskippy.errors import FieldError
from kubeskippy.policy.validation import field_errors_from, format_path, human_message


@pytest.mark.parametrize("loc, expected", [
    pytest.param(("spec", "triggers", 1, "metricTrigger", "operator"), "spec.triggers[1].metricTrigger.operator", id="nested"),
    pytest.param(("metadata", "annotations", "kubeskippy.io/why"), 'metadata.annotations["kubeskippy.io/why"]', id="odd-key"),
    pytest.param((0, "name"), "[0].name", id="leading-index"),
    pytest.param((), "", id="root"),
])
def test_locations_become_dotted_paths_with_indexes(loc, expected):
    assert format_path(loc) == expected


def test_a_prefix_is_prepended_to_every_path():
    assert format_path(("spec",), "items[2]") == "items[2].spec"
    assert format_path(("status",), "data") == "data.status"


@pytest.mark.parametrize("error, expected", [
    pytest.param({"type": "missing", "msg": "Field required"}, "required", id="missing"),
    pytest.param({"type": "literal_error", "msg": "", "ctx": {"expected": "'In', 'NotIn' or 'Exists'"}},
                 "must be one of In NotIn Exists", id="literal"),
    pytest.param({"type": "too_short", "msg": "", "ctx": {"min_length": 1}}, "must have at least 1 item", id="too-short"),
    pytest.param({"type": "string_too_short", "msg": "", "ctx": {"min_length": 1}}, "must not be empty", id="empty"),
    pytest.param({"type": "less_than_equal", "msg": "", "ctx": {"le": 1.0}}, "must be <= 1.0", id="le"),
    pytest.param({"type": "model_type", "msg": "Input should be a valid dictionary"}, "must be an object", id="object"),
    pytest.param({"type": "value_error", "msg": "Value error, must not be negative"}, "must not be negative", id="value"),
    pytest.param({"type": "something_new", "msg": "Input is odd"}, "input is odd", id="fallback"),
])
def test_messages_are_short_and_human(error, expected):
    assert human_message(error) == expected


def test_a_field_named_at_the_start_of_a_rule_message_moves_into_the_path():
    details = [{"type": "value_error", "loc": ("spec", "actions", 0), "msg": "Value error, scaleAction: required"}]
    assert field_errors_from(details) == [FieldError("spec.actions[0].scaleAction", "required")]


def test_a_message_that_merely_contains_a_colon_stays_whole():
    details = [{"type": "value_error", "loc": ("duration",), "msg": "Value error, invalid duration '3x': use a unit"}]
    assert field_errors_from(details) == [FieldError("duration", "invalid duration '3x': use a unit")]
