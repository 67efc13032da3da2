"""Alertmanager webhook payloads (version 4) become Alerts with deterministic ids."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubeskippy.errors import InvalidInput, PayloadTooLarge
from kubeskippy.events.cloudevents import decode_payload, encode, parse_http
from kubeskippy.ingest.alertmanager import alert_event, decode_alertmanager_webhook, wire_precision

WEBHOOK = {
    "receiver": "kubeskippy",
    "status": "firing",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "KubeSkippyMemoryHigh", "namespace": "shop", "pod": "cart-1", "severity": "warning"},
            "annotations": {"summary": "memory above 85%"},
            "startsAt": "2026-01-01T00:00:05.123456789Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph?g0.expr=x",
            "fingerprint": "a1b2c3d4e5f60718",
        },
        {
            "status": "resolved",
            "labels": {"alertname": "KubeSkippyMemoryHigh", "namespace": "shop", "pod": "cart-2"},
            "annotations": {},
            "startsAt": "2026-01-01T00:00:00Z",
            "endsAt": "2026-01-01T00:10:00Z",
            "generatorURL": "",
            "fingerprint": "0f0e0d0c0b0a0908",
        },
    ],
    "groupLabels": {"alertname": "KubeSkippyMemoryHigh"},
    "commonLabels": {"alertname": "KubeSkippyMemoryHigh", "namespace": "shop"},
    "commonAnnotations": {},
    "externalURL": "http://alertmanager:9093",
    "version": "4",
    "groupKey": '{}:{alertname="KubeSkippyMemoryHigh"}',
    "truncatedAlerts": 0,
}


def body(payload=WEBHOOK) -> bytes:
    return json.dumps(payload).encode()


def test_a_webhook_decodes_into_one_alert_per_entry():
    firing, resolved = decode_alertmanager_webhook(body())
    assert (firing.status, firing.alertname, firing.labels["pod"]) == ("firing", "KubeSkippyMemoryHigh", "cart-1")
    assert firing.starts_at == 1_767_225_605.123  # nanoseconds cut to what our events carry
    assert firing.ends_at is None  # Go's zero time means "no end yet"
    assert (firing.receiver, firing.group_key) == ("kubeskippy", '{}:{alertname="KubeSkippyMemoryHigh"}')
    assert firing.generator_url.startswith("http://prometheus")
    assert (resolved.status, resolved.ends_at) == ("resolved", 1_767_226_200.0)


def test_alert_ids_are_stable_for_a_resend_and_differ_when_the_state_changes():
    first = decode_alertmanager_webhook(body())[0]
    again = decode_alertmanager_webhook(body())[0]
    assert first.id == again.id
    changed = copy.deepcopy(WEBHOOK)
    changed["alerts"][0]["status"] = "resolved"
    assert decode_alertmanager_webhook(body(changed))[0].id != first.id


def test_fields_alertmanager_may_add_later_are_ignored():
    newer = copy.deepcopy(WEBHOOK)
    newer["somethingNew"] = {"x": 1}
    newer["alerts"][0]["silencedBy"] = ["abc"]
    assert len(decode_alertmanager_webhook(body(newer))) == 2


def test_a_body_over_the_limit_is_refused_before_parsing():
    with pytest.raises(PayloadTooLarge) as info:
        decode_alertmanager_webhook(b"{" + b" " * 2048 + b"}", max_bytes=1024)
    assert (info.value.size, info.value.limit) == (2050, 1024)


def _broken(**changes):
    payload = copy.deepcopy(WEBHOOK)
    for path, value in changes.items():
        target = payload
        *head, last = path.split("__")
        for part in head:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is ...:
            del target[last]
        else:
            target[last] = value
    return body(payload)


@pytest.mark.parametrize("raw, expected", [
    pytest.param(b"not json", ["body: must be JSON (Expecting value at line 1, column 1)"], id="not-json"),
    pytest.param(b"\xff", ["body: must be UTF-8 JSON"], id="not-utf8"),
    pytest.param(b"[]", ["body: must be a JSON object"], id="array"),
    pytest.param(_broken(version="3"), ['version: must be "4" (Alertmanager webhook format), got \'3\''], id="version"),
    pytest.param(_broken(version=...), ["version: required"], id="no-version"),
    pytest.param(_broken(alerts=...), ["alerts: required"], id="no-alerts"),
    pytest.param(_broken(alerts__0__labels__alertname=...),
                 ["alerts[0].labels.alertname: required (every Prometheus alert has one)"], id="no-alertname"),
    pytest.param(_broken(alerts__1__startsAt="yesterday"), None, id="bad-start"),
    pytest.param(_broken(alerts__0__status="pending", alerts__1__fingerprint=""),
                 ["alerts[0].status: must be one of firing resolved", "alerts[1].fingerprint: must not be empty"],
                 id="two-problems"),
    pytest.param(_broken(alerts__0__labels={"alertname": "A", "value": 3}), ["alerts[0].labels.value: must be a string"],
                 id="label-not-string"),
])
def test_malformed_webhooks_name_every_bad_field(raw, expected):
    with pytest.raises(InvalidInput) as info:
        decode_alertmanager_webhook(raw)
    messages = [str(e) for e in info.value.errors]
    if expected is None:
        assert messages[0].startswith("alerts[1].startsAt: must be an RFC 3339 timestamp")
    else:
        assert messages == expected


def test_an_alert_becomes_a_cloudevent_of_its_status_with_its_id():
    firing, resolved = decode_alertmanager_webhook(body())
    event = alert_event(firing)
    assert (event["type"], event["id"], event["subject"]) == ("io.kubeskippy.alert.firing", firing.id, "KubeSkippyMemoryHigh")
    assert event["source"] == "/kubeskippy/detect"
    assert alert_event(resolved)["type"] == "io.kubeskippy.alert.resolved"
    back = decode_payload(parse_http(*encode(event)))
    assert back == firing
    assert back.id == event["id"]  # every hop derives the same id from the payload


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False))
def test_wire_precision_is_stable_across_any_number_of_trips(ts):
    once = wire_precision(ts)
    assert wire_precision(once) == once
    assert abs(once - ts) < 0.0011
