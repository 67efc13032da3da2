"""The local broker keeps Knative Eventing's delivery semantics (see kubeskippy/mesh/broker.py)."""

from __future__ import annotations

import base64
import json

import pytest

from kubeskippy.events.cloudevents import CloudEvent, encode, parse_http
from kubeskippy.mesh.broker import Broker, DeliverySpec, Trigger, is_retryable
from tests.harness.scripted_http import Reply, ScriptedServer


def event(event_type: str = "io.kubeskippy.finding", event_id: str = "e1") -> CloudEvent:
    return CloudEvent({"id": event_id, "source": "/test", "type": event_type, "specversion": "1.0",
                       "datacontenttype": "application/json"}, {"n": 1})


def reply_event(event_type: str, event_id: str) -> Reply:
    headers, body = encode(event(event_type, event_id), mode="binary")
    return Reply(200, body, tuple(headers.items()))


@pytest.fixture
def server():
    with ScriptedServer() as s:
        yield s


FAST = DeliverySpec(retry=3, backoff_delay=0.01, timeout=5.0)


@pytest.mark.parametrize("status, retried", [
    pytest.param(None, True, id="network-error"),
    pytest.param(500, True, id="500"), pytest.param(503, True, id="503"),
    pytest.param(404, True, id="404"), pytest.param(408, True, id="408"),
    pytest.param(409, True, id="409"), pytest.param(429, True, id="429"),
    pytest.param(400, False, id="400"), pytest.param(401, False, id="401"),
    pytest.param(403, False, id="403"), pytest.param(413, False, id="413"),
])
def test_retryable_statuses_follow_knative(status, retried):
    assert is_retryable(status) is retried


async def test_exact_and_prefix_filters_pick_the_matching_triggers(server):
    broker = Broker([
        Trigger("exact", server.url + "/exact", attributes={"type": "io.kubeskippy.finding"}),
        Trigger("prefix", server.url + "/prefix", prefix={"type": "io.kubeskippy."}),
        Trigger("other", server.url + "/other", attributes={"type": "io.kubeskippy.plan"}),
    ], delivery=FAST)
    await broker.ingest(event())
    await broker.wait_idle(10)
    await broker.aclose()
    assert len(server.on("/exact")) == 1 and len(server.on("/prefix")) == 1 and not server.on("/other")


async def test_a_cloudevent_reply_goes_back_into_the_broker(server):
    server.script("/analyze", reply_event("io.kubeskippy.plan", "p1"))
    broker = Broker([
        Trigger("analyze", server.url + "/analyze", attributes={"type": "io.kubeskippy.finding"}),
        Trigger("remediate", server.url + "/remediate", attributes={"type": "io.kubeskippy.plan"}),
    ], delivery=FAST)
    await broker.ingest(event())
    await broker.wait_idle(10)
    await broker.aclose()
    got = server.on("/remediate")
    assert len(got) == 1 and got[0].headers["ce-id"] == "p1"


async def test_5xx_is_retried_with_backoff_until_it_succeeds(server):
    server.script("/s", Reply(503), Reply(500))
    broker = Broker([Trigger("t", server.url + "/s", prefix={"type": ""})], delivery=FAST)
    await broker.ingest(event())
    await broker.wait_idle(10)
    await broker.aclose()
    assert [r.status for r in broker.records] == [503, 500, 202]
    assert not broker.dead_letters


async def test_a_400_is_not_retried_and_goes_to_the_dead_letter_sink_with_knative_extensions(server):
    server.script("/s", Reply(400, b'{"error":"bad"}'))
    spec = DeliverySpec(retry=3, backoff_delay=0.01, dead_letter_sink=server.url + "/dls")
    broker = Broker([Trigger("t", server.url + "/s", prefix={"type": ""})], delivery=spec)
    await broker.ingest(event())
    await broker.wait_idle(10)
    await broker.aclose()
    assert [r.status for r in broker.records] == [400]
    dead = parse_http(server.on("/dls")[0].headers, server.on("/dls")[0].body)
    assert dead["id"] == "e1"
    assert dead["knativeerrorcode"] == "400"
    assert dead["knativeerrordest"] == server.url + "/s"
    assert base64.b64decode(dead["knativeerrordata"]) == b'{"error":"bad"}'


async def test_a_plain_text_2xx_reply_counts_as_a_failure(server):
    server.script("/s", Reply(200, b"OK"), Reply(200, b"still not an event"))
    broker = Broker([Trigger("t", server.url + "/s", prefix={"type": ""})], delivery=FAST)
    await broker.ingest(event())
    await broker.wait_idle(10)
    await broker.aclose()
    assert [r.status for r in broker.records] == [200, 200, 202]


async def test_exhausted_retries_dead_letter_the_event(server):
    server.default = Reply(503)
    broker = Broker([Trigger("t", server.url + "/s", prefix={"type": ""})],
                    delivery=DeliverySpec(retry=2, backoff_delay=0.01))
    await broker.ingest(event())
    await broker.wait_idle(10)
    await broker.aclose()
    assert len(broker.records) == 3
    assert broker.dead_letters[0]["knativeerrorcode"] == "503"


async def test_an_unreachable_subscriber_is_a_network_error_and_retried():
    broker = Broker([Trigger("t", "http://127.0.0.1:9/", prefix={"type": ""})],
                    delivery=DeliverySpec(retry=1, backoff_delay=0.01, timeout=1.0))
    await broker.ingest(event())
    await broker.wait_idle(10)
    await broker.aclose()
    assert [r.status for r in broker.records] == [None, None]
    assert broker.dead_letters[0]["knativeerrorcode"] == "0"
    assert json.loads(json.dumps(broker.dead_letters[0].get_data())) == {"n": 1}


async def test_a_subscriber_slower_than_the_timeout_is_a_network_error_and_retried(server):
    server.script("/slow", Reply(202, delay=1.0))
    broker = Broker([Trigger("t", server.url + "/slow", prefix={"type": ""})],
                    delivery=DeliverySpec(retry=1, backoff_delay=0.01, timeout=0.3))
    await broker.ingest(event())
    await broker.wait_idle(10)
    await broker.aclose()
    assert [r.status for r in broker.records] == [None, 202]
    assert broker.dead_letters == []


class _KeepAliveSubscriber:
    """An HTTP/1.1 subscriber that records the client port of every request it answers."""

    def __init__(self, close_after_each: bool = False) -> None:
        import http.server
        import threading

        ports: list[int] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers["Content-Length"]))
                ports.append(self.client_address[1])
                self.send_response(202)
                self.send_header("Content-Length", "0")
                if close_after_each:
                    self.send_header("Connection", "close")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.ports = ports
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/in"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "_KeepAliveSubscriber":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


async def _three_events_one_after_another(subscriber: _KeepAliveSubscriber) -> Broker:
    """Deliver three events to ``subscriber``, each after the previous one's delivery ended."""
    broker = Broker([Trigger("t", subscriber.url, prefix={"type": ""})], delivery=FAST)
    for i in range(3):
        await broker.ingest(event(event_id=f"e{i}"))
        await broker.wait_idle(10)
    await broker.aclose()
    return broker


async def test_deliveries_one_after_another_reuse_one_kept_alive_connection():
    with _KeepAliveSubscriber() as subscriber:
        broker = await _three_events_one_after_another(subscriber)
    assert [r.status for r in broker.records] == [202, 202, 202]
    assert len(subscriber.ports) == 3 and len(set(subscriber.ports)) == 1


async def test_a_subscriber_that_closes_each_connection_still_gets_every_event():
    with _KeepAliveSubscriber(close_after_each=True) as subscriber:
        broker = await _three_events_one_after_another(subscriber)
    assert [r.status for r in broker.records] == [202, 202, 202]
    assert len(set(subscriber.ports)) == 3
