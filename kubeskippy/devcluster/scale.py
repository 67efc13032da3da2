"""The ``scale`` subresource: an ``autoscaling/v1 Scale`` view of a Deployment, ReplicaSet or
StatefulSet, and the way a written Scale changes its parent."""

from __future__ import annotations

import json
from typing import Any, Mapping

from .selectors import selector_object_to_string
from .status import cause

__all__ = ["SCALABLE_KINDS", "scale_of", "scale_replicas_causes"]

SCALABLE_KINDS = frozenset({("apps/v1", "Deployment"), ("apps/v1", "ReplicaSet"), ("apps/v1", "StatefulSet")})


def scale_of(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The Scale document the API server returns for ``obj``."""
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    scale_meta = {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                  if k in meta}
    return {
        "apiVersion": "autoscaling/v1",
        "kind": "Scale",
        "metadata": scale_meta,
        "spec": {"replicas": spec.get("replicas", 1)},
        "status": {
            "replicas": (obj.get("status") or {}).get("replicas", 0),
            "selector": selector_object_to_string(spec.get("selector")),
        },
    }


def scale_replicas_causes(scale: Mapping[str, Any]) -> list[dict[str, str]]:
    replicas = (scale.get("spec") or {}).get("replicas")
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
        return [cause("spec.replicas", f"Invalid value: {json.dumps(replicas)}: must be greater than or equal to 0")]
    return []
