"""A base for small mutable records written as plain classes with ``__slots__``.

Why not dataclasses: defining one compiles its generated methods with ``exec``, ~2.5–3.9 M
instructions of a function's cold start each (docs/functions.md, "Session 7"), and the records
on the functions' start-up paths are defined on every scale from zero. A subclass names its
fields in ``__slots__`` and sets them in ``__init__``; equality (same class, same fields) and the
repr come from those fields, as a dataclass's would.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SlotRecord"]


class SlotRecord:
    __slots__ = ()

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._fields() == other._fields()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]  # mutable, like a dataclass with eq

    def __repr__(self) -> str:
        return f"{type(self).__name__}(" + ", ".join(
            f"{name}={value!r}" for name, value in zip(self.__slots__, self._fields())) + ")"
