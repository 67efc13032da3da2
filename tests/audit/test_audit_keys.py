"""The key scheme and the digest: pure functions, exact values."""

from __future__ import annotations

import hashlib

import pytest

from kubeskippy.audit.digest import check_digest, sha256_hex
from kubeskippy.audit.keys import audit_key, hour_prefixes, parse_key, safe_segment
from kubeskippy.clock import from_rfc3339


def test_key_is_date_hour_type_and_id_of_the_event_time():
    at = from_rfc3339("2026-11-21T23:59:59.900Z")
    assert audit_key(at, "io.kubeskippy.plan", "p-123") == "2026/11/21/23/io.kubeskippy.plan/p-123.json"


def test_key_uses_utc_whatever_the_offset_of_the_time_attribute():
    at = from_rfc3339("2026-11-22T01:30:00+02:00")
    assert audit_key(at, "t", "i").startswith("2026/11/21/23/")


@pytest.mark.parametrize("raw", ["a/b", "../../etc/passwd", "", ".hidden", "x" * 200, "ümlaut", "a..b"],
                         ids=["slash", "traversal", "empty", "dot-first", "too-long", "non-ascii", "double-dot"])
def test_unsafe_ids_become_a_stable_digest_segment(raw):
    segment = safe_segment(raw)
    assert segment == "h-" + hashlib.sha256(raw.encode()).hexdigest()[:40]
    assert segment == safe_segment(raw)
    assert "/" not in segment


def test_ordinary_ids_and_types_stay_readable():
    assert safe_segment("4c0f9a5e-1b2c-4d3e-8f90-123456789abc") == "4c0f9a5e-1b2c-4d3e-8f90-123456789abc"
    assert safe_segment("dev.knative.apiserver.resource.update") == "dev.knative.apiserver.resource.update"


def test_a_key_parses_back_to_its_hour_type_and_id():
    parts = parse_key("2026/11/21/23/io.kubeskippy.outcome/o-1.json")
    assert parts is not None
    assert parts.hour_start == from_rfc3339("2026-11-21T23:00:00Z")
    assert parts.hour_end == from_rfc3339("2026-11-22T00:00:00Z")
    assert (parts.type, parts.id) == ("io.kubeskippy.outcome", "o-1")


@pytest.mark.parametrize("key", ["notes.txt", "2026/13/01/00/t/i.json", "2026/11/21/23/t/i.meta", "2026/11/21/t/i.json"])
def test_keys_we_did_not_write_do_not_parse(key):
    assert parse_key(key) is None


def test_a_two_hour_range_lists_three_hour_prefixes():
    start = from_rfc3339("2026-11-21T22:15:00Z")
    assert hour_prefixes(start, start + 7200) == ["2026/11/21/22/", "2026/11/21/23/", "2026/11/22/00/"]


def test_a_long_range_lists_day_prefixes_and_an_open_range_lists_everything():
    start = from_rfc3339("2026-11-01T05:00:00Z")
    days = hour_prefixes(start, start + 10 * 86400)
    assert days[0] == "2026/11/01/" and days[-1] == "2026/11/11/" and len(days) == 11
    assert hour_prefixes(None, start) == [""]
    assert hour_prefixes(start, None) == [""]
    assert hour_prefixes(start, start + 400 * 86400) == [""]


def test_the_digest_is_sha256_of_the_exact_bytes():
    assert sha256_hex(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_digest_check_reports_ok_mismatch_and_missing():
    body = b'{"a":1}'
    assert check_digest("k", body, {"sha256": sha256_hex(body)}).status == "ok"
    assert check_digest("k", body, {"sha256": sha256_hex(body).upper()}).ok
    mismatch = check_digest("k", b'{"a":2}', {"sha256": sha256_hex(body)})
    assert (mismatch.status, mismatch.expected, mismatch.actual) == ("mismatch", sha256_hex(body), sha256_hex(b'{"a":2}'))
    assert check_digest("k", body, {}).status == "missing"
