"""The Cluster port served straight from the in-process engine: no sockets, no threads, exact
API-server semantics and errors. For fast unit tests (remediation, safety) and the simulator.

Errors are the :mod:`kubeskippy.errors` API errors the production adapter raises for the same
answers (APINotFound, APIConflict, APITooManyRequests, APIError with the Status as payload).
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterable, Mapping

from ..errors import FieldError, InvalidInput, TemporaryError
from ..kinds import api_path
from ..ports import PatchType
from .faults import Faults
from .status import status_error
from .store import ObjectStore

__all__ = ["MemoryCluster"]


class MemoryCluster:
    """:class:`kubeskippy.ports.Cluster` over an :class:`ObjectStore`.

    :param store: the engine (a fresh one by default); share it with a :class:`Controller` or a
        :class:`DevClusterServer` to see the same objects through several doors.
    :param sleep: how an injected ``delay`` fault waits (pass ``ManualClock.advance`` in unit tests).
    """

    def __init__(self, store: ObjectStore | None = None, *, sleep: Callable[[float], Any] = time.sleep) -> None:
        self.store = store or ObjectStore()
        self.faults = Faults()
        self._sleep = sleep

    def seed(self, objects: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Load fixtures as they are (status kept); returns the stored objects."""
        return self.store.load(objects)

    def _inject(self, verb: str, path: str) -> None:
        fault = self.faults.take(verb, path)
        if fault is None:
            return
        if fault.delay:
            self._sleep(fault.delay)
        if fault.drop:
            raise TemporaryError(f"connection to the API server dropped during {verb} {path} (injected)")
        if fault.status is not None:
            details = {"retryAfterSeconds": fault.retry_after} if fault.retry_after is not None else None
            err = status_error(fault.status, fault.message or f"injected fault on {verb} {path}",
                               reason=fault.reason, details=details)
            if fault.retry_after is not None:
                err.delay = float(fault.retry_after)
            raise err

    @staticmethod
    def _path(api_version: str, kind: str, namespace: str | None, name: str | None = None,
              subresource: str | None = None) -> str:
        try:
            return api_path(api_version, kind, namespace, name, subresource)
        except KeyError:
            return f"/unknown/{api_version}/{kind}"

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict:
        self._inject("get", self._path(api_version, kind, namespace, name))
        return self.store.get(api_version, kind, name, namespace)

    def list(self, api_version: str, kind: str, namespace: str | None = None, label_selector: str | None = None,
             field_selector: str | None = None) -> list[dict]:
        self._inject("list", self._path(api_version, kind, namespace))
        return self.store.list(api_version, kind, namespace, label_selector, field_selector)

    def create(self, obj: dict, *, dry_run: bool = False) -> dict:
        """POST. Like the production adapter, a namespaced object must name its namespace."""
        meta = obj.get("metadata") or {}
        if self.store.kind(obj.get("apiVersion"), obj.get("kind")).namespaced and not meta.get("namespace"):
            raise InvalidInput([FieldError("metadata.namespace", f"required for the namespaced kind {obj.get('kind')}")])
        self._inject("create", self._path(obj.get("apiVersion", ""), obj.get("kind", ""), meta.get("namespace")))
        return self.store.create(obj, dry_run=dry_run)

    def replace(self, obj: dict, *, dry_run: bool = False, subresource: str | None = None) -> dict:
        """PUT. With ``subresource="scale"``, pass the parent (Deployment, ...) carrying the wanted
        ``spec.replicas`` and the resourceVersion it was read at; a Scale alone cannot name its parent."""
        meta = obj.get("metadata") or {}
        api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
        self._inject("update", self._path(api_version, kind, meta.get("namespace"), meta.get("name"), subresource))
        if subresource == "scale":
            scale = _scale_body_for(obj)
            return self.store.replace(scale, subresource="scale", api_version=api_version, kind=kind,
                                      namespace=meta.get("namespace"), dry_run=dry_run)
        return self.store.replace(obj, subresource=subresource, dry_run=dry_run)

    def patch(self, api_version: str, kind: str, name: str, namespace: str | None, patch: dict | list, *,
              patch_type: PatchType = "merge", subresource: str | None = None, dry_run: bool = False) -> dict:
        self._inject("patch", self._path(api_version, kind, namespace, name, subresource))
        return self.store.patch(api_version, kind, name, namespace, patch, patch_type=patch_type,
                                subresource=subresource, dry_run=dry_run)

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None, *,
               grace_period_seconds: int | None = None, propagation_policy: str | None = None,
               dry_run: bool = False) -> None:
        self._inject("delete", self._path(api_version, kind, namespace, name))
        self.store.delete(api_version, kind, name, namespace, grace_period_seconds=grace_period_seconds,
                          propagation_policy=propagation_policy, dry_run=dry_run)

    def evict(self, name: str, namespace: str, *, grace_period_seconds: int | None = None,
              dry_run: bool = False) -> None:
        self._inject("create", self._path("v1", "Pod", namespace, name, "eviction"))
        self.store.evict(name, namespace, grace_period_seconds=grace_period_seconds, dry_run=dry_run)

    def logs(self, name: str, namespace: str, *, container: str | None = None, tail_lines: int = 50) -> str:
        self._inject("get", self._path("v1", "Pod", namespace, name, "log"))
        return self.store.read_log(name, namespace, container=container, tail_lines=tail_lines)


def _scale_body_for(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The Scale to PUT for a parent object carrying the wanted replicas."""
    if obj.get("kind") == "Scale":
        raise InvalidInput([FieldError("kind", "replace(subresource='scale') needs the parent object (the "
                                       "Deployment, ReplicaSet or StatefulSet) carrying spec.replicas; use "
                                       "patch(..., subresource='scale') to send a Scale")])
    meta = obj.get("metadata") or {}
    replicas = (obj.get("spec") or {}).get("replicas")
    scale_meta = {k: meta[k] for k in ("name", "namespace", "resourceVersion") if meta.get(k)}
    return {"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": scale_meta, "spec": {"replicas": replicas}}
