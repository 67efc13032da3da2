"""The Cluster port over a real Kubernetes API server.

One generic code path serves every kind: the REST path comes from :func:`kubeskippy.kinds.api_path`
and the request is plain JSON over HTTP (no model classes: objects stay plain dicts and we parse
JSON once). Two transports carry it, with the same behaviour and the same error mapping:

* :class:`~kubeskippy.adapters.kubernetes_http.ApiServerConnection` (standard library only): the
  functions' path, in a pod (the service account) or at an explicit URL (:meth:`KubernetesCluster.for_url`).
  It keeps the ``kubernetes`` package (0.2–0.4 s to import) out of every cold start.
* the official ``kubernetes`` client (:mod:`~kubeskippy.adapters.kubernetes_client`), for
  kubeconfigs and for callers that hand in a ``kubernetes.client.ApiClient``.

Errors: a non-2xx answer becomes the most specific :mod:`kubeskippy.errors` API error
(:func:`~kubeskippy.errors.api_error_for_status`) carrying the server's Status as payload and a
``Retry-After`` delay when the server sent one; timeouts and connection failures become
:class:`~kubeskippy.errors.TemporaryError`. A client exception is chained (``raise ... from e``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from ..errors import FieldError, InvalidInput
from ..kinds import KindInfo, api_path, kind_info
from ..ports import PatchType
from .kubernetes_http import (
    ApiServerConnection,
    ApiServerSettings,
    Timeout,
    check_answer,
    decode_json,
    in_cluster_settings,
)

if TYPE_CHECKING:
    from .kubernetes_async import LoopReads

__all__ = ["KubernetesCluster", "PATCH_CONTENT_TYPES", "list_query", "list_items"]

log = logging.getLogger(__name__)

PATCH_CONTENT_TYPES: dict[str, str] = {
    "strategic": "application/strategic-merge-patch+json",
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
}


def list_query(label_selector: str | None, field_selector: str | None) -> list[tuple[str, str]]:
    return [(k, v) for k, v in (("labelSelector", label_selector), ("fieldSelector", field_selector)) if v]


def list_items(answer: Any, api_version: str, kind: str) -> list[dict]:
    """A list answer's items, each with its apiVersion and kind (list items of built-in kinds
    come without them)."""
    items = (answer or {}).get("items") or []
    for item in items:
        item.setdefault("apiVersion", api_version)
        item.setdefault("kind", kind)
    return items


class KubernetesCluster:
    """:class:`kubeskippy.ports.Cluster` over an API server connection.

    :param api_client: an :class:`ApiServerConnection` (see :meth:`for_url`,
        :meth:`from_environment`) or a configured ``kubernetes.client.ApiClient``.
    :param request_timeout: seconds (connect and each read) or ``(connect, read)``; None waits forever.
    """

    def __init__(self, api_client: Any, *, request_timeout: Timeout = (5.0, 30.0)) -> None:
        self.api_client = api_client
        self.request_timeout = request_timeout
        if isinstance(api_client, ApiServerConnection):
            self._transport: Any = api_client
        else:
            from .kubernetes_client import OfficialClientTransport

            self._transport = OfficialClientTransport(api_client)

    @classmethod
    def for_url(cls, url: str, *, token: str | None = None, ca_file: str | None = None, verify: bool = True,
                request_timeout: Timeout = (5.0, 30.0)) -> "KubernetesCluster":
        """An API server at ``url`` (``http(s)://host:port``), with an optional bearer token."""
        settings = ApiServerSettings(url, token=token, ca_file=ca_file, verify=verify)
        return cls(ApiServerConnection(settings), request_timeout=request_timeout)

    @classmethod
    def from_environment(cls, *, kubeconfig: str | None = None, context: str | None = None,
                         request_timeout: Timeout = (5.0, 30.0)) -> "KubernetesCluster":
        """In-cluster service-account config when running in a pod, else the kubeconfig
        (``kubeconfig`` path, ``$KUBECONFIG`` or ``~/.kube/config``) and its ``context``."""
        if kubeconfig is None and context is None:
            settings = in_cluster_settings()
            if settings is not None:
                log.info("using the in-cluster service account to reach %s", settings.url)
                return cls(ApiServerConnection(settings), request_timeout=request_timeout)
        from .kubernetes_client import client_from_kubeconfig

        api_client = client_from_kubeconfig(kubeconfig, context)
        log.info("using kubeconfig to reach %s", api_client.configuration.host)
        return cls(api_client, request_timeout=request_timeout)

    def loop_reads(self) -> "LoopReads | None":
        """``get`` and ``list`` as coroutines on the caller's event loop, or None when this
        cluster talks through the official client (synchronous only). See
        :mod:`kubeskippy.adapters.kubernetes_async` for why."""
        if not isinstance(self._transport, ApiServerConnection):
            return None
        from .kubernetes_async import LoopReads

        return LoopReads(self, self._transport)

    def request_path(self, api_version: str, kind: str, namespace: str | None = None, name: str | None = None) -> str:
        """The REST path of an object (``name``) or of a collection; InvalidInput for an unknown
        kind or a namespaced object without a namespace."""
        return self._path(api_version, kind, namespace, name)

    # --- the one request path ------------------------------------------------------------

    def _request(self, method: str, path: str, *, query: Sequence[tuple[str, Any]] = (), body: Any = None,
                 content_type: str | None = None, accept: str = "application/json") -> tuple[bytes, str]:
        answer = self._transport.send(method, path, query=list(query), body=body, content_type=content_type,
                                      accept=accept, timeout=self.request_timeout)
        check_answer(answer, method, path)
        return answer.data, answer.content_type

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        data, _ = self._request(method, path, **kwargs)
        return decode_json(data, method, path)

    @staticmethod
    def _info(api_version: str, kind: str) -> KindInfo:
        try:
            return kind_info(api_version, kind)
        except KeyError as err:
            raise InvalidInput([FieldError("kind", str(err.args[0]))]) from err

    def _path(self, api_version: str, kind: str, namespace: str | None = None, name: str | None = None,
              subresource: str | None = None) -> str:
        info = self._info(api_version, kind)
        if info.namespaced and name is not None and not namespace:
            raise InvalidInput([FieldError("metadata.namespace", f"required for the namespaced kind {kind}")])
        return api_path(api_version, kind, namespace if info.namespaced else None, name, subresource)

    @staticmethod
    def _dry_run(dry_run: bool) -> list[tuple[str, str]]:
        return [("dryRun", "All")] if dry_run else []

    @staticmethod
    def _identity(obj: Any) -> tuple[str, str, dict[str, Any]]:
        if not isinstance(obj, dict):
            raise InvalidInput([FieldError("", "a Kubernetes object must be a JSON object (dict)")])
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            raise InvalidInput([FieldError("metadata", "required")])
        return str(obj.get("apiVersion", "")), str(obj.get("kind", "")), meta

    # --- the Cluster port ----------------------------------------------------------------

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict:
        return self._json("GET", self._path(api_version, kind, namespace, name))

    def list(self, api_version: str, kind: str, namespace: str | None = None, label_selector: str | None = None,
             field_selector: str | None = None) -> list[dict]:
        answer = self._json("GET", self._path(api_version, kind, namespace),
                            query=list_query(label_selector, field_selector))
        return list_items(answer, api_version, kind)

    def create(self, obj: dict, *, dry_run: bool = False) -> dict:
        api_version, kind, meta = self._identity(obj)
        if self._info(api_version, kind).namespaced and not meta.get("namespace"):
            raise InvalidInput([FieldError("metadata.namespace", f"required for the namespaced kind {kind}")])
        path = self._path(api_version, kind, meta.get("namespace"))
        return self._json("POST", path, query=self._dry_run(dry_run), body=obj, content_type="application/json")

    def replace(self, obj: dict, *, dry_run: bool = False, subresource: str | None = None) -> dict:
        """PUT. With ``subresource="scale"`` pass the parent (Deployment, ...) carrying the wanted
        ``spec.replicas`` and the resourceVersion it was read at."""
        api_version, kind, meta = self._identity(obj)
        if not meta.get("name"):
            raise InvalidInput([FieldError("metadata.name", "required for replace")])
        path = self._path(api_version, kind, meta.get("namespace"), meta["name"], subresource)
        body = _scale_body_for(obj) if subresource == "scale" else obj
        return self._json("PUT", path, query=self._dry_run(dry_run), body=body, content_type="application/json")

    def patch(self, api_version: str, kind: str, name: str, namespace: str | None, patch: dict | list, *,
              patch_type: PatchType = "merge", subresource: str | None = None, dry_run: bool = False) -> dict:
        content_type = PATCH_CONTENT_TYPES.get(patch_type)
        if content_type is None:
            raise InvalidInput([FieldError("patch_type", f"must be one of {', '.join(PATCH_CONTENT_TYPES)}")])
        if patch_type == "json" and not isinstance(patch, list):
            raise InvalidInput([FieldError("patch", "a JSON patch is a list of operations")])
        if patch_type != "json" and not isinstance(patch, dict):
            raise InvalidInput([FieldError("patch", f"a {patch_type} patch is a JSON object")])
        path = self._path(api_version, kind, namespace, name, subresource)
        return self._json("PATCH", path, query=self._dry_run(dry_run), body=patch, content_type=content_type)

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None, *,
               grace_period_seconds: int | None = None, propagation_policy: str | None = None,
               dry_run: bool = False) -> None:
        options: dict[str, Any] = {"apiVersion": "v1", "kind": "DeleteOptions"}
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        if propagation_policy is not None:
            options["propagationPolicy"] = propagation_policy
        if dry_run:
            options["dryRun"] = ["All"]
        self._request("DELETE", self._path(api_version, kind, namespace, name), body=options,
                      content_type="application/json")

    def evict(self, name: str, namespace: str, *, grace_period_seconds: int | None = None,
              dry_run: bool = False) -> None:
        options: dict[str, Any] = {}
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        if dry_run:
            options["dryRun"] = ["All"]
        eviction: dict[str, Any] = {"apiVersion": "policy/v1", "kind": "Eviction",
                                    "metadata": {"name": name, "namespace": namespace}}
        if options:
            eviction["deleteOptions"] = options
        self._request("POST", self._path("v1", "Pod", namespace, name, "eviction"), body=eviction,
                      content_type="application/json")

    def logs(self, name: str, namespace: str, *, container: str | None = None, tail_lines: int = 50) -> str:
        query: list[tuple[str, Any]] = [("tailLines", tail_lines)]
        if container:
            query.append(("container", container))
        data, _ = self._request("GET", self._path("v1", "Pod", namespace, name, "log"), query=query, accept="*/*")
        return data.decode("utf-8", "replace")


def _scale_body_for(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The autoscaling/v1 Scale to PUT for a parent object carrying the wanted replicas (the same
    convention as :class:`kubeskippy.devcluster.MemoryCluster`)."""
    if obj.get("kind") == "Scale":
        raise InvalidInput([FieldError("kind", "replace(subresource='scale') needs the parent object (the "
                                               "Deployment, ReplicaSet or StatefulSet) carrying spec.replicas; use "
                                               "patch(..., subresource='scale') to send a Scale")])
    meta = obj.get("metadata") or {}
    scale_meta = {k: meta[k] for k in ("name", "namespace", "resourceVersion") if meta.get(k)}
    return {"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": scale_meta,
            "spec": {"replicas": (obj.get("spec") or {}).get("replicas")}}
