"""Turn pydantic validation errors into kubectl-like field errors.

Pydantic reports ``('spec', 'triggers', 1, 'metricTrigger', 'operator')`` and
``Input should be '>', '<', ...``; people want
``spec.triggers[1].metricTrigger.operator: must be one of > < >= <= == !=``. Every error is
kept (never only the first), so one run of ``kubeskippy policy check`` names every bad field.

Model validators in our models raise ``ValueError("minReplicas: must not exceed maxReplicas")``:
a leading ``field:`` (or ``field.sub:``) names a field below the object that failed, and is
moved from the message into the path.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Sequence

from pydantic import ValidationError

from ..errors import FieldError

__all__ = ["format_path", "field_errors_from", "human_message", "UNKNOWN_FIELD", "NAME_PATTERN"]

UNKNOWN_FIELD = "unknown field"

NAME_PATTERN = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
"""The pattern ObjectMeta.name uses (an RFC 1123 subdomain), explained in words below."""

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
_FIELD_PREFIX = re.compile(r"^([A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9]*)*): (.+)$", re.S)
_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")


def format_path(loc: Iterable[Any], prefix: str = "") -> str:
    """``('spec', 'triggers', 1, 'x')`` → ``spec.triggers[1].x``; odd keys become ``["a/b"]``."""
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and _PLAIN_KEY.match(part):
            out += f".{part}" if out else part
        else:
            out += f'["{part}"]'
    return out


def _join(path: str, sub: str) -> str:
    return f"{path}.{sub}" if path else sub


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def human_message(error: dict[str, Any]) -> str:
    """A short message for one pydantic error dict (``type``, ``msg``, ``ctx``)."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    msg = str(error.get("msg", ""))
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return UNKNOWN_FIELD
    if kind == "literal_error" or kind == "enum":
        choices = _QUOTED.findall(str(ctx.get("expected", "")))
        return "must be one of " + " ".join(choices) if choices else msg
    if kind in ("string_type", "string_sub_type", "string_unicode"):
        return "must be a string"
    if kind in ("int_type", "int_parsing", "int_parsing_size"):
        return "must be an integer"
    if kind == "int_from_float":
        return "must be a whole number"
    if kind in ("float_type", "float_parsing", "finite_number"):
        return "must be a number"
    if kind in ("bool_type", "bool_parsing"):
        return "must be true or false"
    if kind in ("list_type", "tuple_type", "set_type", "iterable_type"):
        return "must be a list"
    if kind in ("dict_type", "model_type", "model_attributes_type", "dataclass_type", "mapping_type"):
        return "must be an object"
    if kind == "none_required":
        return "must be null"
    if kind == "too_short":
        return f"must have at least {_plural(ctx.get('min_length', 1), 'item')}"
    if kind == "too_long":
        return f"must have at most {_plural(ctx.get('max_length', 0), 'item')}"
    if kind == "string_too_short":
        n = ctx.get("min_length", 1)
        return "must not be empty" if n == 1 else f"must be at least {_plural(n, 'character')} long"
    if kind == "string_too_long":
        return f"must be at most {_plural(ctx.get('max_length', 0), 'character')} long"
    if kind == "string_pattern_mismatch":
        if ctx.get("pattern") == NAME_PATTERN:
            return ("must be a lowercase RFC 1123 name: a-z, 0-9, '-' and '.', "
                    "starting and ending with a letter or digit")
        return f"must match the pattern {ctx.get('pattern')}"
    bounds = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}
    if kind in bounds:
        key = {"greater_than": "gt", "greater_than_equal": "ge", "less_than": "lt", "less_than_equal": "le"}[kind]
        return f"must be {bounds[kind]} {ctx.get(key)}"
    if kind in ("value_error", "assertion_error"):
        for lead in ("Value error, ", "Assertion failed, "):
            if msg.startswith(lead):
                return msg[len(lead):]
        return msg
    if kind.startswith(("datetime", "date", "time")):
        return "must be an RFC 3339 timestamp"
    if kind == "json_invalid":
        return f"invalid JSON: {ctx.get('error', msg)}"
    return msg[0].lower() + msg[1:] if msg else kind


def field_errors_from(error: ValidationError | Sequence[dict[str, Any]], *, prefix: str = "") -> list[FieldError]:
    """Every error of a :class:`pydantic.ValidationError`, as FieldErrors with dotted paths.

    ``prefix`` is prepended to each path (``items[3]`` for the fourth object of a List).
    """
    details = error.errors() if isinstance(error, ValidationError) else error
    out: list[FieldError] = []
    for detail in details:
        path = format_path(detail.get("loc", ()), prefix)
        message = human_message(detail)
        if detail.get("type") in ("value_error", "assertion_error"):
            named = _FIELD_PREFIX.match(message)
            if named:
                path, message = _join(path, named.group(1)), named.group(2)
        error_ = FieldError(path, message)
        if error_ not in out:
            out.append(error_)
    return out
