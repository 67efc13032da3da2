"""What a sweep lists, and where.

A sweep must see every object a condition or event trigger could fire for, without one API call
per object: it lists the kinds the policies select (plus the owners those objects point at, so
owner chains are served from the listing), and Events when any policy has event triggers. It lists
cluster-wide when some relevant policy covers every namespace, else only the namespaces the
policies name; a sweep restricted to namespaces lists only those and leaves cluster-scoped
objects (Nodes) out.
"""

from __future__ import annotations

import logging
from typing import Sequence

from ..kinds import KINDS, kind_info
from .compiled import CompiledPolicy
from .objects import key_of, meta_of
from .reading import ObjectReader
from .selection import OWNED_KINDS

__all__ = ["sweep_kinds", "list_for_sweep", "listed_objects"]

log = logging.getLogger("kubeskippy.detect")

_NAMESPACED = {info.kind: info.namespaced for info in KINDS}


def sweep_kinds(policies: Sequence[CompiledPolicy]) -> dict[str, str]:
    """kind → apiVersion of what condition triggers can select, plus what those kinds own."""
    kinds: dict[str, str] = {}
    for policy in policies:
        if not policy.condition_triggers:
            continue
        for f in policy.selector.filters:
            kinds.setdefault(f.kind, f.api_version)
            for owned in OWNED_KINDS.get(f.kind, ()):
                kinds.setdefault(owned, kind_info(None, owned).api_version)
    return kinds


def list_for_sweep(policies: Sequence[CompiledPolicy], wanted: frozenset[str] | None, reader: ObjectReader) -> None:
    """List everything the sweep needs into ``reader`` (later ``get`` calls are then served from it)."""
    kinds = sweep_kinds(policies)
    if any(p.event_triggers for p in policies):
        kinds["Event"] = "v1"
    if not kinds:
        return
    all_namespaces = any(p.selector.namespaces is None for p in policies)
    if wanted is not None:
        scopes: list[str | None] = sorted(wanted)
    elif all_namespaces:
        scopes = [None]
    else:
        scopes = sorted({ns for p in policies for ns in (p.selector.namespaces or ())})
    for kind, api_version in sorted(kinds.items()):
        namespaced = _NAMESPACED.get(kind)
        if namespaced is None:
            log.warning("sweep cannot list kind %s (not in the kinds table); its objects are checked "
                        "only when they change", kind)
            continue
        if not namespaced:
            if wanted is None and all_namespaces:
                reader.list(api_version, kind, None)
            continue
        for scope in scopes:
            reader.list(api_version, kind, scope)


def listed_objects(policies: Sequence[CompiledPolicy], wanted: frozenset[str] | None,
                   reader: ObjectReader) -> list[dict]:
    """The listed objects condition triggers are evaluated on, in a stable order."""
    objects: list[dict] = []
    for kind, api_version in sorted(sweep_kinds(policies).items()):
        for obj in reader.listed(api_version, kind):
            if wanted is None or (meta_of(obj).get("namespace") or "") in wanted:
                objects.append(obj)
    objects.sort(key=key_of)
    return objects
