"""The function benchmarks' lean load generator against a real HTTP server on loopback."""

from __future__ import annotations

import asyncio

import pytest

from benchmarks.http_load import LoadResult, run_load


async def _serve(reply: bytes, seen: list[bytes]):
    """An HTTP/1.1 keep-alive server that records each request body and answers ``reply``."""

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:"))
                seen.append(await reader.readexactly(length))
                writer.write(reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(client, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"


async def test_sends_the_requests_in_turn_and_counts_each_status() -> None:
    seen: list[bytes] = []
    server, url = await _serve(b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\nok", seen)
    async with server:
        requests = [({"ce-id": str(i)}, f"body-{i}".encode()) for i in range(3)]
        result = await run_load(url, requests, concurrency=2, count=7, seconds=30)
    assert result.requests == 7 and result.statuses == {202: 7}
    assert sorted(seen) == sorted([b"body-0", b"body-1", b"body-2"] * 2 + [b"body-0"])
    assert len(result.latencies_ms) == 7 and all(ms > 0 for ms in result.latencies_ms)


async def test_a_response_without_content_length_is_an_error_not_a_measurement() -> None:
    server, url = await _serve(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", [])
    async with server:
        with pytest.raises(RuntimeError, match="transfer-encoding"):
            await run_load(url, [({}, b"x")], concurrency=1, count=1, seconds=30)


def test_percentiles_pick_the_nearest_rank() -> None:
    result = LoadResult(5, 1.0, [5.0, 1.0, 4.0, 2.0, 3.0], {200: 5})
    assert (result.percentile(0), result.percentile(50), result.percentile(100)) == (1.0, 3.0, 5.0)
    assert result.rps == 5.0
