"""A Cluster that serves repeated reads of one request from memory.

Why: one crash loop costs analyze and remediate dozens of Kubernetes round trips, several of
them the same object read again by a different step (the Deployment five times in remediate,
the learning ConfigMap three times in analyze). Within one ``handle()`` call those repeats add
latency and tell the decision nothing new.

Scope and safety: the cache lives only inside ``with cache.scope():`` (one request: its worker
thread's context, shared with the threads a fan-out runs that request's reads in) and is never
shared between requests. A write through the wrapper (create,
replace, patch, delete, evict; dry runs too) drops cached reads before and after the call, so a
read after a write and a re-read after a conflict go to the API server:

- a write to one of KubeSkippy's own bookkeeping kinds (:data:`BOOKKEEPING_KINDS`: the
  HealingActions, the ConfigMaps of the safety ledger and of learning, core Events) drops the
  cached reads of that object and the cached lists of its kind only (every read of the kind
  when the name is not known, e.g. ``generateName``). Such a write cannot change any other
  object, so the pod, its owners and its namespace read before a HealingAction or ledger update
  stay valid (re-reading them was a third of remediate's requests), and so does another step's
  HealingAction (remediate creates one step's record while another step's reads run);
- any other write (the action itself: a delete, an eviction, a patch of a workload) drops
  everything, because one change there moves others (deleting a pod changes its ReplicaSet).

Reads are returned as copies (dicts and lists of the JSON value), so a caller editing an object
cannot alter what the next caller sees. Failed reads are not cached, with one exception: a
bookkeeping object found missing (404) stays missing until that kind is written through the
wrapper, so asking "does this step's HealingAction exist yet?" twice costs one request (another
replica creating it meanwhile shows up as a 409 on our create, which drops the entry).

A bookkeeping object we create, replace or patch (not as a dry run) is kept as the server
answered: that answer is what a read right after the write returns, so the ledger reading its
window back after its own compare-and-swap costs no request. Another replica changing it later
is no different from a change just after any read: our next write to it carries the old
resourceVersion, gets a 409, and the retry reads it fresh. Outside a scope the wrapper passes
everything straight through.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator

from ..errors import APINotFound
from ..jsoncopy import copy_json
from ..ports import Cluster, PatchType

__all__ = ["RequestCachedCluster", "BOOKKEEPING_KINDS"]

BOOKKEEPING_KINDS = frozenset({
    ("kubeskippy.io/v1alpha1", "HealingAction"),
    ("v1", "ConfigMap"),
    ("v1", "Event"),
})
"""(apiVersion, kind) of the objects KubeSkippy writes for its own records: writing one of them
changes no other object, so it only invalidates cached reads of the same kind."""


class RequestCachedCluster:
    """:class:`kubeskippy.ports.Cluster` over another Cluster, caching get/list per request."""

    def __init__(self, inner: Cluster) -> None:
        self.inner = inner
        self._entries: ContextVar[dict[tuple, Any] | None] = ContextVar(f"request_cache_{id(self)}", default=None)
        self._lock = threading.Lock()  # the reads of one request may run in several threads (fan-out)
        self.hits = 0
        """Reads served from memory since creation (for tests and profiling; not thread-exact)."""

    @contextmanager
    def scope(self) -> Iterator[None]:
        """Cache reads until the block ends. Nested scopes share the outer one's entries."""
        if self._entries.get() is not None:
            yield
            return
        token = self._entries.set({})
        try:
            yield
        finally:
            self._entries.reset(token)

    def _read(self, key: tuple, fetch: Any) -> Any:
        entries = self._entries.get()
        if entries is None:
            return fetch()
        with self._lock:
            value = entries.get(key, _ABSENT)
        if value is _ABSENT:
            try:
                value = fetch()
            except APINotFound as e:
                if key[0] == "get" and (key[1], key[2]) in BOOKKEEPING_KINDS:
                    with self._lock:
                        entries[key] = _Missing(str(e).removeprefix("HTTP 404: "), e.payload)
                raise
            with self._lock:
                entries[key] = value
        else:
            self.hits += 1
        if isinstance(value, _Missing):
            raise APINotFound(404, value.message, payload=value.payload)
        return copy_json(value)

    def _forget(self, api_version: str | None, kind: str | None, name: str | None) -> None:
        entries = self._entries.get()
        if not entries:
            return
        with self._lock:
            if (api_version, kind) not in BOOKKEEPING_KINDS:
                entries.clear()
                return
            for key in [k for k in entries if k[1] == api_version and k[2] == kind
                        and (name is None or k[0] == "list" or k[3] == name)]:
                del entries[key]

    def _write(self, api_version: str | None, kind: str | None, call: Any, name: str | None = None, *,
               dry_run: bool = False) -> Any:
        self._forget(api_version, kind, name)
        try:
            written = call()
        finally:
            self._forget(api_version, kind, name)
        if not dry_run:
            self._remember(api_version, kind, written)
        return written

    def _remember(self, api_version: str | None, kind: str | None, written: Any) -> None:
        """Keep a bookkeeping object as our write returned it (see the module docstring)."""
        entries = self._entries.get()
        if entries is None or (api_version, kind) not in BOOKKEEPING_KINDS or not isinstance(written, dict):
            return
        meta = written.get("metadata")
        if not isinstance(meta, dict) or not meta.get("name"):
            return
        with self._lock:
            entries[("get", api_version, kind, meta["name"], meta.get("namespace"))] = copy_json(written)

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict:
        return self._read(("get", api_version, kind, name, namespace),
                          lambda: self.inner.get(api_version, kind, name, namespace))

    def list(self, api_version: str, kind: str, namespace: str | None = None, label_selector: str | None = None,
             field_selector: str | None = None) -> list[dict]:
        return self._read(("list", api_version, kind, namespace, label_selector, field_selector),
                          lambda: self.inner.list(api_version, kind, namespace, label_selector, field_selector))

    def create(self, obj: dict, *, dry_run: bool = False) -> dict:
        return self._write(obj.get("apiVersion"), obj.get("kind"),
                           lambda: self.inner.create(obj, dry_run=dry_run), _name_of(obj), dry_run=dry_run)

    def replace(self, obj: dict, *, dry_run: bool = False, subresource: str | None = None) -> dict:
        return self._write(obj.get("apiVersion"), obj.get("kind"),
                           lambda: self.inner.replace(obj, dry_run=dry_run, subresource=subresource), _name_of(obj),
                           dry_run=dry_run)

    def patch(self, api_version: str, kind: str, name: str, namespace: str | None, patch: dict | list, *,
              patch_type: PatchType = "merge", subresource: str | None = None, dry_run: bool = False) -> dict:
        return self._write(api_version, kind, lambda: self.inner.patch(
            api_version, kind, name, namespace, patch, patch_type=patch_type, subresource=subresource,
            dry_run=dry_run), name or None, dry_run=dry_run)

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None, *,
               grace_period_seconds: int | None = None, propagation_policy: str | None = None,
               dry_run: bool = False) -> None:
        return self._write(api_version, kind, lambda: self.inner.delete(
            api_version, kind, name, namespace, grace_period_seconds=grace_period_seconds,
            propagation_policy=propagation_policy, dry_run=dry_run), name or None)

    def evict(self, name: str, namespace: str, *, grace_period_seconds: int | None = None,
              dry_run: bool = False) -> None:
        return self._write("v1", "Pod", lambda: self.inner.evict(
            name, namespace, grace_period_seconds=grace_period_seconds, dry_run=dry_run))

    def logs(self, name: str, namespace: str, *, container: str | None = None, tail_lines: int = 50) -> str:
        """Not cached: a log is read once per plan and changes by the second."""
        return self.inner.logs(name, namespace, container=container, tail_lines=tail_lines)


_ABSENT = object()


def _name_of(obj: dict) -> str | None:
    """The object's name, or None when the server will pick it (``generateName``)."""
    return (obj.get("metadata") or {}).get("name") or None


class _Missing:
    """A cached 404."""

    def __init__(self, message: str, payload: Any) -> None:
        self.message = message
        self.payload = payload



