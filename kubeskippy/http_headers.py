"""HTTP/1.x header blocks split without the ``email`` package.

``http.client`` and ``http.server`` hand every header block to the email parser: ~25 M
instructions to import on a function's cold start, and tens of microseconds per block. The
functions' HTTP clients (:mod:`kubeskippy.adapters.http_pool`, :mod:`~kubeskippy.adapters.async_http`)
read answers with this, and the devcluster's server reads requests with it. A block that is not
plain ``Name: value`` lines still goes to the email parser, so every block parses as there.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Iterator

__all__ = ["HeaderFields", "parse_header_lines"]

_FIELD_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]+")
"""What the email parser accepts as a field name (printable ASCII but the colon)."""


class HeaderFields:
    """A header block's fields in their order, looked up by name in any case as ``http.client``'s
    ``HTTPMessage`` answers them (``get`` and ``[]``: the first value or None; ``get_all``: every
    value), without importing ``http.client`` and the ``email`` package, ~25 M instructions of
    every function's cold start (``func-python`` imports neither)."""

    __slots__ = ("_fields",)

    def __init__(self, fields: Iterable[tuple[str, str]] = ()) -> None:
        self._fields = list(fields)

    def get(self, name: str, default: Any = None) -> Any:
        wanted = name.lower()
        for key, value in self._fields:
            if key.lower() == wanted:
                return value
        return default

    def __getitem__(self, name: str) -> str | None:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(key.lower() == name.lower() for key, _ in self._fields)

    def get_all(self, name: str, failobj: Any = None) -> Any:
        wanted = name.lower()
        values = [value for key, value in self._fields if key.lower() == wanted]
        return values or failobj

    def items(self) -> list[tuple[str, str]]:
        return list(self._fields)

    def keys(self) -> list[str]:
        return [key for key, _ in self._fields]

    def values(self) -> list[str]:
        return [value for _, value in self._fields]

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        return f"HeaderFields({self._fields!r})"


def parse_header_lines(lines: list[bytes]) -> HeaderFields:
    """The fields ``http.client.parse_headers`` gives, split by hand when every line is a plain
    ``Name: value`` field (the email parser keeps the value's trailing blanks and strips its
    leading ones, and so does this); anything else (folded, malformed or mbox-style lines) goes to
    the email parser as in ``http.client``."""
    fields: list[tuple[str, str]] = []
    for raw in lines:
        if raw in (b"\r\n", b"\n", b""):
            return HeaderFields(fields)
        line = raw.decode("iso-8859-1")
        name, colon, value = line.partition(":")
        if not colon or not _FIELD_NAME.fullmatch(name):
            break
        fields.append((name, value.lstrip(" \t").rstrip("\r\n")))
    else:
        return HeaderFields(fields)
    import email.parser

    text = b"".join(lines).decode("iso-8859-1")
    return HeaderFields(email.parser.Parser().parsestr(text).items())
