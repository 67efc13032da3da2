"""Keep-alive HTTP/1.1 connections to one origin on the event loop (``asyncio`` streams).

Why a second client next to :class:`~.http_pool.HttpPool`: detect reads the API for the events it
cannot dismiss (a crash-looping Pod's owners). From a worker thread, each blocking call of those
reads gives up the GIL and then waits for the event loop's thread, busy with the other requests,
to hand it back; on an idle two-core machine that put detect's p99 at 2.3–3.6× the bare echo's.
Awaited on the loop itself there is no hand-over: p99 1.7–2.1× (docs/functions.md, "Session 5").
Same rules as :class:`~.http_pool.HttpPool`: no answer raises :class:`~.http_pool.NoAnswer`; a
kept-alive connection found closed before any byte of the answer is replaced once (an idempotent
request is sent again on a new connection); a connection idle for longer than
``max_idle_seconds`` is closed, not reused. Framing: Content-Length, chunked, or the body until
the server closes; 1xx answers are skipped.

Not thread-safe: one pool belongs to one event loop.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from typing import Mapping

from ..http_headers import parse_header_lines
from .http_pool import (Answer, NoAnswer, Timeout, content_length, request_head, split_origin,
                        split_timeout, status_line)

__all__ = ["AsyncHttpPool"]

_MAX_HEAD = 65536 * 2
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


class _Stale(Exception):
    """The server closed a kept-alive connection before answering a byte."""


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        try:
            self.writer.close()
        except RuntimeError:  # its event loop is closed already, and the socket with it
            pass


class AsyncHttpPool:
    """Keep-alive connections to the origin of ``url`` for coroutines of one event loop."""

    def __init__(self, url: str, *, ssl_context: ssl.SSLContext | None = None, max_idle: int = 8,
                 max_idle_seconds: float = 4.0) -> None:
        parts, self.port, self._host_line = split_origin(url)
        self.host = parts.hostname
        self.path_prefix = parts.path.rstrip("/")
        self._ssl = (ssl_context or ssl.create_default_context()) if parts.scheme == "https" else None
        self._max_idle = max_idle
        self._max_idle_seconds = max_idle_seconds
        self._idle: list[tuple[_Connection, float]] = []

    async def request(self, method: str, target: str, *, body: bytes | None = None,
                      headers: Mapping[str, str] | None = None, timeout: Timeout = (5.0, 30.0),
                      resend_when_stale: bool | None = None) -> Answer:
        """Send one request (``target``: path and query) and read the whole answer. Raises
        :class:`NoAnswer` when there is none. A request that met a kept-alive connection the
        server had closed is sent again on a new one when ``resend_when_stale`` (default: when
        the method is idempotent; a caller whose POSTs may arrive twice, as at-least-once
        deliveries may, passes True)."""
        resend = method in _IDEMPOTENT if resend_when_stale is None else resend_when_stale
        connect_timeout, read_timeout = split_timeout(timeout)
        head = request_head(method, target, self._host_line, body, headers)
        for attempt in (1, 2):
            conn, reused = self._take(fresh=attempt > 1), True
            try:
                if conn is None:
                    reused = False
                    conn = await asyncio.wait_for(self._open(), connect_timeout)
                conn.writer.write(head + body if body else head)
                answer, keep = await asyncio.wait_for(self._read_answer(conn.reader, method), read_timeout)
            except _Stale as err:
                if conn is not None:
                    conn.close()
                if reused and attempt == 1 and resend:
                    self.close()  # its idle siblings were most likely closed by the server too
                    continue
                raise NoAnswer(f"the server closed the connection: {err}") from err
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                    ValueError) as err:
                if conn is not None:
                    conn.close()
                raise NoAnswer(f"{type(err).__name__}: {err}") from err
            except BaseException:  # cancelled mid-answer: the connection's state is unknown
                if conn is not None:
                    conn.close()
                raise
            if keep and len(self._idle) < self._max_idle:
                self._idle.append((conn, time.monotonic()))
            else:
                conn.close()
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Close the idle connections (requests in flight finish on theirs)."""
        idle, self._idle = self._idle, []
        for conn, _ in idle:
            conn.close()

    # -- internals ----------------------------------------------------------------------------

    def _take(self, *, fresh: bool) -> _Connection | None:
        now = time.monotonic()
        while self._idle and not fresh:
            conn, since = self._idle.pop()
            if now - since <= self._max_idle_seconds and not conn.reader.at_eof():
                return conn
            conn.close()
        return None

    async def _open(self) -> _Connection:
        reader, writer = await asyncio.open_connection(
            self.host, self.port, ssl=self._ssl, server_hostname=self.host if self._ssl else None, limit=_MAX_HEAD)
        return _Connection(reader, writer)

    async def _read_answer(self, reader: asyncio.StreamReader, method: str) -> tuple[Answer, bool]:
        """The final answer and whether the connection may be kept."""
        first = True
        while True:
            try:
                block = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError as err:
                if first and not err.partial:
                    raise _Stale("no answer") from err
                raise
            except ConnectionResetError as err:
                if first:
                    raise _Stale(str(err)) from err
                raise
            first = False
            first_line, _, rest = block.partition(b"\r\n")
            version, status, reason = status_line(first_line)
            if 100 <= status < 200:
                continue  # 100 Continue and friends: the final answer follows
            headers = parse_header_lines(rest.splitlines(keepends=True))
            break
        chunked = (headers.get("transfer-encoding") or "").lower() == "chunked"
        length = None if chunked else content_length(headers.get("content-length"))
        connection = (headers.get("connection") or "").lower()  # http.client's rule, as in HttpPool
        keep = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
        if status in (204, 304) or method == "HEAD":
            data = b""
        elif chunked:
            data = await _read_chunked(reader)
        elif length is not None:
            data = await reader.readexactly(length)
        else:
            data, keep = await reader.read(), False  # the body ends when the server closes
        return Answer(status, reason, headers, data), keep


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, up to the empty line
                pass
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise ValueError("a chunk does not end with CRLF")
