"""The VersionedStore port on ConfigMaps: compare-and-swap through ``metadata.resourceVersion``.

Functions scale from zero to many replicas, so shared safety state lives in the API server, and
every change is a conditional write: ``replace`` sends the resourceVersion the caller read, and
the API server refuses it with 409 Conflict if anyone wrote in between. The caller re-reads,
re-decides and retries. Nothing is cached here; each call is one request.

The store owns its ConfigMaps outright: a replace rewrites data and labels, so annotations or
labels that other tools add are not preserved.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from ..errors import APINotFound, FieldError, InvalidInput
from ..ports import Cluster, Versioned

__all__ = ["ConfigMapStore", "MANAGED_BY_LABEL", "MANAGED_BY"]

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "kubeskippy"

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DATA_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


class ConfigMapStore:
    """:class:`kubeskippy.ports.VersionedStore` on ConfigMaps named ``prefix + name`` in one namespace.

    :param cluster: any Cluster port (the production adapter, or MemoryCluster in tests).
    """

    def __init__(self, cluster: Cluster, namespace: str, prefix: str = "kubeskippy-safety-") -> None:
        if not namespace or not _SUBDOMAIN.match(namespace):
            raise InvalidInput([FieldError("namespace", f"{namespace!r} is not a valid namespace name")])
        self.cluster = cluster
        self.namespace = namespace
        self.prefix = prefix

    def _configmap_name(self, name: str) -> str:
        full = self.prefix + name
        if not name or len(full) > 253 or not _SUBDOMAIN.match(full):
            raise InvalidInput([FieldError("name", f"{full!r} is not a valid ConfigMap name (lowercase letters, "
                                                   "digits, '-' and '.', at most 253 characters)")])
        return full

    @staticmethod
    def _checked_data(data: Mapping[str, str]) -> dict[str, str]:
        errors = [FieldError(f"data[{key!r}]", "keys may hold letters, digits, '-', '_' and '.' only")
                  for key in data if not isinstance(key, str) or not _DATA_KEY.match(key)]
        errors += [FieldError(f"data[{key!r}]", "values must be strings")
                   for key, value in data.items() if not isinstance(value, str)]
        if errors:
            raise InvalidInput(errors)
        return dict(data)

    def _body(self, full_name: str, data: dict[str, str], version: str | None) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": full_name, "namespace": self.namespace,
                                "labels": {MANAGED_BY_LABEL: MANAGED_BY}}
        if version is not None:
            meta["resourceVersion"] = version
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}

    def _versioned(self, name: str, obj: Mapping[str, Any]) -> Versioned:
        return Versioned(name=name, data=dict(obj.get("data") or {}),
                         version=str((obj.get("metadata") or {}).get("resourceVersion", "")))

    def read(self, name: str) -> Versioned | None:
        """The record and the version it was read at; None when it does not exist."""
        try:
            obj = self.cluster.get("v1", "ConfigMap", self._configmap_name(name), self.namespace)
        except APINotFound:
            return None
        return self._versioned(name, obj)

    def create(self, name: str, data: Mapping[str, str]) -> Versioned:
        """Create the record; APIConflict (409 AlreadyExists) when another writer got there first."""
        body = self._body(self._configmap_name(name), self._checked_data(data), None)
        return self._versioned(name, self.cluster.create(body))

    def replace(self, name: str, data: Mapping[str, str], version: str) -> Versioned:
        """Write ``data`` if the record is still at ``version``; APIConflict when it moved on,
        APINotFound when it was deleted."""
        if not version:
            raise InvalidInput([FieldError("version", "required: replace is a compare-and-swap on the version read")])
        body = self._body(self._configmap_name(name), self._checked_data(data), version)
        return self._versioned(name, self.cluster.replace(body))
