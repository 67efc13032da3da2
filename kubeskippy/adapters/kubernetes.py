"""The Cluster port over a real Kubernetes API server, through the official ``kubernetes`` client.

One generic code path serves every kind: the REST path comes from :func:`kubeskippy.kinds.api_path`
and the request goes through the client's raw ``param_serialize`` / ``call_api`` (no model
classes: objects stay plain dicts and we parse JSON once). Authentication, TLS and proxies are the
client's configuration, so in-cluster service-account tokens and kubeconfigs work unchanged.

Errors: a non-2xx answer becomes the most specific :mod:`kubeskippy.errors` API error
(:func:`~kubeskippy.errors.api_error_for_status`) carrying the server's Status as payload and a
``Retry-After`` delay when the server sent one; timeouts and connection failures become
:class:`~kubeskippy.errors.TemporaryError`. The client's exception is chained (``raise ... from e``).

The client needs openapi-generator 7 style ``ApiClient.param_serialize`` (kubernetes >= 35).
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any, Mapping, Sequence

import urllib3
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException

from ..errors import APIError, FieldError, InvalidInput, TemporaryError, api_error_for_status
from ..kinds import KindInfo, api_path, kind_info
from ..ports import PatchType

__all__ = ["KubernetesCluster", "PATCH_CONTENT_TYPES"]

log = logging.getLogger(__name__)

PATCH_CONTENT_TYPES: dict[str, str] = {
    "strategic": "application/strategic-merge-patch+json",
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
}

Timeout = float | tuple[float, float] | None


def _retry_after(headers: Mapping[str, str] | None, payload: Any) -> float | None:
    value = (headers or {}).get("Retry-After")
    if value is not None:
        try:
            return float(value)
        except ValueError:
            pass
    if isinstance(payload, dict):
        seconds = (payload.get("details") or {}).get("retryAfterSeconds")
        if isinstance(seconds, (int, float)):
            return float(seconds)
    return None


def _error_from_exception(err: ApiException, method: str, path: str) -> TemporaryError:
    """The kubeskippy error for a client ApiException (status 0: no HTTP answer at all)."""
    if not err.status:
        return TemporaryError(f"{method} {path}: no answer from the API server: {err.reason}")
    payload: Any = None
    message = err.reason or ""
    if err.body:
        try:
            payload = json.loads(err.body)
        except ValueError:
            payload = err.body
        if isinstance(payload, dict) and payload.get("message"):
            message = payload["message"]
    return api_error_for_status(int(err.status), f"{method} {path}: {message}", payload=payload,
                                delay=_retry_after(err.headers, payload))


class KubernetesCluster:
    """:class:`kubeskippy.ports.Cluster` over ``kubernetes.client.ApiClient``.

    :param api_client: a configured client (see :meth:`from_environment`).
    :param request_timeout: seconds (total) or ``(connect, read)``; None waits forever.
    """

    def __init__(self, api_client: k8s_client.ApiClient, *, request_timeout: Timeout = (5.0, 30.0)) -> None:
        self.api_client = api_client
        self.request_timeout = request_timeout

    @classmethod
    def from_environment(cls, *, kubeconfig: str | None = None, context: str | None = None,
                         request_timeout: Timeout = (5.0, 30.0)) -> "KubernetesCluster":
        """In-cluster service-account config when running in a pod, else the kubeconfig
        (``kubeconfig`` path, ``$KUBECONFIG`` or ``~/.kube/config``) and its ``context``."""
        configuration = k8s_client.Configuration()
        try:
            if kubeconfig is not None or context is not None:
                raise k8s_config.ConfigException("an explicit kubeconfig or context was asked for")
            k8s_config.load_incluster_config(client_configuration=configuration)
            log.info("using the in-cluster service account to reach %s", configuration.host)
        except k8s_config.ConfigException:
            # the client reads $KUBECONFIG once at import; read it now so the current value counts
            k8s_config.load_kube_config(config_file=kubeconfig or os.environ.get("KUBECONFIG"), context=context,
                                        client_configuration=configuration)
            log.info("using kubeconfig to reach %s", configuration.host)
        return cls(k8s_client.ApiClient(configuration), request_timeout=request_timeout)

    # --- the one request path ------------------------------------------------------------

    def _request(self, method: str, path: str, *, query: Sequence[tuple[str, Any]] = (), body: Any = None,
                 content_type: str | None = None, accept: str = "application/json") -> tuple[bytes, str]:
        headers = {"Accept": accept}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            serialized = self.api_client.param_serialize(
                method=method, resource_path=path, query_params=list(query), header_params=headers,
                body=body, auth_settings=["BearerToken"])
            response = self.api_client.call_api(*serialized, _request_timeout=self.request_timeout)
            data = response.read()
            if not 200 <= response.status <= 299:
                ApiException.from_response(http_resp=response, body=data.decode("utf-8", "replace"), data=None)
        except ApiException as err:
            raise _error_from_exception(err, method, path) from err
        except (urllib3.exceptions.HTTPError, OSError) as err:
            raise TemporaryError(f"{method} {path}: the API server did not answer ({type(err).__name__}: {err})") \
                from err
        return data, response.headers.get("Content-Type", "")

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        data, _ = self._request(method, path, **kwargs)
        try:
            return json.loads(data) if data else None
        except ValueError as err:
            raise APIError(502, f"{method} {path}: the API server answered with invalid JSON: {err}") from err

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
        query = [(k, v) for k, v in (("labelSelector", label_selector), ("fieldSelector", field_selector)) if v]
        answer = self._json("GET", self._path(api_version, kind, namespace), query=query)
        items = answer.get("items") or []
        for item in items:  # list items of built-in kinds come without apiVersion/kind
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
        return items

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
