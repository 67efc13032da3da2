"""Minimal ASGI helpers: bounded body reading and plain responses."""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable, Iterable, Mapping

from ..errors import PayloadTooLarge

__all__ = ["Receive", "Send", "read_body", "respond", "respond_json", "header_map"]

Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


def header_map(scope: Mapping[str, Any]) -> dict[str, str]:
    """Request headers as a dict with lower-case names (the last value wins)."""
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


async def read_body(scope: Mapping[str, Any], receive: Receive, limit: int,
                    headers: Mapping[str, str] | None = None) -> bytes:
    """Read the request body, refusing more than ``limit`` bytes.

    A declared Content-Length over the limit is refused before reading anything; a body that
    grows past the limit while streaming (chunked uploads) is refused as soon as it does, so a
    huge request never sits in memory. ``headers``: the request's :func:`header_map`, when the
    caller has it already (building it is a tenth of a small request's own work).
    """
    declared = (header_map(scope) if headers is None else headers).get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(int(declared), limit)
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message.get("type") == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(size, limit)
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


async def respond(send: Send, status: int, body: bytes = b"",
                  headers: Iterable[tuple[str, str]] = ()) -> None:
    raw = [(k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in headers]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def respond_json(send: Send, status: int, payload: Any,
                       headers: Iterable[tuple[str, str]] = ()) -> None:
    body = json.dumps(payload, separators=(",", ":")).encode()
    await respond(send, status, body, [("content-type", "application/json"), *headers])
