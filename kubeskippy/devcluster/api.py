"""The Kubernetes REST API over the engine, one request at a time, without sockets.

:class:`DevClusterAPI` turns (method, path, headers, body) into a :class:`Response`; the HTTP
server in :mod:`kubeskippy.devcluster.server` only moves bytes. Keeping the protocol here makes
every rule testable in-process and keeps the socket layer small.

Wire conventions copied from the API server: errors are ``v1 Status`` documents; lists carry
``metadata.resourceVersion`` and items without apiVersion/kind for built-in kinds; a watch is a
chunked stream of ``{"type", "object"}`` lines, and a watch from a too-old resourceVersion answers
200 with one ``ERROR`` event holding a 410 Status (what client libraries expect); creates answer
201; deleting a pod returns the pod, deleting anything else a ``Success`` Status.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping
from urllib.parse import parse_qs, urlsplit

from ..errors import APIError
from ..kinds import KindInfo
from . import status as st
from .authz import Authorizer
from .faults import Faults
from .routing import Route, parse_path, verb_for
from .store import STATUS_SUBRESOURCE_KINDS, ObjectStore, WatchEvent

__all__ = ["DevClusterAPI", "Response", "RequestRecord", "SERVER_VERSION"]

log = logging.getLogger(__name__)

SERVER_VERSION = {"major": "1", "minor": "31", "gitVersion": "v1.31.0+kubeskippy-devcluster",
                  "platform": "linux/amd64", "goVersion": "n/a", "compiler": "n/a", "buildDate": "",
                  "gitCommit": "", "gitTreeState": "clean"}

_PATCH_TYPES = {
    "application/strategic-merge-patch+json": "strategic",
    "application/merge-patch+json": "merge",
    "application/json-patch+json": "json",
}
_SCALABLE_PLURALS = {"deployments", "replicasets", "statefulsets"}


@dataclass
class Response:
    """What to send back. ``stream`` (a watch) yields newline-terminated JSON lines; ``drop`` means
    close the connection without answering (an injected fault)."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    stream: Iterator[bytes] | None = None
    drop: bool = False


@dataclass(frozen=True)
class RequestRecord:
    """One handled request, for assertions (how many retries reached the server, and as whom)."""

    method: str
    path: str
    verb: str
    user: str | None
    status: int


def _json(status: int, doc: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status, json.dumps(doc, separators=(",", ":")).encode(), headers=headers or {})


def _error(err: APIError) -> Response:
    doc = err.payload if isinstance(err.payload, dict) else st.status_document(err.status, str(err))
    headers = {}
    retry = (doc.get("details") or {}).get("retryAfterSeconds")
    if retry is not None:
        headers["Retry-After"] = str(retry)
    return _json(err.status, doc, headers)


def _flag(query: Mapping[str, list[str]], name: str) -> bool:
    return (query.get(name) or ["false"])[-1].lower() in ("true", "1")


def _int(query: Mapping[str, list[str]], name: str) -> int | None:
    values = query.get(name)
    if not values or values[-1] == "":
        return None
    try:
        return int(values[-1])
    except ValueError:
        raise st.bad_request(f"{name}: invalid integer {values[-1]!r}") from None


def _one(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _dry_run(query: Mapping[str, list[str]], body_value: Any = None) -> bool:
    values = list(query.get("dryRun") or [])
    if isinstance(body_value, list):
        values += body_value
    for value in values:
        if value != "All":
            raise st.bad_request(f'Invalid dry run value "{value}": supported values: "All"')
    return bool(values)


class DevClusterAPI:
    """The request handler. Thread-safe: the engine locks, and per-request state is local.

    :param max_watch_seconds: upper bound on a watch's ``timeoutSeconds`` (and its default).
    :param sleep: how an injected delay waits (``time.sleep`` on a server).
    """

    def __init__(self, store: ObjectStore, faults: Faults | None = None, *, max_watch_seconds: float = 1800.0,
                 sleep: Callable[[float], Any] = time.sleep, request_log_size: int = 10_000) -> None:
        self.store = store
        self.faults = faults or Faults()
        self.authorizer: Authorizer | None = None
        self.max_watch_seconds = max_watch_seconds
        self._sleep = sleep
        self._log_lock = threading.Lock()
        self._requests: deque[RequestRecord] = deque(maxlen=request_log_size)
        self.stopping = threading.Event()

    @property
    def requests(self) -> list[RequestRecord]:
        with self._log_lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._log_lock:
            self._requests.clear()

    # --- entry point ---------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Response:
        split = urlsplit(target)
        path, query = split.path, parse_qs(split.query, keep_blank_values=True)
        route = parse_path(path)
        verb = verb_for(method, route, watch=_flag(query, "watch")) if route else method.lower()
        user: str | None = None
        try:
            if self.authorizer is not None:
                user = self.authorizer.user_for(headers.get("Authorization"))
                if user is None:
                    raise st.unauthorized()
                if route is not None and route.plural is not None and not self.authorizer.allows(
                        user, verb, route.group, route.plural, route.subresource, route.namespace, route.name):
                    raise st.forbidden(user, verb, route.plural, route.group, route.namespace, route.name,
                                       route.subresource)
            fault = self.faults.take(verb, path)
            if fault is not None:
                if fault.delay:
                    self._sleep(fault.delay)
                if fault.drop:
                    self._record(method, path, verb, user, 0)
                    return Response(0, drop=True)
                if fault.status is not None:
                    details = {"retryAfterSeconds": fault.retry_after} if fault.retry_after is not None else None
                    raise st.status_error(fault.status, fault.message or f"injected fault on {verb} {path}",
                                          reason=fault.reason, details=details)
            response = self._dispatch(method.upper(), path, route, query, headers, body)
        except APIError as err:
            response = _error(err)
        except Exception as err:  # a bug in the double must still answer like an API server
            log.exception("devcluster failed on %s %s; answering 500", method, target)
            response = _error(st.internal_error(f"{type(err).__name__}: {err}"))
        self._record(method, path, verb, user, response.status)
        return response

    def _record(self, method: str, path: str, verb: str, user: str | None, status: int) -> None:
        with self._log_lock:
            self._requests.append(RequestRecord(method.upper(), path, verb, user, status))

    # --- dispatch ------------------------------------------------------------------------

    def _dispatch(self, method: str, path: str, route: Route | None, query: Mapping[str, list[str]],
                  headers: Mapping[str, str], body: bytes) -> Response:
        if route is None:
            return self._non_resource(method, path)
        if route.plural is None:
            return self._discovery(route.api_version)
        info = self.store.kind_for_plural(route.api_version, route.plural)
        if (route.name is not None and info.namespaced and route.namespace is None) or \
                (not info.namespaced and route.namespace is not None):
            raise st.status_error(404, "the server could not find the requested resource")
        if method == "GET":
            return self._get(info, route, query)
        document = self._decode(body, headers) if method in ("POST", "PUT", "PATCH") or body else None
        if method == "POST":
            return self._post(info, route, query, document)
        if method == "PUT":
            return self._put(info, route, query, document)
        if method == "PATCH":
            return self._patch(info, route, query, headers, document)
        if method == "DELETE":
            return self._delete(info, route, query, document)
        raise st.method_not_allowed("the server does not allow this method on the requested resource")

    @staticmethod
    def _decode(body: bytes, headers: Mapping[str, str]) -> Any:
        if not body:
            return None
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError) as err:
            raise st.bad_request(f"the body of the request is not valid JSON: {err}") from None

    def _non_resource(self, method: str, path: str) -> Response:
        if method != "GET":
            raise st.method_not_allowed("the server does not allow this method on the requested resource")
        path = path.rstrip("/") or "/"
        if path == "/version":
            return _json(200, SERVER_VERSION)
        if path in ("/healthz", "/readyz", "/livez"):
            return Response(200, b"ok", content_type="text/plain")
        if path == "/api":
            return _json(200, {"kind": "APIVersions", "versions": ["v1"],
                               "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}]})
        if path == "/apis":
            groups: dict[str, list[str]] = {}
            for info in self.store.kinds:
                if info.group:
                    versions = groups.setdefault(info.group, [])
                    version = info.api_version.partition("/")[2]
                    if version not in versions:
                        versions.append(version)
            return _json(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in vs],
                 "preferredVersion": {"groupVersion": f"{g}/{vs[0]}", "version": vs[0]}}
                for g, vs in sorted(groups.items())]})
        raise st.status_error(404, "the server could not find the requested resource")

    def _discovery(self, api_version: str) -> Response:
        kinds = [k for k in self.store.kinds if k.api_version == api_version]
        if not kinds:
            raise st.status_error(404, "the server could not find the requested resource")
        verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
        resources = []
        for k in kinds:
            resources.append({"name": k.plural, "singularName": k.kind.lower(), "namespaced": k.namespaced,
                              "kind": k.kind, "verbs": verbs})
            if k.kind in STATUS_SUBRESOURCE_KINDS:
                resources.append({"name": f"{k.plural}/status", "singularName": "", "namespaced": k.namespaced,
                                  "kind": k.kind, "verbs": ["get", "patch", "update"]})
            if k.plural in _SCALABLE_PLURALS and k.group == "apps":
                resources.append({"name": f"{k.plural}/scale", "singularName": "", "namespaced": True,
                                  "group": "autoscaling", "version": "v1", "kind": "Scale",
                                  "verbs": ["get", "patch", "update"]})
            if k.kind == "Pod" and k.api_version == "v1":
                resources += [
                    {"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod", "verbs": ["get"]},
                    {"name": "pods/eviction", "singularName": "", "namespaced": True, "group": "policy",
                     "version": "v1", "kind": "Eviction", "verbs": ["create"]},
                    {"name": "pods/binding", "singularName": "", "namespaced": True, "kind": "Binding",
                     "verbs": ["create"]},
                ]
        return _json(200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": api_version,
                           "resources": resources})

    # --- verbs ---------------------------------------------------------------------------

    def _list_item(self, info: KindInfo, obj: dict[str, Any]) -> dict[str, Any]:
        if not self.store.is_custom(info):
            obj.pop("apiVersion", None)
            obj.pop("kind", None)
        return obj

    def _get(self, info: KindInfo, route: Route, query: Mapping[str, list[str]]) -> Response:
        if route.name is None:
            if _flag(query, "watch"):
                return self._watch(info, route, query)
            items, revision = self.store.list_encoded(info.api_version, info.kind, route.namespace,
                                                      _one(query, "labelSelector"), _one(query, "fieldSelector"),
                                                      without_identity=not self.store.is_custom(info))
            # The items arrive encoded (once, from the stored objects); the envelope goes around them.
            head = json.dumps({"apiVersion": info.api_version, "kind": f"{info.kind}List",
                               "metadata": {"resourceVersion": revision}}, separators=(",", ":")).encode()
            return Response(200, head[:-1] + b',"items":[' + b",".join(items) + b"]}")
        if route.subresource == "log":
            if info.kind != "Pod":
                raise st.status_error(404, "the server could not find the requested resource")
            text = self.store.read_log(route.name, route.namespace or "", container=_one(query, "container"),
                                       tail_lines=_int(query, "tailLines"), previous=_flag(query, "previous"))
            limit = _int(query, "limitBytes")
            data = text.encode()
            return Response(200, data[:limit] if limit is not None else data, content_type="text/plain")
        if route.subresource not in (None, "status", "scale"):
            raise st.status_error(404, "the server could not find the requested resource")
        return Response(200, self.store.get_encoded(info.api_version, info.kind, route.name, route.namespace,
                                                    subresource=route.subresource))

    def _with_identity(self, info: KindInfo, document: Any) -> dict[str, Any]:
        """Bodies may omit apiVersion/kind; the URL supplies them, as on the API server."""
        if not isinstance(document, dict):
            raise st.bad_request("the request body must be a JSON object")
        doc = dict(document)
        doc.setdefault("apiVersion", info.api_version)
        doc.setdefault("kind", info.kind)
        if doc["apiVersion"] != info.api_version or doc["kind"] != info.kind:
            raise st.bad_request(f"the API version in the data ({doc['apiVersion']}) does not match the expected "
                                 f"API version ({info.api_version}) or the kind ({doc['kind']}) is not {info.kind}")
        return doc

    def _post(self, info: KindInfo, route: Route, query: Mapping[str, list[str]], document: Any) -> Response:
        if route.name is None:
            created = self.store.create(self._with_identity(info, document), namespace=route.namespace,
                                        dry_run=_dry_run(query))
            return _json(201, created)
        if info.kind == "Pod" and route.subresource == "eviction":
            return self._evict(route, query, document)
        if info.kind == "Pod" and route.subresource == "binding":
            target = ((document or {}).get("target") or {}).get("name")
            if not target:
                raise st.invalid(None, route.name, [st.cause("target.name", "Required value", "FieldValueRequired")])
            self.store.bind(route.name, route.namespace or "", target)
            return _json(201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                               "code": 201})
        raise st.method_not_allowed("the server does not allow this method on the requested resource")

    def _evict(self, route: Route, query: Mapping[str, list[str]], document: Any) -> Response:
        if not isinstance(document, dict) or document.get("kind") != "Eviction":
            raise st.bad_request("the body of an eviction must be a policy/v1 Eviction")
        name = (document.get("metadata") or {}).get("name")
        if name and name != route.name:
            raise st.bad_request("name in URL does not match name in Eviction object")
        options = document.get("deleteOptions") or {}
        answer = self.store.evict(route.name or "", route.namespace or "",
                                  grace_period_seconds=options.get("gracePeriodSeconds"),
                                  dry_run=_dry_run(query, options.get("dryRun")))
        return _json(201, answer)

    def _put(self, info: KindInfo, route: Route, query: Mapping[str, list[str]], document: Any) -> Response:
        if route.name is None:
            raise st.method_not_allowed("the server does not allow this method on the requested resource")
        if route.subresource == "scale":
            if not isinstance(document, dict):
                raise st.bad_request("the request body must be a JSON object")
            return _json(200, self.store.replace(document, namespace=route.namespace, name=route.name,
                                                 subresource="scale", dry_run=_dry_run(query),
                                                 api_version=info.api_version, kind=info.kind))
        if route.subresource not in (None, "status"):
            raise st.status_error(404, "the server could not find the requested resource")
        return _json(200, self.store.replace(self._with_identity(info, document), namespace=route.namespace,
                                             name=route.name, subresource=route.subresource,
                                             dry_run=_dry_run(query), api_version=info.api_version, kind=info.kind))

    def _patch(self, info: KindInfo, route: Route, query: Mapping[str, list[str]], headers: Mapping[str, str],
               document: Any) -> Response:
        if route.name is None:
            raise st.method_not_allowed("the server does not allow this method on the requested resource")
        content_type = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        patch_type = _PATCH_TYPES.get(content_type)
        if patch_type is None:
            raise st.unsupported_media_type(
                f'the body of the request was in an unknown format - accepted media types include: '
                f'{", ".join(_PATCH_TYPES)}')
        if route.subresource not in (None, "status", "scale"):
            raise st.status_error(404, "the server could not find the requested resource")
        return _json(200, self.store.patch(info.api_version, info.kind, route.name, route.namespace, document,
                                           patch_type=patch_type, subresource=route.subresource,
                                           dry_run=_dry_run(query)))

    def _delete(self, info: KindInfo, route: Route, query: Mapping[str, list[str]], document: Any) -> Response:
        options = document if isinstance(document, dict) else {}
        grace = options.get("gracePeriodSeconds", _int(query, "gracePeriodSeconds"))
        policy = options.get("propagationPolicy") or _one(query, "propagationPolicy")
        if policy is None and options.get("orphanDependents") is not None:
            policy = "Orphan" if options["orphanDependents"] else "Background"
        dry_run = _dry_run(query, options.get("dryRun"))
        preconditions = options.get("preconditions") or None
        if route.name is None:
            return self._delete_collection(info, route, query, grace, policy, dry_run)
        obj, deleted_now = self.store.delete(info.api_version, info.kind, route.name, route.namespace,
                                             grace_period_seconds=grace, propagation_policy=policy,
                                             dry_run=dry_run, preconditions=preconditions)
        if info.kind == "Pod" or not deleted_now:
            return _json(200, obj)
        details = {"name": route.name, "kind": info.plural, "uid": obj["metadata"].get("uid")}
        if info.group:
            details["group"] = info.group
        return _json(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                           "details": details})

    def _delete_collection(self, info: KindInfo, route: Route, query: Mapping[str, list[str]], grace: int | None,
                           policy: str | None, dry_run: bool) -> Response:
        items = self.store.list(info.api_version, info.kind, route.namespace, _one(query, "labelSelector"),
                                _one(query, "fieldSelector"))
        deleted = []
        for item in items:
            meta = item["metadata"]
            try:
                obj, _ = self.store.delete(info.api_version, info.kind, meta["name"], meta.get("namespace"),
                                           grace_period_seconds=grace, propagation_policy=policy, dry_run=dry_run)
            except APIError as err:
                if err.status == 404:  # removed meanwhile, e.g. garbage-collected with its owner
                    continue
                raise
            deleted.append(self._list_item(info, obj))
        return _json(200, {"apiVersion": info.api_version, "kind": f"{info.kind}List",
                           "metadata": {"resourceVersion": self.store.resource_version}, "items": deleted})

    # --- watch ---------------------------------------------------------------------------

    def _watch(self, info: KindInfo, route: Route, query: Mapping[str, list[str]]) -> Response:
        flt = self.store.compile_filter(info.api_version, info.kind, route.namespace, _one(query, "labelSelector"),
                                        _one(query, "fieldSelector"))
        timeout = _int(query, "timeoutSeconds")
        duration = min(float(timeout), self.max_watch_seconds) if timeout and timeout > 0 else self.max_watch_seconds
        try:
            initial, after = self.store.watch_start(flt, _one(query, "resourceVersion"))
        except APIError as err:
            if err.status != 410:
                raise
            line = json.dumps({"type": "ERROR", "object": err.payload}, separators=(",", ":")).encode() + b"\n"
            return Response(200, stream=iter([line]))
        return Response(200, stream=self._watch_stream(flt, initial, after, time.monotonic() + duration))

    def _watch_stream(self, flt: Any, initial: list[WatchEvent], after: int, deadline: float) -> Iterator[bytes]:
        def encode(event: WatchEvent) -> bytes:
            return json.dumps(event.to_wire(), separators=(",", ":")).encode() + b"\n"

        for event in initial:
            yield encode(event)
        while not self.stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                events, after = self.store.wait_for_events(flt, after, min(remaining, 0.5))
            except APIError as err:  # the history moved past us while we were slow
                yield json.dumps({"type": "ERROR", "object": err.payload}, separators=(",", ":")).encode() + b"\n"
                return
            for event in events:
                yield encode(event)
            if not events:
                yield b""  # nothing to send: lets the server check that the watcher is still there
