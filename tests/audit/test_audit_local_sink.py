"""The local directory sink: atomic files, sidecar metadata, the port's error rules."""

from __future__ import annotations

import json
import os

import pytest

from kubeskippy.audit.local_sink import LocalDirectorySink
from kubeskippy.audit.recorder import Recorder
from kubeskippy.clock import ManualClock
from kubeskippy.errors import APINotFound, InvalidInput, PermanentError
from kubeskippy.ports import AuditSink

from .events import T0, finding, finding_event

KEY = "2026/11/21/19/io.kubeskippy.finding/f-1.json"


def test_it_satisfies_the_audit_sink_port(tmp_path):
    assert isinstance(LocalDirectorySink(tmp_path), AuditSink)


def test_put_then_get_returns_body_and_metadata(tmp_path):
    sink = LocalDirectorySink(tmp_path / "audit")
    sink.put(KEY, b'{"x":1}', {"SHA256": "abc", "policy": "shop/p"})
    body, meta = sink.get(KEY)
    assert body == b'{"x":1}'
    assert meta == {"sha256": "abc", "policy": "shop/p"}
    assert (tmp_path / "audit" / KEY).read_bytes() == b'{"x":1}'
    assert json.loads((tmp_path / "audit" / (KEY + ".meta")).read_text()) == {"policy": "shop/p", "sha256": "abc"}


def test_writes_leave_no_temporary_files_behind(tmp_path):
    sink = LocalDirectorySink(tmp_path)
    for i in range(3):
        sink.put(KEY, b"v%d" % i, {"sha256": str(i)})
    names = sorted(os.listdir(tmp_path / "2026/11/21/19/io.kubeskippy.finding"))
    assert names == ["f-1.json", "f-1.json.meta"]


def test_a_missing_key_is_not_found(tmp_path):
    with pytest.raises(APINotFound):
        LocalDirectorySink(tmp_path).get(KEY)
    assert not LocalDirectorySink(tmp_path).exists(KEY)


def test_list_filters_by_prefix_and_hides_sidecars_and_temporaries(tmp_path):
    sink = LocalDirectorySink(tmp_path)
    sink.put("2026/11/21/19/a/1.json", b"1", {"sha256": "x"})
    sink.put("2026/11/21/20/a/2.json", b"22", {"sha256": "y"})
    sink.put("2026/11/22/00/b/3.json", b"333", {})
    (tmp_path / "2026/11/21/19/a/.1.json.tmp").write_bytes(b"partial")
    assert [o.key for o in sink.list()] == ["2026/11/21/19/a/1.json", "2026/11/21/20/a/2.json", "2026/11/22/00/b/3.json"]
    listed = sink.list("2026/11/21/2")
    assert [(o.key, o.size, dict(o.metadata)) for o in listed] == [("2026/11/21/20/a/2.json", 2, {"sha256": "y"})]
    assert sink.list("2027/") == []


def test_a_body_written_by_someone_else_without_a_sidecar_has_no_metadata(tmp_path):
    sink = LocalDirectorySink(tmp_path)
    (tmp_path / "stray").mkdir()
    (tmp_path / "stray" / "note.json").write_text("{}")
    assert sink.get("stray/note.json") == (b"{}", {})


@pytest.mark.parametrize("key", ["../outside.json", "/abs.json", "a//b.json", "a/./b.json", "a/.hidden/b.json",
                                 "x.json.meta", "a\\b.json", ""])
def test_keys_that_could_escape_the_directory_are_refused(tmp_path, key):
    with pytest.raises(InvalidInput) as caught:
        LocalDirectorySink(tmp_path / "root").put(key, b"x", {})
    assert caught.value.errors[0].path == "key"
    assert not (tmp_path / "outside.json").exists()


def test_a_permission_error_is_a_permanent_error(tmp_path, monkeypatch):
    """Root ignores directory modes, so the refusal is injected where the sink creates its file."""
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(PermanentError, match="not writable"):
        LocalDirectorySink(tmp_path / "audit").put(KEY, b"x", {})


def test_a_file_in_the_way_of_a_directory_is_a_temporary_error(tmp_path):
    from kubeskippy.errors import TemporaryError

    (tmp_path / "2026").write_text("in the way")
    with pytest.raises(TemporaryError, match="failed"):
        LocalDirectorySink(tmp_path).put(KEY, b"x", {})


def test_recorder_over_the_local_sink_writes_one_file_per_event(tmp_path):
    clock = ManualClock(T0)
    sink = LocalDirectorySink(tmp_path)
    recorder = Recorder(sink, clock)
    event = finding_event(finding(at=T0))
    keys = {recorder.record(event) for _ in range(3)}
    assert len(keys) == 1
    assert [o.key for o in sink.list()] == list(keys)
