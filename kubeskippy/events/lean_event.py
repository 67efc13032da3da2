"""The cloudevents SDK 1.x event, as a mapping of attributes plus ``data``, without the SDK.

Why not the SDK's own class (``cloudevents.v1.http.CloudEvent``): importing it loads the whole
1.x package (marshallers, converters, the deprecated helpers, ``deprecation`` and
``packaging``), ~30 M instructions, a twentieth of a bare function's cold start, for a class
whose behaviour is these few lines. Every KubeSkippy hop speaks binary-mode JSON, which
:mod:`kubeskippy.events.cloudevents` encodes and decodes itself; the SDK is loaded only for the
rest (structured mode, specversion 0.3, bodies that are not JSON), and its converters accept this
class as they accept their own (they read events through the mapping API).

Behaviour kept from the SDK (tests/events/test_lean_event.py compares the two): attribute names
are lower-cased; ``specversion`` defaults to ``1.0``, ``id`` to a random UUID and ``time`` to
now; the specversion must be ``1.0`` or ``0.3`` and ``id``, ``source``, ``type`` present.
What differs: a missing or invalid attribute raises :class:`~kubeskippy.errors.InvalidInput`
naming it (the SDK raises its own exception type, which callers had to translate), and an event
equals any event with the same attributes and data, the SDK's class included.
"""

from __future__ import annotations

from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any, Iterator, Mapping

from ..errors import FieldError, InvalidInput

__all__ = ["CloudEvent", "SPEC_VERSIONS"]

SPEC_VERSIONS = ("1.0", "0.3")
_REQUIRED = ("id", "source", "type", "specversion")


class CloudEvent:
    """A CloudEvent: ``event["type"]``, ``event.get("subject")``, ``get_attributes()``, ``data``."""

    __slots__ = ("_attributes", "data")

    def __init__(self, attributes: Mapping[str, Any], data: Any = None) -> None:
        attrs = {key.lower(): value for key, value in attributes.items()}
        if "specversion" not in attrs:
            attrs["specversion"] = "1.0"
        if "id" not in attrs:
            import uuid  # only for events built without an id (ours always carry one)

            attrs["id"] = str(uuid.uuid4())
        if "time" not in attrs:
            attrs["time"] = datetime.now(timezone.utc).isoformat()
        if attrs["specversion"] not in SPEC_VERSIONS:
            raise InvalidInput([FieldError("specversion", f"must be one of {', '.join(SPEC_VERSIONS)}, "
                                                          f"got {attrs['specversion']!r}")], source="CloudEvent")
        missing = [FieldError(name, "required") for name in _REQUIRED if name not in attrs]
        if missing:
            raise InvalidInput(missing, source="CloudEvent")
        self._attributes = attrs
        self.data = data

    @classmethod
    def create(cls, attributes: Mapping[str, Any], data: Any) -> "CloudEvent":
        """How the SDK's converters (``from_http(CloudEvent, …)``) build an event of a given class."""
        return cls(attributes, data)

    def get_attributes(self) -> Mapping[str, Any]:
        """A read-only view of the attributes (``data`` is not one)."""
        return MappingProxyType(self._attributes)

    def _get_attributes(self) -> dict[str, Any]:
        return self._attributes

    def get_data(self) -> Any:
        return self.data

    def get(self, key: str, default: Any = None) -> Any:
        return self._attributes.get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self._attributes[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._attributes[key] = value

    def __delitem__(self, key: str) -> None:
        del self._attributes[key]

    def __contains__(self, key: object) -> bool:
        return key in self._attributes

    def __iter__(self) -> Iterator[str]:
        return iter(self._attributes)

    def __len__(self) -> int:
        return len(self._attributes)

    def __eq__(self, other: object) -> bool:
        get_attributes = getattr(other, "get_attributes", None)
        get_data = getattr(other, "get_data", None)
        if not (callable(get_attributes) and callable(get_data)):
            return NotImplemented
        return self.get_data() == get_data() and self._attributes == dict(get_attributes())

    __hash__ = None  # type: ignore[assignment]  # mutable, like the SDK's

    def __repr__(self) -> str:
        return str({"attributes": self._attributes, "data": self.data})
