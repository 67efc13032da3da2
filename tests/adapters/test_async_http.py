"""AsyncHttpPool reads answers by http.client's framing rules, on the event loop; and LoopReads
answer get and list as the synchronous Kubernetes adapter does (the devcluster over HTTP)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from kubeskippy.adapters.async_http import AsyncHttpPool
from kubeskippy.adapters.http_pool import NoAnswer
from kubeskippy.adapters.kubernetes import KubernetesCluster
from kubeskippy.clock import ManualClock
from kubeskippy.devcluster import ObjectStore
from kubeskippy.devcluster.server import DevClusterServer
from kubeskippy.errors import APINotFound, InvalidInput, TemporaryError
from tests.adapters.test_http_pool import DroppingServer, RawServer, ThreadedServer


async def test_content_length_and_chunked_answers_keep_one_connection_alive():
    server = RawServer(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: 1\r\n\r\nok",
                       b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
                       b"HTTP/1.1 404 Not Found\r\ncontent-length: 4\r\n\r\nnope")
    pool = AsyncHttpPool(server.url)
    first = await pool.request("POST", "/a", body=b"{}", headers={"Content-Type": "application/json"})
    second = await pool.request("GET", "/b")
    third = await pool.request("GET", "/c")
    pool.close()
    server.close()
    assert (first.status, first.data, first.headers["x-a"]) == (200, b"ok", "1")
    assert (second.data, third.status, third.reason, third.data) == (b"abcde", 404, "Not Found", b"nope")
    assert server.connections == 1
    assert server.requests[0].startswith(b"POST /a HTTP/1.1\r\n") and server.requests[0].endswith(b"\r\n\r\n{}")


async def test_an_answer_without_length_is_read_to_the_close_and_a_100_continue_is_skipped():
    server = RawServer(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close",
                       b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
    pool = AsyncHttpPool(server.url)
    assert (await pool.request("GET", "/")).data == b"until close"
    assert (await pool.request("POST", "/", body=b"x")).status == 201
    server.close()
    assert server.connections == 2


async def test_a_garbled_answer_and_a_refused_connection_are_no_answer():
    server = RawServer(b"SPDY/9 200 OK\r\n\r\n")
    with pytest.raises(NoAnswer):
        await AsyncHttpPool(server.url).request("GET", "/")
    server.close()
    with pytest.raises(NoAnswer):
        await AsyncHttpPool("http://127.0.0.1:9").request("GET", "/", timeout=2)


async def test_after_the_server_dropped_every_idle_connection_the_next_request_still_gets_through():
    server = DroppingServer(together=3)
    pool = AsyncHttpPool(server.url, max_idle_seconds=60)
    await asyncio.gather(*(pool.request("GET", "/") for _ in range(3)))
    await asyncio.to_thread(server.drop)  # three idle connections in the pool, all closed by the server
    try:
        assert (await pool.request("GET", "/")).data == b"ok"
        assert server.connections == 4  # one stale try, then a fresh connection, not another stale one
    finally:
        server.close()


class _OneAnswerPerConnection(ThreadedServer):
    """Answers the first request of each connection (keep-alive promised) and closes the
    connection on the second without answering: a kept-alive connection found dead only once
    the next request is on it, the case an idle-timeout race leaves."""

    def _serve(self, conn: socket.socket, number: int) -> None:
        with conn, conn.makefile("rb") as reader:
            for answered in (False, True):
                length = 0
                while (line := reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                reader.read(length)
                if answered:
                    return  # the second request: closed, unanswered
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")


async def test_a_post_meeting_a_stale_connection_is_sent_again_only_when_the_caller_allows_it():
    """A POST may not be idempotent: by default it is not resent on a new connection (NoAnswer),
    but an at-least-once sender (the mesh broker) asks for the resend."""
    for resend in (None, True):
        server = _OneAnswerPerConnection()
        pool = AsyncHttpPool(server.url, max_idle_seconds=60)
        try:
            assert (await pool.request("POST", "/", body=b"{}")).data == b"ok"
            if resend:
                assert (await pool.request("POST", "/", body=b"{}", resend_when_stale=True)).data == b"ok"
                assert server.connections == 2
            else:
                with pytest.raises(NoAnswer):
                    await pool.request("POST", "/", body=b"{}")
                assert server.connections == 1
        finally:
            pool.close()
            server.close()


async def test_a_silent_server_times_out_as_no_answer():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()  # connections are accepted by the kernel and never answered
    try:
        with pytest.raises(NoAnswer, match="TimeoutError"):
            await AsyncHttpPool(f"http://127.0.0.1:{listener.getsockname()[1]}").request("GET", "/", timeout=(2, 0.3))
    finally:
        listener.close()


@pytest.fixture
def devcluster():
    store = ObjectStore(ManualClock(1_700_000_000), seed=3)
    store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    for name, app in (("web-1", "web"), ("web-2", "web"), ("db-1", "db")):
        store.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "shop",
                                                                        "labels": {"app": app}},
                      "spec": {"containers": [{"name": "app", "image": "app:1"}]}})
    with DevClusterServer(store) as server:
        yield KubernetesCluster.for_url(server.url)


async def test_loop_reads_answer_get_and_list_as_the_synchronous_adapter_does(devcluster):
    reads = devcluster.loop_reads()
    assert await reads.get("v1", "Pod", "web-1", "shop") == devcluster.get("v1", "Pod", "web-1", "shop")
    for selector in (None, "app=web"):
        assert await reads.list("v1", "Pod", "shop", label_selector=selector) == \
            devcluster.list("v1", "Pod", "shop", label_selector=selector)
    with pytest.raises(APINotFound):
        await reads.get("v1", "Pod", "gone", "shop")
    with pytest.raises(InvalidInput, match="metadata.namespace"):
        await reads.get("v1", "Pod", "web-1", None)
    reads.close()


async def test_loop_reads_of_an_api_server_that_does_not_answer_are_temporary():
    reads = KubernetesCluster.for_url("http://127.0.0.1:9", request_timeout=2).loop_reads()
    with pytest.raises(TemporaryError, match="did not answer"):
        await reads.get("v1", "Pod", "web-1", "shop")


def test_a_pool_whose_event_loop_has_ended_closes_without_error():
    server = RawServer(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    pool = AsyncHttpPool(server.url)
    assert asyncio.run(pool.request("GET", "/")).data == b"ok"  # one kept-alive connection, its loop closed
    pool.close()
    server.close()
