"""Reading objects through the Cluster port, once per detection call.

Detection reads the same owners over and over (three Pods of one Deployment share a ReplicaSet
and a Deployment). An :class:`ObjectReader` lives for one call — one event, one alert, one
sweep — and remembers every object it read or listed, including "not found". Nothing is kept
across calls, so a later call never acts on a stale owner.
"""

from __future__ import annotations

from typing import Sequence

from ..errors import APINotFound
from ..kinds import WORKLOAD_KINDS
from ..ports import Cluster, Fanout
from .objects import ObjectKey, api_group, key_of, meta_of

__all__ = ["ObjectReader", "MAX_OWNER_DEPTH", "controller_reference", "likely_deployment"]

POD_TEMPLATE_HASH = "pod-template-hash"

MAX_OWNER_DEPTH = 4
"""Pod → ReplicaSet → Deployment is depth 2; the cap only guards against reference cycles."""


class ObjectReader:
    """A read-through cache over :class:`~kubeskippy.ports.Cluster` ``get``/``list`` for one call."""

    def __init__(self, cluster: Cluster, fanout: Fanout | None = None) -> None:
        self._cluster = cluster
        self._fanout = fanout
        self._objects: dict[ObjectKey, dict | None] = {}
        self._complete: set[tuple[str, str, str]] = set()
        self._chains: dict[ObjectKey, list[dict]] = {}
        self._listed: dict[tuple[str, str], list[dict]] = {}
        self.reads = 0
        """How many API calls this reader made (for tests and benchmarks)."""

    def remember(self, obj: dict) -> None:
        self._objects[key_of(obj)] = obj

    def get(self, api_version: str, kind: str, name: str, namespace: str | None) -> dict | None:
        """The object, or ``None`` when it does not exist (404)."""
        key = ObjectKey(api_group(api_version), kind, namespace or "", name)
        if key in self._objects:
            return self._objects[key]
        if (key.group, kind, key.namespace) in self._complete or (key.group, kind, "*") in self._complete:
            return None
        self.reads += 1
        obj = self._fetch(api_version, kind, name, namespace)
        self._objects[key] = obj
        return obj

    def _fetch(self, api_version: str, kind: str, name: str, namespace: str | None) -> dict | None:
        try:
            return self._cluster.get(api_version, kind, name, namespace or None)
        except APINotFound:
            return None

    def _read_owners_ahead(self, obj: dict) -> None:
        """With a fan-out, read a Deployment's Pod's ReplicaSet and its likely Deployment at once
        (one round instead of two). The guess is only a read: the chain still follows the
        ReplicaSet's own reference and checks uids, so a wrong guess costs one wasted GET."""
        ref = controller_reference(obj)
        guess = likely_deployment(obj, ref)
        if guess is None or ref is None:
            return
        namespace = meta_of(obj).get("namespace")
        reads = [(ref.get("apiVersion", "apps/v1"), "ReplicaSet", ref["name"]), ("apps/v1", "Deployment", guess)]
        pending = [r for r in reads if ObjectKey(api_group(r[0]), r[1], namespace or "", r[2]) not in self._objects]
        if len(pending) < 2:
            return
        found = self._fanout([lambda r=r: self._fetch(*r, namespace) for r in pending])  # type: ignore[misc]
        for (api_version, kind, name), owner in zip(pending, found):
            self.reads += 1
            self._objects[ObjectKey(api_group(api_version), kind, namespace or "", name)] = owner

    def list(self, api_version: str, kind: str, namespace: str | None = None,
             field_selector: str | None = None) -> list[dict]:
        """List and remember; an unfiltered list also tells later ``get`` calls what is absent."""
        self.reads += 1
        items = []
        for item in self._cluster.list(api_version, kind, namespace=namespace or None, field_selector=field_selector):
            if "kind" not in item or "apiVersion" not in item:  # list items from the API omit both
                item = {"apiVersion": api_version, "kind": kind, **item}
            self.remember(item)
            items.append(item)
        if field_selector is None:
            self._complete.add((api_group(api_version), kind, namespace or "*"))
            self._listed.setdefault((api_group(api_version), kind), []).extend(items)
        return items

    def listed(self, api_version: str, kind: str) -> list[dict]:
        """Every object of this kind returned by the unfiltered lists of this call."""
        return list(self._listed.get((api_group(api_version), kind), ()))

    def owner_chain(self, obj: dict) -> list[dict]:
        """Owners of ``obj``, nearest first, following controller references through workload kinds.

        The chain ends at a missing owner (404, or found with another uid: the owner we point at
        was deleted and a namesake created), at a kind we do not follow (CronJob, third-party
        controllers), or after :data:`MAX_OWNER_DEPTH` owners.
        """
        key = key_of(obj)
        cached = self._chains.get(key)
        if cached is not None:
            return cached
        if self._fanout is not None and obj.get("kind") == "Pod":
            self._read_owners_ahead(obj)
        chain: list[dict] = []
        seen = {key}
        namespace = meta_of(obj).get("namespace")
        current = obj
        while len(chain) < MAX_OWNER_DEPTH:
            ref = controller_reference(current)
            if ref is None or ref.get("kind") not in WORKLOAD_KINDS or not ref.get("name"):
                break
            owner = self.get(ref.get("apiVersion", "apps/v1"), ref["kind"], ref["name"], namespace)
            if owner is None:
                break
            uid = ref.get("uid")
            if uid and meta_of(owner).get("uid") and meta_of(owner)["uid"] != uid:
                break
            owner_key = key_of(owner)
            if owner_key in seen:
                break
            seen.add(owner_key)
            chain.append(owner)
            current = owner
        self._chains[key] = chain
        return chain


def controller_reference(obj: dict) -> dict | None:
    """The ownerReference marked ``controller: true``, else the first one, else ``None``."""
    refs: Sequence[dict] = meta_of(obj).get("ownerReferences") or ()
    first = None
    for ref in refs:
        if not isinstance(ref, dict):
            continue
        if ref.get("controller"):
            return ref
        if first is None:
            first = ref
    return first


def likely_deployment(pod: dict, ref: dict | None) -> str | None:
    """The name of the Deployment that probably owns ``pod``'s ReplicaSet, from naming alone.

    The Deployment controller names a ReplicaSet ``<deployment>-<pod-template-hash>`` and labels
    its Pods with that hash; when the Pod's controller is such a ReplicaSet, the prefix is the
    Deployment's name. ``None`` when the Pod does not look like that."""
    if ref is None or ref.get("kind") != "ReplicaSet" or not ref.get("name"):
        return None
    template_hash = (meta_of(pod).get("labels") or {}).get(POD_TEMPLATE_HASH)
    suffix = f"-{template_hash}"
    if not template_hash or not ref["name"].endswith(suffix) or len(ref["name"]) <= len(suffix):
        return None
    return ref["name"][: -len(suffix)]
