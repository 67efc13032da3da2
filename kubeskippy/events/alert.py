"""Alert (io.kubeskippy.alert.firing/.resolved): one Prometheus alert from an Alertmanager webhook.

Import it from :mod:`kubeskippy.events.model`, which loads this module on first use (only detect
reads alerts, and not on every cold start).
"""

from typing import Literal

from pydantic import Field

from ..types import Timestamp, new_dict
from .model import EventModel, stable_id

__all__ = ["Alert"]


class Alert(EventModel):
    """One Prometheus alert from an Alertmanager webhook (io.kubeskippy.alert.firing/.resolved)."""

    status: Literal["firing", "resolved"]
    alertname: str
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=new_dict)
    starts_at: Timestamp
    ends_at: Timestamp | None = None
    fingerprint: str
    generator_url: str = ""
    receiver: str = ""
    group_key: str = ""

    @property
    def id(self) -> str:
        """Deterministic: a resend of the same alert state gets the same id."""
        return stable_id("alert", self.fingerprint, self.starts_at, self.status)
