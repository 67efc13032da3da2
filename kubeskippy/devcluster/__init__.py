"""The development cluster: a faithful in-memory double of the Kubernetes API.

A development and test tool, never for production. It backs fast unit tests
(:class:`MemoryCluster`, the Cluster port without sockets), integration tests of the production
adapter through the real ``kubernetes`` client (:class:`DevClusterServer`, a real HTTP server on
127.0.0.1), and ``kubeskippy dev`` on a laptop. Its semantics are pinned to the Kubernetes API
conventions by tests/devcluster; where it differs from a real API server, docs/devcluster.md says so.
"""

from __future__ import annotations

from .controller import Controller
from .faults import Fault, Faults
from .memory_cluster import MemoryCluster
from .server import DevClusterServer
from .store import ListResult, ObjectStore, WatchEvent, WatchFilter

__all__ = [
    "ObjectStore",
    "WatchEvent",
    "WatchFilter",
    "ListResult",
    "Controller",
    "MemoryCluster",
    "DevClusterServer",
    "Faults",
    "Fault",
]
