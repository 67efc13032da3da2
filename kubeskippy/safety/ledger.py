"""The safety ledger: rate limits, cooldowns, leases, idempotency and ineffective chains, shared
by every remediate replica through a compare-and-swap store and nothing else.

A reservation is made in a fixed order, each step one atomic write:

1. the workload record: re-check duplicate / leased / ineffective_chain / cooldown and take the
   lease (the step-executed check and the lease are in the same write);
2. the rate record: take a slot that counts in the policy's sliding window and in the
   cluster-wide one (or refuse ``rate_limited`` / ``global_rate_limited``), one write for both.

Given a ``fanout``, the two writes go out together; whichever of them fails, the other is undone
exactly as a failure after step 1 is.

An observe-only action that has already run (a capture taken ahead of a plan's changes) is
recorded by :meth:`Ledger.record_observed`: the lease's checks and the completion's record in one
write to the workload record, nothing held in between.

Completing (or aborting) is one more write to the workload record, which starts from the version
the lease write left when nobody wrote in between (no read). A refusal or failure after step 1
undoes what was taken (best effort). Whatever crash happens in between, the damage is on the safe
side: a lease nobody uses expires after its duration, a slot nobody uses leaves the window within
the hour. No action can run without both, because the caller acts only after
:meth:`Ledger.reserve` returned. docs/safety.md has the full analysis.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Callable

from ..clock import Clock
from ..errors import FieldError, InvalidInput, Refused
from ..events.model import ObjectRef
from ..lazy import lazy_attributes
from ..ports import Fanout, Versioned, VersionedStore
from .cas import UNREAD, Backoff, Change, update_record_versioned
from .config import SafetyConfig
from .contract import ActionRequest, Reservation
from .records import entries, global_record, namespace_records, rate_record, workload_key, workload_record
from .windows import count_slots, give_back_slot, take_slot
from .workload_state import (LEASE, LeaseClaim, finish_action, grant_lease, record_health,
                             release_lease)

if TYPE_CHECKING:  # defined on first inspection, not on remediate's cold start
    from .lease_view import LeaseView

__all__ = ["Ledger", "LeaseView"]

log = logging.getLogger(__name__)

_REMEMBERED = 256
"""Reservations whose lease write a Ledger keeps for a cheaper complete()/abort()."""

_NOT_RUN: tuple[None, None] = (None, None)
"""A reservation write skipped because an earlier one failed (sequential mode)."""


# ``LeaseView`` lives in ``safety.lease_view``, loaded by the first inspection.
__getattr__, __dir__ = lazy_attributes(__name__, {"LeaseView": "lease_view"})


def _validate(request: ActionRequest) -> None:
    errors: list[FieldError] = []
    if not request.step_id:
        errors.append(FieldError("step_id", "must not be empty"))
    if not request.policy:
        errors.append(FieldError("policy", "must not be empty"))
    if not request.workload.name:
        errors.append(FieldError("workload.name", "must not be empty"))
    if not request.lease_duration > 0:
        errors.append(FieldError("lease_duration", "must be positive (a lease that never expires would "
                                                   "block the workload forever after a crash)"))
    if request.cooldown < 0:
        errors.append(FieldError("cooldown", "must not be negative"))
    if request.max_actions_per_hour < 0:
        errors.append(FieldError("max_actions_per_hour", "must not be negative"))
    if errors:
        raise InvalidInput(errors, source="ActionRequest")


def _about(workload: ObjectRef) -> str:
    """What a workload record holds, written into it for a person reading the ConfigMap."""
    return f"leases, executed steps, cooldowns and chains in namespace {workload.namespace or '-'}"


def _claim(request: ActionRequest, holder: str) -> LeaseClaim:
    return LeaseClaim(holder=holder, step_id=request.step_id, workload=workload_key(request.workload),
                      policy=request.policy, trigger=request.trigger, lease_duration=request.lease_duration,
                      cooldown=request.cooldown, observe_only=request.observe_only)


class Ledger:
    """Implements :class:`~kubeskippy.safety.contract.SafetyLedger` over a :class:`VersionedStore`.

    ``holder`` names this replica (e.g. the pod name); it must differ between replicas. ``sleep``
    is how backoff waits (``time.sleep`` in production; the simulator and tests pass their own).
    ``fanout`` (``fanout(calls) -> results``, e.g. kubeskippy.services.fanout.ThreadFanout) lets
    a reservation write the lease and the rate slot at once: one round trip instead of two.
    Any number of instances may share one store: the only thing one keeps between calls is the
    version its recent lease writes left (to spare complete() a read), and when that is stale
    the write simply conflicts and is redone on a fresh read.
    """

    def __init__(self, store: VersionedStore, clock: Clock, config: SafetyConfig | None = None,
                 holder: str = "", *, sleep: Callable[[float], None] = time.sleep,
                 rng: random.Random | None = None,
                 fanout: Fanout | None = None) -> None:
        if not holder:
            raise InvalidInput([FieldError("holder", "must name this replica")], source="Ledger")
        self._store = store
        self._clock = clock
        self._config = config or SafetyConfig()
        self._holder = holder
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._backoff = Backoff(self._config.max_attempts, self._config.backoff_base, self._config.backoff_cap)
        self._written: OrderedDict[tuple[str, float], Versioned | None] = OrderedDict()
        self._written_lock = threading.Lock()
        self._fanout = fanout

    @property
    def holder(self) -> str:
        return self._holder

    @property
    def config(self) -> SafetyConfig:
        return self._config

    # -- SafetyLedger ---------------------------------------------------------------------------

    def reserve(self, request: ActionRequest) -> Reservation:
        _validate(request)
        claim = _claim(request, self._holder)
        record = workload_record(self._config, request.workload)
        about = _about(request.workload)
        rates = None if request.observe_only else rate_record(self._config, request.policy)
        # Look before writing: a refusal costs reads only and never leaves a lease to undo. The
        # snapshots are then the first reads of the writes below (a stale one just conflicts).
        acquired = self._clock.now()
        snapshot = self._store.read(record)
        grant_lease(dict(snapshot.data) if snapshot else {}, claim, acquired, self._config, about)
        rate_snapshot: Versioned | None = UNREAD
        if rates is not None:
            rate_snapshot = self._store.read(rates)
            take_slot(dict(rate_snapshot.data) if rate_snapshot else {}, **self._slot_args(request, acquired))
        reservation = Reservation(request=request, holder=self._holder, reserved_at=acquired,
                                  lease_expires=acquired + request.lease_duration)
        writes = [lambda: self._update(record, lambda data: grant_lease(data, claim, acquired, self._config, about),
                                       snapshot)]
        if rates is not None:
            writes.append(lambda: self._update(rates, lambda data: take_slot(data, **self._slot_args(request, acquired)),
                                               rate_snapshot))
        (lease, lease_error), *slot = self._write_all(writes)
        slot_error = slot[0][1] if slot else None
        if lease_error is not None or slot_error is not None:
            # A refusal wrote nothing; after any other failure the write may have landed.
            self._undo(reservation, claim,
                       lease_maybe_taken=not isinstance(lease_error, Refused),
                       slot_maybe_taken=bool(slot) and slot[0] is not _NOT_RUN and not isinstance(slot_error, Refused),
                       snapshot=lease[1] if lease_error is None else UNREAD)
            raise lease_error or slot_error  # a lease refusal (duplicate, leased, ...) says more
        self._remember(reservation, lease[1])
        log.info("%s reserved %s on %s until %s", self._holder, request.step_id, claim.workload,
                 reservation.lease_expires)
        return reservation

    def complete(self, reservation: Reservation) -> None:
        request = reservation.request
        claim = _claim(request, reservation.holder)
        self._update(workload_record(self._config, request.workload), lambda data: finish_action(
            data, claim, reservation.reserved_at, self._clock.now(), self._config), *self._recall(reservation))

    def record_observed(self, request: ActionRequest) -> None:
        """Record an observe-only action that has already run (a capture taken before the plan's
        changes): the refusals :meth:`reserve` would give, then what :meth:`complete` records, in
        one write. No lease is held in between because nothing is left to do under it; a crash
        leaves either nothing (the redelivery records it again) or the record (it then answers
        ``duplicate``)."""
        if not request.observe_only:
            raise InvalidInput([FieldError("observe_only", "only an observe-only action is recorded after the "
                                                           "fact; a change reserves before it acts")],
                               source="ActionRequest")
        _validate(request)
        claim = _claim(request, self._holder)
        about = _about(request.workload)

        def observed(data: dict[str, str]) -> Change[bool]:
            now = self._clock.now()
            grant_lease(data, claim, now, self._config, about)  # refuses as reserve() would
            return finish_action(data, claim, now, now, self._config)

        self._update(workload_record(self._config, request.workload), observed)
        log.info("%s recorded observation %s on %s", self._holder, request.step_id, claim.workload)

    def abort(self, reservation: Reservation) -> None:
        request = reservation.request
        claim = _claim(request, reservation.holder)
        executed, _ = self._update(workload_record(self._config, request.workload), lambda data: release_lease(
            data, claim, reservation.reserved_at, self._clock.now(), self._config), *self._recall(reservation))
        if executed:
            log.warning("abort of %s ignored for the rate limit: the step is recorded as executed",
                        request.step_id)
            return
        if not request.observe_only:
            self._give_back(reservation)

    def record_verification(self, workload: ObjectRef, policy: str, healthy: bool) -> None:
        key = workload_key(workload)
        self._update(workload_record(self._config, workload), lambda data: record_health(
            data, key, healthy, self._clock.now(), self._config))
        log.info("verification of %s after %s: %s", key, policy, "healthy" if healthy else "unhealthy")

    def reads_ahead(self, request: ActionRequest) -> list[Callable[[], Versioned | None]]:
        """The reads :meth:`reserve` starts with, as calls a caller may make early and at once
        with its own reads (behind a per-request read cache, which then answers ``reserve``)."""
        names = [workload_record(self._config, request.workload)]
        if not request.observe_only:
            names.append(rate_record(self._config, request.policy))
        return [lambda name=name: self._store.read(name) for name in names]

    # -- inspection -----------------------------------------------------------------------------

    def active_leases(self, namespace: str | None) -> list[LeaseView]:
        """Live leases on workloads of one namespace (None: cluster-scoped workloads)."""
        from .lease_view import LeaseView

        now = self._clock.now()
        out: list[LeaseView] = []
        for name in namespace_records(self._config, namespace):
            current = self._store.read(name)
            if current is None:
                continue
            for _, e in entries(dict(current.data), LEASE):
                if now < float(e["expires"]):
                    out.append(LeaseView(e["workload"], e["holder"], e["step"], float(e["acquired"]),
                                         float(e["expires"])))
        return sorted(out, key=lambda v: v.workload)

    def actions_in_window(self, policy: str | None = None) -> int:
        """Reserved slots in the sliding window of ``policy``, or the global one when None."""
        name = global_record(self._config) if policy is None else rate_record(self._config, policy)
        current = self._store.read(name)
        if current is None:
            return 0
        return count_slots(dict(current.data), self._clock.now(), policy)

    # -- internals ------------------------------------------------------------------------------

    def _slot_args(self, request: ActionRequest, reserved_at: float) -> dict:
        cap = self._config.global_max_actions_per_hour
        about = (f"action slots of every policy (cluster-wide cap {cap} per {self._config.rate_window:g}s)"
                 if cap is not None else f"action slots of policy {request.policy}")
        return dict(policy=request.policy, step_id=request.step_id, holder=self._holder, reserved_at=reserved_at,
                    now=self._clock.now(), window=self._config.rate_window,
                    limit=request.max_actions_per_hour or self._config.default_max_actions_per_hour,
                    global_limit=cap, about=about)

    def _give_back(self, reservation: Reservation) -> None:
        request = reservation.request
        self._update(rate_record(self._config, request.policy), lambda data: give_back_slot(
            data, policy=request.policy, step_id=request.step_id, holder=reservation.holder,
            reserved_at=reservation.reserved_at, now=self._clock.now()))

    def _write_all(self, writes: list[Callable[[], Any]]) -> list[tuple[Any, Exception | None]]:
        """(result, error) of each write. Given a ``fanout``, the writes go out at once (they are
        to different records, and every combination of outcomes is undone the same way);
        without one, in order, stopping at the first failure (the rest are ``_NOT_RUN``)."""

        def attempt(write: Callable[[], Any]) -> tuple[Any, Exception | None]:
            try:
                return write(), None
            except Exception as e:  # noqa: BLE001 - sorted out by the caller
                return None, e

        if self._fanout is not None and len(writes) > 1:
            return self._fanout([lambda write=write: attempt(write) for write in writes])
        out: list[tuple[Any, Exception | None]] = []
        for write in writes:
            out.append(attempt(write) if not out or out[-1][1] is None else _NOT_RUN)
        return out

    def _undo(self, reservation: Reservation, claim: LeaseClaim, *, lease_maybe_taken: bool = True,
              slot_maybe_taken: bool, snapshot: Versioned | None = UNREAD) -> None:
        """Best effort: whatever cannot be undone now expires by itself (see the module doc)."""
        try:
            if slot_maybe_taken:
                self._give_back(reservation)
            if lease_maybe_taken:
                self._update(workload_record(self._config, reservation.request.workload),
                             lambda data: release_lease(data, claim, reservation.reserved_at, self._clock.now(),
                                                        self._config), snapshot, snapshot is not UNREAD)
        except Exception as e:  # noqa: BLE001 - the original refusal/failure matters more
            log.warning("could not undo reservation of %s (%s); its lease expires at %s and its rate "
                        "slot leaves the window within %gs", reservation.request.step_id, e,
                        reservation.lease_expires, self._config.rate_window)

    def _remember(self, reservation: Reservation, written: Versioned | None) -> None:
        """Keep the workload record as our lease write left it: complete() or abort() usually
        follows within the second, and when nobody wrote in between it saves them a read."""
        with self._written_lock:
            self._written[(reservation.request.step_id, reservation.reserved_at)] = written
            while len(self._written) > _REMEMBERED:
                self._written.popitem(last=False)

    def _recall(self, reservation: Reservation) -> tuple[Versioned | None, bool]:
        """(snapshot, may be old) for the first write after the reservation."""
        with self._written_lock:
            written = self._written.pop((reservation.request.step_id, reservation.reserved_at), UNREAD)
        return written, written is not UNREAD

    def _update(self, name: str, decide: Callable[[dict[str, str]], Change], snapshot: Versioned | None = UNREAD,
                snapshot_may_be_old: bool = False) -> tuple[Any, Versioned | None]:
        return update_record_versioned(self._store, name, decide, backoff=self._backoff, sleep=self._sleep,
                                       rng=self._rng, max_bytes=self._config.max_record_bytes, snapshot=snapshot,
                                       snapshot_may_be_old=snapshot_may_be_old)
