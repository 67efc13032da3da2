"""Learning from outcomes: which action heals which cause on which workload.

Per workload × root cause × action kind the store keeps decayed success and failure counts. The
score is the posterior mean of a Beta(a, b) prior updated with time-decayed observations::

    d      = 0.5 ** ((now - t_last) / half_life)
    s, f   = successes·d, failures·d                    (decayed to now)
    score  = (s + a) / (s + f + a + b)                  ∈ (0, 1), 0.5 with no history

A success is a Verification that found the target healthy after the action. A failure is an
unhealthy Verification, an Outcome with status ``failed``, or a recurrence: a new finding for
the same workload and cause within ``recurrence_window`` of a verified heal.

Everything lives in one VersionedStore record per namespace (a ConfigMap in production), changed
only by compare-and-swap, so every analyze replica reads the same numbers. Attribution: an Outcome
that answers a plan carries the plan's workload, root cause and the action's kind
(``Outcome.attribution``, filled by remediate's executor and kept on each step's HealingAction,
so a step approved or recovered later carries it too); one without it (rebuilt from a
HealingAction written before records kept the attribution) is linked to the planner's note of
the plan, which the planner writes only for plans whose changes may wait for approval. Either way the executed
Outcome's id is noted and its Verification settles it. Stale notes expire
(``pending_ttl``) and the oldest scores are pruned beyond ``max_entries``.
"""

from __future__ import annotations

import json
import logging
import random
import time
from typing import Callable, NamedTuple, Sequence, TYPE_CHECKING

from ..clock import Clock
from ..events.model import ObjectRef, Plan, PlannedAction, stable_id
from ..policy.action_kinds import is_mutating
from ..ports import VersionedStore

if TYPE_CHECKING:  # remediate's report models: built when one arrives, not on analyze's cold start
    from ..events.model import Outcome, Verification

__all__ = ["LearningConfig", "Effectiveness", "EffectivenessStore", "Ordering"]

log = logging.getLogger(__name__)


class LearningConfig(NamedTuple):
    half_life: float = 7 * 86400.0
    """Observations lose half their weight every week: old lessons fade, recent ones count."""
    prior_success: float = 1.0
    prior_failure: float = 1.0
    recurrence_window: float = 3600.0
    """A new finding this soon after a verified heal means the heal did not last."""
    pending_ttl: float = 86400.0
    """Plan and outcome notes waiting for a verification expire after this."""
    prefer_score: float = 0.7
    prefer_min_observations: float = 1.5
    """Preference needs about two recent successes (decay keeps two older ones just under 2)."""
    demote_score: float = 0.3
    demote_streak: int = 2
    """This many failures in a row demote an action to the back."""
    escalate_after: int = 3
    """This many ineffective actions in a row on a workload × cause escalate (approval, notify)."""
    max_entries: int = 4000
    max_bytes: int = 900 * 1024
    record_prefix: str = "kubeskippy-learning"


class Effectiveness(NamedTuple):
    successes: float  # decayed to now
    failures: float
    streak: int  # consecutive failures
    score: float


class Ordering(NamedTuple):
    actions: list[PlannedAction]
    notes: list[str]
    escalated: bool


def _key(prefix: str, *parts: str) -> str:
    return f"{prefix}.{stable_id(*parts, length=20)}"


class EffectivenessStore:
    """Reads and updates effectiveness scores in a shared VersionedStore."""

    def __init__(self, store: VersionedStore, clock: Clock, config: LearningConfig | None = None, *,
                 sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None) -> None:
        self.store = store
        self.clock = clock
        self.config = config or LearningConfig()
        self._sleep = sleep
        self._rng = rng or random.Random()

    # -- reading -----------------------------------------------------------------------------

    def record_name(self, namespace: str | None) -> str:
        return f"{self.config.record_prefix}-{namespace or 'cluster'}"

    def _data(self, namespace: str | None) -> dict[str, str]:
        current = self.store.read(self.record_name(namespace))
        return dict(current.data) if current else {}

    def _decay(self, since: float, now: float) -> float:
        return 0.5 ** (max(0.0, now - since) / self.config.half_life)

    def _effectiveness(self, data: dict[str, str], workload: str, cause: str, kind: str, now: float) -> Effectiveness:
        raw = data.get(_key("e", workload, cause, kind))
        s = f = 0.0
        streak = 0
        if raw:
            s0, f0, t, streak, _ = json.loads(raw)
            d = self._decay(t, now)
            s, f = s0 * d, f0 * d
        c = self.config
        return Effectiveness(successes=s, failures=f, streak=int(streak),
                             score=(s + c.prior_success) / (s + f + c.prior_success + c.prior_failure))

    def read_ahead(self, namespace: str | None) -> None:
        """Read the namespace's record now, with other reads (the planner does this while it
        gathers context); a request cache in front of the store's cluster serves the next reads
        of it from memory."""
        self._data(namespace)

    def effectiveness(self, workload: ObjectRef, cause: str, kind: str) -> Effectiveness:
        return self._effectiveness(self._data(workload.namespace), str(workload), cause, kind, self.clock.now())

    def ineffective_chain(self, workload: ObjectRef, cause: str) -> int:
        raw = self._data(workload.namespace).get(_key("c", str(workload), cause))
        return int(json.loads(raw)[0]) if raw else 0

    # -- ordering a plan ---------------------------------------------------------------------

    def order(self, actions: Sequence[PlannedAction], kinds: Sequence[str], workload: ObjectRef, cause: str) -> Ordering:
        """Preferred (worked here before) first by score, then the rest in the given order, then
        demoted (failed repeatedly); escalate when the chain of ineffective actions is long."""
        cfg = self.config
        data = self._data(workload.namespace)
        now = self.clock.now()
        preferred, neutral, demoted, notes = [], [], [], []
        for i, (action, kind) in enumerate(zip(actions, kinds)):
            if not is_mutating(kind):
                neutral.append((i, action))
                continue
            eff = self._effectiveness(data, str(workload), cause, kind, now)
            observations = eff.successes + eff.failures
            if eff.streak >= cfg.demote_streak or (observations >= cfg.prefer_min_observations and eff.score < cfg.demote_score):
                demoted.append((i, action))
                notes.append(f"demoted {action.action}: score {eff.score:.2f}, {eff.streak} failure(s) in a row")
            elif eff.score >= cfg.prefer_score and eff.successes >= cfg.prefer_min_observations:
                preferred.append((-eff.score, i, action))
                notes.append(f"preferred {action.action}: score {eff.score:.2f} for {cause} here")
            else:
                neutral.append((i, action))
        ordered = [a for *_, a in sorted(preferred, key=lambda x: x[:2])] + [a for _, a in neutral] + [a for _, a in demoted]
        chain_raw = data.get(_key("c", str(workload), cause))
        chain = int(json.loads(chain_raw)[0]) if chain_raw else 0
        escalated = chain >= cfg.escalate_after
        if escalated:
            kind_of = {id(a): k for a, k in zip(actions, kinds)}
            notify = [a for a in ordered if kind_of[id(a)] == "notify"]
            rest = [a if not is_mutating(kind_of[id(a)]) else a.model_copy(update={"requires_approval": True})
                    for a in ordered if kind_of[id(a)] != "notify"]
            ordered = notify + rest
            notes.append(f"escalated: {chain} ineffective actions in a row on {workload} for {cause}; "
                         "every change now needs approval")
        return Ordering(actions=ordered, notes=notes, escalated=escalated)

    # -- recording ---------------------------------------------------------------------------

    def _update(self, namespace: str | None, decide: Callable[[dict[str, str], float], bool]) -> None:
        # Imported here: only a write needs the compare-and-swap loop, and planning a Finding
        # (analyze's usual first event) only reads (~8 M instructions of its cold start).
        from ..safety.cas import Backoff, Change, update_record

        now = self.clock.now()

        def mutation(data: dict[str, str]) -> Change[None]:
            changed = decide(data, now)
            if changed:
                self._prune(data, now)
            return Change(None, write=changed)

        update_record(self.store, self.record_name(namespace), mutation, backoff=Backoff(), sleep=self._sleep,
                      rng=self._rng, max_bytes=self.config.max_bytes)

    def _prune(self, data: dict[str, str], now: float) -> None:
        cfg = self.config
        for k in [k for k in data if k[:2] in ("p.", "o.", "r.")]:
            if now - float(json.loads(data[k])["t"]) > max(cfg.pending_ttl, cfg.recurrence_window):
                del data[k]
        scores = [k for k in data if k.startswith("e.")]
        if len(scores) > cfg.max_entries:
            scores.sort(key=lambda k: json.loads(data[k])[2])
            for k in scores[: len(scores) - cfg.max_entries]:
                del data[k]

    def _apply(self, data: dict[str, str], workload: str, cause: str, kind: str, healthy: bool, now: float) -> None:
        key = _key("e", workload, cause, kind)
        s = f = 0.0
        streak = 0
        if key in data:
            s0, f0, t, streak, _ = json.loads(data[key])
            d = self._decay(t, now)
            s, f = s0 * d, f0 * d
        if healthy:
            s, streak = s + 1.0, 0
        else:
            f, streak = f + 1.0, streak + 1
        data[key] = json.dumps([round(s, 6), round(f, 6), now, streak, f"{workload}|{cause}|{kind}"], separators=(",", ":"))
        chain_key = _key("c", workload, cause)
        chain = 0 if healthy else (int(json.loads(data[chain_key])[0]) if chain_key in data else 0) + 1
        if chain:
            data[chain_key] = json.dumps([chain, now], separators=(",", ":"))
        else:
            data.pop(chain_key, None)

    def record(self, workload: ObjectRef, cause: str, kind: str, healthy: bool) -> None:
        """Record one observation directly (tests, the simulator, backfills)."""
        self._update(workload.namespace, lambda data, now: self._apply(data, str(workload), cause, kind, healthy, now) or True)

    def note_finding(self, workload: ObjectRef, cause: str) -> bool:
        """A new finding for a workload and cause: if it follows a verified heal within the
        recurrence window, that heal did not last — count it as a failure. Returns whether it did."""
        heal_key = _key("r", str(workload), cause)
        if heal_key not in self._data(workload.namespace):
            return False  # the common case costs one read, no write
        recurred = []

        def decide(data: dict[str, str], now: float) -> bool:
            raw = data.pop(heal_key, None)
            if raw is None:
                return False
            heal = json.loads(raw)
            if now - heal["t"] <= self.config.recurrence_window:
                self._apply(data, str(workload), cause, heal["k"], False, now)
                recurred.append(heal["k"])
            return True

        self._update(workload.namespace, decide)
        if recurred:
            log.info("%s recurred on %s within %.0fs of a heal by %s; counted as a failure", cause, workload,
                     self.config.recurrence_window, recurred[0])
        return bool(recurred)

    def note_plan(self, plan: Plan, kinds: Sequence[str]) -> None:
        """Remember what a plan proposed so outcomes without attribution can be scored (the
        planner calls this only for plans whose changes may wait for approval)."""
        mutating = {a.action: k for a, k in zip(plan.actions, kinds) if is_mutating(k)}
        if not mutating:
            return
        workload = plan.finding.workload
        note = json.dumps({"w": str(workload), "c": plan.root_cause.category, "a": mutating, "t": self.clock.now()},
                          separators=(",", ":"), sort_keys=True)
        key = _key("p", plan.id)

        def decide(data: dict[str, str], now: float) -> bool:
            if key in data:
                return False  # a redelivered plan: already noted
            data[key] = note
            return True

        self._update(workload.namespace, decide)

    def observe_outcome(self, outcome: Outcome, namespace: str | None = None) -> None:
        """An executed step waits for its verification; a failed step counts as a failure now."""
        if outcome.status not in ("executed", "failed"):
            return
        ns = namespace if namespace is not None else outcome.target.namespace
        plan_key, out_key = _key("p", outcome.plan_id), _key("o", outcome.id)

        carried = outcome.attribution
        if carried is not None and not is_mutating(carried.action_kind):
            return  # a capture or a notification: nothing to score

        def decide(data: dict[str, str], now: float) -> bool:
            if out_key in data:
                return False  # a redelivery
            if carried is not None:
                workload, cause, kind = str(carried.workload), carried.root_cause, carried.action_kind
            else:  # an outcome without attribution (a step recovered or approved from its record)
                raw = data.get(plan_key)
                if raw is None:
                    return False  # not planned with learning on
                note = json.loads(raw)
                workload, cause, kind = note["w"], note["c"], note["a"].get(outcome.action)
                if kind is None:
                    return False
            if outcome.status == "failed":
                self._apply(data, workload, cause, kind, False, now)
                data[out_key] = json.dumps({"w": workload, "c": cause, "k": kind, "t": now, "done": True})
            else:
                data[out_key] = json.dumps({"w": workload, "c": cause, "k": kind, "t": now})
            return True

        self._update(ns, decide)

    def observe_verification(self, verification: Verification, namespace: str | None = None) -> None:
        """Settle an executed step: healthy is a success (and starts the recurrence watch)."""
        ns = namespace if namespace is not None else verification.target.namespace
        out_key = _key("o", verification.outcome_id)

        def decide(data: dict[str, str], now: float) -> bool:
            raw = data.get(out_key)
            if raw is None:
                return False
            note = json.loads(raw)
            if note.get("done"):
                return False
            self._apply(data, note["w"], note["c"], note["k"], verification.healthy, now)
            note["done"] = True
            data[out_key] = json.dumps(note)
            if verification.healthy:
                data[_key("r", note["w"], note["c"])] = json.dumps({"k": note["k"], "t": now})
            return True

        self._update(ns, decide)
