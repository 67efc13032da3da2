"""The policy language: HealingPolicy and HealingAction (kubeskippy.io/v1alpha1)."""

from .model import *  # noqa: F401,F403
from .model import __all__ as _model_all

__all__ = list(_model_all)
