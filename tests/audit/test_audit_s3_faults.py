"""S3 answering 5xx: a loopback HTTP server that fails every request the way a struggling S3 does."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kubeskippy.adapters.s3_audit import S3AuditSink
from kubeskippy.audit.recorder import Recorder
from kubeskippy.clock import ManualClock
from kubeskippy.errors import APIError, TemporaryError

from .events import T0, finding, finding_event

pytestmark = pytest.mark.slow


def failing_s3(status: int, code: str):
    body = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>try later</Message>'
            f'<Resource>/audit</Resource><RequestId>r1</RequestId></Error>').encode()

    class Handler(BaseHTTPRequestHandler):
        requests = 0

        def _fail(self) -> None:
            Handler.requests += 1
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            self.send_response(status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", "0" if self.command == "HEAD" else str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_PUT = do_HEAD = do_POST = _fail

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, Handler


@pytest.mark.parametrize("status, code", [(503, "SlowDown"), (500, "InternalError"), (502, "BadGateway")])
def test_a_server_error_is_temporary_after_a_few_quick_retries(status, code):
    server, handler = failing_s3(status, code)
    try:
        sink = S3AuditSink(f"127.0.0.1:{server.server_address[1]}", "ak", "sk", "audit", False, "us-east-1")
        with pytest.raises(TemporaryError) as caught:
            Recorder(sink, ManualClock(T0)).record(finding_event(finding(at=T0)))
        assert "s3://audit" in str(caught.value)
        assert handler.requests == 3  # one try and the two retries of the default settings
    finally:
        server.shutdown()
        server.server_close()


def test_a_server_error_without_client_retries_keeps_its_status():
    server, _ = failing_s3(503, "SlowDown")
    try:
        sink = S3AuditSink(f"127.0.0.1:{server.server_address[1]}", "ak", "sk", "audit", False, "us-east-1",
                           retries=0)
        with pytest.raises(APIError) as caught:
            sink.get("2026/11/21/19/x/y.json")
        assert caught.value.status == 503
    finally:
        server.shutdown()
        server.server_close()
