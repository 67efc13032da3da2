"""The embedded rules analyzer: deterministic, offline, fast.

Each rule looks for one root cause and, if its gate opens, scores a confidence by adding the
documented weight of every piece of evidence present (``WEIGHTS``; docs/analysis.md explains
each). The highest score wins; below ``MIN_CONFIDENCE`` the cause is ``unknown``. Ties go to the
rule listed first in ``RULES`` (more specific causes come first).

Text from events and logs is only ever matched against fixed patterns here: it is data, never
instructions.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Callable, NamedTuple

from ..events.model import Evidence, RootCause
from ..policy.model import HealingPolicy
from .context import AnalysisContext
from .diagnosis import Diagnosis
from .suggest import suggest_policy_actions
from .trends import Trend

__all__ = ["RulesAnalyzer", "WEIGHTS", "THRESHOLDS", "MIN_CONFIDENCE", "Candidate", "diagnose"]

MIN_CONFIDENCE = 0.25
MAX_CONFIDENCE = 0.97

WEIGHTS: dict[str, dict[str, float]] = {
    "image_pull_failure": {"waiting_pull_reason": 0.65, "pull_event": 0.2, "trigger_mentions_image": 0.1},
    "crash_loop_after_rollout": {"crashing_and_recent_rollout": 0.5, "crash_began_after_rollout": 0.2,
                                 "template_changed": 0.1, "many_restarts": 0.1},
    "crash_loop_config": {"config_error_reason": 0.7, "fast_exit_nonzero": 0.35, "config_text": 0.2,
                          "missing_reference_event": 0.15},
    "memory_limit_too_low": {"oom_soon_after_start": 0.5, "flat_near_limit": 0.25, "repeated_oom": 0.1,
                             "memory_trigger": 0.05, "flat_at_limit_without_oom": 0.4},
    "memory_leak": {"steady_growth": 0.45, "tight_fit": 0.15, "limit_within_horizon": 0.15,
                    "oom_after_long_run": 0.15, "memory_trigger": 0.05, "oom_after_long_run_only": 0.45},
    "cpu_saturation": {"near_cpu_limit": 0.45, "throttled": 0.25, "sustained": 0.1, "cpu_trigger": 0.05,
                       "throttled_only": 0.45},
    "failing_probes": {"unhealthy_events": 0.4, "many_unhealthy": 0.2, "running_not_ready": 0.15,
                       "liveness_kill": 0.1},
    "node_pressure": {"pressure_condition": 0.6, "evictions": 0.2, "node_not_ready": 0.1},
    "error_rate_spike": {"error_rate_jump": 0.5, "sustained": 0.15, "error_trigger": 0.1},
}
"""Evidence weights per cause; a cause's confidence is the sum of the weights present."""

THRESHOLDS = {
    "rollout_window": 1800.0,  # a rollout this recent (s) can explain a crash loop
    "short_run": 120.0,  # an OOM within this many seconds of start means the limit is too low
    "long_run": 600.0,  # an OOM after this long suggests growth (a leak)
    "fast_exit": 30.0,  # exit with a non-zero code within this many seconds: start-up failure
    "leak_min_growth": 0.10,  # the fitted line climbed ≥ 10 % of the limit over the window
    "leak_min_r2": 0.6,
    "leak_tight_r2": 0.85,
    "leak_horizon": 3600.0,  # predicted to reach the limit within 1 h: act before the OOM
    "flat_max_growth": 0.05,
    "near_limit": 0.85,
    "cpu_near_limit": 0.9,
    "throttled_ratio": 0.25,
    "error_rate_min": 0.05,
    "error_rate_jump": 3.0,
    "many_restarts": 3,
    "many_unhealthy": 3,
}

PULL_REASONS = frozenset({"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull", "RegistryUnavailable"})
CONFIG_REASONS = frozenset({"CreateContainerConfigError", "CreateContainerError", "RunContainerError"})
CONFIG_TEXT = re.compile(
    r"config(uration)?|environment variable|env var|\bnot set\b|missing (required )?|no such file|"
    r"secret|configmap|invalid (value|argument|option)|unknown flag|permission denied|"
    r"cannot parse|failed to (load|read|parse)",
    re.IGNORECASE,
)
MISSING_REF = re.compile(r"(configmap|secret)s? \"?[\w.-]+\"? not found|couldn't find key", re.IGNORECASE)
PULL_TEXT = re.compile(r"pull|image|manifest unknown|not found: manifest", re.IGNORECASE)
LIVENESS_KILL = re.compile(r"liveness probe", re.IGNORECASE)


class Candidate(NamedTuple):
    cause: str
    confidence: float
    explanation: str
    evidence: tuple[Evidence, ...]


class _Signals:
    """Facts derived once per context and shared by all rules."""

    def __init__(self, ctx: AnalysisContext) -> None:
        self.ctx = ctx
        f = ctx.finding
        words = [f.trigger, *(e.description for e in f.evidence)]
        words += [str(v) for e in f.evidence for v in e.details.values() if isinstance(v, (str, int, float))]
        self.finding_text = " ".join(words).lower()
        self.containers = ctx.containers
        self.waiting = Counter(c.reason for c in ctx.containers if c.state == "waiting" and c.reason)
        self.event_reasons: Counter[str] = Counter()
        for ev in ctx.events:
            self.event_reasons[ev.reason] += ev.count
        self.restarts = max((c.restart_count for c in ctx.containers), default=0)
        self.crashing = [c for c in ctx.containers
                         if c.reason == "CrashLoopBackOff" or (c.restart_count > 0 and c.last_reason in ("Error", "OOMKilled"))
                         or (c.state == "terminated" and (c.exit_code or 0) != 0)]
        self.ooms = [c for c in ctx.containers if "OOMKilled" in (c.last_reason, c.reason)]
        self.log_text = "\n".join(ctx.logs.values())
        self.memory_trends = [tr for tr in ctx.trends_for("memory") if tr.limit and tr.points]

    def mentions(self, *words: str) -> bool:
        return any(w in self.finding_text for w in words)


def _cap(x: float) -> float:
    return round(min(MAX_CONFIDENCE, x), 4)


def _mib(b: float | None) -> str:
    return "?" if b is None else f"{b / 2 ** 20:.0f} MiB"


def _ev(kind: str, description: str, **kw) -> Evidence:
    return Evidence(kind=kind, description=description, **kw)  # type: ignore[arg-type]


# -- one function per cause ---------------------------------------------------------------------

def rule_image_pull_failure(s: _Signals) -> Candidate | None:
    w = WEIGHTS["image_pull_failure"]
    reasons = [r for r in s.waiting if r in PULL_REASONS]
    if not reasons:
        return None
    score = w["waiting_pull_reason"]
    evidence = [_ev("state", f"container waiting with {reasons[0]}", details={"reason": reasons[0]})]
    pulls = [e for e in s.ctx.events if e.reason in PULL_REASONS or (e.reason in ("Failed", "BackOff") and PULL_TEXT.search(e.message))]
    if pulls:
        score += w["pull_event"]
        evidence.append(_ev("event", f"{len(pulls)} image pull failure event(s)", value=float(sum(e.count for e in pulls))))
    if s.mentions("image", "pull"):
        score += w["trigger_mentions_image"]
    image = next((c.image for c in s.containers if c.reason in PULL_REASONS), "")
    return Candidate("image_pull_failure", _cap(score),
                     f"The container cannot start because its image {image!r} cannot be pulled ({reasons[0]}). "
                     "Restarting or rescaling will not help; the image reference, registry credentials or registry "
                     "availability need a person's attention.", tuple(evidence))


def rule_crash_loop_after_rollout(s: _Signals) -> Candidate | None:
    w, t = WEIGHTS["crash_loop_after_rollout"], THRESHOLDS
    revs = s.ctx.revisions
    if not s.crashing or len(revs) < 2 or revs[0].created_at is None:
        return None
    age = s.ctx.now - revs[0].created_at
    if age > t["rollout_window"] or age < 0:
        return None
    score = w["crashing_and_recent_rollout"]
    evidence = [_ev("rollout", f"revision {revs[0].revision} ({revs[0].name}) rolled out {age:.0f}s ago; "
                               f"previous revision {revs[1].revision}", value=age,
                    details={"revision": revs[0].revision, "previous": revs[1].revision})]
    crash_times = [c.last_finished_at or c.last_started_at for c in s.crashing if (c.last_finished_at or c.last_started_at)]
    if crash_times and min(crash_times) >= revs[0].created_at:
        score += w["crash_began_after_rollout"]
        evidence.append(_ev("state", "the crashes began after the rollout"))
    if revs[0].images != revs[1].images:
        score += w["template_changed"]
        evidence.append(_ev("rollout", f"image changed {list(revs[1].images)} -> {list(revs[0].images)}"))
    if s.restarts >= t["many_restarts"]:
        score += w["many_restarts"]
    evidence.append(_ev("state", f"{len(s.crashing)} container(s) crash-looping, {s.restarts} restarts",
                        value=float(s.restarts)))
    return Candidate("crash_loop_after_rollout", _cap(score),
                     f"The workload started crash-looping after revision {revs[0].revision} was rolled out "
                     f"{age / 60:.0f} minutes ago; revision {revs[1].revision} ran before it. The new revision is the "
                     "likely cause, so returning to the previous revision is the safest repair.", tuple(evidence))


def rule_crash_loop_config(s: _Signals) -> Candidate | None:
    w, t = WEIGHTS["crash_loop_config"], THRESHOLDS
    config_reasons = [r for r in s.waiting if r in CONFIG_REASONS]
    fast_exits = [c for c in s.containers if c.last_exit_code not in (None, 0, 137) and c.last_reason != "OOMKilled"
                  and (c.last_run_seconds is not None and c.last_run_seconds <= t["fast_exit"])]
    if not config_reasons and not fast_exits:
        return None
    evidence = []
    if config_reasons:
        score = w["config_error_reason"]
        msg = next((c.message for c in s.containers if c.reason in CONFIG_REASONS), "")
        evidence.append(_ev("state", f"container waiting with {config_reasons[0]}",
                            details={"reason": config_reasons[0], "message": msg[:200]}))
    else:
        score = w["fast_exit_nonzero"]
        c = fast_exits[0]
        evidence.append(_ev("state", f"{c.name} exited with code {c.last_exit_code} after {c.last_run_seconds:.0f}s",
                            value=float(c.last_exit_code or 0)))
    texts = [s.log_text, *(e.message for e in s.ctx.events), *(c.message for c in s.containers)]
    if any(CONFIG_TEXT.search(x) for x in texts if x):
        score += w["config_text"]
        evidence.append(_ev("context", "logs or events mention configuration"))
    if any(MISSING_REF.search(e.message) for e in s.ctx.events) or any(MISSING_REF.search(c.message) for c in s.containers):
        score += w["missing_reference_event"]
        evidence.append(_ev("event", "a referenced ConfigMap or Secret is missing"))
    return Candidate("crash_loop_config", _cap(score),
                     "The container fails at start-up in a way that points at its configuration (a missing or "
                     "invalid ConfigMap, Secret, environment variable or argument) rather than at load or resources. "
                     "Restarting repeats the failure; collect diagnostics and notify the owners.", tuple(evidence))


def _memory_trends(s: _Signals) -> list[Trend]:
    return s.memory_trends


def rule_memory_limit_too_low(s: _Signals) -> Candidate | None:
    w, t = WEIGHTS["memory_limit_too_low"], THRESHOLDS
    short = [c for c in s.ooms if c.last_run_seconds is not None and c.last_run_seconds <= t["short_run"]]
    flat = [tr for tr in _memory_trends(s)
            if (g := tr.growth_fraction_of_limit()) is not None and abs(g) < t["flat_max_growth"]
            and (tr.peak or 0) / tr.limit >= t["near_limit"]]  # type: ignore[operator]
    evidence: list[Evidence] = []
    if short:
        c = short[0]
        score = w["oom_soon_after_start"]
        evidence.append(_ev("state", f"{c.name} OOMKilled {c.last_run_seconds:.0f}s after start (limit {_mib(c.memory_limit)})",
                            value=c.last_run_seconds, threshold=t["short_run"]))
        if flat:
            score += w["flat_near_limit"]
        if len(short) > 1 or c.restart_count >= 2:
            score += w["repeated_oom"]
    elif flat:
        score = w["flat_at_limit_without_oom"]
    else:
        return None
    if flat:
        tr = flat[0]
        evidence.append(_ev("trend", f"memory flat at {100 * (tr.peak or 0) / tr.limit:.0f}% of the limit",  # type: ignore[operator]
                            value=tr.peak, threshold=tr.limit, details={"growth_fraction": tr.growth_fraction_of_limit()}))
    if s.mentions("memory", "oom"):
        score += w["memory_trigger"]
    return Candidate("memory_limit_too_low", _cap(score),
                     "Memory use is high from the start and does not grow: the container simply needs more than its "
                     "limit. Restarts will keep ending in OOM kills; raising the memory limit is the repair.",
                     tuple(evidence))


def rule_memory_leak(s: _Signals) -> Candidate | None:
    w, t = WEIGHTS["memory_leak"], THRESHOLDS
    now = s.ctx.now
    growing = [tr for tr in _memory_trends(s)
               if tr.line and tr.line.slope > 0 and tr.line.r2 >= t["leak_min_r2"]
               and (tr.growth_fraction_of_limit() or 0) >= t["leak_min_growth"]]
    long_ooms = [c for c in s.ooms if c.last_run_seconds is not None and c.last_run_seconds >= t["long_run"]]
    evidence: list[Evidence] = []
    eta = None
    if growing:
        tr = min(growing, key=lambda x: x.seconds_to_limit(now) if x.seconds_to_limit(now) is not None else float("inf"))
        eta = tr.seconds_to_limit(now)
        score = w["steady_growth"]
        assert tr.line is not None
        evidence.append(_ev("trend", f"memory of {tr.labels.get('pod', '?')}/{tr.labels.get('container', '?')} grows "
                                     f"{tr.line.slope * 60 / 2 ** 20:.1f} MiB/min (r²={tr.line.r2:.2f}) toward its "
                                     f"{_mib(tr.limit)} limit",
                            value=tr.last, threshold=tr.limit,
                            details={"slope_bytes_per_s": tr.line.slope, "r2": tr.line.r2, "seconds_to_limit": eta}))
        if tr.line.r2 >= t["leak_tight_r2"]:
            score += w["tight_fit"]
        if eta is not None and eta <= t["leak_horizon"]:
            score += w["limit_within_horizon"]
        if long_ooms:
            score += w["oom_after_long_run"]
    elif long_ooms:
        score = w["oom_after_long_run_only"]
    else:
        return None
    if long_ooms:
        c = long_ooms[0]
        evidence.append(_ev("state", f"{c.name} was OOMKilled after running {c.last_run_seconds:.0f}s",
                            value=c.last_run_seconds))
    if s.mentions("memory", "oom"):
        score += w["memory_trigger"]
    when = f"in about {eta / 60:.0f} minutes" if eta else ("now" if eta == 0 else "eventually")
    return Candidate("memory_leak", _cap(score),
                     f"Memory grows steadily without levelling off and will reach the container's limit {when}, "
                     "which ends in an OOM kill. Restarting the pod before that point resets the leak with a "
                     "controlled restart instead of a crash; the leak itself needs a code fix.", tuple(evidence))


def rule_cpu_saturation(s: _Signals) -> Candidate | None:
    w, t = WEIGHTS["cpu_saturation"], THRESHOLDS
    near = [tr for tr in s.ctx.trends_for("cpu") if tr.limit and tr.points
            and sum(v for _, v in tr.points[-5:]) / len(tr.points[-5:]) >= t["cpu_near_limit"] * tr.limit]
    throttled = [tr for tr in s.ctx.trends_for("cpu_throttling") if tr.points
                 and sum(v for _, v in tr.points) / len(tr.points) >= t["throttled_ratio"]]
    evidence: list[Evidence] = []
    if near:
        tr = near[0]
        score = w["near_cpu_limit"]
        evidence.append(_ev("trend", f"CPU at {100 * (tr.last or 0) / tr.limit:.0f}% of its {tr.limit:g}-core limit",  # type: ignore[operator]
                            value=tr.last, threshold=tr.limit))
        if throttled:
            score += w["throttled"]
        hot = sum(1 for _, v in tr.points if v >= 0.8 * tr.limit)  # type: ignore[operator]
        if hot >= 0.8 * len(tr.points):
            score += w["sustained"]
    elif throttled:
        score = w["throttled_only"]
    else:
        return None
    if throttled:
        tr = throttled[0]
        mean = sum(v for _, v in tr.points) / len(tr.points)
        evidence.append(_ev("trend", f"{100 * mean:.0f}% of CPU periods throttled", value=mean, threshold=t["throttled_ratio"]))
    if s.mentions("cpu"):
        score += w["cpu_trigger"]
    return Candidate("cpu_saturation", _cap(score),
                     "The container uses nearly all the CPU it is allowed and is being throttled, so requests slow "
                     "down. More replicas spread the load; a higher CPU limit gives each replica more room.",
                     tuple(evidence))


def rule_failing_probes(s: _Signals) -> Candidate | None:
    w, t = WEIGHTS["failing_probes"], THRESHOLDS
    unhealthy = s.event_reasons.get("Unhealthy", 0)
    if unhealthy <= 0:
        return None
    score = w["unhealthy_events"]
    sample = next((e.message for e in s.ctx.events if e.reason == "Unhealthy"), "")
    evidence = [_ev("event", f"{unhealthy} Unhealthy probe event(s)", value=float(unhealthy),
                    details={"example": sample[:160]})]
    if unhealthy >= t["many_unhealthy"]:
        score += w["many_unhealthy"]
    if any(c.state == "running" and not c.ready for c in s.containers):
        score += w["running_not_ready"]
        evidence.append(_ev("state", "a running container is not ready"))
    if any(e.reason == "Killing" and LIVENESS_KILL.search(e.message) for e in s.ctx.events):
        score += w["liveness_kill"]
        evidence.append(_ev("event", "the kubelet killed a container after failed liveness probes"))
    return Candidate("failing_probes", _cap(score),
                     "The container's readiness or liveness probes keep failing, so it is taken out of service or "
                     "killed. A restart clears a wedged process; repeated failures need the probe or the "
                     "application looked at.", tuple(evidence))


def rule_node_pressure(s: _Signals) -> Candidate | None:
    w = WEIGHTS["node_pressure"]
    conds = s.ctx.node_conditions()
    pressures = [c for c in ("MemoryPressure", "DiskPressure", "PIDPressure") if conds.get(c) == "True"]
    if not pressures:
        return None
    node = (s.ctx.node or {}).get("metadata", {}).get("name", "?")
    score = w["pressure_condition"]
    evidence = [_ev("condition", f"node {node} reports {', '.join(pressures)}", details={"node": node})]
    evicted = any(((p.get("status") or {}).get("reason") == "Evicted") for p in s.ctx.pods)
    if evicted or s.event_reasons.get("Evicted") or s.event_reasons.get("EvictionThresholdMet"):
        score += w["evictions"]
        evidence.append(_ev("event", "pods were evicted"))
    if conds.get("Ready") in ("False", "Unknown"):
        score += w["node_not_ready"]
    return Candidate("node_pressure", _cap(score),
                     f"The node {node} is short of resources ({', '.join(pressures)}) and the kubelet is evicting "
                     "or starving pods; the workload is a victim, not the cause. Moving pods off the node (cordon "
                     "and drain) helps; restarting them in place does not.", tuple(evidence))


def rule_error_rate_spike(s: _Signals) -> Candidate | None:
    w, t = WEIGHTS["error_rate_spike"], THRESHOLDS
    for tr in s.ctx.trends_for("error_rate"):
        pts = tr.points
        if len(pts) < 4:
            continue
        head = pts[: max(1, len(pts) // 3)]
        tail = pts[-max(1, len(pts) // 6):]
        before = sum(v for _, v in head) / len(head)
        after = sum(v for _, v in tail) / len(tail)
        if after < t["error_rate_min"] or after < t["error_rate_jump"] * max(before, 1e-3):
            continue
        score = w["error_rate_jump"]
        if all(v >= t["error_rate_min"] for _, v in tail):
            score += w["sustained"]
        if s.mentions("error", "5xx", "http"):
            score += w["error_trigger"]
        ev = _ev("trend", f"error rate rose from {100 * before:.1f}% to {100 * after:.1f}%", value=after,
                 threshold=t["error_rate_min"], details={"before": before})
        return Candidate("error_rate_spike", _cap(score),
                         f"The share of failing requests jumped from {100 * before:.1f}% to {100 * after:.1f}% while "
                         "resources look normal. A restart or more replicas may clear a bad state or overload; a "
                         "persistent spike needs the application's owners.", (ev,))
    return None


RULES: tuple[Callable[[_Signals], Candidate | None], ...] = (
    rule_image_pull_failure,
    rule_crash_loop_after_rollout,
    rule_crash_loop_config,
    rule_memory_limit_too_low,
    rule_memory_leak,
    rule_node_pressure,
    rule_cpu_saturation,
    rule_failing_probes,
    rule_error_rate_spike,
)


def diagnose(context: AnalysisContext) -> tuple[Candidate, list[Candidate]]:
    """The winning candidate and all candidates (for explanations and tests)."""
    signals = _Signals(context)
    candidates = [c for c in (rule(signals) for rule in RULES) if c is not None]
    best: Candidate | None = None
    for c in candidates:  # strict > keeps the earlier (more specific) rule on ties
        if best is None or c.confidence > best.confidence:
            best = c
    if best is None or best.confidence < MIN_CONFIDENCE:
        why = "no rule found enough evidence"
        if context.gaps:
            why += f" (missing: {'; '.join(context.gaps[:3])})"
        best = Candidate("unknown", round(best.confidence if best else 0.1, 4),
                         f"The finding could not be explained: {why}. The policy's actions apply in their own "
                         "priority order.", tuple(best.evidence if best else ()))
    return best, candidates


class RulesAnalyzer:
    """Deterministic root-cause rules over an AnalysisContext; suggests the policy's fitting actions."""

    name = "rules"

    def analyze(self, context: AnalysisContext, policy: HealingPolicy) -> Diagnosis:
        best, candidates = diagnose(context)
        others = tuple(f"also considered {c.cause} ({c.confidence:.2f})" for c in candidates if c.cause != best.cause)
        root = RootCause(category=best.cause, confidence=best.confidence, explanation=best.explanation,
                         evidence=list(best.evidence))
        suggestions = suggest_policy_actions(context, policy, best.cause, why=f"{best.cause} ({best.confidence:.2f})")
        return Diagnosis(root_cause=root, suggestions=tuple(suggestions), analyzer=self.name, notes=others)
