"""Our CloudEvent types and their payload models.

Names resolve on first use (``from kubeskippy.events import Finding`` works as before), so that
importing the package builds no payload model a function's first event does not need.
"""

from __future__ import annotations

import importlib
from typing import Any

from .model import __all__ as _model_all  # the module builds only what a Finding holds
from .types import __all__ as _types_all

__all__ = list(_model_all) + list(_types_all)


def __getattr__(name: str) -> Any:
    if name in _model_all or name in _types_all:
        module = importlib.import_module(".model" if name in _model_all else ".types", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
