"""Package discovery only (everything else is in pyproject.toml).

The simulator lives in the top-level folder ``simulator/`` but installs as ``kubeskippy.simulator``:
no top-level name other than ``kubeskippy`` may be installed (``simulator`` is someone else's
project on PyPI). setuptools' declarative ``packages.find`` cannot express that mapping for
subpackages, so we list them here.
"""

from setuptools import find_packages, setup

packages = ["kubeskippy." + p for p in find_packages("kubeskippy")] + ["kubeskippy"]
packages += ["kubeskippy.simulator"] + ["kubeskippy.simulator." + p for p in find_packages("simulator")]

setup(packages=packages)
