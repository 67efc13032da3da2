"""Built-in metric names and the exact PromQL each one stands for.

A metric trigger's ``query`` is either one of these names or any PromQL expression (used as is).
Every built-in yields one series per pod, labelled ``namespace`` and ``pod``, so a breaching
series maps back to its Pod. Percentages are computed per container against *that container's own*
limit (or its request when it has no limit) and the pod's value is its worst container: a
container with neither contributes nothing, and a pod whose containers have neither has no series
at all, so it can never breach (see docs/detection.md).

Series come from cAdvisor (kubelet ``/metrics/cadvisor``: ``container_*``), kube-state-metrics
(``kube_pod_*``) and, for the error rates, the application's own ``http_requests_total`` with a
``code`` label (the client_golang / prometheus_client convention).

When a policy lists namespaces, a namespace matcher is added to every selector, so Prometheus
neither computes nor alerts on pods the policy cannot select.
"""

from __future__ import annotations

import re
from typing import Callable, NamedTuple, Sequence

__all__ = [
    "BuiltinMetric",
    "BUILTIN_METRICS",
    "RATE_WINDOW",
    "expand_query",
    "identify_builtin",
    "namespace_matcher",
    "NAMESPACE_NAME",
]

RATE_WINDOW = "5m"
"""Window of every ``rate``/``avg_over_time`` in the built-ins (four scrapes at the common 1m
interval is the least Prometheus recommends; 5m is the kube-prometheus convention)."""

_CONTAINERS = 'container!="",container!="POD"'
_5XX = 'code=~"5.."'
_OOM = 'reason="OOMKilled"'
_READY = 'condition="true"'
"""cAdvisor also exports the pod cgroup (container="") and the pause container (POD)."""

Selector = Callable[[str, str], str]
"""``s(metric, matchers)`` renders ``metric{matchers[,namespace matcher]}``."""


class BuiltinMetric(NamedTuple):
    name: str
    unit: str
    description: str
    render: Callable[[Selector], str]

    def promql(self, namespaces: Sequence[str] | None = None) -> str:
        """The expression, restricted to ``namespaces`` when given (empty or None: all)."""
        extra = namespace_matcher(namespaces)

        def selector(metric: str, matchers: str) -> str:
            inner = ",".join(m for m in (matchers, extra) if m)
            return f"{metric}{{{inner}}}" if inner else metric

        return self.render(selector)


NAMESPACE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
"""A DNS-1123 label: the only shape a namespace name can have, and free of regex metacharacters."""


def namespace_matcher(namespaces: Sequence[str] | None) -> str:
    """``namespace="a"`` or ``namespace=~"a|b"``; empty when every namespace is wanted.

    Raises ValueError for a name that cannot be a namespace (it could not be quoted safely).
    """
    if not namespaces:
        return ""
    names = sorted(set(namespaces))
    for name in names:
        if not NAMESPACE_NAME.match(name):
            raise ValueError(f"{name!r} is not a valid namespace name (lowercase letters, digits and '-')")
    if len(names) == 1:
        return f'namespace="{names[0]}"'
    return 'namespace=~"' + "|".join(names) + '"'


def _percent_of_own_limit(resource: str, usage: Callable[[Selector], str]) -> Callable[[Selector], str]:
    def render(s: Selector) -> str:
        per_container = "namespace, pod, container"
        wanted = f'resource="{resource}"'
        limits = f'sum by ({per_container}) ({s("kube_pod_container_resource_limits", wanted)})'
        requests = f'sum by ({per_container}) ({s("kube_pod_container_resource_requests", wanted)})'
        return (f"max by (namespace, pod) (100 * {usage(s)} / on ({per_container}) "
                f"({limits} or {requests}))")

    return render


def _memory_per_container(s: Selector) -> str:
    return f'max by (namespace, pod, container) ({s("container_memory_working_set_bytes", _CONTAINERS)})'


def _cpu_per_container(s: Selector) -> str:
    return (f'sum by (namespace, pod, container) '
            f'(rate({s("container_cpu_usage_seconds_total", _CONTAINERS)}[{RATE_WINDOW}]))')


def _http_rate(s: Selector, matchers: str) -> str:
    return f'sum by (namespace, pod) (rate({s("http_requests_total", matchers)}[{RATE_WINDOW}]))'


_METRICS: tuple[BuiltinMetric, ...] = (
    BuiltinMetric(
        "memory_usage_percent", "percent",
        "Working set of the pod's fullest container as a percentage of that container's memory limit "
        "(its request when it has no limit).",
        _percent_of_own_limit("memory", _memory_per_container),
    ),
    BuiltinMetric(
        "memory_usage_bytes", "bytes",
        "Working set of all the pod's containers, in bytes.",
        lambda s: f'sum by (namespace, pod) ({s("container_memory_working_set_bytes", _CONTAINERS)})',
    ),
    BuiltinMetric(
        "cpu_usage_percent", "percent",
        f"CPU use of the pod's busiest container over {RATE_WINDOW} as a percentage of that container's CPU "
        "limit (its request when it has no limit).",
        _percent_of_own_limit("cpu", _cpu_per_container),
    ),
    BuiltinMetric(
        "cpu_usage_cores", "cores",
        f"CPU use of all the pod's containers over {RATE_WINDOW}, in cores.",
        lambda s: (f'sum by (namespace, pod) '
                   f'(rate({s("container_cpu_usage_seconds_total", _CONTAINERS)}[{RATE_WINDOW}]))'),
    ),
    BuiltinMetric(
        "cpu_throttling_percent", "percent",
        f"Share of CFS periods in which the pod was throttled over {RATE_WINDOW}.",
        lambda s: (f'100 * sum by (namespace, pod) '
                   f'(rate({s("container_cpu_cfs_throttled_periods_total", _CONTAINERS)}[{RATE_WINDOW}])) '
                   f'/ sum by (namespace, pod) '
                   f'(rate({s("container_cpu_cfs_periods_total", _CONTAINERS)}[{RATE_WINDOW}]))'),
    ),
    BuiltinMetric(
        "restart_count", "restarts",
        "Container restarts of the pod since it was created (the sum over its containers).",
        lambda s: f'sum by (namespace, pod) ({s("kube_pod_container_status_restarts_total", "")})',
    ),
    BuiltinMetric(
        "recent_restarts", "restarts",
        "Container restarts of the pod in the last 15 minutes (Prometheus' increase(), so it may "
        "be fractional).",
        lambda s: f'sum by (namespace, pod) (increase({s("kube_pod_container_status_restarts_total", "")}[15m]))',
    ),
    BuiltinMetric(
        "oom_killed", "boolean",
        "1 while some container of the pod last terminated with reason OOMKilled.",
        lambda s: (f'max by (namespace, pod) '
                   f'({s("kube_pod_container_status_last_terminated_reason", _OOM)})'),
    ),
    BuiltinMetric(
        "error_rate", "requests/s",
        f"HTTP 5xx responses per second served by the pod over {RATE_WINDOW}; 0 for a pod with traffic "
        "but no 5xx.",
        lambda s: f'{_http_rate(s, _5XX)} or 0 * {_http_rate(s, "")}',
    ),
    BuiltinMetric(
        "error_rate_percent", "percent",
        f"HTTP 5xx responses as a percentage of all responses of the pod over {RATE_WINDOW}; 0 for a pod "
        "with traffic but no 5xx, no value for a pod without traffic.",
        lambda s: (f'100 * ({_http_rate(s, _5XX)} or 0 * {_http_rate(s, "")}) '
                   f'/ {_http_rate(s, "")}'),
    ),
    BuiltinMetric(
        "availability_percent", "percent",
        f"Share of the last {RATE_WINDOW} in which the pod was Ready.",
        lambda s: (f'100 * max by (namespace, pod) '
                   f'(avg_over_time({s("kube_pod_status_ready", _READY)}[{RATE_WINDOW}]))'),
    ),
)

BUILTIN_METRICS: dict[str, BuiltinMetric] = {m.name: m for m in _METRICS}


def expand_query(query: str, namespaces: Sequence[str] | None = None) -> str:
    """The PromQL for a trigger's ``query``: a built-in expands, anything else is used as is."""
    builtin = BUILTIN_METRICS.get(query.strip())
    if builtin is None:
        return query.strip()
    return builtin.promql(namespaces)


_NS_MATCHER = re.compile(r',?namespace=~?"([-a-z0-9|]*)"')
_BY_PROMQL = {m.promql(): m for m in _METRICS}


def identify_builtin(promql: str) -> tuple[BuiltinMetric, tuple[str, ...]] | None:
    """Which built-in (and namespace restriction) an expanded expression came from, if any.

    For evaluators that understand the built-ins by name rather than parsing PromQL (the
    simulator's series store does this).
    """
    namespaces: tuple[str, ...] = ()
    found = _NS_MATCHER.search(promql)
    if found:
        namespaces = tuple(found.group(1).split("|"))
    base = _NS_MATCHER.sub("", promql).replace("{}", "").replace("{,", "{")
    metric = _BY_PROMQL.get(base)
    if metric is None or metric.promql(namespaces) != promql:
        return None
    return metric, namespaces
