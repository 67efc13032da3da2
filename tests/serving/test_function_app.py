"""FunctionApp closes func-python's gaps: size limits, readiness after a failed start, error
statuses that steer Knative's retries, CloudEvent-or-empty replies, and metrics."""

from __future__ import annotations

import time

import httpx

from kubeskippy.errors import InvalidInput, TemporaryError, FieldError
from kubeskippy.events.cloudevents import CloudEvent, encode, parse_http
from kubeskippy.serving import FunctionApp, Route
from kubeskippy.serving.emit import MAX_PARALLEL
from tests.harness.scripted_http import Reply, ScriptedServer


def ce(event_type: str = "io.kubeskippy.finding", event_id: str = "e1", data=None) -> CloudEvent:
    return CloudEvent({"id": event_id, "source": "/t", "type": event_type, "specversion": "1.0",
                       "datacontenttype": "application/json"}, data if data is not None else {"x": 1})


class ScriptService:
    """Returns what it is told to, or raises it."""

    def __init__(self) -> None:
        self.result: object = []
        self.seen: list = []

    def handle(self, event):
        self.seen.append(event)
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def make_app(cfg=None, *, routes=(), fail: Exception | None = None, max_body=None):
    service = ScriptService()

    def build(config):
        if fail:
            raise fail
        return service, list(routes)

    app = FunctionApp("test", build, max_body=max_body)
    app.start(cfg or {})
    return app, service


async def post(app, event=None, *, content=None, headers=None, path="/"):
    transport = httpx.ASGITransport(app=app.handle)
    async with httpx.AsyncClient(transport=transport, base_url="http://fn") as client:
        if event is not None:
            h, body = encode(event, mode="binary")
            return await client.post(path, content=body, headers=h)
        return await client.post(path, content=content or b"", headers=headers or {})


async def test_one_produced_event_is_the_reply_as_a_cloudevent():
    app, service = make_app()
    service.result = [ce("io.kubeskippy.plan", "p1")]
    response = await post(app, ce())
    assert response.status_code == 200
    assert parse_http(dict(response.headers), response.content)["id"] == "p1"


async def test_a_service_with_handle_async_is_awaited_on_the_loop_instead_of_handle_in_a_thread():
    app, service = make_app()
    awaited: list = []

    async def handle_async(event):
        awaited.append(event["id"])
        return [ce("io.kubeskippy.plan", "p2")]

    service.handle_async = handle_async
    response = await post(app, ce(event_id="e7"))
    assert response.status_code == 200 and parse_http(dict(response.headers), response.content)["id"] == "p2"
    assert awaited == ["e7"] and service.seen == []


async def test_no_produced_event_is_an_empty_202():
    app, _ = make_app()
    response = await post(app, ce())
    assert response.status_code == 202 and response.content == b""


async def test_of_several_events_the_first_is_the_reply_and_the_rest_are_published_to_k_sink_before_it():
    with ScriptedServer() as sink:
        app, service = make_app({"K_SINK": sink.url + "/"})
        service.result = [ce("io.kubeskippy.outcome", f"o{i}") for i in range(1, 4)]
        response = await post(app, ce())
    assert response.status_code == 200 and response.headers["ce-id"] == "o1"
    assert sorted(r.headers["ce-id"] for r in sink.received) == ["o2", "o3"]


async def test_several_events_without_k_sink_are_a_configuration_error_and_nothing_is_answered():
    app, service = make_app()
    service.result = [ce("io.kubeskippy.outcome", "o1"), ce("io.kubeskippy.outcome", "o2")]
    response = await post(app, ce())
    assert response.status_code >= 400 and "K_SINK" in response.text and "ce-id" not in response.headers


async def test_several_events_are_posted_side_by_side_not_one_after_another():
    with ScriptedServer(default=Reply(202, delay=1.0)) as sink:  # each post is answered a second after it arrives
        app, service = make_app({"K_SINK": sink.url + "/"})
        service.result = [ce("io.kubeskippy.outcome", f"o{i}") for i in range(MAX_PARALLEL + 2)]
        response = await post(app, ce())
    assert response.status_code == 200 and response.headers["ce-id"] == "o0"
    assert sorted(r.headers["ce-id"] for r in sink.received) == sorted(f"o{i}" for i in range(1, MAX_PARALLEL + 2))
    first_wave = sorted(r.at for r in sink.received)[:MAX_PARALLEL]
    assert first_wave[-1] - first_wave[0] < 1.0  # one after another, each would wait for the previous answer


async def test_when_one_post_fails_the_others_finish_before_the_retryable_answer():
    with ScriptedServer(default=Reply(202, delay=0.3)) as sink:
        sink.script("/", Reply(503))
        app, service = make_app({"K_SINK": sink.url + "/"})
        service.result = [ce("io.kubeskippy.outcome", f"o{i}") for i in range(MAX_PARALLEL + 1)]  # 1 reply
        started = time.monotonic()
        response = await post(app, ce())
        took = time.monotonic() - started
        received_when_answered = len(sink.received)
    assert response.status_code == 503
    assert received_when_answered == MAX_PARALLEL
    assert took >= 0.3  # the answer waited for the posts still in flight (each answered 0.3 s after arriving)


async def test_a_broker_that_refuses_a_publish_makes_the_request_retryable():
    with ScriptedServer(default=Reply(503)) as sink:
        app, service = make_app({"K_SINK": sink.url + "/"})
        service.result = [ce("io.kubeskippy.outcome", "o1"), ce("io.kubeskippy.outcome", "o2")]
        response = await post(app, ce())
    assert response.status_code == 503


async def test_a_body_over_the_limit_is_refused_with_413_before_the_core_sees_it():
    app, service = make_app(max_body=1024)
    response = await post(app, content=b"x" * 2048, headers={"ce-id": "1", "ce-source": "/s", "ce-type": "t",
                                                            "ce-specversion": "1.0"})
    assert response.status_code == 413
    assert "exceeds the limit of 1024 bytes" in response.json()["error"]
    assert service.seen == []


async def test_a_request_that_is_not_a_cloudevent_is_a_400_naming_the_problem():
    app, _ = make_app()
    response = await post(app, content=b'{"hello": 1}', headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "not a CloudEvent" in response.json()["error"]


async def test_invalid_input_from_the_core_is_a_400_with_field_paths():
    app, service = make_app()
    service.result = InvalidInput([FieldError("data.target.kind", "required")])
    response = await post(app, ce())
    assert response.status_code == 400
    assert response.json()["fields"] == [{"path": "data.target.kind", "message": "required"}]


async def test_a_transient_fault_is_a_503_with_a_retry_hint():
    app, service = make_app()
    service.result = TemporaryError("API server unavailable", delay=7)
    response = await post(app, ce())
    assert response.status_code == 503 and response.headers["retry-after"] == "7"


async def test_an_unexpected_error_is_a_500_that_leaks_nothing():
    app, service = make_app()
    service.result = RuntimeError("secret-token=abc123 in a traceback")
    response = await post(app, ce())
    assert response.status_code == 500
    assert "abc123" not in response.text and "incident" in response.json()["error"]


async def test_a_failed_start_reports_not_ready_and_refuses_events():
    app, _ = make_app(fail=InvalidInput("KUBESKIPPY_POLICY_FILES: required"))
    ready, why = app.ready()
    assert not ready and "KUBESKIPPY_POLICY_FILES" in why
    assert app.alive() == (True, "OK")
    response = await post(app, ce())
    assert response.status_code == 503


async def test_a_route_publishes_everything_then_answers():
    with ScriptedServer() as sink:
        app, _ = make_app({"K_SINK": sink.url + "/"},
                          routes=[Route("POST", "/hook", lambda headers, body: [ce("io.kubeskippy.alert.firing", "a1")])])
        response = await post(app, content=b"{}", path="/hook")
    assert response.status_code == 200 and response.json() == {"published": 1}
    assert sink.received[0].headers["ce-id"] == "a1"


async def test_metrics_count_events_by_type_and_status():
    app, _ = make_app()
    await post(app, ce())
    transport = httpx.ASGITransport(app=app.handle)
    async with httpx.AsyncClient(transport=transport, base_url="http://fn") as client:
        text = (await client.get("/metrics")).text
    assert 'kubeskippy_events_total{function="test",status="202",type="io.kubeskippy.finding"} 1.0' in text


async def test_outcomes_feed_the_action_and_safety_block_metrics():
    app, service = make_app()
    blocked = {"action_type": "restart", "status": "blocked", "reason": "rate_limited"}
    service.result = [ce("io.kubeskippy.outcome", "o1", blocked)]
    await post(app, ce())
    text = app.metrics.exposition().decode()
    assert 'kubeskippy_actions_total{action_type="restart",function="test",result="blocked"} 1.0' in text
    assert 'kubeskippy_safety_blocks_total{function="test",reason="rate_limited"} 1.0' in text
