"""Publishing CloudEvents to the Broker (K_SINK, injected by a SinkBinding).

A function replies with at most one CloudEvent; when a decision yields several (a Pod change
breaching two policies, a plan with three actions) the rest go to the Broker directly. The
request is answered 2xx only after every publish succeeded, so a failure becomes a 5xx and the
sender redelivers; deterministic event ids make the republished duplicates harmless.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from ..errors import InvalidInput, TemporaryError
from ..events.cloudevents import encode

if TYPE_CHECKING:
    import httpx

__all__ = ["Emitter"]


class Emitter:
    """Posts events to a sink URL in binary mode, one request each."""

    def __init__(self, sink_url: str | None, *, timeout: float = 5.0) -> None:
        self.sink_url = sink_url
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None

    async def publish(self, events: Sequence[Any]) -> None:
        if not events:
            return
        if not self.sink_url:
            raise InvalidInput("K_SINK is not set: this function needs a SinkBinding to publish "
                               f"{len(events)} events")
        import httpx  # on first publish: importing it costs ~0.25 s, and most replies need no publish

        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout)
        for event in events:
            headers, body = encode(event, mode="binary")
            try:
                response = await self._client.post(self.sink_url, headers=headers, content=body)
            except httpx.HTTPError as e:
                raise TemporaryError(f"publishing to the broker at {self.sink_url} failed: {e}") from e
            if response.status_code >= 300:
                raise TemporaryError(
                    f"the broker at {self.sink_url} answered {response.status_code} for event "
                    f"{event['id']}; the request will be retried")

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
