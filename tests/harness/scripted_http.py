"""A real HTTP server on loopback that answers from a script and records what it received.

Tests use it as a subscriber, sink or LLM endpoint: HTTP is faked at the server, never by
patching a client.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

import uvicorn

__all__ = ["Reply", "Received", "ScriptedServer"]


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class ScriptedServer:
    """Replies are taken per path in order; when a path's script runs out, ``default`` answers."""

    default: Reply = field(default_factory=lambda: Reply(202))
    scripts: dict[str, deque[Reply]] = field(default_factory=lambda: defaultdict(deque))
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        from kubeskippy.mesh.runner import free_port  # never hands out one port twice

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(uvicorn.Config(self._app, host="127.0.0.1", port=self.port,
                                                     log_level="warning", lifespan="off",
                                                     interface="asgi3"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def script(self, path: str, *replies: Reply) -> None:
        self.scripts[path].extend(replies)

    def on(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    async def _app(self, scope, receive, send) -> None:
        import asyncio

        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.received.append(Received(scope["method"], scope["path"], headers, body, time.time()))
        queue = self.scripts.get(scope["path"])
        reply = queue.popleft() if queue else self.default
        if reply.delay:
            await asyncio.sleep(reply.delay)
        raw = [(k.encode(), v.encode()) for k, v in reply.headers]
        raw.append((b"content-length", str(len(reply.body)).encode()))
        await send({"type": "http.response.start", "status": reply.status, "headers": raw})
        await send({"type": "http.response.body", "body": reply.body})

    def __enter__(self) -> "ScriptedServer":
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("scripted server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
