"""Leases, executed step ids, cooldowns and ineffective chains: pure decisions over one record.

These four live together in a workload's record because they must change together:

* granting a lease re-checks, in the same write, that the step was not executed, that no live
  lease exists, that the workload is not cooling down and that its chain is not exhausted;
* completing records the step as executed, starts the cooldown, extends the chain and releases
  the lease in one write, so there is no moment at which the lease is free but the step not yet
  recorded (a replay can never slip in between).

Time rules (all half-open): a lease acquired at a with duration d is live while ``now < a + d``;
a cooldown until u holds while ``now < u``; an executed step is remembered while
``now < done + idempotency_ttl``; a chain action counts while ``now < done + chain_window``.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

from ..errors import Refused
from .cas import Change
from .config import SafetyConfig
from .records import ABOUT_KEY, drop_expired, entry_key, expiries, load_entry, put_entry

__all__ = [
    "LEASE",
    "DONE",
    "COOLDOWN",
    "CHAIN",
    "LeaseClaim",
    "lease_key",
    "done_key",
    "cooldown_key",
    "chain_key",
    "prune_workload_record",
    "grant_lease",
    "finish_action",
    "release_lease",
    "record_health",
    "unhealed_actions",
]

log = logging.getLogger(__name__)

LEASE, DONE, COOLDOWN, CHAIN = "lease", "done", "cool", "chain"


class LeaseClaim(NamedTuple):
    """Who asks to act, on what, for which step: everything a lease decision needs."""

    holder: str
    step_id: str
    workload: str  # records.workload_key
    policy: str
    trigger: str
    lease_duration: float
    cooldown: float
    observe_only: bool = False

    @property
    def cooldown_trigger(self) -> str:
        """Observing actions cool down on their own key (see ActionRequest.observe_only)."""
        return f"{self.trigger}/observe" if self.observe_only else self.trigger


def lease_key(workload: str) -> str:
    return entry_key(LEASE, workload)


def done_key(step_id: str) -> str:
    return entry_key(DONE, step_id)


def cooldown_key(policy: str, trigger: str, workload: str) -> str:
    return entry_key(COOLDOWN, policy, trigger, workload)


def chain_key(workload: str) -> str:
    return entry_key(CHAIN, workload)


def _put_chain(data: dict[str, str], key: str, chain: dict, config: SafetyConfig) -> None:
    """A chain expires (needs a look) when its oldest action leaves the window."""
    if chain["actions"]:
        oldest = min(float(a["at"]) for a in chain["actions"])
        put_entry(data, key, chain, expires=oldest + config.chain_window)
    else:
        data.pop(key, None)


def prune_workload_record(data: dict[str, str], now: float, config: SafetyConfig) -> int:
    """Drop every entry that no longer affects a decision; returns how many changed."""
    changed = len(drop_expired(data, (LEASE, DONE, COOLDOWN), now))
    for key, expires in list(expiries(data, CHAIN)):
        if now < expires:
            continue
        chain = load_entry(data, key)
        if chain is not None:
            chain["actions"] = [a for a in chain["actions"] if now < float(a["at"]) + config.chain_window]
            _put_chain(data, key, chain, config)
        changed += 1
    return changed


def unhealed_actions(data: dict[str, str], workload: str, now: float, config: SafetyConfig) -> list[dict]:
    """Actions on ``workload`` within the chain window that no healthy verification followed."""
    chain = load_entry(data, chain_key(workload))
    if not chain:
        return []
    return [a for a in chain["actions"] if now < float(a["at"]) + config.chain_window]


def _live_lease(data: dict[str, str], workload: str, now: float) -> dict | None:
    lease = load_entry(data, lease_key(workload))
    return lease if lease is not None and now < float(lease["expires"]) else None


def grant_lease(data: dict[str, str], claim: LeaseClaim, now: float, config: SafetyConfig,
                about: str) -> Change[float]:
    """Take the workload's lease for ``claim``; returns the acquisition time.

    Refusals, in this order of precedence: duplicate, leased, ineffective_chain, cooldown. A live
    lease refuses everyone, its own holder included: a holder cannot tell whether an earlier
    attempt of its own (a crashed incarnation, a parallel redelivery) is still acting.
    """
    done = load_entry(data, done_key(claim.step_id))
    if done is not None and now < float(done["at"]) + config.idempotency_ttl:
        raise Refused("duplicate", f"step {claim.step_id!r} was already executed by {done['holder']} "
                                   f"at {done['at']}")
    lease = _live_lease(data, claim.workload, now)
    if lease is not None:
        raise Refused("leased", f"{lease['holder']} holds {claim.workload} for step {lease['step']!r} "
                                f"until {lease['expires']} ({float(lease['expires']) - now:g}s left)")
    unhealed = [] if claim.observe_only else unhealed_actions(data, claim.workload, now, config)
    if len(unhealed) >= config.chain_threshold:
        oldest = min(float(a["at"]) for a in unhealed)
        raise Refused("ineffective_chain",
                      f"{len(unhealed)} actions on {claim.workload} within {config.chain_window:g}s did not "
                      f"heal it; automatic actions resume in {oldest + config.chain_window - now:g}s")
    cooling = load_entry(data, cooldown_key(claim.policy, claim.cooldown_trigger, claim.workload))
    if cooling is not None and now < float(cooling["until"]):
        raise Refused("cooldown", f"{claim.policy} × {claim.trigger} on {claim.workload} cools down for "
                                  f"{float(cooling['until']) - now:g}s more")
    prune_workload_record(data, now, config)
    if unhealed:
        # Being asked to act again is evidence that the earlier actions did not heal.
        _mark_unhealed(data, claim.workload, config, evidence="refinding")
    put_entry(data, lease_key(claim.workload), {
        "workload": claim.workload, "holder": claim.holder, "step": claim.step_id,
        "acquired": now, "expires": now + claim.lease_duration,
    }, expires=now + claim.lease_duration)
    data[ABOUT_KEY] = about
    return Change(now)


def _owns(lease: dict | None, holder: str, step_id: str, acquired: float) -> bool:
    return (lease is not None and lease.get("holder") == holder and lease.get("step") == step_id
            and float(lease.get("acquired", -1.0)) == acquired)


def finish_action(data: dict[str, str], claim: LeaseClaim, acquired: float, now: float,
                  config: SafetyConfig) -> Change[bool]:
    """The action ran: remember the step, start the cooldown, extend the chain, release the lease.

    Returns False when our lease had already been lost (expired, maybe taken by another holder):
    the step is still recorded, but the other holder's lease is left alone. Idempotent: a
    repeated completion changes nothing but a lease it still owns.
    """
    lease_key_ = lease_key(claim.workload)
    lease = load_entry(data, lease_key_)
    owned = _owns(lease, claim.holder, claim.step_id, acquired)
    if owned:
        del data[lease_key_]
    else:
        log.warning("%s completed step %r on %s after losing its lease (held now by %s); the lease was "
                    "too short for this action", claim.holder, claim.step_id, claim.workload,
                    lease.get("holder") if lease else "nobody")
    if load_entry(data, done_key(claim.step_id)) is not None:
        return Change(owned, write=owned)
    prune_workload_record(data, now, config)
    put_entry(data, done_key(claim.step_id), {"step": claim.step_id, "holder": claim.holder, "at": now,
                                              "workload": claim.workload}, expires=now + config.idempotency_ttl)
    if claim.cooldown > 0:
        ckey = cooldown_key(claim.policy, claim.cooldown_trigger, claim.workload)
        previous = load_entry(data, ckey)
        until = max(now + claim.cooldown, float(previous["until"]) if previous else 0.0)
        put_entry(data, ckey, {"policy": claim.policy, "trigger": claim.cooldown_trigger,
                               "workload": claim.workload, "until": until}, expires=until)
    if claim.observe_only:
        return Change(owned)
    chain = load_entry(data, chain_key(claim.workload)) or {"workload": claim.workload, "actions": []}
    chain["actions"].append({"at": now, "step": claim.step_id, "policy": claim.policy, "evidence": None})
    _put_chain(data, chain_key(claim.workload), chain, config)
    return Change(owned)


def release_lease(data: dict[str, str], claim: LeaseClaim, acquired: float, now: float,
                  config: SafetyConfig) -> Change[bool]:
    """Nothing was done: release our lease if we still hold it.

    Returns True when the step is recorded as executed after all (a completion raced or an abort
    came after complete): the caller must then NOT give the rate slot back.
    """
    lease_key_ = lease_key(claim.workload)
    owned = _owns(load_entry(data, lease_key_), claim.holder, claim.step_id, acquired)
    if owned:
        del data[lease_key_]
    pruned = prune_workload_record(data, now, config)
    executed = load_entry(data, done_key(claim.step_id)) is not None
    return Change(executed, write=owned or pruned > 0)


def _mark_unhealed(data: dict[str, str], workload: str, config: SafetyConfig, *, evidence: str,
                   latest_only: bool = False) -> bool:
    key = chain_key(workload)
    chain = load_entry(data, key)
    if not chain:
        return False
    pending = [a for a in chain["actions"] if a.get("evidence") is None]
    for action in pending[-1:] if latest_only else pending:
        action["evidence"] = evidence
    if pending:
        _put_chain(data, key, chain, config)
    return bool(pending)


def record_health(data: dict[str, str], workload: str, healthy: bool, now: float,
                  config: SafetyConfig) -> Change[None]:
    """A healthy verification clears the workload's chain; an unhealthy one marks the latest
    unverified action as having failed verification (it keeps counting until the window passes)."""
    pruned = prune_workload_record(data, now, config)
    if healthy:
        changed = data.pop(chain_key(workload), None) is not None
    else:
        changed = _mark_unhealed(data, workload, config, evidence="verification", latest_only=True)
    return Change(None, write=changed or pruned > 0)
