"""The SimPy what-if simulator (importable as kubeskippy.simulator).

It runs the production detection, analysis, safety and remediation code through the ports on a
simulated cluster in virtual time. Entry points: :func:`load_scenario`, :class:`Arm`,
:func:`run_once` / :func:`run_grid`, and :mod:`.report`; on the command line,
``kubeskippy simulate``.
"""

from .runner import NO_HEALING, Arm, Run, run_grid, run_once
from .scenario import Scenario, load_scenario, parse_scenario

__all__ = ["Arm", "Run", "run_once", "run_grid", "NO_HEALING", "Scenario", "load_scenario", "parse_scenario"]
