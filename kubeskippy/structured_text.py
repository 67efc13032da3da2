"""Parse a YAML-or-JSON text (an annotation, a patch) without importing PyYAML when it is JSON.

JSON is YAML, so these texts have always gone to the YAML parser; but importing PyYAML costs a
function's cold start ~90 M instructions, and most such texts are JSON (what tooling and
``kubectl annotate`` with a JSON value write). JSON is answered by :func:`json.loads`; anything
else by PyYAML's safe loader (libyaml when available), imported on first need.
"""

from __future__ import annotations

import json
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
    import yaml

    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - safe loaders
    except yaml.YAMLError as e:
        raise StructuredTextError(str(e)) from None
