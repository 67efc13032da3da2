"""Structured JSON logs carrying correlation ids across the four functions.

Every line a function writes while handling an event names the CloudEvent id and type and,
when known, the finding fingerprint and plan id, so one incident can be followed from the
detect log to the audit log with a single filter (``jq 'select(.fingerprint=="…")'``).
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from typing import Any, Iterator
from contextlib import contextmanager

__all__ = ["configure_json_logging", "correlation", "JsonFormatter", "CORRELATION_KEYS"]

CORRELATION_KEYS = ("function", "ce_id", "ce_type", "fingerprint", "plan_id")
_context: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("kubeskippy_correlation", default={})


@contextmanager
def correlation(**ids: str | None) -> Iterator[None]:
    """Attach correlation ids to every log record written inside the block (also in threads
    started with asyncio.to_thread, which copies the context)."""
    merged = {**_context.get(), **{k: v for k, v in ids.items() if v}}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_context.get())
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            entry.update(extra)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_json_logging(level: str | int = "INFO") -> None:
    """Route the root logger to stderr as JSON lines (idempotent)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler.formatter, JsonFormatter):
            return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.handlers = [handler]
    root.setLevel(level)
