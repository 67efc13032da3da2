"""Detection: which policy triggers fire, for which objects, with what evidence.

Pure decision code behind the Cluster, Metrics and Clock ports. The entry point is
:class:`Detector`; :func:`compile_rules` turns metric triggers into Prometheus alerting rules so
Prometheus does the continuous evaluation and the detect function sleeps until an alert arrives.
"""

from .builtin_metrics import BUILTIN_METRICS, BuiltinMetric, expand_query, identify_builtin
from .compiled import CompiledPolicy, compile_policies, compile_policy, policy_key
from .detector import Detector, DetectorSettings
from .findings import fingerprint_for
from .metric_eval import RangeSettings, range_step
from .rules import compile_rules, to_prometheus_rule

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
