"""With PYDANTIC_DISABLE_PLUGINS=__all__ (each func.yaml sets it) pydantic's plugin loader, and
with it importlib.metadata (41 M instructions of a cold start), is never imported; with plugins
enabled pydantic's own loader answers as before. Each case runs in a fresh interpreter: the
loader is chosen once per process."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import sys
import kubeskippy.serving
from pydantic import BaseModel

class Probe(BaseModel):
    x: int

loader = sys.modules.get("pydantic.plugin._loader")
print(Probe(x=1).x, "importlib.metadata" in sys.modules, getattr(loader, "__file__", None) is not None)
"""


def fresh(code: str, **env: str) -> list[str]:
    environ = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    out = subprocess.run([sys.executable, "-c", code], env={**environ, **env}, capture_output=True, text=True,
                         check=True).stdout
    return out.strip().split("\n")


def test_with_every_plugin_disabled_no_model_imports_importlib_metadata():
    assert fresh(PROBE, PYDANTIC_DISABLE_PLUGINS="__all__") == ["1 False False"]


def test_with_plugins_enabled_pydantics_own_loader_is_used():
    assert fresh(PROBE) == ["1 True True"]
    assert fresh(PROBE, PYDANTIC_DISABLE_PLUGINS="some-plugin") == ["1 True True"]  # one disabled, not all


def test_plugins_enabled_after_the_start_are_looked_up_by_pydantics_own_loader():
    code = """
import os, sys
import kubeskippy.serving
os.environ.pop("PYDANTIC_DISABLE_PLUGINS")
from pydantic import BaseModel
from kubeskippy.serving import pydantic_plugins

class Late(BaseModel):
    y: str

loader = sys.modules["pydantic.plugin._loader"]
print(Late(y="a").y, "importlib.metadata" in sys.modules, pydantic_plugins._real is not None,
      loader.PYDANTIC_ENTRY_POINT_GROUP)
"""
    assert fresh(code, PYDANTIC_DISABLE_PLUGINS="__all__") == ["a True True pydantic"]


def test_nothing_is_replaced_once_pydantic_loaded_its_own_loader():
    code = """
import pydantic.plugin._loader as own
from kubeskippy.serving import pydantic_plugins
import sys
print(pydantic_plugins.install({"PYDANTIC_DISABLE_PLUGINS": "__all__"}), sys.modules[pydantic_plugins.LOADER] is own)
"""
    assert fresh(code, PYDANTIC_DISABLE_PLUGINS="__all__") == ["False True"]
