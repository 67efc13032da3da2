"""Parse a YAML-or-JSON text (an annotation, a patch) without importing PyYAML when it is JSON.

JSON is YAML, so these texts have always gone to the YAML parser; but importing PyYAML costs a
function's cold start ~90 M instructions, and most such texts are JSON (what tooling and
``kubectl annotate`` with a JSON value write). JSON is answered by :func:`json.loads`; so is the
one YAML shape people write by hand in annotations, a block mapping of words to words or to flow
mappings of words (``capture-diagnostics: {custom: diagnostics}``), by :func:`_simple_yaml`, which
accepts only texts whose meaning in YAML is certain. Anything else goes to PyYAML's safe loader
(libyaml when available), imported on first need.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["StructuredTextError", "load_structured_text"]


class StructuredTextError(ValueError):
    """The text is neither JSON nor YAML; the message is the YAML parser's (line and column)."""


def load_structured_text(text: str) -> Any:
    """The value of a JSON or YAML document; raises :class:`StructuredTextError`."""
    if text.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(text)
        except ValueError:
            pass  # YAML flow style, or broken: the YAML parser decides and words the error
    simple = _simple_yaml(text)
    if simple is not None:
        return simple
    import yaml

    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - safe loaders
    except yaml.YAMLError as e:
        raise StructuredTextError(str(e)) from None


# A word: a plain scalar that YAML's safe loader reads as a string whatever its case. Starting with a
# letter and made of letters, digits, '-', '_' and '.', it can only be resolved as something else
# when it is one of YAML 1.1's booleans or nulls (ints, floats, timestamps start with a digit, a sign
# or a dot; '~', '<<' and '=' are not words), so those are refused whatever their case.
_WORD = r"[A-Za-z][A-Za-z0-9_.-]*"
_NOT_STRINGS = frozenset({"yes", "no", "true", "false", "on", "off", "null"})
_PAIR = re.compile(rf"({_WORD}) *: +({_WORD}|\{{.*\}}) *")
_FLOW_PAIR = re.compile(rf" *({_WORD}) *: +({_WORD}) *")


def _word(value: str) -> str | None:
    return None if value.lower() in _NOT_STRINGS else value


def _simple_yaml(text: str) -> dict[str, Any] | None:
    """The value of a block mapping at column 0 whose keys are words and whose values are words or
    one-line flow mappings of words to words; ``None`` for any other text (PyYAML decides then).
    Duplicate keys, comments, quotes, tabs, blank lines between entries and numbers all fall back."""
    lines = text.split("\n")
    while lines and lines[-1] == "":
        lines.pop()  # a literal block (``|``) ends with one newline
    if not lines:
        return None
    out: dict[str, Any] = {}
    for line in lines:
        if len(line) > 1000:
            return None  # YAML allows an implicit key of at most 1024 characters
        m = _PAIR.fullmatch(line)
        if m is None or _word(m[1]) is None or m[1] in out:
            return None
        raw = m[2]
        value = _flow_mapping(raw[1:-1]) if raw.startswith("{") else _word(raw)
        if value is None:
            return None
        out[m[1]] = value
    return out


def _flow_mapping(inner: str) -> dict[str, str] | None:
    """``a: b, c: d`` (the inside of ``{…}``) as a dict of words, or ``None``."""
    out: dict[str, str] = {}
    if inner.strip(" ") == "":
        return out
    for item in inner.split(","):
        m = _FLOW_PAIR.fullmatch(item)
        if m is None or _word(m[1]) is None or _word(m[2]) is None or m[1] in out:
            return None
        out[m[1]] = m[2]
    return out
