"""Parsing multi-document YAML for the policy loader: line and column on every syntax error,
duplicate keys refused.

Apart from :mod:`kubeskippy.policy.loading` so that PyYAML is imported only when there is YAML
text to read (a file, ``kubeskippy send``): the functions read HealingPolicies from the cluster
as JSON objects, and importing PyYAML would cost every cold start ~90 M instructions.
"""

from __future__ import annotations

from typing import Any

import yaml

from ..errors import FieldError, InvalidInput

__all__ = ["parse_yaml_documents"]


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (kubectl does; PyYAML silently keeps the last)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            duplicate = key in seen
        except TypeError:
            continue  # unhashable key: the constructor below reports it
        if duplicate:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, f"found duplicate key {key!r}", key_node.start_mark)
        seen[key] = key_node
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

_FastLoader: type | None = None
if getattr(yaml, "CSafeLoader", None) is not None:  # PyYAML built with libyaml: ~10x faster parsing
    class _StrictCLoader(yaml.CSafeLoader):  # type: ignore[name-defined,misc]
        """libyaml's parser with the same constructor (and duplicate-key check) as _StrictLoader."""

    _StrictCLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _FastLoader = _StrictCLoader


def _yaml_error(e: yaml.YAMLError) -> FieldError:
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    problem = getattr(e, "problem", None) or str(e)
    context = getattr(e, "context", None)
    text = f"{context}: {problem}" if context and "duplicate" not in problem else problem
    if mark is not None:
        return FieldError("", f"YAML syntax error at line {mark.line + 1}, column {mark.column + 1}: {text}")
    return FieldError("", f"YAML syntax error: {text}")


def parse_yaml_documents(text: str, *, source: str = "<input>") -> list[Any]:
    """Every document of a YAML stream (empty ones included, as None).

    Raises :class:`InvalidInput` naming line and column on a syntax error or a duplicate key.
    Parsed by libyaml when PyYAML has it (policies are read at every cold start); a stream it
    refuses is parsed again by the pure-Python parser, whose answer (and error wording) counts.
    """
    if _FastLoader is not None:
        try:
            return list(yaml.load_all(text, Loader=_FastLoader))
        except yaml.YAMLError:
            pass
    try:
        return list(yaml.load_all(text, Loader=_StrictLoader))
    except yaml.YAMLError as e:
        raise InvalidInput([_yaml_error(e)], source=source) from None
