"""A scenario: everything one simulated run needs, in one YAML file with defaults.

Every parameter of the world (nodes, start-up delays), of the workloads (which demo app, how
many replicas, its rates), of the signals (scrape and rule evaluation intervals, Alertmanager
grouping), of the Knative path (broker hop, cold starts, scale-to-zero) and of what counts as an
incident lives here, so a what-if question is answered by editing one file. Unknown fields are
rejected with their path, as for policies: a misspelt parameter silently keeping its default
would answer a different question than the one asked.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kubeskippy.analyze.quantities import parse_quantity
from kubeskippy.clock import from_rfc3339
from kubeskippy.errors import FieldError, InvalidInput
from kubeskippy.types import Duration

__all__ = [
    "Resources",
    "Probe",
    "WorkloadSpec",
    "NodePool",
    "ClusterSpec",
    "AlertRule",
    "AlertingSpec",
    "SignalsSpec",
    "FunctionTiming",
    "KnativeSpec",
    "IncidentSpec",
    "Scenario",
    "load_scenario",
    "parse_scenario",
    "builtin_scenario_names",
    "builtin_scenario_path",
    "DEMO_SUITE",
]

DEMO_SUITE = ("demo",)
"""Scenarios ``kubeskippy simulate`` runs with no arguments."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _quantity(value: Any) -> float:
    q = parse_quantity(value)
    if q is None or q < 0:
        raise ValueError("must be a Kubernetes quantity such as 512Mi, 2Gi, 250m or 2")
    return q


class Resources(_Model):
    """Container requests/limits as in a pod spec (quantities kept as written, for the objects)."""

    requests: dict[Literal["cpu", "memory"], str] = Field(default_factory=lambda: {"cpu": "100m", "memory": "64Mi"})
    limits: dict[Literal["cpu", "memory"], str] = Field(default_factory=lambda: {"cpu": "500m", "memory": "256Mi"})

    @field_validator("requests", "limits")
    @classmethod
    def _quantities(cls, v: dict[str, str]) -> dict[str, str]:
        for key, text in v.items():
            _quantity(text)
        return {k: str(t) for k, t in v.items()}

    def value(self, which: Literal["requests", "limits"], resource: str, default: float) -> float:
        text = getattr(self, which).get(resource)
        return _quantity(text) if text is not None else default


class Probe(_Model):
    """An HTTP probe; whether one attempt fails is decided by the workload's error model."""

    initial_delay: Duration = 0.0
    period: Duration = 10.0
    failure_threshold: int = Field(default=3, ge=1)


class WorkloadSpec(_Model):
    """One Deployment running one demo-app behaviour."""

    name: str = Field(min_length=1, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    namespace: str = "demo-apps"
    model: str = Field(description="A workload model name, see kubeskippy.simulator.workloads")
    replicas: int = Field(default=1, ge=0)
    labels: dict[str, str] = Field(default_factory=dict, description="Pod template labels (app=<name> added)")
    annotations: dict[str, str] = Field(default_factory=dict, description="Pod template annotations")
    container: str = "app"
    image: str = "busybox"
    resources: Resources = Field(default_factory=Resources)
    params: dict[str, Any] = Field(default_factory=dict, description="Model parameters; see docs/simulator.md")
    readiness_delay: Duration = Field(default=2.0, description="Started → Ready when no readiness probe is set")
    readiness_probe: Probe | None = None
    liveness_probe: Probe | None = None
    termination_grace: int = Field(default=30, ge=0)
    sigterm_exits_after: Duration | None = Field(
        default=None, description="Seconds to exit after SIGTERM; None: ignores it (PID 1 shell) → full grace")
    pdb_min_available: int | None = Field(default=None, ge=0)
    pdb_max_unavailable: int | None = Field(default=None, ge=0)
    max_surge: str = "25%"
    max_unavailable: str = "25%"
    image_pull: Duration | None = Field(default=None, description="Overrides cluster.image_pull")
    count: int = Field(default=1, ge=1, description="Deploy this many copies (name-0, name-1, …), for scale tests")


class NodePool(_Model):
    count: int = Field(default=3, ge=1)
    cpu: str = "8"
    memory: str = "32Gi"
    pods: int = Field(default=110, ge=1)

    @field_validator("cpu", "memory")
    @classmethod
    def _q(cls, v: str) -> str:
        _quantity(v)
        return str(v)


class ClusterSpec(_Model):
    nodes: NodePool = Field(default_factory=NodePool)
    scheduling_delay: Duration = 1.0
    image_pull: Duration = Field(default=3.0, description="First start of a pod on a node: pull the image")
    container_start: Duration = Field(default=1.0, description="Created → Started")
    event_ttl: Duration = Field(default=3600.0, description="The API server's --event-ttl")


class AlertRule(_Model):
    """A Prometheus alerting rule (the subset of fields Prometheus rule files use)."""

    alert: str
    expr: str
    for_: Duration = Field(default=0.0, alias="for")
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class AlertingSpec(_Model):
    rules: list[AlertRule] = Field(default_factory=list)
    policy_rules: bool = Field(default=True, description="Also compile the policies' metric triggers to rules, "
                                                          "when the rule compiler is installed")
    group_by: list[str] = Field(default_factory=lambda: ["alertname", "namespace"])
    group_wait: Duration = 30.0
    group_interval: Duration = 300.0
    repeat_interval: Duration = 14400.0
    resolve_timeout: Duration = 300.0


class SignalsSpec(_Model):
    scrape_interval: Duration = 15.0
    evaluation_interval: Duration = 15.0
    retention: Duration = Field(default=7200.0, description="How far back query_range can look")
    lookback_delta: Duration = 300.0
    requests_per_second: float = Field(default=5.0, ge=0, description="Traffic per pod for the error counters")


class FunctionTiming(_Model):
    """One Knative function: scale-to-zero after stable_window + grace_period + retention of
    no traffic; then the next event pays cold_start."""

    cold_start: Duration = 2.0
    processing: Duration = 0.05
    stable_window: Duration = 60.0
    grace_period: Duration = 30.0
    retention: Duration = 0.0
    min_scale: int = Field(default=0, ge=0)

    @property
    def idle_before_zero(self) -> float:
        return self.stable_window + self.grace_period + self.retention


class KnativeSpec(_Model):
    broker_hop: Duration = 0.02
    sweep_interval: Duration = Field(default=60.0, description="PingSource → detect sweep")
    verify_interval: Duration = Field(default=30.0, description="How often pending verifications are checked")
    apiserver_source: bool = Field(default=True, description="Deliver object changes to detect as they happen")
    detect: FunctionTiming = Field(default_factory=FunctionTiming)
    analyze: FunctionTiming = Field(default_factory=FunctionTiming)
    remediate: FunctionTiming = Field(default_factory=FunctionTiming)
    llm_latency: Duration | None = Field(default=None, description="Set to model an LLM analyzer's latency")


class IncidentSpec(_Model):
    """What the report counts as an incident: a Deployment with fewer ready pods than desired, or
    a pod over these thresholds, or a container that just died."""

    memory_percent: float = Field(default=90.0, gt=0)
    error_rate: float = Field(default=0.1, ge=0)
    merge_gap: Duration = Field(default=60.0, description="Degraded spells closer than this are one incident")
    flap_window: Duration = Field(default=600.0, description="An action this soon after the previous one on the "
                                                             "same workload counts as flapping")


class Scenario(_Model):
    name: str = Field(min_length=1)
    description: str = ""
    duration: Duration = 3600.0
    resolution: Duration = Field(default=15.0, description="World tick; metrics scrape on multiples of it")
    seed: int = 1
    epoch: str = Field(default="2024-01-01T00:00:00Z", description="Wall time of simulated t=0")
    cluster: ClusterSpec = Field(default_factory=ClusterSpec)
    workloads: list[WorkloadSpec] = Field(default_factory=list)
    signals: SignalsSpec = Field(default_factory=SignalsSpec)
    alerting: AlertingSpec = Field(default_factory=AlertingSpec)
    knative: KnativeSpec = Field(default_factory=KnativeSpec)
    incidents: IncidentSpec = Field(default_factory=IncidentSpec)
    policies: list[str] = Field(default_factory=list, description="Default policy files (relative to this file "
                                                                   "or built-in names)")
    source: str = Field(default="", exclude=True)

    @field_validator("epoch")
    @classmethod
    def _epoch(cls, v: str) -> str:
        from_rfc3339(v)
        return v

    @property
    def epoch_seconds(self) -> float:
        return from_rfc3339(self.epoch)

    def check(self) -> "Scenario":
        """Cross-field rules pydantic cannot express per field."""
        errors: list[FieldError] = []
        if self.resolution <= 0:
            errors.append(FieldError("resolution", "must be positive"))
        else:
            for path, value in (("signals.scrape_interval", self.signals.scrape_interval),
                                ("signals.evaluation_interval", self.signals.evaluation_interval)):
                ratio = value / self.resolution
                if value <= 0 or abs(ratio - round(ratio)) > 1e-9 or round(ratio) < 1:
                    errors.append(FieldError(path, f"must be a positive multiple of resolution ({self.resolution:g}s)"))
        names = set()
        for i, w in enumerate(self.workloads):
            key = (w.namespace, w.name)
            if key in names:
                errors.append(FieldError(f"workloads[{i}].name", f"duplicate workload {w.namespace}/{w.name}"))
            names.add(key)
        if self.duration <= 0:
            errors.append(FieldError("duration", "must be positive"))
        if errors:
            raise InvalidInput(errors, source=self.source or self.name)
        return self


def _errors_from(e: ValidationError) -> list[FieldError]:
    out = []
    for err in e.errors():
        path = ""
        for part in err["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        msg = err["msg"].removeprefix("Value error, ")
        out.append(FieldError(path, msg))
    return out


def parse_scenario(data: Any, *, source: str = "<scenario>") -> Scenario:
    """Validate a scenario document; bad fields raise :class:`InvalidInput` naming their paths."""
    if not isinstance(data, dict):
        raise InvalidInput("a scenario must be a YAML mapping", source=source)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as e:
        raise InvalidInput(_errors_from(e), source=source) from None
    scenario.source = source
    return scenario.check()


def builtin_scenario_names() -> list[str]:
    folder = resources.files("kubeskippy.simulator") / "scenarios"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def builtin_scenario_path(name: str) -> Path:
    path = Path(str(resources.files("kubeskippy.simulator") / "scenarios" / f"{name}.yaml"))
    if not path.is_file():
        raise InvalidInput(f"no scenario file or built-in scenario named {name!r} "
                           f"(built-in: {', '.join(builtin_scenario_names())})")
    return path


def load_scenario(ref: str | Path) -> Scenario:
    """Load a scenario from a file path, or a built-in one by name (``demo``, ``memory-leak``…)."""
    path = Path(ref)
    if not path.is_file():
        path = builtin_scenario_path(str(ref))
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise InvalidInput(f"{where}invalid YAML: {getattr(e, 'problem', e)}", source=str(path)) from None
    return parse_scenario(data, source=str(path))
