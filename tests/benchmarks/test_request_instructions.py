"""The instruction benchmark's driver makes the requests an HTTP server would, and fails loudly
when a function does not answer 2xx (a count of failing requests would be meaningless)."""

from __future__ import annotations

import pytest

from benchmarks.request_instructions import drive, new_app
from kubeskippy.events.cloudevents import encode
from kubeskippy.ingest.apiserver import apiserver_event

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "demo", "uid": "u1"}}


async def test_the_echo_answers_every_driven_request_with_its_event():
    app = new_app("echo", "http://127.0.0.1:1")
    seen: list[str] = []
    real = app.handle

    async def spy(scope, receive, send):
        async def recording_send(message):
            if message["type"] == "http.response.body":
                seen.append(message["body"])
            await send(message)
        await real(scope, receive, recording_send)

    app.handle = spy
    mix = [encode(apiserver_event("update", POD, id=f"e{i}"), mode="binary") for i in range(3)]
    await drive(app, mix, 5)
    assert len(seen) == 5 and all(b'"web-1"' in body for body in seen)


async def test_a_request_answered_with_an_error_stops_the_count():
    app = new_app("detect", "http://127.0.0.1:1")  # nothing is read: the request is refused first
    with pytest.raises(RuntimeError, match=r"request 0 was answered \[400\]"):
        await drive(app, [({"ce-specversion": "1.0"}, b"{}")], 1)  # not a CloudEvent
