"""Package attributes that import their module on first use.

Why: a Knative function's cold start pays for every module its packages import at import time,
and most of a package (the LLM backends of analyze, the rule compiler of detect, the ledger when
only the compare-and-swap loop is needed) is not on a function's first event. A package lists
where each public name lives; importing the package then costs nothing more.
"""

from __future__ import annotations

import sys
from importlib import import_module
from typing import Any, Callable, Iterable, Mapping

__all__ = ["lazy_attributes"]


def lazy_attributes(package: str, homes: Mapping[str, str],
                    submodules: Iterable[str] = ()) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package`` (a package, or a plain module whose names live in
    sibling modules): a name in ``homes`` resolves to the attribute of that module, found next to
    ``package``'s own modules; a name in ``submodules`` to the submodule itself. Each is imported
    once and then kept in ``package``'s namespace."""
    modules = frozenset(submodules)

    def __getattr__(name: str) -> Any:
        anchor = sys.modules[package].__package__  # the package itself, or a plain module's parent
        if name in homes:
            value = getattr(import_module(f".{homes[name]}", anchor), name)
        elif name in modules:
            value = import_module(f".{name}", anchor)
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *homes, *modules})

    return __getattr__, __dir__
