"""The Remediator: carries out plans, approvals and health checks, exactly once per plan step.

For each planned action, in this order: live target read → protected check → HealingAction
created (deterministic name) → [approval] → blast radius → ``ledger.reserve`` → intent prepared
and claimed (HealingAction InProgress, by compare-and-swap) → act → intent marked applied →
``ledger.complete`` → Succeeded/Failed → Outcome (+ Kubernetes Event).

Why that makes a step happen once, whatever is redelivered or crashes (docs/remediation.md has
the full table):
- the HealingAction's name is the step's identity; a finished one replays its recorded outcome;
- the intent is computed once and stored before acting, and every action applies an intent
  idempotently, so a re-drive after a crash mid-way completes the same change, not a second one;
- "applied" is recorded before ``complete``; a crash between them re-completes without acting;
- a transient fault raises :class:`~kubeskippy.errors.TemporaryError` out of the call (the function
  answers 5xx and Knative redelivers); before raising, the ledger reservation and the
  HealingAction's lease are released (best effort) so the retry can proceed at once.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Callable, NamedTuple

from ..clock import Clock
from ..errors import (APIError, APINotFound, InvalidInput, KubeSkippyError, PermanentError, Refused,
                      TemporaryError)
from ..events.model import Notification, ObjectRef, Outcome, Plan, Verification, stable_id
from ..policy.model import API_VERSION, TERMINAL_PHASES, HealingPolicy
from ..ports import Cluster, Fanout, fan_out
from ..safety.config import SafetyConfig
from ..safety.contract import ActionRequest, Reservation, SafetyLedger
from .approval import approval_decision, approval_expired
from .attribution import plan_attributions, with_attributions
from .guard import SafetyGuard, TargetGuard
from .healing_actions import (KIND, M_APPLIED, M_HOLDER, M_INTENT, M_LEASE_EXPIRES, M_OUTCOME, M_REASON,
                              M_VERIFY, M_VERIFY_BASELINE, M_VERIFY_DEADLINE, M_VERIFY_STARTED, annotation,
                              applied_before_record, build_healing_action, cas_status, changes_from_status,
                              changes_to_status, create_or_get, get_healing_action, intent_of, metrics_of,
                              outcome_from_record, parse_ts, phase_of, set_condition, status_of, ts, workload_of)
from .health import check_health
from .kube_events import event_reason, record_event
from .model import ActionContext, ActionReport
from .naming import (ANN_APPROVAL_EXPIRES, ANN_FINDING_FINGERPRINT, ANN_PLAN_ID, ANN_STEP_ID, LABEL_MANAGED_BY,
                     LABEL_VERIFICATION, MANAGED_BY, healing_action_name, plan_steps)
from .objects import get_ref, meta, pods_of, restart_baseline, top_owner
from .result import RemediationResult
from .steps import EarlyRun, PolicyLookup, Step, build_step, lookup_policy, step_from_record

__all__ = ["Remediator"]

log = logging.getLogger(__name__)

_PERMANENT_API_STATUSES = {400, 403, 405, 410, 415, 422}


def _permanent_api_error(e: KubeSkippyError) -> bool:
    return isinstance(e, APIError) and e.status in _PERMANENT_API_STATUSES


class Remediator:
    """Executes plans against a cluster under the shared safety ledger.

    ``policies`` maps ``namespace/name`` to HealingPolicy (or is a callable doing that lookup).
    ``holder`` names this replica (the pod name). ``protection`` is a TargetGuard, or a
    SafetyConfig for the default guard. HealingActions go to ``namespace_for_actions``, or to the
    policy's namespace when it is None. Times are seconds. ``fanout`` runs independent reads at
    once (kubeskippy.services.fanout); given one, a plan's first reads are made together up
    front — pair it with a request cache in front of ``cluster`` (the remediate service does),
    or those reads are made twice.
    """

    def __init__(self, *, cluster: Cluster, ledger: SafetyLedger, clock: Clock, policies: PolicyLookup,
                 holder: str, protection: TargetGuard | SafetyConfig | None = None,
                 namespace_for_actions: str | None = None, lease_duration: float = 300.0,
                 approval_timeout: float = 3600.0, action_timeout: float = 600.0,
                 fanout: Fanout | None = None) -> None:
        self._cluster = cluster
        self._ledger = ledger
        self._clock = clock
        self._policies = policies
        self._holder = holder
        if protection is None or isinstance(protection, SafetyConfig):
            protection = SafetyGuard(cluster, protection)
        self._guard: TargetGuard = protection
        self._namespace = namespace_for_actions
        self._lease = lease_duration
        self._approval_timeout = approval_timeout
        self._action_timeout = action_timeout
        self._fanout = fanout

    # -- public API ---------------------------------------------------------------------------

    def execute(self, plan: Plan) -> RemediationResult:
        """Carry out every step of ``plan``. Permanent problems become outcomes; a transient
        fault raises TemporaryError (steps done so far replay their outcomes on redelivery).

        Observe-only steps planned ahead of a change (the crash-loop policy's diagnostics,
        "before anything changes") are *applied* first, so what they capture is the state before
        the change, and *recorded* (HealingAction, ledger, Kubernetes Event) after the plan's
        other steps, so their bookkeeping is not on the path to the change. Outcomes are
        reported in plan order either way. docs/remediation.md, "Observe-only steps first"."""
        slots: list[Step | RemediationResult] = []
        policy = self._policy_reading_ahead(plan)
        known = plan_attributions(plan, policy)  # what learning needs, kept on each step's HealingAction
        for step_id, planned in plan_steps(plan):
            now = self._clock.now()
            if policy is None:
                slots.append(self._only(self._plain_outcome(plan, step_id, planned, "failed", "policy_not_found",
                                                            f"HealingPolicy {plan.finding.policy} not found", now)))
                continue
            try:
                step = build_step(step_id=step_id, plan_id=plan.id, fingerprint=plan.finding.fingerprint,
                                  trigger=plan.finding.trigger, policy=policy, planned=planned)
                slots.append(step._replace(attribution=known.get(planned.action)))
            except Refused as e:
                slots.append(self._only(self._plain_outcome(plan, step_id, planned, "blocked", e.reason, str(e), now)))
            except InvalidInput as e:
                slots.append(self._only(self._plain_outcome(plan, step_id, planned, "failed", "invalid_params",
                                                            str(e), now)))
        early, records = self._apply_early([s for s in slots if isinstance(s, Step)])
        done: dict[int, RemediationResult] = {}
        for n, slot in enumerate(slots):  # a transient fault here drops the early captures: the
            if isinstance(slot, Step) and slot.step_id not in early:  # redelivery captures again
                done[n] = self._execute_step(slot, records.get(slot.step_id))
        for n, slot in enumerate(slots):
            if isinstance(slot, Step) and slot.step_id in early:
                done[n] = self._execute_step(early[slot.step_id])
        result = RemediationResult()
        for n, slot in enumerate(slots):
            result.merge(done[n] if isinstance(slot, Step) else slot)
        # Outcomes without a step's attribution (parameters refused, a record written before
        # records kept it) still answer this plan: learning scores them alike.
        result.outcomes[:] = with_attributions(result.outcomes, plan.id, known)
        return result

    def _policy_reading_ahead(self, plan: Plan) -> HealingPolicy | None:
        """The plan's HealingPolicy; with a fan-out, read beside the reads the steps are about to
        make one by one, all of which the plan alone names: each step's HealingAction (does it
        exist yet?), its target, the finding's owners and the target's namespace (protection).
        The reads are best effort: a failed one is left for the step's own read to meet and
        handle. (They waited for the policy before; none needs it.)"""
        if self._fanout is None:
            return lookup_policy(self._policies, plan.finding.policy)
        namespace = self._namespace or plan.finding.policy.rpartition("/")[0]
        calls: dict[tuple, Any] = {}
        for step_id, planned in plan_steps(plan):
            if namespace:
                name = healing_action_name(step_id, planned.action)
                calls[(KIND, namespace, name)] = lambda n=name: get_healing_action(self._cluster, namespace, n)
            for ref in (planned.target, *(plan.finding.owner_chain if planned.target == plan.finding.target else ())):
                calls[(ref.kind, ref.namespace, ref.name)] = lambda ref=ref: get_ref(self._cluster, ref)
            if planned.target.namespace:
                calls[("Namespace", None, planned.target.namespace)] = \
                    lambda ns=planned.target.namespace: self._cluster.get("v1", "Namespace", ns)
        return self._fanout([lambda: lookup_policy(self._policies, plan.finding.policy),
                             *(_quietly(call) for call in calls.values())])[0]

    def _apply_early(self, steps: list[Step]) -> tuple[dict[str, Step], dict[str, "_Record | RemediationResult"]]:
        """Apply the observe-only steps that precede a change in the plan, now, before anything
        changes; returns them (by step id) carrying what they saw. Only steps that would run at
        once qualify (automatic mode, no approval, not yet recorded, target not protected); a
        permanent problem (target gone, unsupported) leaves the step to report it in its turn; a
        transient fault propagates (nothing has changed yet, so the redelivery loses nothing).
        With a fan-out, the changes' check reads are made meanwhile (:meth:`_checks_ahead`), and
        so is the HealingAction of each change that will run at once (:meth:`_record_early`);
        those records come back too, by step id."""
        calls: list[Any] = []
        capturing = False  # an early capture comes before this step
        for n, step in enumerate(steps):
            if step.action.changes_cluster:
                if self._fanout is not None and step.policy.spec.mode != "monitor":
                    calls.extend(_quietly(call) for call in self._checks_ahead(step))
                    if capturing and self._runs_at_once(step):
                        calls.append(lambda step=step: self._record_early(step))
                continue
            if not any(s.action.changes_cluster for s in steps[n + 1:]):
                continue
            if not self._runs_at_once(step):
                continue
            calls.append(_held(lambda step=step: self._apply_one_early(step)) if self._fanout is not None
                         else lambda step=step: self._apply_one_early(step))
            capturing = True
        if not calls:
            return {}, {}
        runs = fan_out(self._fanout, calls)
        records = {run.step_id: run.record for run in runs if isinstance(run, _EarlyRecord)}
        fault = next((run for run in runs if isinstance(run, Exception)), None)
        if fault is not None:
            # A capture failed (a transient fault): the plan fails and is redelivered. A record made
            # beside it must not hold the step for a lease meanwhile: release it (as after any
            # fault) so the redelivery goes on at once.
            for record in records.values():
                if isinstance(record, _Record) and record.created:
                    self._release_after_fault(record.ha, None)
            raise fault
        return {run.step_id: run for run in runs if isinstance(run, Step)}, records

    @staticmethod
    def _runs_at_once(step: Step) -> bool:
        """Automatic mode and no approval asked: the step is carried out as soon as it is reached."""
        needs_approval = step.template.requires_approval or step.planned.requires_approval
        return step.policy.spec.mode == "automatic" and not needs_approval

    def _record_early(self, step: Step) -> "_EarlyRecord | None":
        """Create a change's HealingAction (Pending) while the observe-only steps before it are
        applied, instead of in a round of its own after them. Nothing else moves earlier: the
        record is made from the same reads and checks, and the ledger, the claim (InProgress)
        and the action still follow it in order, so an observer sees the same phases in the
        same order; the Pending record merely appears while the diagnostics are captured.
        Only for steps that run at once (no approval to ask). Best effort: a fault leaves the
        step to make its record in its turn (docs/remediation.md, "Observe-only steps first")."""
        try:
            return _EarlyRecord(step.step_id, self._record(step))
        except KubeSkippyError:
            return None

    def _apply_one_early(self, step: Step) -> Step | None:
        now = self._clock.now()
        try:
            if get_healing_action(self._cluster, self._namespace or step.policy.namespace,
                                  healing_action_name(step.step_id, step.planned.action)) is not None:
                return None  # recorded by an earlier delivery: it resumes or replays in its turn
            live = get_ref(self._cluster, step.target)
            resolved = step.action.resolve_target(self._cluster, live)
            if self._guard.protected(live, step.policy) or (
                    resolved is not live and self._guard.protected(resolved, step.policy)):
                return None
            ctx = self._context(step, dry_run=False, stamp=now)
            intent = step.action.prepare(ctx, resolved, step.params)
            report = step.action.apply(ctx, intent)
            workload = ObjectRef.of(top_owner(self._cluster, resolved))
        except (Refused, PermanentError, APINotFound):
            return None
        except KubeSkippyError as e:
            if _permanent_api_error(e):
                return None
            raise
        if report.blocked:
            return None
        return step._replace(early=EarlyRun(intent=intent, report=report, at=now, target=resolved,
                                            workload=workload))

    def _checks_ahead(self, step: Step) -> list[Any]:
        """The reads a change's checks will make, as calls to run with the early captures: the
        blast-radius check's (the guard's ``reads_ahead``, else the check itself) and, if the
        ledger offers ``reads_ahead(request)``, the ledger's records. A request cache keeps what
        they read for the real checks. Best effort: a failure here is met again by the check."""
        try:
            if get_healing_action(self._cluster, self._namespace or step.policy.namespace,
                                  healing_action_name(step.step_id, step.planned.action)) is not None:
                return []
            resolved = step.action.resolve_target(self._cluster, get_ref(self._cluster, step.target))
            workload = top_owner(self._cluster, resolved)
        except KubeSkippyError:
            return []
        guard_ahead = getattr(self._guard, "reads_ahead", None)
        calls = guard_ahead(step.action_type, workload) if guard_ahead is not None else [
            lambda: self._guard.blast_radius(step.action_type, resolved, workload,
                                             getattr(step.params, "strategy", None),
                                             step.action.disrupted(self._cluster, resolved, step.params))]
        ledger_ahead = getattr(self._ledger, "reads_ahead", None)
        if ledger_ahead is not None and step.policy.spec.mode != "dryrun":
            calls.extend(ledger_ahead(self._action_request(step, ObjectRef.of(resolved), ObjectRef.of(workload))))
        return calls

    def on_healing_action_update(self, obj: dict) -> RemediationResult:
        """React to a changed HealingAction (an approval or rejection, or a stalled one).
        Our own status writes come back here too; they are recognised and ignored."""
        if (meta(obj).get("labels") or {}).get(LABEL_MANAGED_BY) != MANAGED_BY or obj.get("kind") != KIND:
            return RemediationResult()
        fresh = get_healing_action(self._cluster, meta(obj).get("namespace", ""), meta(obj).get("name", ""))
        if fresh is None:
            return RemediationResult()
        return self._advance(fresh, sweep=False)

    def expire_approvals(self) -> list[Outcome]:
        """Cancel Pending approvals past their deadline (annotation kubeskippy.io/approval-expires-at)."""
        now = self._clock.now()
        outcomes = []
        for obj in self._list_managed():
            if phase_of(obj) == "Pending" and approval_decision(obj) == "undecided" and approval_expired(obj, now):
                outcome = self._cancel(obj, "approval_expired", "no decision before the approval deadline "
                                       f"{annotation(obj, ANN_APPROVAL_EXPIRES)}", "ApprovalExpired")
                if outcome is not None:
                    outcomes.append(outcome)
        return outcomes

    def verify_pending(self) -> list[Verification]:
        """Check every HealingAction waiting for a health check; report the ones that became
        healthy, or whose timeout passed, and feed each result to the ledger once."""
        verifications = []
        for obj in self._list_managed(label_selector=f"{LABEL_VERIFICATION}=pending"):
            if phase_of(obj) not in TERMINAL_PHASES:
                continue
            if phase_of(obj) != "Succeeded" or metrics_of(obj).get(M_VERIFY) != "pending":
                self._set_verification_label(obj, "none")
                continue
            verification = self._verify(obj)
            if verification is not None:
                verifications.append(verification)
        return verifications

    def recover_stalled(self) -> RemediationResult:
        """Re-drive steps whose driver died: InProgress past its lease; Approved, or created for
        automatic execution, longer than a lease ago and never started. The periodic sweep calls
        this; a redelivered plan does the same at once."""
        result = RemediationResult()
        for obj in self._list_managed():
            stalled = phase_of(obj) in ("Approved", "InProgress") or (
                phase_of(obj) == "Pending" and approval_decision(obj) == "not_required")
            if stalled:
                result.merge(self._advance(obj, sweep=True))
        return result

    # -- steps --------------------------------------------------------------------------------

    def _execute_step(self, step: Step, record: "_Record | RemediationResult | None" = None) -> RemediationResult:
        """``record``: the step's HealingAction as :meth:`_record_early` already made it."""
        now = self._clock.now()
        mode = step.policy.spec.mode
        if mode == "monitor":
            return self._only(self._step_outcome(step, "monitored", "monitor_mode", f"monitor mode: would "
                                                 f"{step.action_type} {step.target} ({step.planned.reason})", now))
        if record is None:
            record = self._record(step)
        if isinstance(record, RemediationResult):
            return record
        if not record.created:
            return self._advance(record.ha, sweep=False, step=step, from_plan=True)
        if record.needs_approval:
            return self._request_approval(step, record.ha)
        if step.early is not None:
            return self._record_observation(step, record.ha)
        return self._drive(step, record.ha, resolved=record.resolved, fresh=True)

    def _record(self, step: Step) -> "_Record | RemediationResult":
        """The step's HealingAction: the existing one, or one created after the live checks
        (target read, protection); a result instead when those end the step."""
        now = self._clock.now()
        mode = step.policy.spec.mode
        namespace = self._namespace or step.policy.namespace
        name = healing_action_name(step.step_id, step.planned.action)
        # A step applied early was looked up then and had no record; one made since (a redelivery
        # on another replica) is met by the create's 409 below, so it is not read again here.
        existing = get_healing_action(self._cluster, namespace, name) if step.early is None else None
        if existing is not None:
            return _Record(existing, created=False)

        if step.early is not None:  # checked and applied before the plan's changes (execute)
            resolved, workload = step.early.target, step.early.workload
        else:
            try:
                live = get_ref(self._cluster, step.target)
            except APINotFound:
                return self._only(self._step_outcome(step, "failed", "target_not_found", f"{step.target} not found",
                                                     now))
            try:
                resolved = step.action.resolve_target(self._cluster, live)
            except Refused as e:
                return self._only(self._step_outcome(step, "blocked", e.reason, str(e), now))
            why = self._guard.protected(live, step.policy) or (
                self._guard.protected(resolved, step.policy) if resolved is not live else None)
            if why:
                return self._only(self._step_outcome(step, "blocked", "protected", why, now, target=resolved))
            workload = ObjectRef.of(top_owner(self._cluster, resolved))

        dry_run = mode == "dryrun"
        needs_approval = not dry_run and (mode == "manual" or step.template.requires_approval
                                          or step.planned.requires_approval)
        verify = (step.policy.spec.safety_rules.require_health_check and not dry_run
                  and step.action.changes_cluster)
        obj = build_healing_action(
            name=name, namespace=namespace, step_id=step.step_id, plan_id=step.plan_id, fingerprint=step.fingerprint,
            trigger=step.trigger, policy=step.policy, template=step.template, planned=step.planned,
            action_type=step.action_type, target=resolved, workload=workload, mode=mode,
            approval_required=needs_approval, dry_run=dry_run, timeout=self._action_timeout,
            approval_expires=now + self._approval_timeout if needs_approval else None, verification=verify,
            attribution=step.attribution, applied_intent=step.early.intent if step.early is not None else None)
        ha, created = create_or_get(self._cluster, obj)
        return _Record(ha, created=created, resolved=resolved, needs_approval=needs_approval)

    def _advance(self, ha: dict, *, sweep: bool, step: Step | None = None, from_plan: bool = False) -> RemediationResult:
        """Move an existing HealingAction on from whatever phase it is in."""
        now = self._clock.now()
        phase = phase_of(ha)
        if phase in TERMINAL_PHASES:
            return self._only(outcome_from_record(ha)) if from_plan else RemediationResult()
        if step is None:
            try:
                step = step_from_record(ha, self._policies)
            except (Refused, InvalidInput) as e:
                outcome = self._cancel(ha, getattr(e, "reason", "invalid_params"), str(e), "CannotResume")
                return self._only(outcome) if outcome else RemediationResult()
        if phase == "Pending":
            decision = approval_decision(ha)
            if decision == "not_required":
                expiry = self._driver_expiry(ha)
                if expiry is not None and now < expiry:
                    # The replica that created it may be driving it right now. Its own update echo
                    # is ignored; a redelivered plan comes back later.
                    return self._busy(step, ha, expiry - now, from_plan)
                return self._drive(step, ha)
            if decision == "rejected":
                approval = status_of(ha).get("approval") or {}
                outcome = self._cancel(ha, "rejected", f"rejected by {approval.get('approvedBy') or 'someone'}: "
                                       f"{approval.get('reason', '')}".rstrip(": "), "Rejected")
                return self._only(outcome) if outcome else RemediationResult()
            if decision == "undecided":
                if approval_expired(ha, now):
                    outcome = self._cancel(ha, "approval_expired", "no decision before the approval deadline",
                                           "ApprovalExpired")
                    return self._only(outcome) if outcome else RemediationResult()
                if from_plan:
                    return self._request_approval(step, ha)
                return RemediationResult()
            ha, won = cas_status(self._cluster, ha, lambda cur: self._approved_status(cur))
            if not won:
                return RemediationResult()  # someone else moved it on; their write drives it
            return self._drive(step, ha, approved=True)
        expiry = self._driver_expiry(ha)  # Approved: its approver drives it; InProgress: its claimer
        if expiry is not None and now < expiry:
            return self._busy(step, ha, expiry - now, from_plan)
        return self._drive(step, ha, approved=approval_decision(ha) == "approved")

    def _driver_expiry(self, ha: dict) -> float | None:
        """Until when someone may be driving this step: the lease recorded by the last claim (or
        released after a fault), else a lease from the approval or the creation."""
        recorded = parse_ts(metrics_of(ha).get(M_LEASE_EXPIRES))
        if recorded is not None:
            return recorded
        since = (self._condition_time(ha, "Approved") if phase_of(ha) == "Approved"
                 else parse_ts(meta(ha).get("creationTimestamp")))
        return since + self._lease if since is not None else None

    @staticmethod
    def _busy(step: Step, ha: dict, remaining: float, from_plan: bool) -> RemediationResult:
        """Someone may be driving this step now: a redelivered plan is told to come back (5xx),
        an update event or the sweep leaves it alone."""
        if from_plan:
            holder = metrics_of(ha).get(M_HOLDER) or "the replica that created it"
            raise _StepBusy(f"step {step.step_id} is being carried out by {holder}; retry later", delay=remaining)
        return RemediationResult()

    def _request_approval(self, step: Step, ha: dict) -> RemediationResult:
        now = self._clock.now()

        def decide(cur: dict) -> dict | None:
            if phase_of(cur) != "Pending" or status_of(cur).get("approval"):
                return None
            status = dict(status_of(cur))
            status.update({"phase": "Pending", "approval": {"required": True, "approved": False}})
            status["result"] = {"success": False, "message": "waiting for approval",
                                "metrics": {M_OUTCOME: "pending_approval", M_REASON: "approval_required"}}
            set_condition(status, "Approved", "Unknown", "AwaitingApproval",
                          f"approve with: kubeskippy approve {meta(cur)['name']} -n {meta(cur)['namespace']}", now)
            set_condition(status, "Ready", "False", "WaitingForApproval", "waiting for approval", now)
            return status

        ha, _ = cas_status(self._cluster, ha, decide)
        name = f"{meta(ha)['namespace']}/{meta(ha)['name']}"
        outcome = outcome_from_record(ha, status="pending_approval", reason="approval_required",
                                      message=f"waiting for approval of HealingAction {name}",
                                      at=now)
        note = Notification(
            id=stable_id("notification", step.step_id, "approval"), severity="info",
            title=f"Approval needed: {step.action_type} {step.target}",
            message=(f"{step.planned.reason or 'a healing policy'} proposes {step.action_type} on {step.target}. "
                     f"Approve: kubeskippy approve {meta(ha)['name']} -n {meta(ha)['namespace']} --reason ...; "
                     f"reject: kubeskippy reject {meta(ha)['name']} -n {meta(ha)['namespace']} --reason ... "
                     f"(expires {annotation(ha, ANN_APPROVAL_EXPIRES)})"),
            target=step.target, plan_id=step.plan_id, finding_fingerprint=step.fingerprint, at=now)
        return RemediationResult(outcomes=[outcome], notifications=[note])

    # -- driving one step ---------------------------------------------------------------------

    def _drive(self, step: Step, ha: dict, *, resolved: dict | None = None, approved: bool = False,
               fresh: bool = False) -> RemediationResult:
        """Carry a step from its checks to its end. ``fresh``: this call created the HealingAction,
        so a ``leased`` refusal means another step holds the workload (blocked); otherwise it may be
        this step's own earlier attempt, and the caller retries after the lease. A transient fault
        releases what this attempt held before it propagates."""
        try:
            return self._drive_unguarded(step, ha, resolved=resolved, approved=approved, fresh=fresh)
        except _StepBusy:
            raise
        except TemporaryError as e:
            if not getattr(e, "released", False):
                self._release_after_fault(ha, None)
            raise

    def _drive_unguarded(self, step: Step, ha: dict, *, resolved: dict | None, approved: bool,
                         fresh: bool) -> RemediationResult:
        metrics = metrics_of(ha)
        applied = metrics.get(M_APPLIED) == "true" or applied_before_record(ha)
        intent = intent_of(ha)
        dry_run = bool((ha.get("spec") or {}).get("dryRun"))

        if not applied and intent is None:
            # Live checks only before the intent exists: once prepared, the step is committed and
            # a re-drive must finish it even if the target has meanwhile gone (an eviction done).
            if resolved is None:
                try:
                    live = get_ref(self._cluster, step.target)
                    resolved = step.action.resolve_target(self._cluster, live)
                except APINotFound:
                    return self._finish(step, ha, "Failed", "failed", "target_not_found", f"{step.target} not found")
                except Refused as e:
                    return self._finish(step, ha, "Cancelled", "blocked", e.reason, str(e))
                why = self._guard.protected(live, step.policy) or (
                    self._guard.protected(resolved, step.policy) if resolved is not live else None)
                if why:
                    return self._finish(step, ha, "Cancelled", "blocked", "protected", why)
            if step.action.changes_cluster:  # an observe-only step takes nothing out of service
                workload_obj = self._workload_object(ha, resolved)
                strategy = getattr(step.params, "strategy", None)
                why = self._guard.blast_radius(step.action_type, resolved, workload_obj, strategy,
                                               step.action.disrupted(self._cluster, resolved, step.params))
                if why and not approved:
                    return self._finish(step, ha, "Cancelled", "blocked", "blast_radius", why)
                if why:
                    log.warning("acting on %s although %s: a person approved it", step.target, why)

        if dry_run:
            return self._dry_run(step, ha, resolved)
        return self._reserve_and_act(step, ha, resolved, intent, applied, fresh)

    def _reserve_and_act(self, step: Step, ha: dict, resolved: dict | None, intent: dict | None, applied: bool,
                         fresh: bool) -> RemediationResult:
        request = self._action_request(step, ObjectRef.of(resolved) if resolved is not None else step.target,
                                       workload_of(ha))
        try:
            reservation = self._ledger.reserve(request)
        except Refused as e:
            if e.reason == "duplicate":
                return self._finish(step, ha, "Succeeded", "executed", "",
                                    (status_of(ha).get("result") or {}).get("message")
                                    or "already executed (recorded in the safety ledger)",
                                    changes_from_status(ha) or None)
            if e.reason == "leased" and (not fresh or applied or intent is not None):
                raise _StepBusy(f"step {step.step_id}: {e}; retry after the lease expires", delay=5.0) from e
            return self._finish(step, ha, "Cancelled", "blocked", e.reason, str(e))

        try:
            return self._act(step, ha, reservation, resolved, intent, applied)
        except TemporaryError as e:
            self._release_after_fault(ha, reservation)
            e.released = True  # type: ignore[attr-defined]
            raise

    def _action_request(self, step: Step, target: ObjectRef, workload: ObjectRef) -> ActionRequest:
        return ActionRequest(
            step_id=step.step_id, policy=step.policy_key, trigger=step.trigger, target=target, workload=workload,
            action_type=step.action_type, max_actions_per_hour=step.policy.spec.safety_rules.max_actions_per_hour,
            cooldown=step.cooldown, lease_duration=self._lease,
            observe_only=not step.action.changes_cluster)  # diagnostics, notify: see ActionRequest

    def _act(self, step: Step, ha: dict, reservation: Reservation, resolved: dict | None, intent: dict | None,
             applied: bool) -> RemediationResult:
        now = self._clock.now()
        baseline: dict[str, int] | None = None
        if intent is None:
            ctx = self._context(step, dry_run=False, stamp=now)
            try:
                intent = step.action.prepare(ctx, resolved, step.params)
            except Refused as e:
                self._ledger.abort(reservation)
                return self._finish(step, ha, "Failed", "blocked", e.reason, str(e))
            except APINotFound as e:
                self._ledger.abort(reservation)
                return self._finish(step, ha, "Failed", "failed", "target_not_found", str(e))
            except PermanentError as e:
                self._ledger.abort(reservation)
                return self._finish(step, ha, "Failed", "failed", "invalid_params", str(e))
            if (meta(ha).get("labels") or {}).get(LABEL_VERIFICATION) == "pending":
                baseline = restart_baseline(self._pods_of_workload(ha))

        ha, won = cas_status(self._cluster, ha, lambda cur: self._claim_status(cur, intent, baseline))
        if not won:
            if phase_of(ha) in TERMINAL_PHASES:
                self._ledger.abort(reservation)
                return self._only(outcome_from_record(ha))
            raise _StepBusy(f"step {step.step_id} was claimed by {metrics_of(ha).get(M_HOLDER)}", delay=5.0)
        intent = intent_of(ha)
        stamp = parse_ts(status_of(ha).get("startTime")) or now

        report: ActionReport
        if applied:
            result = status_of(ha).get("result") or {}
            report = ActionReport(message=result.get("message") or "applied by an earlier attempt (its report was "
                                  "not recorded)", changes=changes_from_status(ha))
            self._complete(reservation, None)
        else:
            ctx = self._context(step, dry_run=False, stamp=stamp)
            try:
                if step.early is not None and step.early.intent == intent:
                    report = step.early.report  # applied ahead of the plan's changes (execute)
                else:
                    report = step.action.apply(ctx, intent)
            except Refused as e:
                self._ledger.abort(reservation)
                return self._finish(step, ha, "Failed", "blocked", e.reason, str(e))
            except KubeSkippyError as e:
                if isinstance(e, APINotFound) or _permanent_api_error(e) or isinstance(e, PermanentError):
                    self._ledger.abort(reservation)
                    self._note(step, ha, resolved, f"{step.action_type} failed: {e}", warning=True)
                    return self._finish(step, ha, "Failed", "failed",
                                        "target_not_found" if isinstance(e, APINotFound) else "api_error", str(e))
                raise
            if report.blocked:
                self._ledger.abort(reservation)
                return self._finish(step, ha, "Failed", "blocked", report.blocked, report.message,
                                    report.changes or None, details=report.details)
            claimed = ha
            ha = self._complete(reservation, lambda: self._note(step, claimed, resolved, report.message),
                                mark=lambda: cas_status(self._cluster, claimed,
                                                        lambda cur: self._applied_status(cur, report))[0]) or ha
        result = self._finish(step, ha, "Succeeded", "executed", "", report.message, report.changes or None,
                              details=report.details, metrics=report.metrics,
                              verify=(meta(ha).get("labels") or {}).get(LABEL_VERIFICATION) == "pending")
        return self._with_notification(result, step, report)

    def _with_notification(self, result: RemediationResult, step: Step, report: ActionReport) -> RemediationResult:
        """A notify action's message joins the step's result as a Notification."""
        if report.notification:
            result.notifications.append(Notification(
                id=stable_id("notification", step.step_id, "notify"), severity=report.notification["severity"],
                title=report.notification["title"], message=report.notification["message"], target=step.target,
                plan_id=step.plan_id, finding_fingerprint=step.fingerprint, at=self._clock.now()))
        return result

    def _record_observation(self, step: Step, ha: dict) -> RemediationResult:
        """Record an observe-only step that :meth:`execute` applied before the plan's changes, on
        its freshly created HealingAction. Its action has run, so there is nothing left to hold a
        lease or show ``InProgress`` for: one ledger write (``record_observed``: the refusals
        ``reserve`` gives, then the record ``complete`` makes), then one status write from
        ``Pending`` to ``Succeeded`` carrying the claim's, the application's and the result's
        fields together, with the Kubernetes Event beside it. Two round trips after the
        creation instead of five (reserve, claim, applied, complete, finish). A refusal ends the
        step as ``reserve``'s would; a transient fault releases the record's lease and
        propagates, and the redelivery drives the record as applied (its ``applied-intent``):
        no second capture, the ledger's record found (``duplicate``) or made.
        docs/remediation.md, "Observe-only steps first"."""
        early = step.early
        assert early is not None
        try:
            try:
                self._ledger.record_observed(self._action_request(step, ObjectRef.of(early.target), early.workload))
            except Refused as e:
                if e.reason == "duplicate":
                    return self._finish(step, ha, "Succeeded", "executed", "",
                                        "already executed (recorded in the safety ledger)")
                return self._finish(step, ha, "Cancelled", "blocked", e.reason, str(e))
            report = early.report

            def claimed_and_applied(cur: dict) -> dict | None:
                claimed = self._claim_status(cur, early.intent, None)
                return None if claimed is None else self._applied_status({**cur, "status": claimed}, report)

            def finish() -> RemediationResult:
                return self._finish(step, ha, "Succeeded", "executed", "", report.message, report.changes or None,
                                    details=report.details, metrics=report.metrics, start=claimed_and_applied)

            def note() -> None:
                self._note(step, ha, early.target, report.message)

            return self._with_notification(fan_out(self._fanout, [note, finish])[1], step, report)
        except _StepBusy:
            raise
        except TemporaryError:
            self._release_after_fault(ha, None)
            raise

    def _complete(self, reservation: Reservation, note: Callable[[], None] | None,
                  mark: Callable[[], dict] | None = None) -> dict | None:
        """Record that the action ran: ``mark`` (the HealingAction's ``applied`` status write, whose
        result is returned), the ledger's ``complete`` and ``note`` (the Kubernetes Event about it,
        best effort: it never raises for the API). With a fan-out the three go out at once: each
        is a record of the same fact and any subset of them landing before a crash is resumed
        alike (marked applied: the re-drive completes; completed: its reservation answers
        ``duplicate`` before anything is applied again; neither: the stored intent is re-applied,
        idempotently — docs/remediation.md, "Exactly once"). The HealingAction's final status
        still follows all three: a terminal record with no ledger entry would skip the cooldown."""
        calls: list[Callable[[], Any]] = [c for c in (mark, note) if c is not None]
        calls.append(lambda: self._ledger.complete(reservation))
        results = fan_out(self._fanout, calls)
        return results[0] if mark is not None else None

    def _dry_run(self, step: Step, ha: dict, resolved: dict | None) -> RemediationResult:
        now = self._clock.now()
        ctx = self._context(step, dry_run=True, stamp=now)
        try:
            if resolved is None:
                resolved = step.action.resolve_target(self._cluster, get_ref(self._cluster, step.target))
            intent = step.action.prepare(ctx, resolved, step.params)
            report = step.action.apply(ctx, intent)
        except Refused as e:
            return self._finish(step, ha, "Cancelled", "blocked", e.reason, str(e))
        except KubeSkippyError as e:
            if isinstance(e, APINotFound) or _permanent_api_error(e) or isinstance(e, PermanentError):
                return self._finish(step, ha, "Failed", "failed", "api_error", f"dry run failed: {e}")
            raise
        if report.blocked:
            return self._finish(step, ha, "Failed", "blocked", report.blocked, f"dry run: {report.message}",
                                report.changes or None, details=report.details)
        return self._finish(step, ha, "Succeeded", "dry_run", "", f"dry run: {report.message}",
                            report.changes or None, details=report.details, metrics=report.metrics,
                            extra={M_INTENT: json.dumps(intent, sort_keys=True)})

    # -- status writes ------------------------------------------------------------------------

    def _approved_status(self, cur: dict) -> dict | None:
        if phase_of(cur) != "Pending" or approval_decision(cur) != "approved":
            return None
        now = self._clock.now()
        status = dict(status_of(cur))
        approval = dict(status.get("approval") or {})
        approval.setdefault("approvedAt", ts(now))
        approval["required"] = True
        status.update({"phase": "Approved", "approval": approval})
        set_condition(status, "Approved", "True", "Approved",
                      f"approved by {approval.get('approvedBy') or 'unknown'}: {approval.get('reason', '')}".rstrip(": "),
                      now)
        return status

    def _claim_status(self, cur: dict, intent: dict | None, baseline: dict[str, int] | None) -> dict | None:
        now = self._clock.now()
        if phase_of(cur) in TERMINAL_PHASES:
            return None
        m = metrics_of(cur)
        expires = parse_ts(m.get(M_LEASE_EXPIRES))
        if phase_of(cur) == "InProgress" and expires is not None and now < expires and m.get(M_HOLDER) != self._holder:
            return None
        status = dict(status_of(cur))
        metrics = dict(m)
        metrics.setdefault(M_INTENT, json.dumps(intent, sort_keys=True))
        metrics.update({M_HOLDER: self._holder, M_LEASE_EXPIRES: ts(now + self._lease)})
        if baseline is not None:
            metrics.setdefault(M_VERIFY_BASELINE, json.dumps(baseline, sort_keys=True))
        result = dict(status.get("result") or {})
        result.update({"success": False, "metrics": metrics})
        result.setdefault("message", "in progress")
        status.update({"phase": "InProgress", "attempts": int(status.get("attempts") or 0) + 1,
                       "lastAttemptTime": ts(now), "result": result})
        status.setdefault("startTime", ts(now))
        if not status.get("approval"):
            status["approval"] = {"required": False, "approved": True, "approvedBy": "kubeskippy (automatic)"}
        set_condition(status, "Ready", "False", "Executing", f"attempt {status['attempts']} by {self._holder}", now)
        return status

    def _applied_status(self, cur: dict, report: ActionReport) -> dict | None:
        now = self._clock.now()
        if phase_of(cur) != "InProgress":
            return None
        status = dict(status_of(cur))
        result = dict(status.get("result") or {})
        result.update({"message": report.message, "changes": changes_to_status(report.changes, now),
                       "metrics": {**(result.get("metrics") or {}), M_APPLIED: "true"}})
        status["result"] = result
        return status

    def _release_after_fault(self, ha: dict, reservation: Reservation | None) -> None:
        """Best effort after a transient fault: give the ledger slot and lease back and expire
        our HealingAction lease, so the redelivery can re-drive at once instead of waiting."""
        if reservation is not None:
            try:
                self._ledger.abort(reservation)
            except KubeSkippyError as e:
                log.warning("could not release the reservation of %s (it expires by itself): %s",
                            reservation.request.step_id, e)
        try:
            current = get_healing_action(self._cluster, meta(ha)["namespace"], meta(ha)["name"])
            if current is not None and phase_of(current) not in TERMINAL_PHASES and \
                    metrics_of(current).get(M_HOLDER, self._holder) == self._holder:
                def expire(cur: dict) -> dict | None:
                    if phase_of(cur) in TERMINAL_PHASES:
                        return None
                    status = dict(status_of(cur))
                    result = dict(status.get("result") or {})
                    result.setdefault("success", False)
                    result["metrics"] = {**(result.get("metrics") or {}), M_LEASE_EXPIRES: ts(self._clock.now())}
                    status["result"] = result
                    return status
                cas_status(self._cluster, current, expire)
        except KubeSkippyError as e:
            log.warning("could not release the lease on HealingAction %s (it expires by itself): %s",
                        meta(ha).get("name"), e)

    def _finish(self, step: Step, ha: dict, phase: str, outcome_status: str, reason: str, message: str,
                changes: list | None = None, *, details: dict[str, Any] | None = None,
                metrics: dict[str, str] | None = None, verify: bool = False,
                extra: dict[str, str] | None = None,
                start: Callable[[dict], dict | None] | None = None) -> RemediationResult:
        """The step's final status write. ``start``: a status change made in the same write first
        (a claim and its application, for a step whose action has already run); when it
        declines (returns None), nothing is written."""
        now = self._clock.now()
        deadline = now + step.policy.spec.safety_rules.health_check_timeout

        def decide(cur: dict) -> dict | None:
            if phase_of(cur) in TERMINAL_PHASES:
                return None
            if start is not None:
                started = start(cur)
                if started is None:
                    return None
                cur = {**cur, "status": started}
            status = dict(status_of(cur))
            result = dict(status.get("result") or {})
            m = {**(result.get("metrics") or {}), **(metrics or {}), **(extra or {}),
                 M_OUTCOME: outcome_status, M_REASON: reason}
            if verify:
                m.update({M_VERIFY: "pending", M_VERIFY_STARTED: ts(now), M_VERIFY_DEADLINE: ts(deadline)})
            result.update({"success": phase == "Succeeded", "message": message[:4096], "metrics": m})
            if changes is not None:
                result["changes"] = changes_to_status(changes, now)
            if phase != "Succeeded":
                result["error"] = message[:4096]
            status.update({"phase": phase, "completionTime": ts(now), "result": result})
            set_condition(status, "Ready", "True" if phase == "Succeeded" else "False",
                          {"executed": "Succeeded", "dry_run": "DryRun"}.get(outcome_status, _camel(reason or phase)),
                          message, now)
            if verify:
                set_condition(status, "Verified", "Unknown", "Pending",
                              f"waiting up to {step.policy.spec.safety_rules.health_check_timeout:g}s for health", now)
            return status

        ha, won = cas_status(self._cluster, ha, decide)
        outcome = outcome_from_record(ha, details=details if won else None)
        result = RemediationResult(outcomes=[outcome])
        if won and verify:
            result.verifications_scheduled.append(f"{meta(ha)['namespace']}/{meta(ha)['name']}")
        if won and not verify and (meta(ha).get("labels") or {}).get(LABEL_VERIFICATION) == "pending":
            self._set_verification_label(ha, "none")
        if won and outcome_status == "failed":
            result.notifications.append(Notification(
                id=stable_id("notification", step.step_id, "failed"), severity="warning",
                title=f"Healing action failed: {step.action_type} {step.target}", message=message[:2000],
                target=step.target, plan_id=step.plan_id, finding_fingerprint=step.fingerprint, at=now))
        return result

    def _cancel(self, ha: dict, reason: str, message: str, condition_reason: str) -> Outcome | None:
        now = self._clock.now()

        def decide(cur: dict) -> dict | None:
            if phase_of(cur) in TERMINAL_PHASES or phase_of(cur) == "InProgress":
                return None
            status = dict(status_of(cur))
            result = dict(status.get("result") or {})
            result.update({"success": False, "message": message, "error": message,
                           "metrics": {**(result.get("metrics") or {}), M_OUTCOME: "cancelled", M_REASON: reason}})
            status.update({"phase": "Cancelled", "completionTime": ts(now), "result": result})
            if condition_reason in ("Rejected", "ApprovalExpired"):
                set_condition(status, "Approved", "False", condition_reason, message, now)
            set_condition(status, "Ready", "False", condition_reason, message, now)
            return status

        ha, won = cas_status(self._cluster, ha, decide)
        if not won:
            return None
        if (meta(ha).get("labels") or {}).get(LABEL_VERIFICATION) == "pending":
            self._set_verification_label(ha, "none")
        return outcome_from_record(ha)

    # -- verification -------------------------------------------------------------------------

    def _verify(self, ha: dict) -> Verification | None:
        now = self._clock.now()
        m = metrics_of(ha)
        baseline = json.loads(m.get(M_VERIFY_BASELINE) or "{}")
        workload = workload_of(ha)
        healthy, why = check_health(self._cluster, workload, baseline)
        deadline = parse_ts(m.get(M_VERIFY_DEADLINE)) or now
        if not healthy and now < deadline:
            return None
        verdict = "healthy" if healthy else "unhealthy"
        if not healthy:
            why = f"not healthy within the health-check timeout: {why}"

        def decide(cur: dict) -> dict | None:
            if metrics_of(cur).get(M_VERIFY) != "pending":
                return None
            status = dict(status_of(cur))
            result = dict(status.get("result") or {})
            result["metrics"] = {**(result.get("metrics") or {}), M_VERIFY: verdict}
            status["result"] = result
            set_condition(status, "Verified", "True" if healthy else "False",
                          "Healthy" if healthy else "Unhealthy", why, now)
            return status

        ha, won = cas_status(self._cluster, ha, decide)
        if not won:
            return None
        policy_ref = (ha.get("spec") or {}).get("policyRef") or {}
        policy_key = f"{policy_ref.get('namespace', '')}/{policy_ref.get('name', '')}"
        # Recorded in the HealingAction first: the ledger hears each verdict at most once.
        self._ledger.record_verification(workload, policy_key, healthy)
        self._set_verification_label(ha, "done")
        step_id = annotation(ha, ANN_STEP_ID)
        return Verification(
            id=stable_id("verification", step_id), plan_id=annotation(ha, ANN_PLAN_ID),
            outcome_id=stable_id("outcome", step_id, "executed"),
            finding_fingerprint=annotation(ha, ANN_FINDING_FINGERPRINT), target=workload,
            healthy=healthy, detail=why, started_at=parse_ts(m.get(M_VERIFY_STARTED)) or now, checked_at=now)

    def _set_verification_label(self, ha: dict, value: str) -> None:
        try:
            self._cluster.patch(API_VERSION, KIND, meta(ha)["name"], meta(ha)["namespace"],
                                {"metadata": {"labels": {LABEL_VERIFICATION: value}}}, patch_type="merge")
        except KubeSkippyError as e:  # the label only narrows the next sweep's list
            log.warning("could not relabel HealingAction %s verification=%s: %s", meta(ha).get("name"), value, e)

    # -- helpers ------------------------------------------------------------------------------

    def _context(self, step: Step, *, dry_run: bool, stamp: float) -> ActionContext:
        return ActionContext(cluster=self._cluster, clock=self._clock, dry_run=dry_run, step_id=step.step_id,
                             reason=step.planned.reason, stamp=stamp, holder=self._holder,
                             is_protected=lambda obj: self._guard.protected(obj, step.policy), fanout=self._fanout)

    def _workload_object(self, ha: dict, resolved: dict) -> dict:
        try:
            return get_ref(self._cluster, workload_of(ha))
        except APINotFound:
            return resolved

    def _pods_of_workload(self, ha: dict) -> list[dict]:
        try:
            return pods_of(self._cluster, get_ref(self._cluster, workload_of(ha)))
        except APINotFound:
            return []

    def _note(self, step: Step, ha: dict, resolved: dict | None, message: str, *, warning: bool = False) -> None:
        """The Kubernetes Event on the target: what was done, and why."""
        target = resolved
        if target is None:
            try:
                target = get_ref(self._cluster, step.target)
            except KubeSkippyError:
                target = {"apiVersion": step.target.api_version, "kind": step.target.kind,
                          "metadata": {"name": step.target.name, "namespace": step.target.namespace,
                                       "uid": step.target.uid}}
        why = step.planned.reason or "a healing policy trigger fired"
        text = (f"{message}. Why: {why}. Policy {step.policy_key}, trigger {step.trigger}, "
                f"HealingAction {meta(ha)['namespace']}/{meta(ha)['name']}")
        reason = event_reason(step.action_type) + ("Failed" if warning else "")
        record_event(self._cluster, target, reason=reason, message=text, step_id=step.step_id,
                     now=self._clock.now(), holder=self._holder, event_type="Warning" if warning else "Normal")

    @staticmethod
    def _condition_time(ha: dict, ctype: str) -> float | None:
        for c in status_of(ha).get("conditions") or []:
            if c.get("type") == ctype:
                return parse_ts(c.get("lastTransitionTime"))
        return None

    def _list_managed(self, label_selector: str | None = None) -> list[dict]:
        selector = f"{LABEL_MANAGED_BY}={MANAGED_BY}" + (f",{label_selector}" if label_selector else "")
        return self._cluster.list(API_VERSION, KIND, self._namespace, label_selector=selector)

    def _step_outcome(self, step: Step, status: str, reason: str, message: str, now: float,
                      target: dict | None = None) -> Outcome:
        return Outcome(id=stable_id("outcome", step.step_id, status), plan_id=step.plan_id,
                       finding_fingerprint=step.fingerprint, policy=step.policy_key, action=step.planned.action,
                       action_type=step.action_type, target=ObjectRef.of(target) if target else step.target,
                       status=status, reason=reason, message=message, at=now, attribution=step.attribution)

    @staticmethod
    def _plain_outcome(plan: Plan, step_id: str, planned: Any, status: str, reason: str, message: str,
                       now: float) -> Outcome:
        return Outcome(id=stable_id("outcome", step_id, status), plan_id=plan.id,
                       finding_fingerprint=plan.finding.fingerprint, policy=plan.finding.policy,
                       action=planned.action, action_type=planned.type, target=planned.target, status=status,
                       reason=reason, message=message, at=now)

    @staticmethod
    def _only(outcome: Outcome) -> RemediationResult:
        return RemediationResult(outcomes=[outcome])


def _quietly(call: Any) -> Any:
    def run() -> Any:
        try:
            return call()
        except KubeSkippyError:
            return None
    return run


class _Record(NamedTuple):
    """A step's HealingAction as found or created, and what the step needs to go on from it."""

    ha: dict
    created: bool
    resolved: dict | None = None
    needs_approval: bool = False


def _held(call: Callable[[], Any]) -> Callable[[], Any]:
    """``call`` returning the exception it raised instead of raising it, so one fanned-out call's
    fault is held until the other calls' results are handled (no wrapper class: defining one
    more dataclass costs a cold start ~3.5 M instructions)."""
    def run() -> Any:
        try:
            return call()
        except Exception as e:  # noqa: BLE001 - re-raised by the caller after the batch
            return e
    return run


class _EarlyRecord(NamedTuple):
    step_id: str
    record: "_Record | RemediationResult"


class _StepBusy(TemporaryError):
    """Another attempt may be driving this step: retry later, and release nothing of theirs."""


def _camel(code: str) -> str:
    return "".join(p.capitalize() for p in code.replace("-", "_").split("_")) or "Unknown"
