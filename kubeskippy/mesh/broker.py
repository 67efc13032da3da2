"""A small broker with Knative Eventing's delivery semantics, for laptops and end-to-end tests.

It is a development tool: on a cluster, Knative's Broker and Triggers route. What it keeps from
Knative (so functions tested here behave the same there):

- Triggers filter on exact attribute values (``filter.attributes``) and on prefixes (the
  ``filters: [{prefix: …}]`` dialect); every matching trigger gets its own copy.
- A subscriber's 2xx reply that is a CloudEvent goes back into the broker; an empty 2xx body is
  success; a non-empty 2xx body that is not a CloudEvent is a failure (and retried).
- Retries with exponential backoff (delay × 2^attempt) on 5xx, 404, 408, 409, 429 and network
  errors; other 4xx are final. After the last attempt the event goes to the dead-letter sink
  with extensions knativeerrordest, knativeerrorcode and knativeerrordata (the response body,
  base64, at most 1 KiB).
- Delivery is at-least-once and concurrent: nothing here orders events.

Deliveries go out on the broker's event loop through keep-alive
:class:`~kubeskippy.adapters.async_http.AsyncHttpPool` connections (one pool per subscriber
origin), not through httpx: on two shared cores httpx's async client cost ~1.2 ms of CPU per
delivery (docs/functions.md, "Round 3: CPU of the broker's deliveries"), and a crash loop takes
about ten deliveries. Until session 8 they went through a thread pool (``http.client``, then
:class:`~kubeskippy.adapters.http_pool.HttpPool`); on the loop a delivery makes no hand-over
between the loop and a worker thread: 0.17 against 0.30 ms of CPU and 0.45 against 0.60 ms wall
on an idle machine, more when the cores are contended (docs/functions.md, "Session 8").
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import urlsplit

from ..adapters.async_http import AsyncHttpPool
from ..adapters.http_pool import NoAnswer
from ..errors import KubeSkippyError
from ..events.cloudevents import CloudEvent, encode, parse_http

__all__ = ["Trigger", "DeliverySpec", "Broker", "DeliveryRecord", "RETRYABLE_STATUSES"]

log = logging.getLogger("kubeskippy.mesh")

RETRYABLE_STATUSES = frozenset({404, 408, 409, 429})


def is_retryable(status: int | None) -> bool:
    """Knative's rule: network errors (None), 5xx, 404, 408, 409 and 429 are retried."""
    return status is None or status >= 500 or status in RETRYABLE_STATUSES


@dataclass(frozen=True)
class DeliverySpec:
    retry: int = 3
    backoff_delay: float = 0.2
    timeout: float = 30.0
    dead_letter_sink: str | None = None


@dataclass(frozen=True)
class Trigger:
    name: str
    subscriber: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    prefix: Mapping[str, str] = field(default_factory=dict)
    delivery: DeliverySpec | None = None

    def matches(self, attrs: Mapping[str, Any]) -> bool:
        for key, want in self.attributes.items():
            if str(attrs.get(key, "")) != want:
                return False
        for key, want in self.prefix.items():
            if not str(attrs.get(key, "")).startswith(want):
                return False
        return True


@dataclass(frozen=True)
class DeliveryRecord:
    trigger: str
    event_id: str
    event_type: str
    attempt: int
    status: int | None
    at: float


class Broker:
    """Fan events out to triggers; route replies back in; dead-letter what cannot be delivered."""

    def __init__(self, triggers: list[Trigger] | None = None, *, delivery: DeliverySpec | None = None) -> None:
        self.triggers: list[Trigger] = list(triggers or [])
        self.delivery = delivery or DeliverySpec()
        self.records: list[DeliveryRecord] = []
        self.dead_letters: list[Any] = []
        self.accepted: list[Any] = []
        self._tasks: set[asyncio.Task] = set()
        self._pools: dict[str, AsyncHttpPool] = {}
        self._pools_loop: asyncio.AbstractEventLoop | None = None  # the loop the pools' connections belong to

    # -- ingress --

    async def ingest(self, event: Any) -> None:
        """Accept one event and schedule its delivery to every matching trigger."""
        self.accepted.append(event)
        attrs = event.get_attributes()
        for trigger in self.triggers:
            if trigger.matches(attrs):
                task = asyncio.create_task(self._deliver(trigger, event), name=f"deliver:{trigger.name}")
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def wait_idle(self, timeout: float = 30.0) -> None:
        """Wait until no delivery is in flight (including those that replies start)."""
        deadline = time.monotonic() + timeout
        while self._tasks:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{len(self._tasks)} deliveries still in flight after {timeout}s")
            await asyncio.wait(set(self._tasks), timeout=remaining)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        pools, self._pools = self._pools, {}
        for pool in pools.values():
            pool.close()

    # -- delivery --

    def _pool(self, origin: str) -> AsyncHttpPool:
        loop = asyncio.get_running_loop()
        if loop is not self._pools_loop:  # connections made on another (closed) loop are useless here
            for stale in self._pools.values():
                stale.close()
            self._pools, self._pools_loop = {}, loop
        pool = self._pools.get(origin)
        if pool is None:
            pool = self._pools[origin] = AsyncHttpPool(origin, max_idle=16)
        return pool

    async def _deliver(self, trigger: Trigger, event: Any) -> None:
        spec = trigger.delivery or self.delivery
        headers, body = encode(event, mode="binary")
        status: int | None = None
        response_body = b""
        for attempt in range(spec.retry + 1):
            await _backoff(spec, attempt)
            status, response_body, reply = await self._post(trigger.subscriber, headers, body, spec.timeout)
            self.records.append(DeliveryRecord(trigger.name, event["id"], event["type"], attempt, status,
                                               time.time()))
            if status is not None and 200 <= status < 300:
                if reply is not None:
                    await self.ingest(reply)
                    return
                if not response_body.strip():
                    return
                status = None  # a non-CloudEvent 2xx body is a failure in Knative; retry it
                log.warning("non-CloudEvent 2xx reply treated as failure",
                            extra={"fields": {"trigger": trigger.name, "event": event["id"]}})
                continue
            if not is_retryable(status):
                break
        await self._dead_letter(trigger, spec, event, status, response_body)

    async def _post(self, url: str, headers: Mapping[str, str], body: bytes,
                    timeout: float) -> tuple[int | None, bytes, Any]:
        """POST to ``url``: its status (None when nothing answered), its body, and the CloudEvent it
        replied with (None when the reply is not one)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None, b"", None  # an unusable address is a network error to Knative, too
        pool = self._pool(f"{parts.scheme}://{parts.netloc}")
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            # Deliveries are at least once: a POST that met a connection the subscriber had
            # closed goes again at once on a new one, as HttpPool did, rather than after a backoff.
            answer = await pool.request("POST", target, body=body, headers=headers, timeout=(timeout, timeout),
                                        resend_when_stale=True)
        except NoAnswer:
            return None, b"", None
        reply = None
        reply_headers = {name.lower(): value for name, value in answer.headers.items()}
        looks_like_event = answer.data.strip() or "ce-id" in reply_headers
        if 200 <= answer.status < 300 and looks_like_event:
            try:
                reply = parse_http(reply_headers, answer.data)
            except KubeSkippyError:
                reply = None
        return answer.status, answer.data, reply

    async def _dead_letter(self, trigger: Trigger, spec: DeliverySpec, event: Any, status: int | None,
                           response_body: bytes) -> None:
        dead = _with_extensions(event, {
            "knativeerrordest": trigger.subscriber,
            "knativeerrorcode": str(status if status is not None else 0),
            "knativeerrordata": base64.b64encode(response_body[:1024]).decode(),
        })
        self.dead_letters.append(dead)
        log.error("delivery failed; dead-lettered",
                  extra={"fields": {"trigger": trigger.name, "event": event["id"], "status": status}})
        if spec.dead_letter_sink:
            headers, body = encode(dead, mode="binary")
            for attempt in range(spec.retry + 1):
                await _backoff(spec, attempt)
                dl_status, _, _ = await self._post(spec.dead_letter_sink, headers, body, spec.timeout)
                if dl_status is not None and 200 <= dl_status < 300:
                    return
                if not is_retryable(dl_status):
                    return


async def _backoff(spec: DeliverySpec, attempt: int) -> None:
    """Knative's exponential policy: no wait before the first attempt, then delay × 2^(n-1)."""
    if attempt:
        await asyncio.sleep(spec.backoff_delay * (2 ** (attempt - 1)))


def _with_extensions(event: Any, extensions: Mapping[str, str]) -> Any:
    """A copy of ``event`` with extra attributes (Knative's dead-letter annotations)."""
    return CloudEvent({**event.get_attributes(), **extensions}, event.get_data())
