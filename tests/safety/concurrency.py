"""Contention scenarios shared by the in-memory and the over-HTTP concurrency tests.

Eight workers, each with its own Ledger (own holder), share one store and work through 1,000
plans (400 distinct steps, so 600 are replays) on 9 overlapping workloads under an hourly limit
(5 in the scenario the design names; 60 without cooldowns in a busier one, where many more
writes race). An independent tracker — not the ledger — checks that no two holders act on one
workload at the same moment and that no step runs twice.
"""

from __future__ import annotations

import random
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from kubeskippy.errors import Refused, TemporaryError
from kubeskippy.safety.contract import ActionRequest
from kubeskippy.safety.ledger import Ledger

from .builders import deployment, request

WORKERS = 8
PLANS = 1000
DISTINCT_STEPS = 400
WORKLOADS = 9


@dataclass(frozen=True)
class Scenario:
    limit: int = 5
    cooldown: float = 600.0


STRICT = Scenario(limit=5, cooldown=600.0)
BUSY = Scenario(limit=60, cooldown=0.0)


@dataclass
class Tracker:
    """What really happened, observed outside the ledger."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    acting: dict[str, str] = field(default_factory=dict)
    executed: list[str] = field(default_factory=list)
    aborted: list[str] = field(default_factory=list)
    overlaps: list[str] = field(default_factory=list)
    refusals: Counter = field(default_factory=Counter)
    temporary: int = 0
    errors: list[BaseException] = field(default_factory=list)

    def enter(self, workload: str, holder: str) -> None:
        with self.lock:
            if workload in self.acting:
                self.overlaps.append(f"{holder} entered {workload} held by {self.acting[workload]}")
            self.acting[workload] = holder

    def leave(self, workload: str, holder: str) -> None:
        with self.lock:
            if self.acting.get(workload) == holder:
                del self.acting[workload]


def plans(scenario: Scenario, seed: int = 11) -> list[ActionRequest]:
    out = []
    for i in range(PLANS):
        plan = i % DISTINCT_STEPS
        out.append(request(f"plan-{plan}:restart", workload=deployment(f"w{plan % WORKLOADS}"), limit=scenario.limit,
                           cooldown=scenario.cooldown, lease=120))
    random.Random(seed).shuffle(out)
    return out


def work(ledger: Ledger, mine: list[ActionRequest], tracker: Tracker, start: threading.Barrier,
         during_action: Callable[[], None]) -> None:
    try:
        start.wait()
        aborted_once = False
        for req in mine:
            for _attempt in range(50):  # a TemporaryError means "retry later", like a redelivery
                try:
                    reservation = ledger.reserve(req)
                except Refused as e:
                    with tracker.lock:
                        tracker.refusals[e.reason] += 1
                    break
                except TemporaryError:
                    with tracker.lock:
                        tracker.temporary += 1
                    continue
                workload = str(req.workload)
                tracker.enter(workload, ledger.holder)
                during_action()
                tracker.leave(workload, ledger.holder)
                if not aborted_once:  # each worker's first action "fails before acting"
                    aborted_once = True
                    _retrying(lambda: ledger.abort(reservation), tracker)
                    with tracker.lock:
                        tracker.aborted.append(req.step_id)
                else:
                    with tracker.lock:
                        tracker.executed.append(req.step_id)
                    _retrying(lambda: ledger.complete(reservation), tracker)
                break
    except BaseException as e:  # noqa: BLE001 - reported by the test
        tracker.errors.append(e)


def _retrying(call: Callable[[], None], tracker: Tracker) -> None:
    for _ in range(50):
        try:
            call()
            return
        except TemporaryError:
            with tracker.lock:
                tracker.temporary += 1
    raise AssertionError("complete/abort never got through")


def run_contention(scenario: Scenario, make_ledger: Callable[[str], Ledger],
                   during_action: Callable[[], None] = lambda: None) -> Tracker:
    """Run the scenario; ``make_ledger(holder)`` builds each worker's own ledger."""
    tracker = Tracker()
    all_plans = plans(scenario)
    start = threading.Barrier(WORKERS)
    threads = [threading.Thread(target=work, args=(make_ledger(f"replica-{n}"), all_plans[n::WORKERS], tracker,
                                                  start, during_action), daemon=True)
               for n in range(WORKERS)]
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often: more interleavings per run
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
    finally:
        sys.setswitchinterval(old)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    return tracker


def assert_exactly_the_limit_ran(scenario: Scenario, tracker: Tracker, ledger: Ledger) -> None:
    assert tracker.errors == []
    assert len(tracker.executed) == scenario.limit, tracker.refusals
    assert len(set(tracker.executed)) == scenario.limit, "a step ran twice"
    assert tracker.overlaps == []
    assert tracker.acting == {}
    assert ledger.active_leases("prod") == [], "a lease was left held"
    assert ledger.actions_in_window("prod/heal") == scenario.limit  # aborted reservations gave their slots back
    attempts = len(tracker.executed) + len(tracker.aborted) + sum(tracker.refusals.values())
    assert attempts == PLANS
