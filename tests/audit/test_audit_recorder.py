"""The recorder: one object per event, however often it is delivered."""

from __future__ import annotations

import json

import pytest

from kubeskippy.audit.memory_sink import MemorySink
from kubeskippy.audit.recorder import Recorder
from kubeskippy.clock import ManualClock
from kubeskippy.errors import APINotFound, TemporaryError

from .events import T0, finding, finding_event


def test_the_same_event_three_times_is_one_object_written_once():
    clock = ManualClock(T0)
    sink = MemorySink(clock)
    recorder = Recorder(sink, clock)
    event = finding_event(finding(at=T0))
    keys = []
    for _ in range(3):
        keys.append(recorder.record(event))
        clock.advance(600)
    assert len(set(keys)) == 1
    assert [o.key for o in sink.list()] == keys[:1]
    assert sink.puts == 1
    body, _ = sink.get(keys[0])
    assert json.loads(body)["received_at"] == "2026-11-21T19:00:00.000Z"  # the first receipt is kept


def test_write_says_whether_it_wrote():
    clock = ManualClock(T0)
    recorder = Recorder(MemorySink(clock), clock, function="remediate")
    event = finding_event(finding(at=T0))
    first, again = recorder.write(event), recorder.write(event)
    assert (first.written, again.written) == (True, False)
    assert first.key == again.key


class GetOnlySink:
    """A sink with only the port's three methods: the recorder must probe through get()."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, dict]] = {}

    def put(self, key, body, metadata):
        self.objects[key] = (body, dict(metadata))

    def get(self, key):
        if key not in self.objects:
            raise APINotFound(404, key)
        return self.objects[key]

    def list(self, prefix=""):
        return []


def test_a_sink_without_exists_is_probed_through_get():
    sink = GetOnlySink()
    recorder = Recorder(sink, ManualClock(T0))
    event = finding_event(finding(at=T0))
    assert recorder.write(event).written
    assert not recorder.write(event).written
    assert len(sink.objects) == 1


class FlakySink(MemorySink):
    def __init__(self, failures: int) -> None:
        super().__init__(ManualClock(T0))
        self.failures = failures

    def put(self, key, body, metadata):
        if self.failures:
            self.failures -= 1
            raise TemporaryError("S3 is down")
        super().put(key, body, metadata)


def test_a_transient_sink_fault_reaches_the_caller_and_the_redelivery_lands_once():
    sink = FlakySink(failures=2)
    recorder = Recorder(sink, ManualClock(T0))
    event = finding_event(finding(at=T0))
    for _ in range(2):
        with pytest.raises(TemporaryError):
            recorder.record(event)
    assert sink.list() == []
    recorder.record(event)
    recorder.record(event)
    assert len(sink.list()) == 1 and sink.puts == 1


def test_the_clock_is_used_only_when_the_event_has_no_time():
    clock = ManualClock(T0 + 3 * 3600)
    recorder = Recorder(MemorySink(clock), clock)
    with_time = finding_event(finding(at=T0))
    without_time = {k: v for k, v in finding_event(finding(at=T0, finding_id="f-2")).items() if k != "time"}
    assert recorder.record(with_time).startswith("2026/11/21/19/")
    assert recorder.record(without_time).startswith("2026/11/21/22/")
