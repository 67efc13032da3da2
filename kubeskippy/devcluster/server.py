"""The development cluster as a real HTTP server on 127.0.0.1, for the real ``kubernetes`` client.

A development and test tool, never for production. One thread per connection (``http.server``'s
ThreadingHTTPServer, HTTP/1.1 keep-alive), watches streamed with chunked encoding, and the
protocol itself in :class:`~kubeskippy.devcluster.api.DevClusterAPI`::

    with DevClusterServer() as server:
        api = kubernetes.client.CoreV1Api(server.api_client())
        api.list_namespaced_pod("default")
        server.faults.inject(status=500, count=3, verbs=["patch"])   # make the next 3 patches fail
        server.authorize({"alice": [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]})
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterable, Mapping

from ..http_headers import parse_header_lines
from .api import DevClusterAPI, RequestRecord
from .authz import Authorizer
from .faults import Faults
from .store import ObjectStore

__all__ = ["DevClusterServer"]

log = logging.getLogger(__name__)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], api: DevClusterAPI) -> None:
        self.api = api
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client vanishing mid-request is routine (timeouts, stopped watches); log, don't print."""
        log.debug("devcluster connection from %s ended abruptly", client_address, exc_info=True)


_MAX_HEADER_LINES = 100  # http.client's limits, which http.server applies to requests
_MAX_LINE = 65536


class _HttpDate:
    """The Date header's value, formatted once per second rather than once per answer."""

    def __init__(self) -> None:
        self._cached = (-1, "")  # (second, text), one attribute: handler threads read it unlocked

    def __call__(self) -> str:
        now = int(time.time())
        second, text = self._cached
        if now != second:
            text = formatdate(now, usegmt=True)
            self._cached = (now, text)
        return text


_http_date = _HttpDate()


class _Handler(BaseHTTPRequestHandler):
    """http.server's handler with a lean path for well-formed HTTP/1.x requests.

    Why: the devcluster stands in for an API server that answers in well under a millisecond,
    and every function's latency figure includes its requests to it. ``http.server`` parses a
    request's header block with the ``email`` package and writes an answer's head one header at
    a time: ~0.12 ms of the ~0.26 ms of CPU a small GET costs the devcluster
    (``benchmarks/devcluster_requests.py``).
    Headers are split here by :func:`~kubeskippy.http_headers.parse_header_lines` (the
    email parser still takes any block that is not plain ``Name: value`` lines), and the answer's
    head and body go out in one write. Anything that is not an HTTP/1.0 or 1.1 request line goes
    to ``http.server``'s own parser, with its error answers."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # a watch's chunks are separate writes: avoid the 40 ms delayed-ACK stall
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
        log.debug("devcluster %s - %s", self.address_string(), format % args)

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        if log.isEnabledFor(logging.DEBUG):  # http.server formats the line even when nobody logs it
            super().log_request(code, size)

    def parse_request(self) -> bool:
        words = self.raw_requestline.split()
        if len(words) != 3 or words[2] not in (b"HTTP/1.1", b"HTTP/1.0"):
            return super().parse_request()
        self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        self.command, self.path = words[0].decode("iso-8859-1"), words[1].decode("iso-8859-1")
        self.request_version = words[2].decode()
        if self.path.startswith("//"):
            self.path = "/" + self.path.lstrip("/")  # http.server's guard against open redirects
        lines: list[bytes] = []
        while True:
            line = self.rfile.readline(_MAX_LINE + 1)
            if len(line) > _MAX_LINE:
                self.send_error(431, "Line too long")
                return False
            lines.append(line)
            if line in (b"\r\n", b"\n", b""):
                break
            if len(lines) > _MAX_HEADER_LINES:
                self.send_error(431, "Too many headers")
                return False
        self.headers = parse_header_lines(lines)  # type: ignore[assignment] - answers as HTTPMessage does
        connection = (self.headers.get("Connection") or "").lower()
        self.close_connection = connection == "close" or (
            self.request_version == "HTTP/1.0" and connection != "keep-alive")
        if (self.headers.get("Expect") or "").lower() == "100-continue" and self.request_version == "HTTP/1.1":
            return self.handle_expect_100()
        return True

    def _send_head(self, status: int, fields: list[tuple[str, str]], body: bytes = b"") -> None:
        """The status line, Server, Date and ``fields``, then ``body``, in one write."""
        self.log_request(status)
        reason = self.responses[status][0] if status in self.responses else ""
        head = [f"{self.protocol_version} {status} {reason}\r\nServer: {self.version_string()}\r\n"
                f"Date: {_http_date()}\r\n"]
        for key, value in fields:
            head.append(f"{key}: {value}\r\n")
            if key.lower() == "connection" and value.lower() == "close":
                self.close_connection = True
        head.append("\r\n")
        self.wfile.write("".join(head).encode("latin-1") + body)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        body = self._read_body()
        response = self.server.api.handle(self.command, self.path, self.headers, body)
        if response.drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        fields = [("Content-Type", response.content_type), ("Cache-Control", "no-cache, private"),
                  *response.headers.items()]
        if response.stream is None:
            fields.append(("Content-Length", str(len(response.body))))
            try:
                self._send_head(response.status, fields, response.body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (e.g. timed out) before we answered
            return
        fields.append(("Transfer-Encoding", "chunked"))
        try:
            self._send_head(response.status, fields)
            for chunk in response.stream:
                if not chunk:  # an idle watch: end it if the watcher has gone (the API server's rule)
                    if _peer_closed(self.connection):
                        self.close_connection = True
                        return
                    continue
                self.wfile.write(b"%X\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the watcher went away
        finally:
            close = getattr(response.stream, "close", None)
            if close:
                close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


def _peer_closed(connection: socket.socket) -> bool:
    """Whether the client closed its end (a watcher that stopped reading): a read that would not
    block returns nothing. Anything else it sent (it should send nothing mid-watch) stays queued."""
    try:
        return connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True


class DevClusterServer:
    """Serve an :class:`ObjectStore` over HTTP on ``host:port`` (port 0: a free one).

    :param store: the engine; share it with a :class:`Controller` or :class:`MemoryCluster`.
    :param max_watch_seconds: upper bound of a watch's lifetime (and its default).
    """

    def __init__(self, store: ObjectStore | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 max_watch_seconds: float = 1800.0) -> None:
        self.store = store or ObjectStore()
        self.faults = Faults()
        self.api = DevClusterAPI(self.store, self.faults, max_watch_seconds=max_watch_seconds)
        self._address = (host, port)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> "DevClusterServer":
        if self._httpd is not None:
            return self
        self.api.stopping.clear()
        self._httpd = _HTTPServer(self._address, self.api)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"devcluster-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, end open watches (within half a second) and close the socket."""
        if self._httpd is None:
            return
        self.api.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> "DevClusterServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def host(self) -> str:
        return self._httpd.server_address[0] if self._httpd else self._address[0]  # type: ignore[return-value]

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the devcluster server is not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # --- test controls -------------------------------------------------------------------

    def authorize(self, rules_by_user: Mapping[str, Any] | None, *, tokens: Mapping[str, str] | None = None) -> None:
        """Enforce RBAC: every request needs ``Authorization: Bearer <token>`` (401 otherwise) and
        a rule allowing it (403 Forbidden otherwise). ``None`` switches authorization off.
        See :class:`~kubeskippy.devcluster.authz.Authorizer` for the shape of ``rules_by_user``."""
        self.api.authorizer = Authorizer(rules_by_user, tokens) if rules_by_user is not None else None

    def authorize_manifests(self, documents: Iterable[Mapping[str, Any]], *,
                            tokens: Mapping[str, str] | None = None) -> None:
        """Enforce the RBAC that these Role/ClusterRole/(Cluster)RoleBinding documents grant."""
        self.api.authorizer = Authorizer.from_manifests(documents, tokens)

    @property
    def requests(self) -> list[RequestRecord]:
        """Requests handled so far (method, path, verb, user, status)."""
        return self.api.requests

    # --- clients -------------------------------------------------------------------------

    def configuration(self, token: str | None = None) -> Any:
        """A ``kubernetes.client.Configuration`` pointing at this server."""
        from kubernetes import client  # the devcluster itself does not need the client

        config = client.Configuration()
        config.host = self.url
        config.verify_ssl = False
        if token is not None:
            config.api_key = {"BearerToken": token}
            config.api_key_prefix = {"BearerToken": "Bearer"}
        return config

    def api_client(self, token: str | None = None) -> Any:
        """A ``kubernetes.client.ApiClient`` for this server (close it when done)."""
        from kubernetes import client

        return client.ApiClient(self.configuration(token))
