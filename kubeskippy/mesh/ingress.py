"""The broker's HTTP ingress: POST a CloudEvent (binary or structured) → 202."""

from __future__ import annotations

from ..errors import KubeSkippyError
from ..events.cloudevents import parse_http
from ..serving.asgi import Receive, Send, header_map, read_body, respond, respond_json
from .broker import Broker

__all__ = ["BrokerIngress"]


class BrokerIngress:
    """ASGI app in front of a :class:`Broker` (what K_SINK points at)."""

    def __init__(self, broker: Broker, *, max_body: int = 4 * 1024 * 1024) -> None:
        self.broker = broker
        self.max_body = max_body

    async def __call__(self, scope: dict, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await self.broker.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        if scope["method"] == "GET":
            await respond(send, 200, b"OK")
            return
        try:
            body = await read_body(scope, receive, self.max_body)
            event = parse_http(header_map(scope), body)
        except KubeSkippyError as e:
            await respond_json(send, getattr(e, "http_status", 400), {"error": str(e)})
            return
        await self.broker.ingest(event)
        await respond(send, 202)
