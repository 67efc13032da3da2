"""Closed-loop HTTP load for the function benchmarks: N connections, one request in flight on each.

Why not httpx: the load generator shares this two-core machine with the server it measures. An
async httpx client spent ~19 s of CPU in a 20 s round at ~700 requests/s, a whole core, so the
server under test had one core left to share with everything else it needs (detect: its worker
threads and the Kubernetes API double), and the p99 measured the machine's scheduling as much as
the server. This client writes pre-encoded HTTP/1.1 requests on keep-alive connections and reads
each response's status line, headers and ``Content-Length`` body: ~2 s of CPU for the same
round. It is the same instrument for the echo and detect, so their ratio stays fair; ``httpx``
remains available (``--client httpx`` in benchmarks.functions) to compare.

Responses must carry ``Content-Length`` (func-python's middleware and both benchmarked functions
set it); anything else is reported as an error rather than mis-measured.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import AsyncContextManager, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from urllib.parse import urlsplit

__all__ = ["LoadResult", "encode_request", "run_load", "run_load_httpx"]


@dataclass
class LoadResult:
    requests: int
    seconds: float
    latencies_ms: list[float]
    statuses: dict[int, int]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        data = sorted(self.latencies_ms)
        return data[min(len(data) - 1, int(round(q / 100 * (len(data) - 1))))]


def encode_request(host: str, port: int, path: str, headers: Mapping[str, str], body: bytes) -> bytes:
    """One POST as the bytes sent on the wire (Host and Content-Length set here)."""
    lines = [f"POST {path} HTTP/1.1", f"host: {host}:{port}", f"content-length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items() if k.lower() not in ("host", "content-length")]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one response; return its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = None
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
        elif name.strip().lower() == b"transfer-encoding":
            raise RuntimeError(f"response with transfer-encoding {value.strip().decode()!r}: "
                               "this client reads Content-Length bodies only")
    if length is None:
        raise RuntimeError(f"response {status} without content-length: cannot tell where it ends")
    if length:
        await reader.readexactly(length)
    return status


Send = Callable[[int], Awaitable[int]]
"""Sends request ``i`` of the cycle on one connection; returns the response's status."""


async def _closed_loop(connect: Callable[[], AsyncContextManager[Send]], count: int, concurrency: int,
                       seconds: float) -> LoadResult:
    """``concurrency`` workers, each on its own connection, sending requests 0, 1, 2, … in turn
    until ``count`` were sent or ``seconds`` passed; latency is send → whole response read. One
    bound for the whole round (a per-request timeout would cost a task per request): a server
    that stops answering fails the round instead of hanging the benchmark."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    next_index = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal next_index
        async with connect() as send:
            while next_index < count and time.perf_counter() < deadline:
                index = next_index
                next_index += 1
                t0 = time.perf_counter()
                status = await send(index)
                latencies.append((time.perf_counter() - t0) * 1000)
                statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(concurrency))), seconds + 30)
    return LoadResult(len(latencies), time.perf_counter() - started, latencies, statuses)


async def run_load(url: str, requests: Sequence[tuple[Mapping[str, str], bytes]], *, concurrency: int,
                   count: int, seconds: float) -> LoadResult:
    """Send ``requests`` in turn (cycling) on ``concurrency`` keep-alive connections until
    ``count`` were sent or ``seconds`` passed."""
    parts = urlsplit(url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/"
    encoded = [encode_request(host, port, path, h, b) for h, b in requests]

    @asynccontextmanager
    async def connect() -> AsyncIterator[Send]:
        reader, writer = await asyncio.open_connection(host, port)

        async def send(index: int) -> int:
            writer.write(encoded[index % len(encoded)])
            return await _read_response(reader)

        try:
            yield send
        finally:
            writer.close()

    return await _closed_loop(connect, count, concurrency, seconds)


async def run_load_httpx(url: str, requests: Sequence[tuple[Mapping[str, str], bytes]], *, concurrency: int,
                         count: int, seconds: float) -> LoadResult:
    """The same closed loop through one async httpx client (the instrument before 2026-11-22)."""
    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        @asynccontextmanager
        async def connect() -> AsyncIterator[Send]:
            async def send(index: int) -> int:
                headers, body = requests[index % len(requests)]
                return (await client.post(url, headers=headers, content=body)).status_code

            yield send

        return await _closed_loop(connect, count, concurrency, seconds)
