"""Keep-alive HTTP/1.1 connections to one origin, from the standard library (sockets and ``ssl``).

Why not httpx, urllib3 or requests on the functions' path: importing httpx costs ~0.13 s (its
CLI pulls in rich, click and pygments when they are installed, and they are: the kubeskippy CLI
needs them), urllib3 ~50 ms, while sockets and ``ssl`` are loaded already. The Kubernetes adapter
and the functions' publisher send small JSON bodies to one server each; that needs a thread-safe
pool, timeouts, TLS and one retry when a kept-alive connection turns out to be closed, and
nothing else. That retry goes out on a new connection (when the server dropped one idle
connection it usually dropped all of them), and a connection idle for longer than
``max_idle_seconds`` (4 s; hypercorn and uvicorn close idle ones after 5) is closed instead of
reused.

Why not ``http.client`` either (the pool used it until 2026-11-22): its connection and response
objects cost ~70 µs of CPU per request (a small GET to the API costs ~30 µs without them), and
every function makes tens of API requests per event. :class:`_Connection` writes the request in
one ``sendall`` and reads the answer with ``http.client``'s framing rules: the status line, 1xx
answers skipped, Content-Length, chunked, or the body until the server closes; keep-alive unless
``Connection: close`` (HTTP/1.0: unless ``keep-alive``). Header blocks are split by
:func:`~kubeskippy.http_headers.parse_header_lines` into
:class:`~kubeskippy.http_headers.HeaderFields`, which answer as ``http.client``'s ``HTTPMessage``
does; neither ``http.client`` nor the ``email`` package is imported (~25 M instructions of a
cold start).

No answer at all (refused, reset, timed out, TLS failure, bytes that are not HTTP) raises
:class:`NoAnswer`, an ``OSError`` chained to the socket's or parser's exception; any HTTP answer is
returned as an :class:`Answer`.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from typing import Mapping, NamedTuple
from urllib.parse import SplitResult, urlsplit

from ..http_headers import parse_header_lines

__all__ = ["HttpPool", "Answer", "NoAnswer", "BadAnswer", "Timeout", "split_timeout", "status_line",
           "content_length", "split_origin", "request_head"]

Timeout = float | tuple[float, float] | None
"""Seconds for connect and for each read, or ``(connect, read)``; None waits forever."""


class NoAnswer(OSError):
    """The server gave no HTTP answer; ``__cause__`` is the socket's or parser's exception."""


class Answer(NamedTuple):
    """An HTTP answer, whatever its status."""

    status: int
    reason: str
    headers: Mapping[str, str]
    data: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "") or ""


def _connect(address: tuple[str, int], timeout: float | None, source_address=None) -> socket.socket:
    """``socket.create_connection`` with an ASCII host name passed as bytes: given a str,
    ``getaddrinfo`` encodes it with the IDNA codec, whose first use imports ``encodings.idna``,
    ``stringprep`` and ``unicodedata`` (~5 M instructions of a function's cold start) to turn
    ``127.0.0.1`` or ``kubernetes.default.svc`` into the same bytes. Other names keep IDNA."""
    host, port = address
    return socket.create_connection((host.encode("ascii") if host.isascii() else host, port), timeout,
                                    source_address)


def split_timeout(timeout: Timeout) -> tuple[float | None, float | None]:
    if isinstance(timeout, tuple):
        return timeout[0], timeout[1]
    return timeout, timeout


_MAX_LINE = 65536  # http.client's limits for one header line and for the number of lines
_MAX_HEADERS = 100
class BadAnswer(ValueError):
    """The bytes on the connection are not an HTTP/1.x answer."""


class _Stale(Exception):
    """The connection ended before the first byte of an answer: on a reused connection, one the
    server had already dropped (nothing was answered, so the request may go once more)."""


_STALE_ERRORS = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


class _Connection:
    """One HTTP/1.1 connection: a request written with one ``sendall``, its answer read from a
    buffer that ``recv`` fills. Written out instead of ``http.client``, whose request and response
    objects cost ~70 µs of CPU per request, three times the rest of a small GET to the API here
    (docs/functions.md, "Session 5"); the framing rules are ``http.client``'s."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buffer = bytearray()
        self._pos = 0

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self._buffer.clear()  # nothing of an earlier answer is left to read
        self._pos = 0
        self.sock.sendall(data)

    def _fill(self) -> bool:
        """More bytes into the buffer; False at the end of the stream."""
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self._buffer += chunk
        return True

    def readline(self) -> bytes:
        """One line with its line ending; what is left (maybe b"") at the end of the stream."""
        while True:
            end = self._buffer.find(b"\n", self._pos)
            if end >= 0:
                line = bytes(self._buffer[self._pos:end + 1])
                self._pos = end + 1
                return line
            if len(self._buffer) - self._pos > _MAX_LINE:
                raise BadAnswer("a line longer than 64 KiB")
            if not self._fill():
                line = bytes(self._buffer[self._pos:])
                self._pos = len(self._buffer)
                return line

    def read(self, size: int) -> bytes:
        while len(self._buffer) - self._pos < size:
            if not self._fill():
                raise BadAnswer(f"the answer ended {size - (len(self._buffer) - self._pos)} bytes early")
        data = bytes(self._buffer[self._pos:self._pos + size])
        self._pos += size
        return data

    def read_to_end(self) -> bytes:
        while self._fill():
            pass
        data = bytes(self._buffer[self._pos:])
        self._pos = len(self._buffer)
        return data

    def header_lines(self) -> list[bytes]:
        """The header block's lines up to and including the empty line (or the end)."""
        lines: list[bytes] = []
        while True:
            line = self.readline()
            lines.append(line)
            if len(lines) > _MAX_HEADERS:
                raise BadAnswer(f"got more than {_MAX_HEADERS} headers")
            if line in (b"\r\n", b"\n", b""):
                return lines

    def answer(self, method: str) -> tuple[Answer, bool]:
        """The final answer (1xx skipped) and whether the connection must be closed after it."""
        try:
            line = self.readline()
        except _STALE_ERRORS as err:
            raise _Stale(f"{type(err).__name__}: {err}") from err
        if not line:
            raise _Stale("the server closed the connection without answering")
        while True:
            version, status, reason = status_line(line)
            if not 100 <= status < 200:
                break
            self.header_lines()  # a 100 Continue's headers; the final answer follows
            line = self.readline()
        headers = parse_header_lines(self.header_lines())
        chunked = (headers.get("transfer-encoding") or "").lower() == "chunked"
        length = None if chunked else content_length(headers.get("content-length"))
        connection = (headers.get("connection") or "").lower()
        will_close = "close" in connection if version == "HTTP/1.1" else "keep-alive" not in connection
        if status in (204, 304) or method == "HEAD":
            data = b""
        elif chunked:
            data = self._chunked()
        elif length is not None:
            data = self.read(length)
        else:
            data, will_close = self.read_to_end(), True  # the body ends when the server closes
        return Answer(status, reason, headers, data), will_close

    def _chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size_line = self.readline()
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise BadAnswer(f"a bad chunk size {size_line[:40]!r}") from None
            if size == 0:
                self.header_lines()  # trailers
                return b"".join(parts)
            parts.append(self.read(size))
            self.read(2)  # the chunk's CRLF


def status_line(line: bytes) -> tuple[str, int, str]:
    """(version, status, reason) of an answer's first line; :class:`BadAnswer` if it is not one."""
    text = line.decode("iso-8859-1").rstrip("\r\n")
    version, _, rest = text.partition(" ")
    code, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
        raise BadAnswer(f"not an HTTP/1.x status line: {text[:80]!r}")
    return version, int(code), reason.strip()


def content_length(value: str | None) -> int | None:
    """The body's length from a Content-Length value; None (read to the close) when absent or
    not a length, as ``http.client`` does."""
    if value is None:
        return None
    try:
        length = int(value)
    except ValueError:
        return None
    return length if length >= 0 else None


def split_origin(url: str) -> tuple[SplitResult, int, str]:
    """An http(s) URL's parts, its port (the scheme's default when none is given) and the Host
    header line ``http.client`` sends to it; ValueError for any other URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be http(s)://host[:port][/path], got {url!r}")
    default_port = 443 if parts.scheme == "https" else 80
    port = parts.port or default_port
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname  # an IPv6 literal, as in the URL
    return parts, port, f"Host: {host}\r\n" if port == default_port else f"Host: {host}:{port}\r\n"


def request_head(method: str, target: str, host_line: str, body: bytes | None,
                 headers: Mapping[str, str] | None) -> bytes:
    """The request line and headers as ``http.client`` writes them: Host, Accept-Encoding
    identity unless given, Content-Length for a body (0 for a POST, PUT or PATCH without). A line
    break in the target or a header is refused (ValueError) before anything is sent."""
    if any(c in target for c in " \r\n\t\x00") or not method.isalpha():
        raise ValueError(f"not a request line: {method!r} {target!r}")
    given = {k.lower() for k in headers or ()}
    parts = [f"{method} {target} HTTP/1.1\r\n"]
    if "host" not in given:
        parts.append(host_line)
    if "accept-encoding" not in given:
        parts.append("Accept-Encoding: identity\r\n")
    if "content-length" not in given and (body is not None or method in ("POST", "PUT", "PATCH")):
        parts.append(f"Content-Length: {len(body or b'')}\r\n")
    for name, value in (headers or {}).items():
        if "\n" in name or "\n" in str(value) or "\r" in name or "\r" in str(value):
            raise ValueError(f"a header may not contain a line break: {name!r}")
        parts.append(f"{name}: {value}\r\n")
    parts.append("\r\n")
    return "".join(parts).encode("latin-1")


class HttpPool:
    """Thread-safe keep-alive connections to the origin of ``url`` (a connection per concurrent
    request, up to ``max_idle`` kept for reuse). ``path_prefix`` is the URL's path without its
    trailing slash; ``target`` the URL's own request target (path and query)."""

    def __init__(self, url: str, *, ssl_context: ssl.SSLContext | None = None, max_idle: int = 8,
                 max_idle_seconds: float = 4.0) -> None:
        parts, self.port, self._host_line = split_origin(url)
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.path_prefix = parts.path.rstrip("/")
        self.target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._ssl = (ssl_context or ssl.create_default_context()) if parts.scheme == "https" else None
        self._max_idle = max_idle
        self._max_idle_seconds = max_idle_seconds
        self._idle: list[tuple[_Connection, float]] = []  # (connection, idle since)
        self._lock = threading.Lock()

    def _new(self, timeout: Timeout) -> _Connection:
        connect, read = split_timeout(timeout)
        sock = _connect((self.host, self.port), connect)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._ssl is not None:
                sock = self._ssl.wrap_socket(sock, server_hostname=self.host)
            sock.settimeout(read)
        except BaseException:
            sock.close()
            raise
        return _Connection(sock)

    def _take(self, timeout: Timeout, *, fresh: bool = False) -> tuple[_Connection, bool]:
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

    def _give_back(self, conn: _Connection) -> None:
        with self._lock:
            if len(self._idle) < self._max_idle:
                self._idle.append((conn, time.monotonic()))
                return
        conn.close()

    def request(self, method: str, target: str, *, body: bytes | None = None,
                headers: Mapping[str, str] | None = None, timeout: Timeout = (5.0, 30.0)) -> Answer:
        """Send one request (``target``: path and query) and read the whole answer. Raises
        :class:`NoAnswer` when there is none."""
        head = request_head(method, target, self._host_line, body, headers)
        for attempt in (1, 2):
            conn, reused = None, False
            try:
                conn, reused = self._take(timeout, fresh=attempt > 1)
                try:
                    conn.send(head + body if body else head)
                except _STALE_ERRORS as err:
                    raise _Stale(f"{type(err).__name__}: {err}") from err
                answer, will_close = conn.answer(method)
            except _Stale as err:
                if conn is not None:
                    conn.close()
                if reused and attempt == 1:
                    self.close()  # its idle siblings were most likely closed by the server too
                    continue
                raise NoAnswer(str(err)) from (err.__cause__ or err)
            except (OSError, BadAnswer) as err:
                if conn is not None:
                    conn.close()
                raise NoAnswer(f"{type(err).__name__}: {err}") from err
            if will_close:
                conn.close()
            else:
                self._give_back(conn)
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Close the idle connections (requests in flight finish on theirs)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn, _ in idle:
            conn.close()
