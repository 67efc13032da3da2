"""With pydantic's plugins disabled, pydantic's plugin loader is not imported at all.

Why: pydantic builds every model's validator through ``pydantic.plugin._schema_validator``, which
imports ``pydantic.plugin._loader``, whose first line imports ``importlib.metadata`` (and with it
``email``, ``zipfile``, ``csv``, …): 41 M instructions of every function's cold start (valgrind,
``python -c`` pairs), spent even when ``PYDANTIC_DISABLE_PLUGINS=__all__`` (each func.yaml sets it,
for the plugin scan it avoids) makes that loader return no plugin at all.

:func:`install` registers a loader in its place, only while the setting disables every plugin and
only if pydantic has not loaded its own yet. Its ``get_plugins`` answers no plugin while the
setting still disables them all; otherwise, and for any other name, it loads pydantic's own module
(from pydantic's file, under another name) and defers to it, so with plugins enabled nothing
changes but the moment of that import.
"""

from __future__ import annotations

import os
import sys
import types
from typing import Any, Iterable, Mapping

__all__ = ["install", "LOADER", "DISABLED"]

LOADER = "pydantic.plugin._loader"
DISABLED = ("__all__", "1", "true")
"""The values of PYDANTIC_DISABLE_PLUGINS with which pydantic loads no plugin (its own test)."""

_real: types.ModuleType | None = None


def _pydantic_loader() -> types.ModuleType:
    """pydantic's own loader module, loaded once from its file."""
    global _real
    if _real is None:
        import importlib.util

        package = importlib.util.find_spec("pydantic.plugin")
        if package is None or not package.submodule_search_locations:
            raise ImportError("pydantic.plugin is not installed")
        path = os.path.join(list(package.submodule_search_locations)[0], "_loader.py")
        spec = importlib.util.spec_from_file_location(f"{LOADER}_deferred", path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load pydantic's plugin loader from {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _real = module
    return _real


def _get_plugins() -> Iterable[Any]:
    if os.getenv("PYDANTIC_DISABLE_PLUGINS") in DISABLED:
        return ()
    return _pydantic_loader().get_plugins()


def _attribute(name: str) -> Any:
    if name.startswith("__"):  # the import system probing (``__path__``, …): a plain module's answer
        raise AttributeError(name)
    return getattr(_pydantic_loader(), name)


def install(environ: Mapping[str, str] | None = None) -> bool:
    """Register the loader; False (nothing done) unless every plugin is disabled and pydantic's
    own loader is not loaded yet."""
    env = os.environ if environ is None else environ
    if env.get("PYDANTIC_DISABLE_PLUGINS") not in DISABLED or LOADER in sys.modules:
        return False
    module = types.ModuleType(LOADER, __doc__)
    module.get_plugins = _get_plugins  # type: ignore[attr-defined]
    module.__getattr__ = _attribute  # type: ignore[attr-defined]
    sys.modules[LOADER] = module
    return True
