"""Keep-alive HTTP/1.1 connections to one origin, from the standard library (``http.client``).

Why not httpx, urllib3 or requests on the functions' path: importing httpx costs ~0.13 s (its
CLI pulls in rich, click and pygments when they are installed, and they are: the kubeskippy CLI
needs them), urllib3 ~50 ms, while ``http.client`` and ``ssl`` cost ~13 ms and func-python has
already loaded ``ssl``. The Kubernetes adapter and the functions' publisher send small JSON
bodies to one server each; that needs a thread-safe pool, timeouts, TLS and one retry when a
kept-alive connection turns out to be closed, and nothing else. That retry goes out on a new
connection (when the server dropped one idle connection it usually dropped all of them), and a
connection idle for longer than ``max_idle_seconds`` (4 s; hypercorn and uvicorn close idle ones
after 5 s) is closed instead of reused.

No answer at all (refused, reset, timed out, TLS failure) raises :class:`NoAnswer`, an
``OSError`` chained to the socket's exception; any HTTP answer is returned as an :class:`Answer`.

Response headers are read by :class:`_PlainHeadersResponse`: ``http.client`` hands every header
block to the ``email`` package's feed parser (~40 µs for six headers), while the headers real
servers send here are plain ``Name: value`` lines (~7 µs split by hand). Anything else (folded
lines, a line without a field name) still goes to the ``email`` parser, so the result is the
same ``HTTPMessage`` either way.
"""

from __future__ import annotations

import email.parser
import http.client
import re
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlsplit

__all__ = ["HttpPool", "Answer", "NoAnswer", "Timeout", "split_timeout", "parse_header_lines"]

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


_MAX_LINE = 65536  # http.client's limits for one header line and for the number of lines
_MAX_HEADERS = 100
_FIELD_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]+")
"""What the email parser accepts as a field name (printable ASCII but the colon)."""


def _read_header_lines(fp) -> list[bytes]:
    """The header block's lines up to and including the empty line (or EOF)."""
    lines: list[bytes] = []
    while True:
        line = fp.readline(_MAX_LINE + 1)
        if len(line) > _MAX_LINE:
            raise http.client.LineTooLong("header line")
        lines.append(line)
        if len(lines) > _MAX_HEADERS:
            raise http.client.HTTPException(f"got more than {_MAX_HEADERS} headers")
        if line in (b"\r\n", b"\n", b""):
            return lines


def parse_header_lines(lines: list[bytes]) -> http.client.HTTPMessage:
    """The same ``HTTPMessage`` as ``http.client.parse_headers``, without the feed parser when
    every line is a plain ``Name: value`` field (the parser keeps the value's trailing blanks and
    strips its leading ones, and so does this)."""
    message = http.client.HTTPMessage()
    for raw in lines:
        if raw in (b"\r\n", b"\n", b""):
            return message
        line = raw.decode("iso-8859-1")
        name, colon, value = line.partition(":")
        if not colon or not _FIELD_NAME.fullmatch(name):
            break  # folded, malformed or mbox-style: let the email parser decide, as http.client does
        message[name] = value.lstrip(" \t").rstrip("\r\n")
    else:
        return message
    text = b"".join(lines).decode("iso-8859-1")
    return email.parser.Parser(_class=http.client.HTTPMessage).parsestr(text)


class _PlainHeadersResponse(http.client.HTTPResponse):
    """``HTTPResponse`` whose header block is split by :func:`parse_header_lines`; everything
    else (status line, 1xx skipping, chunked, Content-Length, keep-alive) is ``http.client``'s
    own rule, restated because ``begin`` reads the headers through a module-level function."""

    def begin(self) -> None:
        if self.headers is not None:
            return
        while True:
            version, status, reason = self._read_status()
            if status != http.client.CONTINUE:
                break
            _read_header_lines(self.fp)  # a 100 Continue's headers
        self.code = self.status = status
        self.reason = reason.strip()
        if version in ("HTTP/1.0", "HTTP/0.9"):
            self.version = 10
        elif version.startswith("HTTP/1."):
            self.version = 11
        else:
            raise http.client.UnknownProtocol(version)
        self.headers = self.msg = parse_header_lines(_read_header_lines(self.fp))
        transfer_encoding = self.headers.get("transfer-encoding")
        self.chunked = bool(transfer_encoding) and transfer_encoding.lower() == "chunked"
        self.chunk_left = None
        self.will_close = self._check_close()
        self.length = None
        length = self.headers.get("content-length")
        if length and not self.chunked:
            try:
                self.length = int(length)
            except ValueError:
                self.length = None
            else:
                if self.length < 0:
                    self.length = None
        if status in (http.client.NO_CONTENT, http.client.NOT_MODIFIED) or 100 <= status < 200 \
                or self._method == "HEAD":
            self.length = 0
        if not self.will_close and not self.chunked and self.length is None:
            self.will_close = True  # the body ends when the server closes


# Failures on a kept-alive connection the server had already closed: nothing was answered, so
# the request is sent once more on a new connection (as urllib3 and Go's net/http do).
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


class HttpPool:
    """Thread-safe keep-alive connections to the origin of ``url`` (a connection per concurrent
    request, up to ``max_idle`` kept for reuse). ``path_prefix`` is the URL's path without its
    trailing slash; ``target`` the URL's own request target (path and query)."""

    def __init__(self, url: str, *, ssl_context: ssl.SSLContext | None = None, max_idle: int = 8,
                 max_idle_seconds: float = 4.0) -> None:
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
        self._max_idle_seconds = max_idle_seconds
        self._idle: list[tuple[http.client.HTTPConnection, float]] = []  # (connection, idle since)
        self._lock = threading.Lock()

    def _new(self, timeout: Timeout) -> http.client.HTTPConnection:
        connect, read = split_timeout(timeout)
        if self._ssl is not None:
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                self.host, self.port, timeout=connect, context=self._ssl)
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=connect)
        conn.response_class = _PlainHeadersResponse
        conn.connect()
        conn.sock.settimeout(read)
        return conn

    def _take(self, timeout: Timeout, *, fresh: bool = False) -> tuple[http.client.HTTPConnection, bool]:
        """An idle connection (reused=True) or a new one. Connections idle longer than
        ``max_idle_seconds`` are closed rather than reused: servers drop idle keep-alives after a
        few seconds (hypercorn and uvicorn after 5), and a request sent as they do may be lost."""
        conn, stale = None, []
        with self._lock:
            now = time.monotonic()
            while self._idle and not fresh:
                candidate, since = self._idle.pop()
                if now - since <= self._max_idle_seconds:
                    conn = candidate
                    break
                stale.append(candidate)
        for old in stale:
            old.close()
        if conn is None:
            return self._new(timeout), False
        conn.sock.settimeout(split_timeout(timeout)[1])
        return conn, True

    def _give_back(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < self._max_idle:
                self._idle.append((conn, time.monotonic()))
                return
        conn.close()

    def request(self, method: str, target: str, *, body: bytes | None = None,
                headers: Mapping[str, str] | None = None, timeout: Timeout = (5.0, 30.0)) -> Answer:
        """Send one request (``target``: path and query) and read the whole answer. Raises
        :class:`NoAnswer` when there is none."""
        for attempt in (1, 2):
            conn, reused = None, False
            try:
                conn, reused = self._take(timeout, fresh=attempt > 1)
                conn.request(method, target, body=body, headers=dict(headers or {}))
                response = conn.getresponse()
                data = response.read()
            except _STALE as err:
                if conn is not None:
                    conn.close()
                if reused and attempt == 1:
                    self.close()  # its idle siblings were most likely closed by the server too
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
        for conn, _ in idle:
            conn.close()
