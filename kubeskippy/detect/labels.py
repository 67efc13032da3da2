"""Kubernetes label selectors, compiled once per policy and matched many times.

A selector is compiled into a tuple of small predicate tuples so that matching a Pod costs a few
dict lookups: detection runs this for every observation, tens of thousands per second.
Semantics are those of ``metav1.LabelSelector``: all terms must hold; ``NotIn`` and
``DoesNotExist`` hold when the key is absent; an empty selector selects everything.
"""

from __future__ import annotations

from typing import Mapping, NamedTuple

from ..policy.model import LabelSelector

__all__ = ["CompiledLabelSelector", "compile_label_selector", "MATCH_EVERYTHING"]

_IN, _NOT_IN, _EXISTS, _NOT_EXISTS = 0, 1, 2, 3
_OPERATORS = {"In": _IN, "NotIn": _NOT_IN, "Exists": _EXISTS, "DoesNotExist": _NOT_EXISTS}


class CompiledLabelSelector(NamedTuple):
    """``equal`` pairs from matchLabels, then ``terms`` (operator code, key, values) from matchExpressions."""

    equal: tuple[tuple[str, str], ...] = ()
    terms: tuple[tuple[int, str, frozenset[str]], ...] = ()

    @property
    def selects_everything(self) -> bool:
        return not self.equal and not self.terms

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        """True when every matchLabels pair and every matchExpressions term holds for ``labels``."""
        labels = labels or {}
        for key, value in self.equal:
            if labels.get(key) != value:
                return False
        for op, key, values in self.terms:
            present = key in labels
            if op == _IN:
                if not present or labels[key] not in values:
                    return False
            elif op == _NOT_IN:
                if present and labels[key] in values:
                    return False
            elif op == _EXISTS:
                if not present:
                    return False
            elif present:  # DoesNotExist
                return False
        return True

    def to_query(self) -> str:
        """The selector in Kubernetes' string form (``app=web,tier in (a,b),!legacy``), for list calls."""
        parts = [f"{k}={v}" for k, v in self.equal]
        for op, key, values in self.terms:
            if op == _IN:
                parts.append(f"{key} in ({','.join(sorted(values))})")
            elif op == _NOT_IN:
                parts.append(f"{key} notin ({','.join(sorted(values))})")
            elif op == _EXISTS:
                parts.append(key)
            else:
                parts.append(f"!{key}")
        return ",".join(parts)


MATCH_EVERYTHING = CompiledLabelSelector()


def compile_label_selector(selector: LabelSelector | None) -> CompiledLabelSelector:
    """Turn a policy's labelSelector into its fast form; ``None`` selects everything."""
    if selector is None:
        return MATCH_EVERYTHING
    equal = tuple(sorted(selector.match_labels.items()))
    terms = tuple(
        (_OPERATORS[req.operator], req.key, frozenset(req.values)) for req in selector.match_expressions
    )
    return CompiledLabelSelector(equal, terms)
