"""An ApiServerSource-shaped feed for the local mesh: watch a Kubernetes API (the devcluster
double or a real cluster through a kubeconfig) and post one CloudEvent per change.

Like ApiServerSource it starts from the current state (objects that already exist produce
nothing) and sends dev.knative.apiserver.resource.{add,update,delete} with the whole object.
Unlike it, a watch that falls too far behind (410 Gone) re-lists and carries on, and the event
ids are content-derived, so a replayed change is recognised downstream.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Iterable

import httpx

from ..events.cloudevents import encode
from ..ingest.apiserver import apiserver_event
from ..kinds import api_path

__all__ = ["WatchedKind", "DEFAULT_KINDS", "ApiServerFeed"]

log = logging.getLogger("kubeskippy.mesh.feed")

_VERBS = {"ADDED": "add", "MODIFIED": "update", "DELETED": "delete"}


@dataclass(frozen=True)
class WatchedKind:
    api_version: str
    kind: str


DEFAULT_KINDS = (
    WatchedKind("v1", "Pod"), WatchedKind("v1", "Event"), WatchedKind("apps/v1", "Deployment"),
    WatchedKind("apps/v1", "ReplicaSet"), WatchedKind("apps/v1", "StatefulSet"), WatchedKind("apps/v1", "DaemonSet"),
    WatchedKind("v1", "Node"), WatchedKind("kubeskippy.io/v1alpha1", "HealingAction"),
)


class ApiServerFeed:
    """One watch thread per kind; each change is posted to ``sink_url`` in binary mode."""

    def __init__(self, api_client: Any, sink_url: str, kinds: Iterable[WatchedKind] = DEFAULT_KINDS, *,
                 watch_timeout: int = 5) -> None:
        self.api_client = api_client
        self.sink_url = sink_url
        self.kinds = tuple(kinds)
        self.watch_timeout = watch_timeout
        self.sent = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._http = httpx.Client(timeout=10)

    def start(self) -> "ApiServerFeed":
        ready = []
        for kind in self.kinds:
            started = threading.Event()
            ready.append(started)
            thread = threading.Thread(target=self._run, args=(kind, started), daemon=True,
                                      name=f"feed-{kind.kind}")
            thread.start()
            self._threads.append(thread)
        for started in ready:
            started.wait(10)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.watch_timeout + 5)
        self._http.close()

    # -- one kind --

    def _get(self, path: str, query: list[tuple[str, str]]) -> Any:
        """The raw urllib3 response of a GET, unread (the client sets preload_content=False)."""
        serialized = self.api_client.param_serialize(method="GET", resource_path=path, query_params=query,
                                                     header_params={"Accept": "application/json"},
                                                     auth_settings=["BearerToken"])
        response = self.api_client.call_api(*serialized, _request_timeout=(5, self.watch_timeout + 10))
        if not 200 <= response.status < 300:
            raise RuntimeError(f"GET {path}: HTTP {response.status}: {response.read()[:200]!r}")
        return response.response

    def _list_version(self, kind: WatchedKind) -> str:
        response = self._get(api_path(kind.api_version, kind.kind), [])
        try:
            return json.loads(response.data)["metadata"].get("resourceVersion", "")
        finally:
            response.release_conn()

    def _run(self, kind: WatchedKind, started: threading.Event) -> None:
        version = None
        while not self._stop.is_set():
            try:
                if version is None:
                    version = self._list_version(kind)
                started.set()
                version = self._watch(kind, version)
            except Exception as e:  # noqa: BLE001 - a broken watch is retried, never fatal
                if self._stop.is_set():
                    return
                log.warning("watch failed; retrying", extra={"fields": {"kind": kind.kind, "error": str(e)}})
                started.set()
                version = None
                time.sleep(0.5)

    def _watch(self, kind: WatchedKind, version: str) -> str | None:
        query = [("watch", "true"), ("timeoutSeconds", str(self.watch_timeout)), ("allowWatchBookmarks", "true")]
        if version:
            query.append(("resourceVersion", version))
        response = self._get(api_path(kind.api_version, kind.kind), query)
        try:
            buffer = b""
            for chunk in response.stream(4096, decode_content=True):
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if line.strip():
                        version = self._on_line(kind, line, version)
                        if version is None:
                            return None
                if self._stop.is_set():
                    break
        finally:
            response.release_conn()
        return version

    def _on_line(self, kind: WatchedKind, line: bytes, version: str | None) -> str | None:
        item = json.loads(line)
        event_type, obj = item.get("type"), item.get("object") or {}
        if event_type == "ERROR":
            if obj.get("code") == 410:
                return None  # too old: re-list from now
            raise RuntimeError(f"watch error: {obj.get('message')}")
        new_version = (obj.get("metadata") or {}).get("resourceVersion") or version
        if event_type == "BOOKMARK" or event_type not in _VERBS:
            return new_version
        obj = {"apiVersion": kind.api_version, "kind": kind.kind, **obj}
        headers, body = encode(apiserver_event(_VERBS[event_type], obj, time=time.time()), mode="binary")
        response = self._http.post(self.sink_url, headers=headers, content=body)
        response.raise_for_status()
        self.sent += 1
        return new_version
