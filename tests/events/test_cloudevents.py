"""Building, encoding and decoding our CloudEvents; malformed requests become InvalidInput."""

import json
from datetime import datetime, timezone

import pytest
from cloudevents.core.v1.event import CloudEvent as CoreCloudEvent

from kubeskippy.errors import InvalidInput
from kubeskippy.events.cloudevents import (
    EXT_FINGERPRINT, EXT_PLAN_ID, EXT_POLICY, CloudEvent, as_cloudevent, decode_payload, encode, event_time,
    make_event, parse_http,
)
from kubeskippy.events.schemas import example_payloads
from kubeskippy.events.types import EVENT_MODELS, FINDING, PLAN

EXAMPLES = example_payloads()


def test_make_event_sets_source_schema_content_type_and_the_payload_id():
    finding = EXAMPLES[FINDING]
    event = make_event(FINDING, finding, function="detect")
    assert event["source"] == "/kubeskippy/detect"
    assert event["type"] == FINDING
    assert event["id"] == finding.id
    assert event["datacontenttype"] == "application/json"
    assert event["dataschema"] == "https://kubeskippy.io/schemas/io.kubeskippy.finding.json"
    assert event["time"] == "2026-01-01T00:03:00.000Z"  # the finding's observed_at, not the wall clock
    assert event.get_data() == finding.model_dump(mode="json")


def test_correlation_ids_travel_as_extensions_and_explicit_ones_win():
    plan = EXAMPLES[PLAN]
    event = make_event(PLAN, plan, function="analyze", extensions={EXT_POLICY: "other/p", "ksattempt": 2})
    assert event[EXT_FINGERPRINT] == plan.finding.fingerprint
    assert event[EXT_PLAN_ID] == plan.id
    assert event[EXT_POLICY] == "other/p"
    assert event["ksattempt"] == 2
    alert = make_event("io.kubeskippy.alert.firing", EXAMPLES["io.kubeskippy.alert.firing"], function="detect")
    assert EXT_FINGERPRINT not in alert


@pytest.mark.parametrize("name", ["Upper", "with-dash", "x" * 21, "time", ""])
def test_extension_names_must_follow_the_spec(name):
    with pytest.raises(InvalidInput) as info:
        make_event(FINDING, EXAMPLES[FINDING], function="detect", extensions={name: "v"})
    assert info.value.errors[0].path == f"extensions.{name}"


def test_make_event_refuses_a_payload_of_the_wrong_model_or_status():
    with pytest.raises(TypeError):
        make_event(PLAN, EXAMPLES[FINDING], function="analyze")
    with pytest.raises(ValueError):
        make_event("io.kubeskippy.alert.resolved", EXAMPLES["io.kubeskippy.alert.firing"], function="detect")
    with pytest.raises(ValueError):
        make_event("io.example.other", EXAMPLES[FINDING], function="detect")


@pytest.mark.parametrize("mode", ["binary", "structured"])
@pytest.mark.parametrize("event_type", list(EVENT_MODELS))
def test_every_event_type_survives_http_in_both_modes(event_type, mode):
    event = make_event(event_type, EXAMPLES[event_type], function="remediate")
    headers, body = encode(event, mode=mode)
    assert isinstance(body, bytes)
    if mode == "binary":
        assert headers["ce-type"] == event_type and headers["content-type"] == "application/json"
    else:
        assert headers["content-type"].startswith("application/cloudevents+json")
    back = parse_http(headers, body)
    assert back["id"] == event["id"]
    assert decode_payload(back) == EXAMPLES[event_type]


def test_events_from_the_newer_sdk_class_are_accepted():
    finding = EXAMPLES[FINDING]
    core = CoreCloudEvent({"type": FINDING, "source": "/x", "id": "abc",
                           "time": datetime(2026, 1, 1, tzinfo=timezone.utc)}, finding.model_dump(mode="json"))
    assert decode_payload(core) == finding
    assert as_cloudevent(core)["time"] == "2026-01-01T00:00:00Z"
    assert event_time(core) == 1_767_225_600.0
    headers, body = encode(core)
    assert headers["ce-id"] == "abc"


def test_binary_data_that_arrives_as_text_is_parsed():
    event = CloudEvent({"type": FINDING, "source": "/x", "id": "1"},
                       json.dumps(EXAMPLES[FINDING].model_dump(mode="json")))
    assert decode_payload(event) == EXAMPLES[FINDING]


@pytest.mark.parametrize("data, expected", [
    pytest.param(None, ["data: required"], id="no-data"),
    pytest.param([1], ["data: must be a JSON object"], id="list"),
    pytest.param("{not json", ["data: must be JSON: Expecting property name enclosed in double quotes at line 1, column 2"], id="bad-json"),
    pytest.param({"id": "x"}, None, id="missing-fields"),
])
def test_bad_payloads_name_the_data_fields(data, expected):
    event = CloudEvent({"type": FINDING, "source": "/x", "id": "1"}, data)
    with pytest.raises(InvalidInput) as info:
        decode_payload(event)
    messages = [str(e) for e in info.value.errors]
    if expected is None:
        assert "data.policy: required" in messages and "data.target: required" in messages
    else:
        assert messages == expected


def test_an_unknown_type_and_a_mismatched_alert_status_are_invalid():
    with pytest.raises(InvalidInput) as info:
        decode_payload(CloudEvent({"type": "io.example.x", "source": "/x", "id": "1"}, {}))
    assert info.value.errors[0].path == "type"
    resolved = EXAMPLES["io.kubeskippy.alert.resolved"].model_dump(mode="json")
    with pytest.raises(InvalidInput) as info:
        decode_payload(CloudEvent({"type": "io.kubeskippy.alert.firing", "source": "/x", "id": "1"}, resolved))
    assert str(info.value.errors[0]) == "data.status: must be firing for type io.kubeskippy.alert.firing"


@pytest.mark.parametrize("headers, body", [
    pytest.param({}, b"hello", id="plain-text"),
    pytest.param({"content-type": "application/json"}, b'{"a": 1}', id="json-not-event"),
    pytest.param({}, b"[1, 2]", id="json-list"),
    pytest.param({}, b"\xff\xfe", id="not-utf8"),
    pytest.param({}, b"", id="empty"),
    pytest.param({"ce-specversion": "1.0", "ce-id": "", "ce-source": "/s", "ce-type": "t"}, b"", id="empty-id"),
    pytest.param({"ce-specversion": "9.9", "ce-id": "1", "ce-source": "/s", "ce-type": "t"}, b"", id="bad-version"),
    pytest.param({"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s"}, b"", id="no-type"),
    pytest.param({"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t", "ce-time": "noon"}, b"",
                 id="bad-time"),
    pytest.param({"content-type": "application/cloudevents+json"},
                 b'{"specversion": "1.0", "id": 7, "source": "/s", "type": "t"}', id="numeric-id"),
])
def test_parse_http_turns_anything_that_is_not_a_cloudevent_into_invalid_input(headers, body):
    with pytest.raises(InvalidInput):
        parse_http(headers, body)
