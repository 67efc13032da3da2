"""What intake hands to detection: one change of one Kubernetes object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["ResourceEvent"]


@dataclass(frozen=True)
class ResourceEvent:
    """A decoded ApiServerSource event (resource mode), a ref event after the object was read
    through the Cluster port, or one object re-listed by the periodic sweep.

    ``obj`` is the whole Kubernetes object as JSON. For a delete it is the last known state.
    ``event_id`` is the CloudEvent id (or a deterministic id for sweeps), used for idempotency.
    """

    verb: Literal["add", "update", "delete", "sweep"]
    obj: dict
    event_id: str
    time: float

    @property
    def kind(self) -> str:
        return self.obj.get("kind", "")

    @property
    def api_version(self) -> str:
        return self.obj.get("apiVersion", "")

    @property
    def namespace(self) -> str | None:
        return (self.obj.get("metadata") or {}).get("namespace")

    @property
    def name(self) -> str:
        return (self.obj.get("metadata") or {}).get("name", "")
