"""Keep-alive HTTP/1.1 connections to one origin, from the standard library (``http.client``).

Why not httpx, urllib3 or requests on the functions' path: importing httpx costs ~0.13 s (its
CLI pulls in rich, click and pygments when they are installed, and they are: the kubeskippy CLI
needs them), urllib3 ~50 ms, while ``http.client`` and ``ssl`` cost ~13 ms and func-python has
already loaded ``ssl``. The Kubernetes adapter and the functions' publisher send small JSON
bodies to one server each; that needs a thread-safe pool, timeouts, TLS and one retry when a
kept-alive connection turns out to be closed, and nothing else.

No answer at all (refused, reset, timed out, TLS failure) raises :class:`NoAnswer`, an
``OSError`` chained to the socket's exception; any HTTP answer is returned as an :class:`Answer`.
"""

from __future__ import annotations

import http.client
import ssl
import threading
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlsplit

__all__ = ["HttpPool", "Answer", "NoAnswer", "Timeout", "split_timeout"]

Timeout = float | tuple[float, float] | None
"""Seconds for connect and for each read, or ``(connect, read)``; None waits forever."""


class NoAnswer(OSError):
    """The server gave no HTTP answer; ``__cause__`` is the socket's or parser's exception."""


@dataclass(frozen=True)
class Answer:
    """An HTTP answer, whatever its status."""

    status: int
    reason: str
    headers: Mapping[str, str]
    data: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "") or ""


def split_timeout(timeout: Timeout) -> tuple[float | None, float | None]:
    if isinstance(timeout, tuple):
        return timeout[0], timeout[1]
    return timeout, timeout


# Failures on a kept-alive connection the server had already closed: nothing was answered, so
# the request is sent once more on a new connection (as urllib3 and Go's net/http do).
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


class HttpPool:
    """Thread-safe keep-alive connections to the origin of ``url`` (a connection per concurrent
    request, up to ``max_idle`` kept for reuse). ``path_prefix`` is the URL's path without its
    trailing slash; ``target`` the URL's own request target (path and query)."""

    def __init__(self, url: str, *, ssl_context: ssl.SSLContext | None = None, max_idle: int = 8) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"must be http(s)://host[:port][/path], got {url!r}")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.path_prefix = parts.path.rstrip("/")
        self.target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._ssl = (ssl_context or ssl.create_default_context()) if parts.scheme == "https" else None
        self._max_idle = max_idle
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def _new(self, timeout: Timeout) -> http.client.HTTPConnection:
        connect, read = split_timeout(timeout)
        if self._ssl is not None:
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                self.host, self.port, timeout=connect, context=self._ssl)
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=connect)
        conn.connect()
        conn.sock.settimeout(read)
        return conn

    def _take(self, timeout: Timeout) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            return self._new(timeout), False
        conn.sock.settimeout(split_timeout(timeout)[1])
        return conn, True

    def _give_back(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < self._max_idle:
                self._idle.append(conn)
                return
        conn.close()

    def request(self, method: str, target: str, *, body: bytes | None = None,
                headers: Mapping[str, str] | None = None, timeout: Timeout = (5.0, 30.0)) -> Answer:
        """Send one request (``target``: path and query) and read the whole answer. Raises
        :class:`NoAnswer` when there is none."""
        for attempt in (1, 2):
            conn, reused = None, False
            try:
                conn, reused = self._take(timeout)
                conn.request(method, target, body=body, headers=dict(headers or {}))
                response = conn.getresponse()
                data = response.read()
            except _STALE as err:
                if conn is not None:
                    conn.close()
                if reused and attempt == 1:
                    continue
                raise NoAnswer(f"{type(err).__name__}: {err}") from err
            except (OSError, http.client.HTTPException) as err:
                if conn is not None:
                    conn.close()
                raise NoAnswer(f"{type(err).__name__}: {err}") from err
            if response.will_close:
                conn.close()
            else:
                self._give_back(conn)
            return Answer(response.status, response.reason, response.headers, data)
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Close the idle connections (requests in flight finish on theirs)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
