"""Our CloudEvent types and their payload models."""

from .model import *  # noqa: F401,F403
from .model import __all__ as _model_all
from .types import *  # noqa: F401,F403
from .types import __all__ as _types_all

__all__ = list(_model_all) + list(_types_all)
