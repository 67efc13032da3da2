"""Configuration shared by the function services, read once in ``start(cfg)``.

Clients are created on first use, in the worker thread that needs them. The Kubernetes client
is the standard-library one of kubeskippy.adapters.kubernetes_http (in a pod or at
KUBESKIPPY_KUBE_URL); the ``kubernetes`` package (~0.3 s to import) only serves kubeconfigs.

==============================  ==========================================================
KUBESKIPPY_KUBE_URL             API server URL without auth (the dev mesh and tests); unset =
                                in-cluster service account, else the kubeconfig
KUBESKIPPY_KUBE_TOKEN           bearer token sent to KUBESKIPPY_KUBE_URL (optional; the dev
                                mesh and the RBAC tests give each function its own)
KUBESKIPPY_PROMETHEUS_URL       Prometheus for metric triggers and trends (unset = none)
KUBESKIPPY_POLICY_SOURCE        ``cluster`` (HealingPolicy objects, default) or ``files``
KUBESKIPPY_POLICY_FILES         comma-separated YAML files or folders (with ``files``)
KUBESKIPPY_POLICY_TTL_SECONDS   how long a replica reuses the policies it read (default 30)
KUBESKIPPY_NAMESPACE            the namespace KubeSkippy runs in (default ``kubeskippy``)
==============================  ==========================================================
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Callable, Generic, Mapping, TypeVar

from ..errors import APINotFound, InvalidInput
from ..ports import Cluster, Metrics

if TYPE_CHECKING:  # the policy models and YAML loader are imported by PolicySource, not by audit's Lazy
    from ..policy.model import HealingPolicy

__all__ = ["Lazy", "cluster_from_config", "metrics_from_config", "PolicySource", "namespace_from_config",
           "float_setting"]

log = logging.getLogger("kubeskippy.services")
T = TypeVar("T")


class Lazy(Generic[T]):
    """A value built on first use, once, thread-safely."""

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._value: T | None = None
        self._lock = threading.Lock()

    def built(self) -> T | None:
        """The value if it was built already, else None (never builds: for callers that must not
        do the building's I/O, such as an event loop)."""
        return self._value

    def get(self) -> T:
        if self._value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._factory()
        return self._value


def float_setting(cfg: Mapping[str, str], name: str, default: float) -> float:
    raw = cfg.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError:
        raise InvalidInput(f"{name}: must be a number, got {raw!r}") from None


def namespace_from_config(cfg: Mapping[str, str]) -> str:
    return cfg.get("KUBESKIPPY_NAMESPACE") or "kubeskippy"


def cluster_from_config(cfg: Mapping[str, str]) -> Lazy[Cluster]:
    url = cfg.get("KUBESKIPPY_KUBE_URL")
    token = cfg.get("KUBESKIPPY_KUBE_TOKEN")

    def build() -> Cluster:
        from ..adapters.kubernetes import KubernetesCluster

        if url:
            return KubernetesCluster.for_url(url, token=token)
        return KubernetesCluster.from_environment()

    return Lazy(build)


def metrics_from_config(cfg: Mapping[str, str]) -> Lazy[Metrics | None]:
    url = cfg.get("KUBESKIPPY_PROMETHEUS_URL")

    def build() -> Metrics | None:
        if not url:
            return None
        from ..adapters.prometheus import PrometheusMetrics

        return PrometheusMetrics(url)

    return Lazy(build)


_KEYS_BEFORE_PRUNING = 256
"""Keys :meth:`PolicySource.get` keeps before it drops the stale ones: events name the keys
(including policies that do not exist), so without pruning the cache would grow with every name
ever asked for; with it, it holds at most this many or those asked within one TTL."""


class PolicySource:
    """The HealingPolicies a replica applies, re-read at most every ``ttl`` seconds.

    From the cluster, a policy that fails validation is logged and skipped (the CRD schema
    should have stopped it); the others still apply. From files, any invalid document is a
    configuration error reported by ready().
    """

    def __init__(self, cfg: Mapping[str, str], cluster: Lazy[Cluster]) -> None:
        self.mode = (cfg.get("KUBESKIPPY_POLICY_SOURCE") or "cluster").strip()
        if self.mode not in ("cluster", "files"):
            raise InvalidInput(f"KUBESKIPPY_POLICY_SOURCE: must be cluster or files, got {self.mode!r}")
        self.ttl = float_setting(cfg, "KUBESKIPPY_POLICY_TTL_SECONDS", 30.0)
        self._cluster = cluster
        self._lock = threading.Lock()
        self._policies: list[HealingPolicy] = []
        self._read_at = float("-inf")
        self._one: dict[str, tuple[float, HealingPolicy | None]] = {}  # key → (read at, policy) (get)
        self.generation = 0
        """Bumped whenever the policy set is re-read, so users can recompile only then."""
        if self.mode == "files":
            from ..policy.loading import load_files

            paths = [p.strip() for p in (cfg.get("KUBESKIPPY_POLICY_FILES") or "").split(",") if p.strip()]
            if not paths:
                raise InvalidInput("KUBESKIPPY_POLICY_FILES: required when KUBESKIPPY_POLICY_SOURCE=files")
            self._policies = list(load_files(paths).policies)
            self._read_at = float("inf")

    def policies(self) -> list[HealingPolicy]:
        with self._lock:
            self._refresh(time.monotonic())
            return list(self._policies)

    def _refresh(self, now: float) -> None:
        """Re-read the set when it is older than ``ttl`` (lock held)."""
        if now - self._read_at > self.ttl:
            self._policies = self._read_cluster()
            self._read_at = time.monotonic()
            self.generation += 1

    def due(self) -> bool:
        """Whether the next :meth:`policies` call re-reads them (from the cluster: I/O)."""
        return time.monotonic() - self._read_at > self.ttl

    def get(self, key: str) -> HealingPolicy | None:
        """The policy named ``namespace/name``, or None. From files, or while the set
        :meth:`policies` read is fresh, from that set; otherwise that one object is read (a GET,
        not the list) and kept ``ttl`` seconds as the set is. Why: analyze and remediate need
        only the policy a finding or plan names, and listing and validating every policy in the
        cluster for it costs each one's first event the whole list and grows with the number of
        policies. A key without a namespace is looked up in the set."""
        namespace, _, name = key.rpartition("/")
        with self._lock:
            now = time.monotonic()
            if not namespace or now - self._read_at <= self.ttl:
                self._refresh(now)
                return next((p for p in self._policies if f"{p.namespace}/{p.name}" == key), None)
            cached = self._one.get(key)
            if cached is None or now - cached[0] > self.ttl:
                if cached is None and len(self._one) >= _KEYS_BEFORE_PRUNING:
                    self._one = {k: v for k, v in self._one.items() if now - v[0] <= self.ttl}
                cached = (now, self._read_one(namespace, name))
                self._one[key] = cached
            return cached[1]

    def _read_cluster(self) -> list[HealingPolicy]:
        objects = self._cluster.get().list("kubeskippy.io/v1alpha1", "HealingPolicy")
        return [policy for policy in map(self._checked, objects) if policy is not None]

    def _read_one(self, namespace: str, name: str) -> HealingPolicy | None:
        try:
            obj = self._cluster.get().get("kubeskippy.io/v1alpha1", "HealingPolicy", name, namespace)
        except APINotFound:
            return None
        return self._checked(obj)

    @staticmethod
    def _checked(obj: dict) -> HealingPolicy | None:
        """The policy an API object holds; None (logged with the field named) when invalid."""
        from ..policy.loading import check_object

        obj = {"apiVersion": "kubeskippy.io/v1alpha1", "kind": "HealingPolicy", **obj}
        meta = obj.get("metadata") or {}
        where = f"HealingPolicy {meta.get('namespace')}/{meta.get('name')}"
        checked = check_object(obj, source=where)
        if checked.errors:
            error = InvalidInput(checked.errors, source=where)
            log.error("invalid policy skipped", extra={"fields": {"policy": where, "error": str(error)}})
            return None
        return checked.objects[0]  # type: ignore[return-value] - the kind is HealingPolicy
