"""HttpPool reads answers as http.client does, with its own header splitting (adapters/http_pool.py).

The server is a real socket on loopback that writes scripted bytes, so framing (Content-Length,
chunked, close-delimited, 1xx) and keep-alive are exercised byte for byte.
"""

from __future__ import annotations

import http.client
import io
import socket
import threading

import pytest

from kubeskippy.adapters.http_pool import HttpPool, NoAnswer
from kubeskippy.http_headers import parse_header_lines


def stdlib_headers(block: bytes) -> http.client.HTTPMessage:
    return http.client.parse_headers(io.BytesIO(block))


def lines(block: bytes) -> list[bytes]:
    return io.BytesIO(block).readlines()


@pytest.mark.parametrize("block", [
    pytest.param(b"Content-Type: application/json\r\nContent-Length: 12\r\n\r\n", id="plain"),
    pytest.param(b"content-type:application/json\r\nX-Blank:   spaced value  \r\n\r\n", id="blanks"),
    pytest.param(b"Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n", id="repeated"),
    pytest.param(b"X-Empty:\r\nX-Tab:\tv\r\n\r\n", id="empty-and-tab"),
    pytest.param(b"X-Folded: one\r\n two\r\nX-After: 3\r\n\r\n", id="folded"),
    pytest.param(b"Content-Type: text/plain\r\nnot a header\r\nX-Later: 1\r\n\r\n", id="malformed"),
    pytest.param(b"X-Latin: caf\xe9\r\n\r\n", id="latin-1"),
    pytest.param(b"X-Bare: 1\n\n", id="bare-newlines"),
    pytest.param(b"\r\n", id="none"),
])
def test_header_blocks_give_the_same_message_as_http_client(block):
    ours, theirs = parse_header_lines(lines(block)), stdlib_headers(block)
    assert ours.items() == theirs.items()
    assert ours.get("content-type") == theirs.get("Content-Type")
    assert ours.get_all("set-cookie") == theirs.get_all("Set-Cookie")
    assert ours.keys() == theirs.keys() and ours.values() == theirs.values() and len(ours) == len(theirs)
    assert ("X-LATER" in ours) == ("X-LATER" in theirs) and ours["x-missing"] is theirs["x-missing"] is None


class RawServer:
    """Answers each request on a connection with the next scripted bytes; records connections."""

    def __init__(self, *answers: bytes) -> None:
        self.answers = list(answers)
        self.connections = 0
        self.requests: list[bytes] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while self.answers:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn, conn.makefile("rb") as reader:  # the socket closes only when both are closed
                while self.answers:
                    head = b""
                    while not head.endswith(b"\r\n\r\n"):
                        line = reader.readline()
                        if not line:
                            break
                        head += line
                    if not head:
                        break
                    length = next((int(h.split(b":")[1]) for h in head.split(b"\r\n")
                                   if h.lower().startswith(b"content-length:")), 0)
                    self.requests.append(head + reader.read(length))
                    answer = self.answers.pop(0)
                    conn.sendall(answer)
                    if b"connection: close" in answer.lower() or b"content-length" not in answer.lower() \
                            and b"chunked" not in answer.lower():
                        break

    def close(self) -> None:
        self.sock.close()


def test_content_length_answers_keep_one_connection_alive():
    server = RawServer(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: 1\r\n\r\nok",
                       b"HTTP/1.1 404 Not Found\r\ncontent-length: 4\r\n\r\nnope")
    pool = HttpPool(server.url)
    first = pool.request("POST", "/a", body=b"{}", headers={"Content-Type": "application/json"})
    second = pool.request("GET", "/b")
    server.close()
    assert (first.status, first.data, first.headers["x-a"]) == (200, b"ok", "1")
    assert (second.status, second.reason, second.data) == (404, "Not Found", b"nope")
    assert server.connections == 1
    assert server.requests[0].startswith(b"POST /a HTTP/1.1\r\n") and server.requests[0].endswith(b"\r\n\r\n{}")


def test_a_chunked_answer_is_joined_and_the_connection_kept():
    server = RawServer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
                       b"HTTP/1.1 204 No Content\r\n\r\n")
    pool = HttpPool(server.url)
    assert pool.request("GET", "/").data == b"abcde"
    assert pool.request("DELETE", "/").status == 204
    server.close()
    assert server.connections == 1


def test_an_answer_without_length_is_read_to_the_close_and_the_next_request_reconnects():
    server = RawServer(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close",
                       b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx")
    pool = HttpPool(server.url)
    assert pool.request("GET", "/").data == b"until close"
    assert pool.request("GET", "/").data == b"x"
    server.close()
    assert server.connections == 2


def test_a_100_continue_is_skipped_for_the_final_answer():
    server = RawServer(b"HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n"
                       b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
    answer = HttpPool(server.url).request("POST", "/", body=b"x")
    server.close()
    assert answer.status == 201 and "x-interim" not in answer.headers


def test_a_garbled_status_line_is_no_answer():
    server = RawServer(b"SPDY/9 200 OK\r\n\r\n")
    with pytest.raises(NoAnswer):
        HttpPool(server.url).request("GET", "/")
    server.close()


class ThreadedServer:
    """A loopback listener serving each connection in a thread of its own (``_serve``, given the
    connection and its number from 1); counts connections."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections = 0
        self.serving: list[threading.Thread] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            worker = threading.Thread(target=self._serve, args=(conn, self.connections), daemon=True)
            self.serving.append(worker)
            worker.start()

    def _serve(self, conn: socket.socket, number: int) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.sock.close()


class DroppingServer(ThreadedServer):
    """Answers one request per connection (keep-alive promised) once ``together`` requests are in,
    then holds every connection open until ``drop()`` closes them all at once, as a server's
    idle timeout does."""

    def __init__(self, together: int) -> None:
        self.first = threading.Barrier(together)
        self.dropped = threading.Event()
        super().__init__()

    def _serve(self, conn: socket.socket, number: int) -> None:
        with conn, conn.makefile("rb") as reader:
            while reader.readline() not in (b"\r\n", b""):
                pass
            if number <= self.first.parties:
                self.first.wait(5)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            self.dropped.wait(10)

    def drop(self) -> None:
        self.dropped.set()
        for worker in list(self.serving):
            worker.join(5)

    def close(self) -> None:
        self.dropped.set()
        super().close()


def test_after_the_server_dropped_every_idle_connection_the_next_request_still_gets_through():
    server = DroppingServer(together=3)
    pool = HttpPool(server.url, max_idle_seconds=60)
    threads = [threading.Thread(target=pool.request, args=("GET", "/")) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    server.drop()  # three idle connections in the pool, all closed by the server
    try:
        assert pool.request("GET", "/").data == b"ok"
        assert server.connections == 4  # one stale try, then a fresh connection, not another stale one
    finally:
        server.close()


def test_a_connection_idle_longer_than_allowed_is_not_reused():
    server = DroppingServer(together=1)
    pool = HttpPool(server.url, max_idle_seconds=0.0)
    try:
        pool.request("GET", "/")
        pool.request("GET", "/")
        assert server.connections == 2
    finally:
        server.close()


def test_an_ascii_host_name_is_resolved_without_loading_the_idna_codec():
    """getaddrinfo encodes a str host with IDNA, whose first use imports encodings.idna, stringprep
    and unicodedata (~5 M instructions of a cold start); the pool hands it ASCII bytes instead."""
    import subprocess
    import sys

    server = RawServer(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    code = ("import sys\n"
            "from kubeskippy.adapters.http_pool import HttpPool\n"
            f"answer = HttpPool({server.url.replace('127.0.0.1', 'localhost')!r}).request('GET', '/')\n"
            "print(answer.status, answer.data, 'encodings.idna' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    server.close()
    assert out.strip() == "200 b'ok' False"
    assert server.requests[0].startswith(b"GET / HTTP/1.1\r\nHost: localhost:")


@pytest.mark.parametrize("method, target, body, headers", [
    ("GET", "/api/v1/namespaces/a/pods/p?x=1", None, {"Accept": "application/json", "User-Agent": "kubeskippy"}),
    ("POST", "/", b'{"a": 1}', {"Content-Type": "application/json", "ce-id": "1"}),
    ("PUT", "/x", None, {}),
    ("DELETE", "/x", b"{}", {"Accept-Encoding": "gzip"}),
])
def test_a_request_is_written_byte_for_byte_as_http_client_writes_it(method, target, body, headers):
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    server = RawServer(ok, ok)
    HttpPool(server.url).request(method, target, body=body, headers=headers)
    reference = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]))
    reference.request(method, target, body=body, headers=headers)
    reference.getresponse().read()
    reference.close()
    server.close()
    assert server.requests[0] == server.requests[1]


def test_a_line_break_in_a_header_or_the_target_is_refused_before_anything_is_sent():
    server = RawServer(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    pool = HttpPool(server.url)
    with pytest.raises(ValueError, match="line break"):
        pool.request("GET", "/", headers={"X-Evil": "a\r\nX-Injected: 1"})
    with pytest.raises(ValueError, match="request line"):
        pool.request("GET", "/ HTTP/1.1\r\nX-Injected: 1")
    server.close()
    assert server.connections == 0


def test_a_request_loads_neither_http_client_nor_the_email_package():
    """func-python imports neither; http.client and email cost ~25 M instructions of a cold start."""
    import subprocess
    import sys

    server = RawServer(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok")
    code = ("import sys\n"
            "from kubeskippy.adapters.http_pool import HttpPool\n"
            f"answer = HttpPool({server.url!r}).request('GET', '/')\n"
            "print(answer.status, answer.content_type, sorted(m for m in sys.modules\n"
            "      if m == 'http.client' or m == 'email' or m.startswith('email.')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    server.close()
    assert out.strip() == "200 text/plain []"
