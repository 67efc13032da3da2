"""Publishing CloudEvents to the Broker (K_SINK, injected by a SinkBinding).

A function replies with at most one CloudEvent; when a decision yields several (a Pod change
breaching two policies, a plan with three actions, a webhook of twenty alerts) the rest go to the
Broker directly. The request is answered 2xx only after every publish succeeded, so a failure
becomes a 5xx and the sender redelivers; deterministic event ids make the republished duplicates
harmless. Several events are posted side by side (up to ``MAX_PARALLEL`` connections): the
Broker promises no order between events, and the sender waits for the slowest post rather than
for their sum.
"""

from __future__ import annotations

import asyncio
from typing import Any, Sequence

from ..adapters.http_pool import HttpPool, NoAnswer
from ..errors import InvalidInput, TemporaryError
from ..events.cloudevents import encode

__all__ = ["Emitter", "MAX_PARALLEL"]

MAX_PARALLEL = 4
"""Posts in flight at once for one request (each on its own keep-alive connection, in a worker thread)."""


class Emitter:
    """Posts events to a sink URL in binary mode, one request each, over keep-alive connections
    (the standard library's, in a worker thread: importing httpx would cost a cold start ~0.13 s)."""

    def __init__(self, sink_url: str | None, *, timeout: float = 5.0) -> None:
        self.sink_url = sink_url
        self._timeout = timeout
        self._pool: HttpPool | None = None
        if sink_url:
            try:
                self._pool = HttpPool(sink_url)  # no connection yet: the first publish opens one
            except ValueError as e:
                raise InvalidInput(f"K_SINK: {e}") from None

    async def publish(self, events: Sequence[Any]) -> None:
        if not events:
            return
        if self._pool is None:
            raise InvalidInput("K_SINK is not set: this function needs a SinkBinding to publish "
                               f"{len(events)} events")
        encoded = [(event["id"], *encode(event, mode="binary")) for event in events]
        lanes = [encoded[i::MAX_PARALLEL] for i in range(min(MAX_PARALLEL, len(encoded)))]
        # Every lane runs to its end before the request is answered, even when another failed: no
        # post is still in flight once the sender has been told to redeliver.
        results = await asyncio.gather(*(asyncio.to_thread(self._post_all, self._pool, lane) for lane in lanes),
                                       return_exceptions=True)
        failure = next((r for r in results if isinstance(r, BaseException)), None)
        if failure is not None:
            raise failure

    def _post_all(self, pool: HttpPool, encoded: Sequence[tuple[str, dict[str, str], bytes]]) -> None:
        for event_id, headers, body in encoded:
            try:
                answer = pool.request("POST", pool.target, body=body, headers=headers, timeout=self._timeout)
            except NoAnswer as e:
                raise TemporaryError(f"publishing to the broker at {self.sink_url} failed: {e}") from e
            if answer.status >= 300:
                raise TemporaryError(
                    f"the broker at {self.sink_url} answered {answer.status} for event "
                    f"{event_id}; the request will be retried")

    async def aclose(self) -> None:
        if self._pool is not None:
            self._pool.close()
