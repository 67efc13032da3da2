"""Detection: which policy triggers fire, for which objects, with what evidence.

Pure decision code behind the Cluster, Metrics and Clock ports. The entry point is
:class:`Detector`; :func:`compile_rules` turns metric triggers into Prometheus alerting rules so
Prometheus does the continuous evaluation and the detect function sleeps until an alert arrives.
"""

from ..lazy import lazy_attributes
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the names below, for type checkers; at run time they load on first use
    from .builtin_metrics import BUILTIN_METRICS, BuiltinMetric, expand_query, identify_builtin
    from .compiled import CompiledPolicy, compile_policies, compile_policy, policy_key
    from .detector import Detector, DetectorSettings
    from .findings import fingerprint_for
    from .metric_eval import RangeSettings, range_step
    from .rules import compile_rules, to_prometheus_rule

# Where each public name lives. Loaded on first use: the detect function imports the detector,
# and has no use for the Prometheus rule compiler (``rules``, used by the CLI and deploy).
_HOMES = {
    "BUILTIN_METRICS": "builtin_metrics", "BuiltinMetric": "builtin_metrics", "expand_query": "builtin_metrics",
    "identify_builtin": "builtin_metrics",
    "CompiledPolicy": "compiled", "compile_policies": "compiled", "compile_policy": "compiled",
    "policy_key": "compiled",
    "Detector": "detector", "DetectorSettings": "detector",
    "fingerprint_for": "findings",
    "RangeSettings": "metric_eval", "range_step": "metric_eval",
    "compile_rules": "rules", "to_prometheus_rule": "rules",
}
# Submodules the package used to load eagerly, still reachable as attributes.
_SUBMODULES = {"builtin_metrics", "comparison", "compiled", "conditions", "detector", "event_counting", "evidence",
               "findings", "labels", "metric_eval", "objects", "reading", "rules", "selection", "sweep_listing",
               "targets"}


__getattr__, __dir__ = lazy_attributes(__name__, _HOMES, _SUBMODULES)


__all__ = [
    "Detector",
    "DetectorSettings",
    "RangeSettings",
    "range_step",
    "BUILTIN_METRICS",
    "BuiltinMetric",
    "expand_query",
    "identify_builtin",
    "CompiledPolicy",
    "compile_policy",
    "compile_policies",
    "policy_key",
    "fingerprint_for",
    "compile_rules",
    "to_prometheus_rule",
]
