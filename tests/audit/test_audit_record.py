"""The record format: structured JSON plus envelope, key, digest and correlation metadata."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone

import pytest
from cloudevents.core.v1.event import CloudEvent as CoreEvent
from cloudevents.v1.http import CloudEvent as V1Event

from kubeskippy.audit.digest import sha256_hex
from kubeskippy.audit.record import build_record, decode_body
from kubeskippy.errors import InvalidInput
from kubeskippy.events import types as t

from .events import OTHER_POD, T0, dead_letter, finding, finding_event, healing_action_event, outcome_event, plan_event


def test_a_plan_record_holds_the_event_and_envelope_and_its_digest():
    f = finding("fp-1", at=T0)
    plan, event = plan_event(f, at=T0 + 5)
    record = build_record(event, received_at=T0 + 9, function="audit")
    assert record.key == f"2026/11/21/19/io.kubeskippy.plan/{plan.id}.json"
    body = json.loads(record.body)
    assert body["format"] == "kubeskippy.audit/v1"
    assert body["kind"] == "event"
    assert body["received_at"] == "2026-11-21T19:00:09.000Z"
    assert body["function"] == "audit"
    assert body["key_time_from"] == "event"
    assert body["event"] == event
    assert record.metadata["sha256"] == sha256_hex(record.body)


def test_plan_metadata_names_policy_target_fingerprint_and_plan():
    plan, event = plan_event(finding("fp-1", at=T0), at=T0 + 5)
    meta = build_record(event, received_at=T0, function="audit").metadata
    assert meta["policy"] == "shop/memory-guard"
    assert meta["target"] == "Pod/shop/web-7d4-abc"
    assert meta["fingerprint"] == "fp-1"
    assert meta["plan-id"] == plan.id
    assert meta["event-type"] == t.PLAN
    assert meta["event-id"] == plan.id
    assert meta["kind"] == "event"
    assert meta["time"] == "2026-11-21T19:00:05.000Z"


def test_outcome_metadata_carries_its_status():
    plan, _ = plan_event(finding(target=OTHER_POD), at=T0)
    meta = build_record(outcome_event(plan, at=T0 + 3, status="blocked"), received_at=T0, function="audit").metadata
    assert (meta["status"], meta["target"], meta["plan-id"]) == ("blocked", "Pod/shop/cart-55f-xyz", plan.id)


def test_the_same_event_received_later_keeps_its_key_but_not_its_bytes():
    event = finding_event(finding(at=T0))
    first = build_record(event, received_at=T0 + 1, function="audit")
    later = build_record(event, received_at=T0 + 7200, function="audit")
    assert first.key == later.key
    assert first.body != later.body  # received_at differs: that is why the recorder keeps the first


def test_an_event_without_time_is_keyed_by_the_receipt_time():
    event = finding_event(finding(at=T0))
    del event["time"]
    record = build_record(event, received_at=T0 + 3600, function="audit")
    assert record.key.startswith("2026/11/21/20/")
    assert json.loads(record.body)["key_time_from"] == "clock"


def test_a_dead_letter_is_kept_apart_from_the_event_it_carries_and_says_why():
    original = finding_event(finding(at=T0))
    record = build_record(dead_letter(original, code="503", reply="analyze is down"), received_at=T0, function="audit")
    assert record.kind == "dead_letter"
    assert record.key != build_record(original, received_at=T0, function="audit").key
    assert "/dead-letter.io.kubeskippy.finding/" in record.key
    body = json.loads(record.body)
    assert body["dead_letter"] == {"code": "503", "dest": "http://analyze.kubeskippy.svc", "data": "analyze is down"}
    assert record.metadata["event-type"] == t.FINDING
    assert record.metadata["fingerprint"] == "fp-web"


def test_each_healing_action_transition_is_one_record_keyed_by_resource_version():
    pending = build_record(healing_action_event("Pending", "100", at=T0, event_id="uuid-a"), received_at=T0,
                           function="audit")
    same_change_other_adapter = build_record(healing_action_event("Pending", "100", at=T0, event_id="uuid-b"),
                                             received_at=T0, function="audit")
    succeeded = build_record(healing_action_event("Succeeded", "104", at=T0, event_id="uuid-c"), received_at=T0,
                             function="audit")
    assert pending.kind == "healing_action"
    assert pending.key == same_change_other_adapter.key
    assert pending.key.endswith("/dev.knative.apiserver.resource.update/shop_memory-guard-web-1_100.json")
    assert succeeded.key != pending.key
    assert succeeded.metadata["status"] == "Succeeded"
    assert succeeded.metadata["policy"] == "shop/memory-guard"
    assert succeeded.metadata["target"] == "Deployment/shop/web"
    assert succeeded.metadata["plan-id"] == "p-1"


def test_sdk_events_of_both_cloudevents_apis_record_like_their_dict_form():
    attrs = {"specversion": "1.0", "id": "e-1", "source": "/kubeskippy/detect", "type": t.FINDING}
    when = datetime(2026, 11, 21, 19, 0, 0, tzinfo=timezone.utc)
    core = build_record(CoreEvent({**attrs, "time": when}, {"x": 1}), received_at=T0, function="audit")
    v1 = build_record(V1Event({**attrs, "time": "2026-11-21T19:00:00.000Z"}, {"x": 1}), received_at=T0,
                      function="audit")
    plain = build_record({**attrs, "time": "2026-11-21T19:00:00.000Z", "data": {"x": 1}}, received_at=T0,
                         function="audit")
    assert core.body == v1.body == plain.body
    assert core.key == "2026/11/21/19/io.kubeskippy.finding/e-1.json"


def test_binary_data_is_stored_as_data_base64():
    event = {"specversion": "1.0", "id": "b", "source": "/s", "type": "x.y", "data": b"\x00\x01"}
    body = decode_body(build_record(event, received_at=T0, function="audit").body)
    assert body["event"]["data_base64"] == base64.b64encode(b"\x00\x01").decode()
    assert "data" not in body["event"]


def test_a_non_ascii_target_is_percent_encoded_in_metadata():
    event = {"specversion": "1.0", "id": "n", "source": "/s", "type": t.VERIFICATION,
             "data": {"target": {"kind": "Pod", "namespace": "ns", "name": "wëb"}, "healthy": False}}
    meta = build_record(event, received_at=T0, function="audit").metadata
    assert meta["target"] == "Pod/ns/w%C3%ABb"
    assert meta["status"] == "unhealthy"
    assert all(v.isascii() for v in meta.values())


def test_missing_required_attributes_are_named():
    with pytest.raises(InvalidInput) as caught:
        build_record({"specversion": "1.0", "type": "x", "data": {}}, received_at=T0, function="audit")
    assert [e.path for e in caught.value.errors] == ["id", "source"]


def test_something_that_is_not_an_event_is_invalid_input():
    with pytest.raises(InvalidInput, match="expected a CloudEvent"):
        build_record(["not", "an", "event"], received_at=T0, function="audit")


def test_an_unknown_event_type_is_recorded_without_correlation():
    record = build_record({"specversion": "1.0", "id": "u", "source": "/s", "type": "com.example.other",
                           "data": {"policy": 7}}, received_at=T0, function="audit")
    assert set(record.metadata) == {"sha256", "kind", "event-type", "event-id", "time", "function"}


def test_json_data_delivered_as_text_or_bytes_records_like_parsed_json():
    base = {"specversion": "1.0", "id": "j", "source": "/s", "type": t.OUTCOME, "datacontenttype": "application/json",
            "time": "2026-11-21T19:00:00.000Z"}
    parsed = build_record({**base, "data": {"status": "executed"}}, received_at=T0, function="audit")
    as_bytes = build_record({**base, "data": b'{"status": "executed"}'}, received_at=T0, function="audit")
    as_text = build_record(V1Event(base, '{"status":"executed"}'), received_at=T0, function="audit")
    assert parsed.body == as_bytes.body == as_text.body
    assert as_bytes.metadata["status"] == "executed"


def test_bytes_that_claim_json_but_are_not_are_kept_verbatim():
    event = {"specversion": "1.0", "id": "j", "source": "/s", "type": "x", "datacontenttype": "application/json",
             "data": b"\xff not json"}
    body = decode_body(build_record(event, received_at=T0, function="audit").body)
    assert base64.b64decode(body["event"]["data_base64"]) == b"\xff not json"


def test_a_string_in_a_structured_dict_stays_a_string():
    event = {"specversion": "1.0", "id": "s", "source": "/s", "type": "x", "datacontenttype": "application/json",
             "data": "123"}
    assert decode_body(build_record(event, received_at=T0, function="audit").body)["event"]["data"] == "123"
