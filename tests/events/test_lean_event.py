"""kubeskippy.events.lean_event.CloudEvent behaves as the cloudevents SDK's 1.x event, and the
functions' serving path never loads the SDK."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from cloudevents.v1 import exceptions as sdk_errors
from cloudevents.v1.conversion import from_http, to_binary, to_structured
from cloudevents.v1.http import CloudEvent as SdkEvent

from kubeskippy.errors import InvalidInput
from kubeskippy.events import cloudevents as ours
from kubeskippy.events.lean_event import CloudEvent

FULL = {"specversion": "1.0", "id": "e-1", "source": "/kubeskippy/detect", "type": "io.kubeskippy.finding",
        "time": "2026-11-22T09:00:00+00:00", "subject": "pod/x", "kubeskippyfp": "abc"}


@pytest.mark.parametrize("attributes", [
    FULL,
    {"SpecVersion": "1.0", "ID": "e-2", "Source": "/s", "Type": "t", "Time": "2026-11-22T09:00:00Z"},
    {"specversion": "0.3", "id": "e-3", "source": "/s", "type": "t", "time": "2026-11-22T09:00:00Z"},
])
def test_attributes_are_kept_as_the_sdk_keeps_them(attributes):
    mine, theirs = CloudEvent(attributes, {"a": [1]}), SdkEvent(attributes, {"a": [1]})
    assert dict(mine.get_attributes()) == dict(theirs.get_attributes())
    assert list(mine) == list(theirs) and len(mine) == len(theirs)
    assert mine.get_data() == mine.data == {"a": [1]}
    assert mine == theirs and theirs != "not an event"
    assert mine["source"] == theirs["source"] and mine.get("nope", 7) == 7 and "id" in mine


def test_missing_specversion_id_and_time_get_the_sdks_defaults():
    event = CloudEvent({"source": "/s", "type": "t"})
    assert event["specversion"] == "1.0"
    assert len(event["id"]) == 36 and event["id"].count("-") == 4  # a UUID, as the SDK makes
    assert ours.event_time(event) == pytest.approx(time.time(), abs=5)  # the time it was built
    assert event.get_data() is None


@pytest.mark.parametrize("attributes, field", [
    ({"id": "1", "type": "t"}, "source"),
    ({"id": "1", "source": "/s"}, "type"),
    ({"id": "1", "source": "/s", "type": "t", "specversion": "9.9"}, "specversion"),
])
def test_an_event_the_sdk_refuses_is_invalid_input_naming_the_attribute(attributes, field):
    with pytest.raises(sdk_errors.GenericException):
        SdkEvent(attributes)
    with pytest.raises(InvalidInput) as caught:
        CloudEvent(attributes)
    assert [e.path for e in caught.value.errors] == [field]


def test_the_sdks_converters_take_it_as_their_own():
    mine, theirs = CloudEvent(FULL, {"k": "v"}), SdkEvent(FULL, {"k": "v"})
    assert to_binary(mine) == to_binary(theirs)
    assert to_structured(mine) == to_structured(theirs)
    headers, body = to_structured(theirs)
    decoded = from_http(CloudEvent, headers, body)
    assert type(decoded) is CloudEvent and decoded == theirs


def test_a_structured_request_decodes_through_the_sdk_into_this_class():
    headers, body = to_structured(SdkEvent(FULL, {"k": "v"}))
    event = ours.parse_http(headers, body)
    assert type(event) is CloudEvent and event["kubeskippyfp"] == "abc" and event.get_data() == {"k": "v"}
    with pytest.raises(InvalidInput, match="not a CloudEvent"):
        ours.parse_http({"content-type": "application/cloudevents+json"}, b'{"id": "1"}')


def test_an_sdk_event_is_taken_as_it_is_and_mutations_follow_the_mapping():
    event = ours.as_cloudevent(SdkEvent(FULL, None))
    assert type(event) is CloudEvent and event == SdkEvent(FULL, None)
    event["extra"] = "x"
    del event["subject"]
    assert "extra" in event and "subject" not in event
    with pytest.raises(TypeError):
        hash(event)


def test_the_serving_path_does_not_load_the_sdk():
    code = ("import sys, kubeskippy.serving, kubeskippy.services.remediate, kubeskippy.events.cloudevents as c; "
            "h, b = c.encode(c.CloudEvent({'id': '1', 'source': '/s', 'type': 't', 'time': '2026-11-22T09:00:00Z'}, {})); "
            "c.parse_http(h, b); "
            "print(sorted(m for m in sys.modules if m.startswith('cloudevents')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
