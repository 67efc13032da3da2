"""Intake: ApiServerSource events and Alertmanager webhooks, decoded into what detection reads."""

from .alertmanager import MAX_WEBHOOK_BYTES, alert_event, decode_alertmanager_webhook
from .apiserver import SUPPORTED_KINDS, apiserver_event, decode_apiserver_event
from .model import ResourceEvent

__all__ = [
    "ResourceEvent",
    "decode_apiserver_event",
    "apiserver_event",
    "SUPPORTED_KINDS",
    "decode_alertmanager_webhook",
    "alert_event",
    "MAX_WEBHOOK_BYTES",
]
