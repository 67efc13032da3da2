import re

import pytest

from kubeskippy.detect.event_counting import compile_reason, count_in_window, occurrences_in_window, read_event

from .builders import T0, event_new, event_v1, pod

P = pod("web-1")
WINDOW_START = T0 - 300


def record(**kwargs):
    return read_event(event_v1("e1", "default", P, "BackOff", **kwargs))


def test_a_v1_event_is_read_with_its_count_and_timestamps():
    r = record(count=4, first=T0 - 100, last=T0 - 10)
    assert (r.count, r.first, r.last) == (4, T0 - 100, T0 - 10)
    assert (r.involved_kind, r.involved_namespace, r.involved_name, r.involved_uid) == ("Pod", "default", "web-1",
                                                                                        "uid-web-1")


def test_an_events_k8s_io_event_is_read_from_regarding_event_time_and_series():
    r = read_event(event_new("e1", "default", P, "BackOff", event_time=T0 - 200, series_count=7,
                             last_observed=T0 - 5))
    assert (r.count, r.first, r.last, r.message) == (7, T0 - 200, T0 - 5, "BackOff on web-1")
    assert r.involved_name == "web-1"


def test_a_v1_event_written_by_a_new_recorder_uses_series_over_count():
    r = record(count=0, first=T0 - 60, series={"count": 3, "lastObservedTime": "2023-11-14T22:13:19.500000Z"})
    assert r.count == 3 and r.last == T0 - 0.5


def test_missing_count_means_one_occurrence():
    obj = event_v1("e1", "default", P, "BackOff")
    del obj["count"]
    assert read_event(obj).count == 1


def test_an_event_naming_no_object_is_unreadable():
    obj = event_v1("e1", "default", P, "BackOff")
    obj["involvedObject"] = {}
    assert read_event(obj) is None


@pytest.mark.parametrize("last, expected", [
    pytest.param(WINDOW_START, 1, id="exactly-at-window-start-counts"),
    pytest.param(WINDOW_START - 0.001, 0, id="just-before-window-start-does-not"),
    pytest.param(T0, 1, id="at-now"),
    pytest.param(T0 + 30, 1, id="after-now-clock-skew-counts"),
])
def test_window_edges_are_inclusive(last, expected):
    r = record(count=1, first=last, last=last)
    assert occurrences_in_window(r, WINDOW_START)[0] == expected


def test_all_occurrences_count_when_the_first_is_inside_the_window():
    assert occurrences_in_window(record(count=5, first=T0 - 300, last=T0), WINDOW_START) == (5, T0 - 300)


def test_a_run_straddling_the_window_start_counts_the_evenly_spaced_occurrences_inside():
    # 11 occurrences every 60 s from T0-600 to T0: those at T0-300 … T0 are six.
    n, since = occurrences_in_window(record(count=11, first=T0 - 600, last=T0), WINDOW_START)
    assert (n, since) == (6, T0 - 300)


def test_a_long_run_with_only_its_last_occurrence_inside_counts_one():
    assert occurrences_in_window(record(count=3, first=T0 - 7200, last=T0 - 10), WINDOW_START)[0] == 1


def test_counts_add_up_over_several_event_objects():
    a = record(count=2, first=T0 - 100, last=T0 - 50)
    b = read_event(event_v1("e2", "default", P, "Unhealthy", count=3, first=T0 - 30, last=T0))
    stale = read_event(event_v1("e3", "default", P, "BackOff", count=9, first=T0 - 900, last=T0 - 800))
    total, since, used = count_in_window([a, b, stale], WINDOW_START)
    assert (total, since, [r.name for r in used]) == (5, T0 - 100, ["e1", "e2"])


@pytest.mark.parametrize("reason, candidate, expected", [
    pytest.param("BackOff", "BackOff", True, id="exact"),
    pytest.param("BackOff", "BackOffPullImage", False, id="exact-is-not-prefix"),
    pytest.param("Back.ff", "BackOff", True, id="dot-makes-regex"),
    pytest.param("BackOff|Unhealthy", "Unhealthy", True, id="alternation"),
    pytest.param("Failed.*", "FailedMount", True, id="star"),
    pytest.param("Failed.*", "XFailedMount", False, id="regex-is-full-match"),
    pytest.param("Fail", "FailedMount", False, id="no-metachar-no-search"),
    pytest.param("", "Anything", True, id="empty-matches-all"),
])
def test_reasons_match_exactly_unless_they_contain_regex_metacharacters(reason, candidate, expected):
    assert compile_reason(reason)(candidate) is expected


def test_an_invalid_reason_regex_raises():
    with pytest.raises(re.error):
        compile_reason("Back(Off")
