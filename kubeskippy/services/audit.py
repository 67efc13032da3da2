"""audit: every io.kubeskippy.* event and dead letter in; one object per event in the bucket.

Replies with nothing (202). A sink fault is a TemporaryError → 5xx → the Broker redelivers,
and the recorder writes each event id once however often it arrives (the first write wins).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..adapters.s3_audit import S3AuditRefused, sink_from_config
from ..audit.recorder import Recorder
from ..clock import WallClock
from ..errors import TemporaryError
from ..events.cloudevents import as_cloudevent
from .config import Lazy

__all__ = ["AuditService", "build"]


class AuditService:
    def __init__(self, cfg: Mapping[str, str]) -> None:
        clock = WallClock()
        self.recorder = Lazy(lambda: Recorder(sink_from_config(cfg, clock=clock), clock))

    def handle(self, event: Any) -> Sequence[Any]:
        try:
            self.recorder.get().record(as_cloudevent(event))
        except S3AuditRefused as e:
            # A refusal (access denied, no bucket, no object lock) is a misconfiguration, and audit
            # is also the dead-letter sink: answer 5xx so the Broker keeps the event until fixed.
            raise TemporaryError(f"the audit bucket refused the write ({e.code}); fix the configuration, "
                                 "the Broker keeps retrying", delay=30) from e
        return []


def build(cfg: Mapping[str, str]) -> tuple[AuditService, list]:
    from ..audit.config import parse_sink_config

    parse_sink_config(cfg)  # configuration errors surface at start: ready() says why
    return AuditService(cfg), []
