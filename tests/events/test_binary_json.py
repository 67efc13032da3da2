"""parse_http and encode write the binary-mode JSON case out; the results must be the SDK's own.

Generated requests and events go through both paths: ours (kubeskippy.events.cloudevents) and the
cloudevents SDK's from_http / to_binary. Every difference (an attribute, its value, the data, a
header, the body's bytes) fails.
"""

from __future__ import annotations

import json

import pytest
from cloudevents.v1.conversion import to_binary
from cloudevents.v1.http import CloudEvent, from_http
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kubeskippy.errors import InvalidInput
from kubeskippy.events import cloudevents as ours

names = st.from_regex(r"[a-z][a-z0-9]{0,19}", fullmatch=True)
text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), min_size=1, max_size=30)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)


@st.composite
def binary_requests(draw) -> tuple[dict[str, str], bytes]:
    headers = {"ce-specversion": "1.0", "ce-id": draw(text), "ce-source": draw(text), "ce-type": draw(text)}
    if draw(st.booleans()):
        headers["ce-time"] = "2026-11-22T09:00:00.123456+00:00"
    for name in draw(st.lists(names, max_size=4)):
        headers.setdefault(f"ce-{name}", draw(text))
    if draw(st.booleans()):
        headers["content-type"] = draw(st.sampled_from(["application/json", "application/json; charset=utf-8",
                                                        "text/plain"]))
    if draw(st.booleans()):  # header names as a client may spell them
        headers = {name.title(): value for name, value in headers.items()}
    body = draw(st.one_of(json_values.map(lambda v: json.dumps(v).encode()),
                          st.sampled_from([b"", b"not json", b"{\"cut\": ", "\"text\"".encode()])))
    return headers, body


def attributes(event) -> dict:
    return dict(event.get_attributes())


@settings(max_examples=300, deadline=None)
@given(binary_requests())
@example(({"ce-specversion": "1.0", "ce-id": "0", "ce-source": "0", "ce-type": "0",
           "ce-time": "2026-11-22T09:00:00.123456+00:00"}, b'""'))  # JSON's empty string: the SDK's None
def test_a_binary_request_decodes_to_what_the_sdk_decodes(request):
    headers, body = request
    expected = from_http(dict(headers), body)
    got = ours.parse_http(headers, body)
    if "ce-time" not in {k.lower() for k in headers}:  # the SDK stamps the time of decoding
        assert abs(ours.event_time(got) - ours.event_time(expected)) < 5
        expected_attributes = {k: v for k, v in attributes(expected).items() if k != "time"}
        assert {k: v for k, v in attributes(got).items() if k != "time"} == expected_attributes
    else:
        assert attributes(got) == attributes(expected)
    assert got.get_data() == expected.get_data() and type(got.get_data()) is type(expected.get_data())


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(names, st.one_of(text, st.none(), st.integers()), max_size=5), json_values,
       st.booleans(), st.booleans())
def test_an_event_encodes_to_the_sdks_headers_and_bytes(extra, data, with_type, with_subject):
    attrs = {"specversion": "1.0", "id": "e-1", "source": "/kubeskippy/detect", "type": "io.kubeskippy.finding",
             "time": "2026-11-22T09:00:00+00:00"}
    for key, value in extra.items():
        attrs.setdefault(key, value)
    if with_type:
        attrs["datacontenttype"] = "application/json"
    if with_subject:
        attrs["subject"] = None  # a known attribute set to None is left out by the SDK
    event = CloudEvent(attrs, data)
    sdk_headers, sdk_body = to_binary(event)
    headers, body = ours.encode(event, mode="binary")
    assert headers == {str(k): str(v) for k, v in sdk_headers.items()}
    assert body == (b"" if sdk_body is None else sdk_body)  # no data: the SDK's None, sent as no body


def test_the_common_cases_take_the_written_out_path_and_the_rest_the_sdks():
    headers = {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "s", "ce-type": "t",
               "ce-time": "2026-11-22T09:00:00Z", "content-type": "application/json"}
    assert ours._from_binary_json(headers, b"{}") is not None
    assert ours._from_binary_json({k.title(): v for k, v in headers.items()}, b"{}") is not None
    for changed in ({"ce-specversion": "0.3"}, {"ce-time": None}, {"ce-data": "x"}):
        variant = {k: v for k, v in {**headers, **changed}.items() if v is not None}
        assert ours._from_binary_json(variant, b"{}") is None
    assert ours._from_binary_json(headers, b"not json") is None
    assert ours._from_binary_json(headers, b"") is None
    assert ours._binary_json(CloudEvent({"specversion": "1.0", "id": "1", "source": "s", "type": "t"},
                                        b"\x00bytes")) is None


def test_an_event_without_data_is_sent_with_an_empty_body_in_either_mode_of_encoding():
    event = CloudEvent({"specversion": "1.0", "id": "1", "source": "s", "type": "t"}, None)
    assert ours.encode(event, mode="binary")[1] == b""
    assert ours._binary_json(event) == ours.encode(event, mode="binary")


def test_a_binary_request_missing_a_required_attribute_is_still_invalid_input():
    with pytest.raises(InvalidInput, match="not a CloudEvent"):
        ours.parse_http({"ce-specversion": "1.0", "ce-id": "1", "ce-type": "t", "ce-time": "2026-11-22T09:00:00Z"},
                        b"{}")
    with pytest.raises(InvalidInput, match="time"):
        ours.parse_http({"ce-specversion": "1.0", "ce-id": "1", "ce-source": "s", "ce-type": "t",
                         "ce-time": "yesterday"}, b"{}")
