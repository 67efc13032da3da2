"""The devcluster's HTTP/1.x framing on a raw socket: its own request parser must keep
``http.server``'s rules (keep-alive, HTTP/1.0, Expect: 100-continue, limits, odd header blocks)."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import pytest

from kubeskippy.clock import ManualClock
from kubeskippy.devcluster import ObjectStore
from kubeskippy.devcluster.builders import configmap
from kubeskippy.devcluster.server import DevClusterServer

CM = "/api/v1/namespaces/default/configmaps"


@pytest.fixture
def server():
    store = ObjectStore(ManualClock(1_700_000_000), seed=3)
    store.create(configmap("settings", data={"a": "1"}))
    with DevClusterServer(store) as srv:
        yield srv


def _connect(server: DevClusterServer) -> socket.socket:
    url = urlsplit(server.url)
    sock = socket.create_connection((url.hostname, url.port), timeout=5)
    return sock


def _answer(sock: socket.socket) -> tuple[bytes, dict[str, str], bytes]:
    """One answer: status line, headers (lower-case names) and its Content-Length body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.split(b"\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.decode().partition(":") for line in lines)}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def _closed(sock: socket.socket) -> bool:
    sock.settimeout(2)
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, TimeoutError):
        return False


def test_two_requests_on_one_kept_alive_connection(server):
    with _connect(server) as sock:
        for _ in range(2):
            sock.sendall(f"GET {CM}/settings HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            status, headers, body = _answer(sock)
            assert status == b"HTTP/1.1 200 OK"
            assert json.loads(body)["data"] == {"a": "1"}
            assert headers["content-type"] == "application/json" and "date" in headers and "server" in headers


def test_connection_close_and_http_1_0_end_the_connection_after_the_answer(server):
    for request in (f"GET {CM}/settings HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                    f"GET {CM}/settings HTTP/1.0\r\n\r\n"):
        with _connect(server) as sock:
            sock.sendall(request.encode())
            assert _answer(sock)[0].endswith(b"200 OK")
            assert _closed(sock)


def test_http_1_0_with_keep_alive_stays_open(server):
    with _connect(server) as sock:
        sock.sendall(f"GET {CM}/settings HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".encode())
        assert _answer(sock)[0].endswith(b"200 OK")
        sock.sendall(f"GET {CM}/settings HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".encode())
        assert _answer(sock)[0].endswith(b"200 OK")


def test_expect_100_continue_is_answered_before_the_body_is_sent(server):
    body = json.dumps(configmap("posted")).encode()
    with _connect(server) as sock:
        sock.sendall(f"POST {CM} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n".encode())
        assert sock.recv(4096).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(body)
        status, _, answer = _answer(sock)
        assert status == b"HTTP/1.1 201 Created" and json.loads(answer)["metadata"]["name"] == "posted"


def test_a_folded_header_block_still_parses_through_the_email_parser(server):
    body = json.dumps(configmap("folded")).encode()
    with _connect(server) as sock:
        sock.sendall(f"POST {CM} HTTP/1.1\r\nHost: x\r\nX-Note: first\r\n  continued\r\n"
                     f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
        assert _answer(sock)[0] == b"HTTP/1.1 201 Created"


def test_a_request_line_that_is_not_http_1_x_gets_http_servers_error(server):
    for line, status in ((b"GET / HTTP/2.0\r\n", b"505"), (b"GET / HTTP/1.1 extra\r\n", b"400"),
                         (b"GET\r\n", b"400")):
        with _connect(server) as sock:
            sock.sendall(line + b"Host: x\r\n\r\n")
            raw = b"".join(iter(lambda: sock.recv(65536), b""))  # an error answer closes the connection
            assert b"Error code: " + status in raw  # http.server's error page (no status line for HTTP/0.9)


def test_too_many_header_lines_is_431(server):
    with _connect(server) as sock:
        sock.sendall(f"GET {CM} HTTP/1.1\r\n".encode() + b"".join(b"X-%d: y\r\n" % i for i in range(120)) + b"\r\n")
        assert _answer(sock)[0].startswith(b"HTTP/1.1 431")


def test_a_double_slash_path_is_collapsed_as_http_server_does(server):
    with _connect(server) as sock:
        sock.sendall(f"GET /{CM}/settings HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert _answer(sock)[0] == b"HTTP/1.1 200 OK"
