"""FunctionApp: the object each function's ``new()`` returns to func-python.

We run under func-python's *http* middleware (func.yaml ``invoke: http``) and decode
CloudEvents ourselves: its cloudevent middleware reads bodies without a limit and answers
every non-CloudEvent request with 400, which would rule out detect's Alertmanager webhook.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
import uuid
from typing import Any, Callable, Mapping, NamedTuple, Protocol, Sequence

from ..errors import KubeSkippyError, PayloadTooLarge, PermanentError, TemporaryError
from ..events.cloudevents import EXT_FINGERPRINT, EXT_PLAN_ID, encode, parse_http
from ..events.types import OUTCOME, PLAN
from .asgi import Receive, Send, header_map, read_body, respond, respond_json
from .emit import Emitter
from .logs import configure_json_logging, correlation
from .metrics import CONTENT_TYPE_LATEST, FunctionMetrics
from .oidc import verifier_from_config

__all__ = ["FunctionApp", "Service", "Route", "DEFAULT_MAX_BODY"]

log = logging.getLogger("kubeskippy.serving")

DEFAULT_MAX_BODY = 1024 * 1024


class Service(Protocol):
    """The core behind one function. ``handle`` is synchronous and runs in a worker thread.

    A service may also define ``async handle_async(event)``, then awaited instead of ``handle``;
    it must never block the event loop (detect's decides there only what needs no I/O)."""

    def handle(self, event: Any) -> Sequence[Any]:
        """Decide on one CloudEvent; return the CloudEvents it produces (maybe none)."""
        ...


class Route(NamedTuple):
    """An extra non-CloudEvent endpoint (e.g. detect's Alertmanager webhook).

    ``handler(headers, body)`` runs in a worker thread and returns CloudEvents; they are all
    published to K_SINK before the caller gets ``ok_status``.
    """

    method: str
    path: str
    handler: Callable[[Mapping[str, str], bytes], Sequence[Any]]
    ok_status: int = 200


class _State:
    """What start() set up (plain classes here: each dataclass a function defines on import costs
    its cold start ~2.5–3.9 M instructions; docs/functions.md, "Session 7")."""

    __slots__ = ("service", "routes", "verifier", "start_error", "started_at")

    def __init__(self, service: Any = None, routes: dict[tuple[str, str], Route] | None = None,
                 verifier: Any = None, start_error: str | None = None, started_at: float | None = None) -> None:
        self.service = service
        self.routes: dict[tuple[str, str], Route] = routes if routes is not None else {}
        self.verifier = verifier
        self.start_error = start_error
        self.started_at = started_at


class FunctionApp:
    """func-python instance: start/stop/alive/ready and an ASGI ``handle``.

    ``build`` is called from ``start(cfg)`` with the environment; it must be cheap (create heavy
    clients lazily) and returns the Service plus any extra Routes. If it raises, the function
    keeps serving health checks but ``ready()`` reports not ready with the reason, so Knative
    never routes events to a half-configured replica (func-python itself would keep serving).
    """

    def __init__(self, name: str, build: Callable[[Mapping[str, str]], tuple[Any, Sequence[Route]]], *,
                 max_body: int | None = None) -> None:
        self.name = name
        self._build = build
        self._max_body_override = max_body
        self.max_body = max_body or DEFAULT_MAX_BODY
        self.metrics = FunctionMetrics(name)
        self.emitter = Emitter(None)
        self.reply_mode = "binary"
        self._state = _State()

    # -- func-python lifecycle (synchronous hooks, run on the event loop: keep them short) --

    def start(self, cfg: Mapping[str, str]) -> None:
        configure_json_logging(cfg.get("KUBESKIPPY_LOG_LEVEL", "INFO"))
        try:
            self.max_body = self._max_body_override or int(cfg.get("KUBESKIPPY_MAX_BODY_BYTES", DEFAULT_MAX_BODY))
            self.emitter = Emitter(cfg.get("K_SINK"))
            verifier = verifier_from_config(cfg)
            service, routes = self._build(cfg)
        except Exception as e:  # noqa: BLE001 - any failure means "not ready", with the reason
            self._state.start_error = f"{type(e).__name__}: {e}"
            log.error("start failed; reporting not ready until restarted",
                      extra={"fields": {"function": self.name, "error": self._state.start_error}})
            return
        self._state = _State(service=service, routes={(r.method, r.path): r for r in routes},
                             verifier=verifier, started_at=time.time())
        log.info("started", extra={"fields": {"function": self.name, "sink": self.emitter.sink_url}})

    def stop(self) -> None:
        log.info("stopping", extra={"fields": {"function": self.name}})

    def alive(self) -> tuple[bool, str]:
        return True, "OK"

    def ready(self) -> tuple[bool, str]:
        if self._state.start_error:
            return False, f"start failed: {self._state.start_error}"
        if self._state.service is None:
            return False, "not started"
        return True, "OK"

    # -- requests --

    async def handle(self, scope: dict, receive: Receive, send: Send) -> None:
        method, path = scope.get("method", "GET"), scope.get("path", "/")
        if method == "GET" and path == "/metrics":
            await respond(send, 200, self.metrics.exposition(), [("content-type", CONTENT_TYPE_LATEST)])
            return
        if self._state.service is None:
            await respond_json(send, 503, {"error": self.ready()[1]}, [("retry-after", "5")])
            return
        headers = header_map(scope)  # once: the verifier, the body's limit and the decoding read it
        if self._state.verifier is not None:
            try:
                await asyncio.to_thread(self._state.verifier.verify, headers)
            except KubeSkippyError as e:
                await self._respond_error(send, e)
                return
        route = self._state.routes.get((method, path))
        if route is not None:
            await self._handle_route(route, scope, headers, receive, send)
        elif method == "POST":
            await self._handle_event(scope, headers, receive, send)
        else:
            await respond_json(send, 405 if path == "/" else 404,
                               {"error": f"{method} {path}: send CloudEvents with POST /"})

    async def _handle_event(self, scope: dict, headers: dict[str, str], receive: Receive, send: Send) -> None:
        event_type = "unknown"
        status = 500
        try:
            body = await read_body(scope, receive, self.max_body, headers)
            event = parse_http(headers, body)
            event_type = event["type"]
            with correlation(function=self.name, ce_id=event["id"], ce_type=event_type,
                             fingerprint=_ext(event, EXT_FINGERPRINT), plan_id=_ext(event, EXT_PLAN_ID)):
                started = time.perf_counter()
                service = self._state.service
                handle_async = getattr(service, "handle_async", None)
                produced = list(await handle_async(event) if handle_async is not None
                                else await asyncio.to_thread(service.handle, event))
                self.metrics.decision_seconds.labels(self.name).observe(time.perf_counter() - started)
                self._count(produced)
                if produced:
                    # The first event is the reply (the Broker routes it on); any others go to the
                    # Broker first, so a refused publish is a 5xx before anything was answered.
                    await self.emitter.publish(produced[1:])
                    reply_headers, out_body = encode(produced[0], mode=self.reply_mode)
                    status = 200
                    await _send_raw(send, status, reply_headers, out_body)
                else:
                    status = 202
                    await respond(send, status)
        except KubeSkippyError as e:
            status = await self._respond_error(send, e)
        except Exception:  # noqa: BLE001 - never leak internals into the body
            status = await self._respond_unexpected(send)
        finally:
            self.metrics.events.labels(self.name, event_type, str(status)).inc()

    async def _handle_route(self, route: Route, scope: dict, headers: dict[str, str], receive: Receive,
                            send: Send) -> None:
        status = 500
        try:
            body = await read_body(scope, receive, self.max_body, headers)
            with correlation(function=self.name, ce_type=route.path):
                produced = list(await asyncio.to_thread(route.handler, headers, body))
                await self.emitter.publish(produced)
            self._count(produced)
            status = route.ok_status
            await respond_json(send, status, {"published": len(produced)})
        except KubeSkippyError as e:
            status = await self._respond_error(send, e)
        except Exception:  # noqa: BLE001
            status = await self._respond_unexpected(send)
        finally:
            self.metrics.events.labels(self.name, route.path, str(status)).inc()

    def _count(self, produced: Sequence[Any]) -> None:
        """Domain metrics read off what the core decided: actions by type and result, safety
        blocks by reason, analyses by analyzer (and fallbacks to the rules)."""
        for out in produced:
            event_type = out["type"]
            self.metrics.emitted.labels(self.name, event_type).inc()
            data = out.get_data()
            if not isinstance(data, dict):
                continue
            if event_type == OUTCOME:
                self.metrics.actions.labels(self.name, data.get("action_type", ""), data.get("status", "")).inc()
                if data.get("status") == "blocked":
                    self.metrics.safety_blocks.labels(self.name, data.get("reason", "")).inc()
            elif event_type == PLAN:
                fell_back = any(str(n).startswith("fallback") for n in data.get("notes") or ())
                self.metrics.llm_calls.labels(self.name, data.get("analyzer", ""),
                                              "fallback" if fell_back else "ok").inc()

    async def _respond_error(self, send: Send, error: KubeSkippyError) -> int:
        if isinstance(error, PayloadTooLarge):
            status = 413
        elif isinstance(error, PermanentError):
            status = error.http_status
        elif isinstance(error, TemporaryError):
            status = 503
        else:
            status = 500
        headers: list[tuple[str, str]] = []
        if isinstance(error, TemporaryError) and not isinstance(error, PermanentError) and error.delay:
            headers.append(("retry-after", str(max(1, int(error.delay)))))
        level = logging.WARNING if status < 500 else logging.ERROR
        log.log(level, "request failed", extra={"fields": {"status": status, "error": str(error),
                                                             "error_type": type(error).__name__}})
        body: dict[str, Any] = {"error": str(error)}
        fields = getattr(error, "errors", None)
        if fields:
            body["fields"] = [{"path": f.path, "message": f.message} for f in fields]
        await respond_json(send, status, body, headers)
        return status

    async def _respond_unexpected(self, send: Send) -> int:
        incident = uuid.uuid4().hex[:12]
        log.error("unexpected error", extra={"fields": {"incident": incident, "traceback": traceback.format_exc()}})
        await respond_json(send, 500, {"error": f"internal error; see the function's log for incident {incident}"})
        return 500


def _ext(event: Any, name: str) -> str | None:
    value = event.get_attributes().get(name)
    return str(value) if value else None


async def _send_raw(send: Send, status: int, headers: Mapping[str, str], body: bytes) -> None:
    await respond(send, status, body, list(headers.items()))
