"""Where safety state lives: record names (the sharding) and entry keys (the hashing).

Two kinds of record, chosen so that the facts one decision must see together sit in ONE record
and change in one compare-and-swap:

* ``<prefix>-w-<ns>-<shard>``: per namespace (split into ``workload_shards`` by workload): leases,
  executed step ids, cooldowns and ineffective chains. Granting a lease and checking the step is
  not yet executed, and recording the step while releasing the lease, are each one atomic write.
* the rate record, the sliding windows of reserved action slots: ``<prefix>-global`` holds every
  policy's slots when the cluster-wide cap is on (one write checks the policy's limit and the
  cap); with the cap off, each policy has its own ``<prefix>-p-<policy>``, and nothing needs to
  see them together.

Data keys are ``<kind>.<hash>`` because ConfigMap keys allow only ``[-._a-zA-Z0-9]`` while step
ids and workload names carry ``/`` and ``:``. Every value is ``"<expires> <json>"``: the epoch
second at which the entry stops mattering (so pruning on every write reads one number per entry,
not the JSON), then JSON that repeats the readable identity, so ``kubectl get cm -o yaml`` still
tells a human what is held.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any, Iterator

from ..events.model import ObjectRef
from .config import SafetyConfig

__all__ = [
    "digest",
    "workload_key",
    "global_record",
    "policy_record",
    "rate_record",
    "workload_record",
    "namespace_records",
    "entry_key",
    "entries",
    "put_entry",
    "load_entry",
    "expiries",
    "drop_expired",
    "ABOUT_KEY",
    "CLUSTER_SCOPE",
]

log = logging.getLogger(__name__)

ABOUT_KEY = "about"
"""A short human-readable line naming what a record holds."""

CLUSTER_SCOPE = "cluster.scoped"
"""Stands in for the namespace of cluster-scoped workloads (a namespace name cannot hold a dot)."""


def digest(*parts: object, length: int = 20) -> str:
    """Lowercase hex of SHA-256 over the parts; 20 digits = 80 bits, collisions are not a concern."""
    raw = "\x1f".join(repr(p) if not isinstance(p, str) else p for p in parts)
    return hashlib.sha256(raw.encode()).hexdigest()[:length]


def workload_key(ref: ObjectRef) -> str:
    """Identity of a workload by name (a uid would change when it is recreated, the problem not)."""
    return f"{ref.api_version}/{ref.kind}/{ref.namespace or ''}/{ref.name}"


def global_record(config: SafetyConfig) -> str:
    return f"{config.record_prefix}-global"


def policy_record(config: SafetyConfig, policy: str) -> str:
    return f"{config.record_prefix}-p-{digest(policy, length=16)}"


def rate_record(config: SafetyConfig, policy: str) -> str:
    """The record holding ``policy``'s window (see the module doc)."""
    return global_record(config) if config.global_max_actions_per_hour is not None else policy_record(config, policy)


def _namespace_part(namespace: str | None) -> str:
    # Namespace names are DNS labels (<= 63 chars), already valid inside a ConfigMap name.
    return namespace or CLUSTER_SCOPE


def workload_record(config: SafetyConfig, workload: ObjectRef) -> str:
    shard = int(digest(workload_key(workload), length=8), 16) % config.workload_shards
    return f"{config.record_prefix}-w-{_namespace_part(workload.namespace)}-{shard}"


def namespace_records(config: SafetyConfig, namespace: str | None) -> list[str]:
    """Every workload record of a namespace (all of its shards)."""
    return [f"{config.record_prefix}-w-{_namespace_part(namespace)}-{i}" for i in range(config.workload_shards)]


def entry_key(kind: str, *identity: object) -> str:
    return f"{kind}.{digest(*identity)}"


def put_entry(data: dict[str, str], key: str, value: dict[str, Any], expires: float) -> None:
    """Store ``value`` as ``"<expires> <json>"``: pruning reads only the leading number."""
    data[key] = f"{expires!r} " + json.dumps(value, separators=(",", ":"), sort_keys=True)


def _split(key: str, raw: str) -> tuple[float, str] | None:
    head, _, body = raw.partition(" ")
    try:
        return float(head), body
    except ValueError:
        log.warning("dropping unreadable safety entry %s (edited by hand?)", key)
        return None


def _decode(key: str, raw: str) -> dict[str, Any] | None:
    split = _split(key, raw)
    try:
        value = json.loads(split[1]) if split else None
    except ValueError:
        value = None
    if not isinstance(value, dict):
        if split:
            log.warning("dropping unreadable safety entry %s (edited by hand?)", key)
        return None
    return value


def load_entry(data: dict[str, str], key: str) -> dict[str, Any] | None:
    """The decoded entry, or None when absent; an unreadable entry is removed from ``data``."""
    raw = data.get(key)
    if raw is None:
        return None
    value = _decode(key, raw)
    if value is None:
        del data[key]
    return value


def entries(data: dict[str, str], kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """All entries of one kind, decoded; unreadable ones are removed from ``data``.

    Iterates over a snapshot, so the caller may modify ``data`` meanwhile.
    """
    prefix = kind + "."
    for key, raw in list(data.items()):
        if key.startswith(prefix):
            value = _decode(key, raw)
            if value is None:
                del data[key]
            else:
                yield key, value


def expiries(data: dict[str, str], kind: str) -> Iterator[tuple[str, float]]:
    """(key, expiry) of every entry of one kind, without decoding the JSON: cheap enough to run on
    every write. Unreadable entries are removed from ``data``."""
    prefix = kind + "."
    for key, raw in list(data.items()):
        if key.startswith(prefix):
            split = _split(key, raw)
            if split is None:
                del data[key]
            else:
                yield key, split[0]


def drop_expired(data: dict[str, str], kinds: tuple[str, ...], now: float) -> list[str]:
    """Remove entries of these kinds whose expiry is at or before ``now`` (one pass over the
    record); returns their keys. Unreadable entries go too."""
    prefixes = tuple(kind + "." for kind in kinds)
    dead = []
    for key, raw in data.items():
        if key.startswith(prefixes):
            head = raw.partition(" ")[0]
            try:
                expired = now >= float(head)
            except ValueError:
                log.warning("dropping unreadable safety entry %s (edited by hand?)", key)
                expired = True
            if expired:
                dead.append(key)
    for key in dead:
        del data[key]
    return dead
