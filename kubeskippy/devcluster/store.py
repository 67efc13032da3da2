"""The in-process Kubernetes API engine behind the development cluster.

A development and test tool, never for production: it keeps objects in memory and answers with the
API server's semantics, so the adapters, the remediation code and the local event mesh can be
exercised without a real cluster. What it does (each pinned by tests/devcluster):

* objects keyed by (apiVersion, kind, namespace, name) as plain JSON dicts; every read returns a
  copy, so callers can never mutate stored state by accident;
* ``metadata.uid``, ``creationTimestamp`` (from the Clock port), ``generation`` and one global
  ``resourceVersion`` counter rendered as a string; a write that changes nothing is not a write
  (no new resourceVersion, no watch event), as in etcd-backed storage;
* create of an existing name → 409 AlreadyExists; a PUT or PATCH carrying a stale resourceVersion
  → 409 Conflict; a missing object → 404 NotFound; all errors carry the API server's Status;
* status and scale subresources; strategic-merge, JSON merge and JSON patches;
* evictions checked against PodDisruptionBudgets (429 when the budget would be violated);
* deletion with grace periods and Background / Foreground / Orphan propagation by ownerReferences;
* a bounded event log so watches resume from a resourceVersion (410 Expired when too old);
* server-side dry run: validated, the would-be object returned, nothing stored.

The engine is one class composed of parts with one concern each: this module holds the objects,
CRUD, resourceVersions, the indexes and the write path (``_commit``) every part goes through;
:mod:`.watch` reads the event log ``_commit`` appends to; :mod:`.deletion` holds DELETE, graceful
termination and the garbage collector; :mod:`.pod_subresources` binding, eviction and logs. The
parts are mixins rather than helper objects, so no call pays for a forwarding hop;
:mod:`.store_part` declares what they may use of the store.

Differences from a real API server are listed in docs/devcluster.md.
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from ..clock import Clock, WallClock, to_rfc3339
from ..kinds import KINDS, KindInfo
from . import status as st
from .deletion import Deletion
from .documents import clone_document
from .patches import apply_json_patch, apply_merge_patch, apply_strategic_merge_patch
from .pod_subresources import PodSubresources
from .scale import SCALABLE_KINDS, scale_of, scale_replicas_causes
from .selectors import parse_field_selector, parse_label_selector
from .validation import validate_object, validate_update
from .watch import WatchEvent, WatchFilter, WatchLog

__all__ = ["ObjectStore", "WatchEvent", "WatchFilter", "ListResult", "STATUS_SUBRESOURCE_KINDS"]

STATUS_SUBRESOURCE_KINDS = frozenset({
    "Pod", "Service", "Node", "Namespace", "PersistentVolume", "PersistentVolumeClaim",
    "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "PodDisruptionBudget",
    "HealingPolicy", "HealingAction",
})
"""Kinds whose ``status`` is written only through ``/status`` (and whose spec is ignored there)."""

_GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_BUILTIN_GROUPS = frozenset({"", "apps", "batch", "policy", "events.k8s.io", "coordination.k8s.io"})
_EVENT_KIND = ("v1", "Event")
_INVOLVED_NAME = "involvedObject.name"
_SCALE_INFO = KindInfo("autoscaling/v1", "Scale", "scale", True)  # for error messages only


@dataclass(frozen=True)
class ListResult:
    items: list[dict[str, Any]]
    resource_version: str


def _owner_uids(obj: Mapping[str, Any] | None) -> frozenset[str]:
    if obj is None:
        return frozenset()
    refs = (obj.get("metadata") or {}).get("ownerReferences") or ()
    return frozenset(uid for ref in refs if isinstance(ref, Mapping) and isinstance(uid := ref.get("uid"), str) and uid)


def _meta(obj: Mapping[str, Any]) -> dict[str, Any]:
    return obj.setdefault("metadata", {})  # type: ignore[union-attr]


def _without(obj: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in keys}


class ObjectStore(WatchLog, Deletion, PodSubresources):
    """Thread-safe in-memory API engine. All public methods take and return plain dicts.

    :param clock: time source for timestamps and graceful deletion deadlines.
    :param seed: makes uids and generated names reproducible (simulations, golden tests).
    :param watch_history: how many changes a watch can resume across before 410 Expired.
    :param graceful_pod_deletion: when True, deleting a scheduled pod with a grace period sets
        ``deletionTimestamp`` and the pod stays (Terminating) until :meth:`finish_terminations`
        runs at or after that time; when False (default) pods vanish at once, as if the kubelet
        confirmed immediately.
    :param require_namespaces: when True, namespaced writes need the Namespace object to exist
        (404 otherwise), as on a real cluster.

    Watches come from :class:`~.watch.WatchLog`, DELETE from :class:`~.deletion.Deletion`, pod
    binding, eviction and logs from :class:`~.pod_subresources.PodSubresources`; all the state
    they share is created here.
    """

    def __init__(self, clock: Clock | None = None, *, seed: int | None = None, kinds: Iterable[KindInfo] = KINDS,
                 watch_history: int = 10_000, graceful_pod_deletion: bool = False,
                 require_namespaces: bool = False) -> None:
        self.clock: Clock = clock or WallClock()
        self.graceful_pod_deletion = graceful_pod_deletion
        self.require_namespaces = require_namespaces
        self._lock = threading.RLock()
        # One condition per kind, all on the store's lock: a change wakes only the watches of its
        # kind (an incident writes HealingActions, ConfigMaps and Events; a pod watch sleeps on).
        self._changed: dict[tuple[str, str], threading.Condition] = {}
        self._random = random.Random(seed)
        self._kinds: dict[tuple[str, str], KindInfo] = {(k.api_version, k.kind): k for k in kinds}
        self._plurals: dict[tuple[str, str], KindInfo] = {(k.api_version, k.plural): k for k in kinds}
        self._objects: dict[tuple[str, str], dict[tuple[str, str], dict[str, Any]]] = {}
        self._revision = 0
        self._history: deque[WatchEvent] = deque(maxlen=max(1, watch_history))
        self._forgotten_upto = 0  # highest resourceVersion that fell out of the history
        self._logs: dict[tuple[str, str, str, bool], str] = {}
        # Core Events by (namespace, involvedObject.name): a LIST for one object's Events (the
        # analyzer and diagnostics ask for them) looks at that object's, not at every Event.
        self._events_by_involved: dict[tuple[str, str], set[tuple[str, str]]] = {}
        # Objects by the uid of each owner they name: deleting an owner finds its dependents
        # here instead of scanning every object of every kind under the store's lock.
        self._dependents_by_owner: dict[str, set[tuple[tuple[str, str], tuple[str, str]]]] = {}

    # --- kinds ---------------------------------------------------------------------------

    @property
    def kinds(self) -> tuple[KindInfo, ...]:
        return tuple(self._kinds.values())

    def kind(self, api_version: str | None, kind: str | None) -> KindInfo:
        """The served kind, or 404 "the server could not find the requested resource"."""
        info = self._kinds.get((api_version or "", kind or ""))
        if info is None:
            raise st.status_error(404, "the server could not find the requested resource")
        return info

    def kind_for_plural(self, api_version: str, plural: str) -> KindInfo:
        info = self._plurals.get((api_version, plural))
        if info is None:
            raise st.status_error(404, "the server could not find the requested resource")
        return info

    @staticmethod
    def is_custom(info: KindInfo) -> bool:
        """Custom resources refuse strategic merge and unconditional PUT, as CRDs do."""
        return info.group not in _BUILTIN_GROUPS

    @property
    def lock(self) -> threading.RLock:
        """Held by every operation; hold it yourself to make several calls atomic."""
        return self._lock

    @property
    def resource_version(self) -> str:
        with self._lock:
            return str(self._revision)

    # --- reads ---------------------------------------------------------------------------

    def _bucket(self, info: KindInfo) -> dict[tuple[str, str], dict[str, Any]]:
        return self._objects.setdefault((info.api_version, info.kind), {})

    def _namespace_of(self, info: KindInfo, namespace: str | None) -> str:
        return (namespace or "") if info.namespaced else ""

    def _stored(self, info: KindInfo, name: str, namespace: str | None) -> dict[str, Any]:
        obj = self._bucket(info).get((self._namespace_of(info, namespace), name))
        if obj is None:
            raise st.not_found(info, name)
        return obj

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None, *,
            subresource: str | None = None) -> dict[str, Any]:
        """GET an object, or its ``status`` / ``scale`` view."""
        with self._lock:
            info = self.kind(api_version, kind)
            obj = self._stored(info, name, namespace)
            if subresource == "scale":
                self._require_scalable(info)
                return scale_of(obj)
            self._check_subresource(info, subresource, allowed=("status",))
            return clone_document(obj)

    def get_encoded(self, api_version: str, kind: str, name: str, namespace: str | None = None, *,
                    subresource: str | None = None) -> bytes:
        """What :meth:`get` returns, as compact JSON bytes: the HTTP front's GET. Encoded once,
        under the lock, straight from the stored object (``get`` copies it through JSON, and the
        front then encoded the copy again); the same document, so the same bytes."""
        with self._lock:
            info = self.kind(api_version, kind)
            obj = self._stored(info, name, namespace)
            if subresource == "scale":
                self._require_scalable(info)
                obj = scale_of(obj)
            else:
                self._check_subresource(info, subresource, allowed=("status",))
            return json.dumps(obj, separators=(",", ":")).encode()

    def compile_filter(self, api_version: str, kind: str, namespace: str | None = None,
                       label_selector: str | None = None, field_selector: str | None = None) -> WatchFilter:
        """Validate the kind and parse selectors once (400 on bad syntax or unsupported field)."""
        info = self.kind(api_version, kind)
        return WatchFilter(info, namespace if info.namespaced else None,
                           tuple(parse_label_selector(label_selector)),
                           tuple(parse_field_selector(field_selector, api_version, kind)))

    def list_objects(self, api_version: str, kind: str, namespace: str | None = None,
                     label_selector: str | None = None, field_selector: str | None = None) -> ListResult:
        """LIST, sorted by namespace then name, with the store's current resourceVersion."""
        flt = self.compile_filter(api_version, kind, namespace, label_selector, field_selector)
        with self._lock:
            bucket = self._bucket(flt.info)
            candidates = self._indexed_candidates(flt)
            # Select, then sort only what matched (a bucket holds the kind in every namespace).
            items = [clone_document(bucket[key]) for key in sorted(
                k for k, obj in (bucket.items() if candidates is None else
                                 ((k, bucket[k]) for k in candidates if k in bucket)) if flt.selects(obj))]
            return ListResult(items, str(self._revision))

    def list_encoded(self, api_version: str, kind: str, namespace: str | None = None,
                     label_selector: str | None = None, field_selector: str | None = None, *,
                     without_identity: bool = False) -> tuple[list[bytes], str]:
        """What :meth:`list_objects` selects, each item as compact JSON bytes (the HTTP front's
        LIST), encoded once under the lock instead of copied through JSON and encoded again.
        ``without_identity`` leaves out each item's apiVersion and kind, as the API server does
        for built-in kinds."""
        flt = self.compile_filter(api_version, kind, namespace, label_selector, field_selector)
        with self._lock:
            bucket = self._bucket(flt.info)
            candidates = self._indexed_candidates(flt)
            keys = sorted(k for k, obj in (bucket.items() if candidates is None else
                                           ((k, bucket[k]) for k in candidates if k in bucket)) if flt.selects(obj))
            items = []
            for key in keys:
                obj = bucket[key]
                if without_identity:
                    obj = {k: v for k, v in obj.items() if k != "apiVersion" and k != "kind"}
                items.append(json.dumps(obj, separators=(",", ":")).encode())
            return items, str(self._revision)

    def _indexed_candidates(self, flt: WatchFilter) -> set[tuple[str, str]] | None:
        """The keys that can match a namespaced core-Event LIST on ``involvedObject.name=…``
        (a superset: the filter still checks every field), or None to scan the whole kind."""
        if (flt.info.api_version, flt.info.kind) != _EVENT_KIND or flt.namespace is None:
            return None
        name = next((f.value for f in flt.fields if f.field == _INVOLVED_NAME and not f.negated), None)
        if name is None:
            return None
        return self._events_by_involved.get((flt.namespace, name), set())

    def _index_event(self, key: tuple[str, str], old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        for obj, add in ((old, False), (new, True)):
            if obj is None:
                continue
            entry = (key[0], str((obj.get("involvedObject") or {}).get("name") or ""))
            if add:
                self._events_by_involved.setdefault(entry, set()).add(key)
            else:
                keys = self._events_by_involved.get(entry)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del self._events_by_involved[entry]

    def _index_owners(self, kind_key: tuple[str, str], key: tuple[str, str], old: dict[str, Any] | None,
                      new: dict[str, Any] | None) -> None:
        """Keep ``_dependents_by_owner`` in step with a write (``new`` None: a deletion)."""
        before, after = _owner_uids(old), _owner_uids(new)
        if before == after:
            return
        entry = (kind_key, key)
        for uid in before - after:
            keys = self._dependents_by_owner.get(uid)
            if keys is not None:
                keys.discard(entry)
                if not keys:
                    del self._dependents_by_owner[uid]
        for uid in after - before:
            self._dependents_by_owner.setdefault(uid, set()).add(entry)

    def list(self, api_version: str, kind: str, namespace: str | None = None,
             label_selector: str | None = None, field_selector: str | None = None) -> list[dict[str, Any]]:
        return self.list_objects(api_version, kind, namespace, label_selector, field_selector).items

    # --- the write path ------------------------------------------------------------------

    def _commit(self, event_type: str, new: dict[str, Any] | None, old: dict[str, Any] | None) -> dict[str, Any]:
        """Store (or remove) an object under a fresh resourceVersion and log the change. Every
        write of every part ends here, so the index, log and watch bookkeeping is inline rather
        than behind calls into the parts that read it."""
        self._revision += 1
        target = new if new is not None else clone_document(old)
        assert target is not None
        _meta(target)["resourceVersion"] = str(self._revision)
        info = self.kind(target["apiVersion"], target["kind"])
        key = (target["metadata"].get("namespace", "") if info.namespaced else "", target["metadata"]["name"])
        if (info.api_version, info.kind) == _EVENT_KIND:
            self._index_event(key, old, None if event_type == "DELETED" else target)
        self._index_owners((info.api_version, info.kind), key, old, None if event_type == "DELETED" else target)
        if event_type == "DELETED":
            self._bucket(info).pop(key, None)
            if info.kind == "Pod":
                for log_key in [k for k in self._logs if k[0] == key[0] and k[1] == key[1]]:
                    del self._logs[log_key]
        else:
            self._bucket(info)[key] = target
        if len(self._history) == self._history.maxlen:
            self._forgotten_upto = self._history[0].resource_version
        self._history.append(WatchEvent(event_type, self._revision, clone_document(target),
                                        clone_document(old) if old is not None else None))
        changed = self._changed.get((info.api_version, info.kind))
        if changed is not None:
            changed.notify_all()
        return clone_document(target)

    def _generate_name(self, info: KindInfo, namespace: str, prefix: str) -> str:
        bucket = self._bucket(info)
        for _ in range(16):
            candidate = prefix + "".join(self._random.choice(_GENERATE_ALPHABET) for _ in range(5))
            if (namespace, candidate) not in bucket:
                return candidate
        raise st.status_error(500, f"could not generate a unique name from prefix {prefix!r}", reason="ServerTimeout")

    def _new_uid(self) -> str:
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def _check_namespace_exists(self, info: KindInfo, namespace: str) -> None:
        if info.namespaced and self.require_namespaces and ("", namespace) not in self._bucket(self.kind("v1", "Namespace")):
            raise st.not_found(self.kind("v1", "Namespace"), namespace)

    @staticmethod
    def _check_subresource(info: KindInfo, subresource: str | None, allowed: tuple[str, ...]) -> None:
        if subresource is None:
            return
        if subresource not in allowed or (subresource == "status" and info.kind not in STATUS_SUBRESOURCE_KINDS):
            raise st.status_error(404, "the server could not find the requested resource")

    @staticmethod
    def _require_scalable(info: KindInfo) -> None:
        if (info.api_version, info.kind) not in SCALABLE_KINDS:
            raise st.status_error(404, "the server could not find the requested resource")

    @staticmethod
    def _apply_defaults(obj: dict[str, Any]) -> None:
        kind = obj.get("kind")
        if kind in ("Deployment", "ReplicaSet", "StatefulSet") and isinstance(obj.get("spec"), dict):
            obj["spec"].setdefault("replicas", 1)
        if kind == "Pod" and isinstance(obj.get("spec"), dict):
            obj["spec"].setdefault("restartPolicy", "Always")
            obj["spec"].setdefault("terminationGracePeriodSeconds", 30)

    def _prepare_create(self, obj: Mapping[str, Any], namespace: str | None, *, keep_status: bool) -> tuple[KindInfo, dict[str, Any]]:
        if not isinstance(obj, Mapping):
            raise st.bad_request("the request body must be a JSON object")
        info = self.kind(obj.get("apiVersion"), obj.get("kind"))
        new = clone_document(dict(obj))
        meta = new.get("metadata")
        if not isinstance(meta, dict):
            raise st.invalid(info, None, [st.cause("metadata.name", "Required value: name or generateName is required",
                                                   "FieldValueRequired")])
        if info.namespaced:
            body_ns = meta.get("namespace")
            if namespace and body_ns and body_ns != namespace:
                raise st.bad_request("the namespace of the provided object does not match the namespace sent on the request")
            meta["namespace"] = namespace or body_ns or "default"
            self._check_namespace_exists(info, meta["namespace"])
        else:
            meta.pop("namespace", None)
        generated = not meta.get("name") and bool(meta.get("generateName"))
        causes = validate_object(new, generated_name=generated)
        if causes:
            raise st.invalid(info, meta.get("name") or meta.get("generateName"), causes)
        if generated:
            meta["name"] = self._generate_name(info, meta.get("namespace", ""), meta["generateName"])
        if (self._namespace_of(info, meta.get("namespace")), meta["name"]) in self._bucket(info):
            raise st.already_exists(info, meta["name"])
        for transient in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
            meta.pop(transient, None)
        meta["uid"] = self._new_uid()
        meta["creationTimestamp"] = to_rfc3339(self.clock.now())
        meta["generation"] = 1
        self._apply_defaults(new)
        if not keep_status and info.kind in STATUS_SUBRESOURCE_KINDS:
            new["status"] = {"phase": "Pending"} if info.kind == "Pod" else {}
        return info, new

    def create(self, obj: Mapping[str, Any], *, namespace: str | None = None, dry_run: bool = False) -> dict[str, Any]:
        """POST. ``namespace`` is the one in the request path (must agree with the body's)."""
        with self._lock:
            _, new = self._prepare_create(obj, namespace, keep_status=False)
            if dry_run:
                return new
            return self._commit("ADDED", new, None)

    def load(self, objects: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Seed fixtures: create each object keeping its ``status`` and skipping kind-specific
        validation (identity rules still apply). Returns the stored objects."""
        with self._lock:
            out = []
            for obj in objects:
                info = self.kind(obj.get("apiVersion"), obj.get("kind"))
                meta = dict(obj.get("metadata") or {})
                ns = (meta.get("namespace") or "default") if info.namespaced else ""
                if self._bucket(info).get((ns, meta.get("name", ""))) is not None:
                    raise st.already_exists(info, meta.get("name", ""))
                new = clone_document(dict(obj))
                new_meta = new.setdefault("metadata", {})
                if info.namespaced:
                    new_meta["namespace"] = ns
                if not new_meta.get("name"):
                    if not new_meta.get("generateName"):
                        raise st.invalid(info, None, [st.cause("metadata.name", "Required value", "FieldValueRequired")])
                    new_meta["name"] = self._generate_name(info, ns, new_meta["generateName"])
                new_meta.setdefault("uid", self._new_uid())
                new_meta.setdefault("creationTimestamp", to_rfc3339(self.clock.now()))
                new_meta.setdefault("generation", 1)
                self._apply_defaults(new)
                out.append(self._commit("ADDED", new, None))
            return out

    def _finish_update(self, info: KindInfo, old: dict[str, Any], new: dict[str, Any], *,
                       subresource: str | None, dry_run: bool, expected_version: str | None) -> dict[str, Any]:
        """Common tail of PUT and PATCH: preconditions, subresource rules, validation, commit."""
        name = old["metadata"]["name"]
        if expected_version is not None and expected_version != old["metadata"]["resourceVersion"]:
            raise st.conflict(info, name)
        old_meta, new_meta = old["metadata"], _meta(new)
        if new_meta.get("uid") and new_meta["uid"] != old_meta["uid"]:
            raise st.conflict(info, name, f"Precondition failed: UID in precondition: {old_meta['uid']}, "
                                          f"UID in object meta: {new_meta['uid']}")
        if new.get("apiVersion") != old["apiVersion"] or new.get("kind") != old["kind"]:
            raise st.bad_request(f"the API version or kind in the body does not match the URL "
                                 f"({new.get('apiVersion')}/{new.get('kind')} vs {old['apiVersion']}/{old['kind']})")
        if subresource == "status":
            merged = clone_document(old)
            merged["status"] = clone_document(new.get("status", {}))
            new = merged
        else:
            for key in ("uid", "creationTimestamp", "generation", "deletionTimestamp",
                        "deletionGracePeriodSeconds", "resourceVersion"):
                if key in old_meta:
                    new_meta[key] = old_meta[key]
                else:
                    new_meta.pop(key, None)
            for key in ("name", "namespace"):
                if key in old_meta:
                    new_meta[key] = old_meta[key]
            if info.kind in STATUS_SUBRESOURCE_KINDS:
                if "status" in old:
                    new["status"] = clone_document(old["status"])
                else:
                    new.pop("status", None)
        new["metadata"]["resourceVersion"] = old_meta["resourceVersion"]
        causes = validate_object(new) + validate_update(old, new)
        if causes:
            raise st.invalid(info, name, causes)
        if new == old:
            return clone_document(old)  # a no-op write is not a write
        if subresource is None and _without(new, "metadata", "status") != _without(old, "metadata", "status"):
            new["metadata"]["generation"] = old_meta.get("generation", 1) + 1
        if dry_run:
            return new
        return self._commit("MODIFIED", new, old)

    def replace(self, obj: Mapping[str, Any], *, namespace: str | None = None, name: str | None = None,
                subresource: str | None = None, dry_run: bool = False,
                api_version: str | None = None, kind: str | None = None) -> dict[str, Any]:
        """PUT. ``namespace``/``name`` come from the URL (default: the body's); for
        ``subresource="scale"`` the body is a Scale and ``api_version``/``kind`` name the parent."""
        if not isinstance(obj, Mapping):
            raise st.bad_request("the request body must be a JSON object")
        body_meta = obj.get("metadata") or {}
        with self._lock:
            if subresource == "scale":
                info = self.kind(api_version, kind)
                self._require_scalable(info)
            else:
                info = self.kind(api_version or obj.get("apiVersion"), kind or obj.get("kind"))
                self._check_subresource(info, subresource, allowed=("status",))
            url_name = name or body_meta.get("name")
            if not url_name:
                raise st.bad_request("name is required for an update")
            if body_meta.get("name") and body_meta["name"] != url_name:
                raise st.bad_request(f"the name of the object ({body_meta['name']}) does not match the name on "
                                     f"the URL ({url_name})")
            url_ns = (namespace or body_meta.get("namespace") or "default") if info.namespaced else None
            if info.namespaced and body_meta.get("namespace") and body_meta["namespace"] != url_ns:
                raise st.bad_request("the namespace of the provided object does not match the namespace sent on the request")
            old = self._stored(info, url_name, url_ns)
            version = body_meta.get("resourceVersion") or None
            if subresource == "scale":
                return self._write_scale(info, old, obj, version, dry_run)
            if version is None and self.is_custom(info):
                raise st.invalid(info, url_name, [st.cause("metadata.resourceVersion",
                                                           "Invalid value: 0x0: must be specified for an update")])
            return self._finish_update(info, old, clone_document(dict(obj)), subresource=subresource,
                                       dry_run=dry_run, expected_version=version)

    def _write_scale(self, info: KindInfo, old: dict[str, Any], scale: Mapping[str, Any], version: str | None,
                     dry_run: bool) -> dict[str, Any]:
        causes = scale_replicas_causes(scale)
        if causes:
            raise st.invalid(_SCALE_INFO, old["metadata"]["name"], causes)
        new = clone_document(old)
        new.setdefault("spec", {})["replicas"] = scale["spec"]["replicas"]
        result = self._finish_update(info, old, new, subresource=None, dry_run=dry_run, expected_version=version)
        return scale_of(result)

    def patch(self, api_version: str, kind: str, name: str, namespace: str | None, patch: Any, *,
              patch_type: str = "merge", subresource: str | None = None, dry_run: bool = False) -> dict[str, Any]:
        """PATCH with ``patch_type`` ``strategic`` | ``merge`` | ``json``. A resourceVersion the patch
        sets acts as a precondition (409 when stale), as on the API server."""
        with self._lock:
            info = self.kind(api_version, kind)
            if subresource == "scale":
                self._require_scalable(info)
            else:
                self._check_subresource(info, subresource, allowed=("status",))
            if patch_type == "strategic" and self.is_custom(info):
                raise st.unsupported_media_type(
                    "the body of the request was in an unknown format - accepted media types include: "
                    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml")
            old = self._stored(info, name, namespace)
            current = scale_of(old) if subresource == "scale" else clone_document(old)
            if patch_type == "merge":
                if not isinstance(patch, dict):
                    raise st.bad_request("a merge patch must be a JSON object")
                patched = apply_merge_patch(current, patch)
            elif patch_type == "json":
                patched = apply_json_patch(current, patch)
            elif patch_type == "strategic":
                patched = apply_strategic_merge_patch(current, patch)
            else:
                raise st.unsupported_media_type(f"unsupported patch type {patch_type!r}")
            if not isinstance(patched, dict):
                raise st.status_error(422, "the patch turned the object into a non-object")
            patched_meta = patched.get("metadata") if isinstance(patched.get("metadata"), dict) else {}
            expected = patched_meta.get("resourceVersion") or old["metadata"]["resourceVersion"]
            if patched_meta.get("name", name) != name:
                raise st.bad_request(f"the name of the object ({patched_meta.get('name')}) does not match the name "
                                     f"on the URL ({name})")
            if subresource == "scale":
                return self._write_scale(info, old, patched, expected, dry_run)
            return self._finish_update(info, old, patched, subresource=subresource, dry_run=dry_run,
                                       expected_version=expected)

    # --- convenience for tests and the controller ----------------------------------------

    def all_objects(self) -> list[dict[str, Any]]:
        """Every stored object (copies), in a stable order."""
        with self._lock:
            return [clone_document(obj) for _, bucket in sorted(self._objects.items())
                    for _, obj in sorted(bucket.items())]

    def find(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        """Like :meth:`get` but ``None`` instead of 404."""
        with self._lock:
            info = self.kind(api_version, kind)
            obj = self._bucket(info).get((self._namespace_of(info, namespace), name))
            return clone_document(obj) if obj is not None else None
