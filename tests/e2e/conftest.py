"""Shared, expensive parts of the end-to-end tests: one S3 server for the folder, and one
running KubeSkippy (the API double with RBAC enforced, the broker, four function processes,
the feed) that the crash-loop, duplicate-delivery and approval scenarios share. Each scenario
works on its own Deployment and policy, so they do not see each other's actions."""

from __future__ import annotations

import uuid
from typing import Iterator

import pytest

from tests.harness.s3 import SeaweedFS, start_seaweedfs

from .world import S3Target, World


@pytest.fixture(scope="package")
def s3_server() -> Iterator[SeaweedFS]:
    server = start_seaweedfs()  # skips, saying why, when the weed binary is missing
    try:
        yield server
    finally:
        server.close()


def s3_target(server: SeaweedFS) -> S3Target:
    """A bucket of its own (created by the audit function on its first write)."""
    return S3Target(server.endpoint, server.access_key, server.secret_key, f"e2e-audit-{uuid.uuid4().hex[:10]}")


@pytest.fixture(scope="package")
def world(s3_server: SeaweedFS, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from .scenarios import shared_policies

    running = World(tmp_path_factory.mktemp("e2e-mesh"), s3=s3_target(s3_server))
    try:
        running.start(policies=shared_policies())
        yield running
    finally:
        running.stop()
