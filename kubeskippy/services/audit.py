"""audit: every io.kubeskippy.* event and dead letter in; one object per event in the bucket.

Replies with nothing (202). A sink fault is a TemporaryError → 5xx → the Broker redelivers,
and the recorder writes each event id once however often it arrives (the first write wins).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..audit.config import LocalSinkConfig, parse_sink_config
from ..audit.local_sink import LocalDirectorySink
from ..audit.recorder import Recorder
from ..clock import Clock, WallClock
from ..ports import AuditSink
from ..errors import TemporaryError
from ..events.cloudevents import as_cloudevent
from .config import Lazy

__all__ = ["AuditService", "build"]


class AuditService:
    def __init__(self, cfg: Mapping[str, str]) -> None:
        clock = WallClock()
        self._refusals: tuple[type[Exception], ...] = ()
        self.recorder = Lazy(lambda: Recorder(self._sink(cfg, clock), clock))

    def _sink(self, cfg: Mapping[str, str], clock: Clock) -> AuditSink:
        config = parse_sink_config(cfg)
        if isinstance(config, LocalSinkConfig):
            return LocalDirectorySink(config.path)  # the S3 client (minio, ~0.3 s to import) only for S3
        from ..adapters.s3_audit import S3AuditRefused, sink_for

        self._refusals = (S3AuditRefused,)
        return sink_for(config, clock=clock)

    def handle(self, event: Any) -> Sequence[Any]:
        try:
            self.recorder.get().record(as_cloudevent(event))
        except self._refusals as e:  # an S3AuditRefused (set when the S3 sink is built)
            # A refusal (access denied, no bucket, no object lock) is a misconfiguration, and audit
            # is also the dead-letter sink: answer 5xx so the Broker keeps the event until fixed.
            code = getattr(e, "code", "")
            raise TemporaryError(f"the audit bucket refused the write ({code}); fix the configuration, "
                                 "the Broker keeps retrying", delay=30) from e
        return []


def build(cfg: Mapping[str, str]) -> tuple[AuditService, list]:
    parse_sink_config(cfg)  # configuration errors surface at start: ready() says why
    return AuditService(cfg), []
