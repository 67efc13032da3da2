"""Knative ApiServerSource events → :class:`ResourceEvent`, in both of the source's modes.

Resource mode (``dev.knative.apiserver.resource.{add,update,delete}``) carries the whole object.
Ref mode (``dev.knative.apiserver.ref.*``) carries only ``{kind, namespace, name, apiVersion}``,
so the object is read through the Cluster port; a ref *delete* cannot be read any more and
yields a minimal object (identity only). A ref add/update whose object is already gone is
reported as a delete of that minimal object: detection must see the state the cluster is in
now, not the one the event described.

The builder (:func:`apiserver_event`) produces the same shape the source does (extensions
``kind``, ``name``, ``namespace``, ``apiversion``; subject
``/apis/<apiVersion>/namespaces/<ns>/<plural>/<name>``), for the CLI, tests and the simulator.
"""

from __future__ import annotations

from typing import Any, Literal

from ..clock import Clock
from ..errors import APINotFound, FieldError, InvalidInput
from ..events.cloudevents import CloudEvent, as_cloudevent, event_data_object, event_time
from ..events.model import stable_id
from ..events.types import APISERVER_REF_PREFIX, APISERVER_RESOURCE_PREFIX
from ..kinds import kind_info
from ..ports import Cluster
from ..types import to_timestamp_text
from .model import ResourceEvent

__all__ = [
    "SUPPORTED_KINDS",
    "APISERVER_SOURCE",
    "decode_apiserver_event",
    "apiserver_event",
    "apiserver_subject",
    "minimal_object",
]

SUPPORTED_KINDS: frozenset[tuple[str, str]] = frozenset({
    ("v1", "Pod"),
    ("v1", "Event"),
    ("events.k8s.io/v1", "Event"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "ReplicaSet"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "DaemonSet"),
    ("v1", "Node"),
    ("kubeskippy.io/v1alpha1", "HealingAction"),
})
"""(apiVersion, kind) pairs detection and remediation react to."""

APISERVER_SOURCE = "https://kubernetes.default.svc"
_VERBS = ("add", "update", "delete")


def _supported_list() -> str:
    return ", ".join(f"{a}/{k}" for a, k in sorted(SUPPORTED_KINDS))


def minimal_object(api_version: str, kind: str, name: str, namespace: str | None) -> dict:
    """The identity of an object, as much as a ref delete can tell."""
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": api_version, "kind": kind, "metadata": meta}


def apiserver_subject(api_version: str, kind: str, name: str, namespace: str | None) -> str:
    """The subject ApiServerSource sets (its ``createSelfLink``): always ``/apis/...``, even for core."""
    return f"/apis/{api_version}/namespaces/{namespace or ''}/{kind_info(api_version, kind).plural}/{name}"


def _split_type(event_type: Any) -> tuple[str, str]:
    if isinstance(event_type, str):
        for prefix, mode in ((APISERVER_RESOURCE_PREFIX, "resource"), (APISERVER_REF_PREFIX, "ref")):
            if event_type.startswith(prefix) and event_type[len(prefix):] in _VERBS:
                return mode, event_type[len(prefix):]
    raise InvalidInput([FieldError("type", f"not an ApiServerSource event type: {event_type!r} "
                                           f"(expected {APISERVER_RESOURCE_PREFIX}add|update|delete "
                                           f"or {APISERVER_REF_PREFIX}add|update|delete)")])


def _identity(data: dict, *, resource_mode: bool) -> tuple[str, str, str, str | None, list[FieldError]]:
    """apiVersion, kind, name, namespace of the payload, with every problem named."""
    errors: list[FieldError] = []
    api_version, kind = data.get("apiVersion"), data.get("kind")
    if resource_mode:
        meta = data.get("metadata")
        if not isinstance(meta, dict):
            errors.append(FieldError("data.metadata", "required" if meta is None else "must be an object"))
            meta = {}
        name, namespace = meta.get("name"), meta.get("namespace")
        name_path, ns_path = "data.metadata.name", "data.metadata.namespace"
    else:
        name, namespace = data.get("name"), data.get("namespace")
        name_path, ns_path = "data.name", "data.namespace"
    for value, path in ((api_version, "data.apiVersion"), (kind, "data.kind"), (name, name_path)):
        if not isinstance(value, str) or not value:
            errors.append(FieldError(path, "required" if value in (None, "") else "must be a string"))
    if namespace is not None and not isinstance(namespace, str):
        errors.append(FieldError(ns_path, "must be a string"))
    if not errors and (api_version, kind) not in SUPPORTED_KINDS:
        errors.append(FieldError("data.kind", f"unsupported kind {api_version}/{kind}; supported: "
                                              f"{_supported_list()} (filter the Trigger by kind)"))
    return api_version or "", kind or "", name or "", namespace or None, errors


def _check_extensions(ce: CloudEvent, api_version: str, kind: str, name: str, namespace: str | None) -> None:
    """The source copies identity into extensions; a disagreement means a mangled or forged event."""
    expected = {"kind": kind, "name": name, "apiversion": api_version, "namespace": namespace or ""}
    errors = []
    for ext, want in expected.items():
        got = ce.get(ext)
        if got not in (None, "") and got != want:
            errors.append(FieldError(ext, f"extension says {got!r} but the data says {want!r}"))
    if errors:
        raise InvalidInput(errors, source=ce.get("id"))


def decode_apiserver_event(event: Any, cluster: Cluster | None, *, clock: Clock | None = None) -> ResourceEvent:
    """Decode one ApiServerSource CloudEvent (either SDK class) into a :class:`ResourceEvent`.

    Raises :class:`InvalidInput` for malformed events (→ 400, dead-lettered), and lets the
    Cluster port's TemporaryError through for ref mode (→ 5xx, redelivered). ``time`` is the
    event's own time; ``clock`` is only a fallback for events without one.
    """
    ce = as_cloudevent(event)
    mode, verb = _split_type(ce.get("type"))
    event_id = ce.get("id")
    data = event_data_object(ce)
    if not isinstance(data, dict):
        raise InvalidInput([FieldError("data", "required" if data is None else "must be a JSON object")],
                           source=event_id)
    api_version, kind, name, namespace, errors = _identity(data, resource_mode=(mode == "resource"))
    if errors:
        raise InvalidInput(errors, source=event_id)
    _check_extensions(ce, api_version, kind, name, namespace)
    when = event_time(ce)
    if when is None:
        if clock is None:
            raise InvalidInput([FieldError("time", "required (and no clock to stamp it)")], source=event_id)
        when = clock.now()

    if mode == "resource":
        return ResourceEvent(verb=verb, obj=data, event_id=event_id, time=when)  # type: ignore[arg-type]
    if verb == "delete":
        return ResourceEvent(verb="delete", obj=minimal_object(api_version, kind, name, namespace),
                             event_id=event_id, time=when)
    if cluster is None:
        raise InvalidInput("ref-mode ApiServerSource events need a Cluster to read the object; "
                           "use Resource mode or configure cluster access", source=event_id)
    try:
        obj = cluster.get(api_version, kind, name, namespace)
    except APINotFound:
        return ResourceEvent(verb="delete", obj=minimal_object(api_version, kind, name, namespace),
                             event_id=event_id, time=when)
    obj = {"apiVersion": api_version, "kind": kind, **obj}  # list/get results may omit both
    return ResourceEvent(verb=verb, obj=obj, event_id=event_id, time=when)  # type: ignore[arg-type]


def apiserver_event(
    verb: Literal["add", "update", "delete"],
    obj: dict,
    *,
    mode: Literal["resource", "ref"] = "resource",
    source: str = APISERVER_SOURCE,
    id: str | None = None,
    time: float | None = None,
) -> CloudEvent:
    """The CloudEvent ApiServerSource would send for ``obj`` (for the CLI, tests and the simulator).

    ``id`` defaults to a content-derived one (verb, identity, resourceVersion), so the same
    change always gets the same id.
    """
    if verb not in _VERBS:
        raise ValueError(f"verb must be one of {', '.join(_VERBS)}")
    meta = obj.get("metadata") or {}
    api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
    name, namespace = meta.get("name", ""), meta.get("namespace") or None
    _, _, _, _, errors = _identity({**obj, "metadata": meta}, resource_mode=True)
    if errors:
        raise InvalidInput([FieldError(e.path.removeprefix("data."), e.message) for e in errors])
    prefix = APISERVER_RESOURCE_PREFIX if mode == "resource" else APISERVER_REF_PREFIX
    data = obj if mode == "resource" else {"kind": kind, "namespace": namespace or "", "name": name,
                                           "apiVersion": api_version}
    attributes: dict[str, Any] = {
        "specversion": "1.0",
        "id": id or stable_id("apiserver", verb, api_version, kind, namespace, name, meta.get("resourceVersion"),
                              meta.get("uid")),
        "source": source,
        "type": prefix + verb,
        "subject": apiserver_subject(api_version, kind, name, namespace),
        "datacontenttype": "application/json",
        "kind": kind,
        "name": name,
        "apiversion": api_version,
    }
    if namespace:
        attributes["namespace"] = namespace
    if time is not None:
        attributes["time"] = to_timestamp_text(time)
    return CloudEvent(attributes, data)
