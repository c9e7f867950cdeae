"""Notices ──► outcomes: confirm claims, resolve, plan, (drain), apply, verify, complete lifecycle actions.

All notices of one invocation share one resolution and one write per load balancer, so ten instances
leaving one load balancer cost one BatchDeregisterTargets, not ten.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional, Sequence, Tuple

from .apply import failed_bindings, run_per_load_balancer, unbind, zero_weights
from .cloud.autoscaling import ActivityInfo
from .cloud.errors import CloudError, is_permanent
from .cloud.session import CloudSession
from .log import decision
from .model import BatchResult, Binding, Cloud, CloudFailure, InstanceOutcome, Notice, Status
from .plan import plan, split_allowed
from .resolution import Resolution
from .resolve import resolve
from .trust import check_claims


@dataclass
class Work:
    """What one run found and did, per instance; turned into outcomes per notice at the end."""

    resolution: Resolution = field(default_factory=Resolution)
    mine: Dict[str, Tuple[Binding, ...]] = field(default_factory=dict)
    left_alone: Dict[str, Tuple[Binding, ...]] = field(default_factory=dict)
    remaining: Dict[str, Tuple[Binding, ...]] = field(default_factory=dict)
    failures: Dict[str, List[CloudFailure]] = field(default_factory=dict)
    request_ids: Dict[str, List[str]] = field(default_factory=dict)
    tokens: Dict[str, str] = field(default_factory=dict)

    def note(self, name: str, instance_id: str, level: int = logging.INFO, **fields: object) -> None:
        """A decision about one instance, with its lifecycle token as a correlation field."""
        decision(name, level=level, instance_id=instance_id, lifecycle_action_token=self.tokens.get(instance_id), **fields)


def _fail_all(notices: Sequence[Notice], failure: CloudFailure) -> List[InstanceOutcome]:
    status = Status.REFUSED if is_permanent(failure.code) else Status.INCOMPLETE
    decision("failed", level=logging.ERROR, instances=[n.instance_id for n in notices], error_code=failure.code, error_message=failure.message, action=failure.action)
    return [InstanceOutcome(n, status, failures=(failure,)) for n in notices]


def run(session: CloudSession, notices: Sequence[Notice], known: Optional[Dict[str, ActivityInfo]] = None) -> List[InstanceOutcome]:
    """`known`: scaling activities this pass already read, so the trust check need not read them again."""
    if not notices:
        return []
    verdict = check_claims(session, notices, known)
    held = [InstanceOutcome(n, Status.REFUSED, failures=(f,)) for n, f in verdict.refused.items()]
    held += [InstanceOutcome(n, Status.INCOMPLETE, failures=(f,)) for n, f in verdict.unchecked.items()]
    return held + _run_confirmed(session, verdict.confirmed)


def _run_confirmed(session: CloudSession, notices: Sequence[Notice]) -> List[InstanceOutcome]:
    if not notices:
        return []
    settings = session.settings
    instance_ids = sorted({n.instance_id for n in notices})
    wet_ids = sorted({n.instance_id for n in notices if not n.dry_run})
    work = Work(tokens={n.instance_id: n.lifecycle.token for n in notices if n.lifecycle and n.lifecycle.token})
    try:
        work.resolution = resolve(session, instance_ids)
    except CloudError as exc:
        return _fail_all(notices, exc.failure)

    for instance_id, bindings in work.resolution.bindings.items():
        mine, others = split_allowed(bindings, settings.allowed_load_balancers)
        work.mine[instance_id] = tuple(mine)
        work.left_alone[instance_id] = tuple(others)
        work.note(
            "resolved",
            instance_id,
            bindings=len(bindings),
            load_balancers=sorted({lb for b in mine for lb in b.load_balancer_ids}),
            kinds=sorted({b.kind.value for b in bindings}) or None,
            left_alone=[b.label for b in others] or None,
        )
        for b in others:
            work.note("left_alone", instance_id, level=logging.WARNING, load_balancer_id=b.load_balancer_id or None,
                     listener_id=b.listener_id or None, target_group_id=b.target_group_id, binding=b.label,
                     reason="no load balancer it serves is in CLB_UNBIND_ALLOWED_LOAD_BALANCERS")
        for b in mine:
            if len(b.load_balancer_ids) > 1:
                # One membership, however many load balancers forward to the group: removing it removes the
                # instance from all of them, including any outside the allow-list.
                work.note("one_membership", instance_id, target_group_id=b.target_group_id, load_balancers=list(b.load_balancer_ids),
                          serves=[str(s) for s in b.serves], binding=b.label)
    for instance_id in sorted(work.resolution.missing):
        work.note("instance_not_found", instance_id, level=logging.WARNING)
    for instance_id, failure in sorted(work.resolution.failed.items()):
        work.note("resolve_failed", instance_id, level=logging.ERROR, error_code=failure.code,
                  error_message=failure.message, action=failure.action)

    to_remove = [b for i in wet_ids for b in work.mine.get(i, ())]
    batches = plan(to_remove)
    for batch in batches:
        decision("planned", load_balancer_id=batch.load_balancer_id, cloud=batch.cloud.value, kind=batch.kind.value, targets=len(batch.bindings),
                 instances=sorted({b.instance_id for b in batch.bindings}))

    if batches:
        _drain(session, [b for b in batches if b.cloud is Cloud.CLB])
        results = _redo_refused(session, run_per_load_balancer(session, batches, unbind), work)
        for binding, failure in failed_bindings(results).items():
            work.failures.setdefault(binding.instance_id, []).append(failure)
        for result in results:
            for rid in result.request_ids:
                for iid in {b.instance_id for b in result.batch.bindings}:
                    work.request_ids.setdefault(iid, []).append(rid)
        _verify(session, sorted({b.instance_id for b in to_remove}), work)

    outcomes = _complete_lifecycles(session, [_outcome(n, work) for n in notices])
    for o in outcomes:
        work.note(
            o.status.value,
            o.notice.instance_id,
            level=logging.INFO if o.done else logging.WARNING,
            record_id=o.notice.record_id,
            attempt=o.notice.attempt,
            dry_run=o.notice.dry_run,
            removed=[b.label for b in o.removed] or None,
            remaining=len(o.remaining) or None,
            lifecycle_completed=o.lifecycle_completed,
            error_codes=sorted({f.code for f in o.failures}) or None,
        )
    return outcomes


def _refused_whole(result: BatchResult) -> bool:
    """A deregister refused as a whole for a parameter: the terraform provider reads `InvalidParameter`
    on a deregister as "already gone" (docs/cloud-facts.md#clb-unbinding-a-target-that-is-not-bound), so some target may no longer be bound."""
    code = result.failure.code if result.failure else ""
    return bool(result.failed) and (code == "InvalidParameter" or code.startswith("InvalidParameter."))


def _redo_refused(session: CloudSession, results: List[BatchResult], work: Work) -> List[BatchResult]:
    """Read the refused batches' bindings again and unbind, once, what is still bound."""
    refused = [r for r in results if _refused_whole(r)]
    if not refused:
        return results
    ids = sorted({b.instance_id for r in refused for b in r.batch.bindings})
    try:
        again = resolve(session, ids, earlier=work.resolution)
    except CloudError:
        return results
    still = {b.key for i in ids for b in again.bindings.get(i, ())}
    keep = [b for r in refused for b in r.batch.bindings if b.key in still]
    decision("redoing_refused", load_balancers=sorted({r.batch.load_balancer_id for r in refused}),
             error_code=refused[0].failure.code if refused[0].failure else None, still_bound=len(keep),
             already_gone=sum(len(r.batch.bindings) for r in refused) - len(keep))
    redone = run_per_load_balancer(session, plan(keep), unbind) if keep else []
    return [r for r in results if not _refused_whole(r)] + [BatchResult(r.batch) for r in refused] + redone


def _drain(session: CloudSession, batches: Sequence) -> None:
    """Opt-in graceful drain: weight 0 everywhere, then one wait for all load balancers together."""
    seconds = session.settings.drain_seconds
    if seconds <= 0 or not batches:
        return
    results = run_per_load_balancer(session, batches, zero_weights)
    # Keep at least half of what is left for the unbind itself: a drain must never cost the unbind.
    wait = min(seconds, session.deadline.remaining() / 2)
    decision("draining", drain_seconds=round(wait, 3), requested_seconds=seconds,
             failed_load_balancers=sorted({r.batch.load_balancer_id for r in results if r.failure}) or None)
    if wait > 0:
        session.sleep(wait)


def _verify(session: CloudSession, instance_ids: List[str], work: Work) -> None:
    """Read the bindings again: only what the cloud no longer shows counts as done."""
    try:
        again = resolve(session, instance_ids, earlier=work.resolution)
    except CloudError as exc:
        for iid in instance_ids:
            work.remaining[iid] = work.mine.get(iid, ())
            work.failures.setdefault(iid, []).append(exc.failure)
        return
    for iid in instance_ids:
        if iid in again.failed:
            work.remaining[iid] = work.mine.get(iid, ())
            work.failures.setdefault(iid, []).append(again.failed[iid])
            continue
        mine, _ = split_allowed(again.bindings.get(iid, ()), session.settings.allowed_load_balancers)
        work.remaining[iid] = tuple(mine)
        work.note("verified", iid, still_bound=len(mine),
                 remaining=[b.label for b in mine] or None)


def _outcome(notice: Notice, work: Work) -> InstanceOutcome:
    iid = notice.instance_id
    alone = work.left_alone.get(iid, ())
    unread = work.resolution.failed.get(iid)
    if unread is not None:
        return InstanceOutcome(notice, Status.REFUSED if is_permanent(unread.code) else Status.INCOMPLETE, failures=(unread,))
    if iid in work.resolution.missing:
        failure = CloudFailure("InstanceNotFound", f"{iid} does not exist (it may already be terminated)", "resolve")
        return InstanceOutcome(notice, Status.REFUSED, failures=(failure,))
    mine = work.mine.get(iid, ())
    if notice.dry_run:
        return InstanceOutcome(notice, Status.PLANNED, remaining=mine, left_alone=alone)
    if not mine:
        return InstanceOutcome(notice, Status.NOT_BOUND, left_alone=alone)
    remaining = work.remaining.get(iid, mine)
    removed = tuple(b for b in mine if b.key not in {r.key for r in remaining})
    failures = tuple(dict.fromkeys(work.failures.get(iid, ())))
    rids = tuple(dict.fromkeys(work.request_ids.get(iid, ())))
    if remaining:
        if not failures:
            failures = (CloudFailure("StillBound", f"{len(remaining)} binding(s) still present after the unbind", "verify"),)
        return InstanceOutcome(notice, Status.INCOMPLETE, removed=removed, remaining=remaining, left_alone=alone, failures=failures, request_ids=rids)
    return InstanceOutcome(notice, Status.UNBOUND, removed=removed, left_alone=alone, request_ids=rids)


def _complete_lifecycles(session: CloudSession, outcomes: List[InstanceOutcome]) -> List[InstanceOutcome]:
    """CONTINUE only once the instance is verified unbound (or never was), and only on our own hook
    (own_hooks.py); each action at most once per run, always by InstanceId + LifecycleHookId, so a
    message can only end the wait of the instance it names."""
    due = [o for o in outcomes if o.notice.lifecycle is not None and o.status in (Status.UNBOUND, Status.NOT_BOUND)
           and not o.notice.dry_run]
    due_ids = {id(o) for o in due}
    hooks_failure = _read_hooks(session, [o.notice for o in due if not o.notice.confirmed])
    done: Dict[Tuple[str, str], Tuple[Optional[CloudFailure], Optional[str]]] = {}
    final: List[InstanceOutcome] = []
    for outcome in outcomes:
        action = outcome.notice.lifecycle
        if id(outcome) not in due_ids or action is None:
            final.append(outcome)
            continue
        key = (action.hook_id, outcome.notice.instance_id)
        if key not in done:
            done[key] = _complete_one(session, outcome.notice, hooks_failure)
        failure, note = done[key]
        if failure is None:
            final.append(replace(outcome, lifecycle_completed=note is None, lifecycle_note=note))
        else:
            status = Status.REFUSED if is_permanent(failure.code) else Status.INCOMPLETE
            final.append(replace(outcome, status=status, failures=outcome.failures + (failure,)))
    return final


def _read_hooks(session: CloudSession, notices: Sequence[Notice]) -> Optional[CloudFailure]:
    """Read the hooks of the groups these notices name, once per run (own_hooks.py)."""
    from .own_hooks import hooks_of

    try:
        hooks_of(session, sorted({n.claimed_group for n in notices if n.claimed_group}))
    except CloudError as exc:
        decision("hooks_unread", level=logging.ERROR, error_code=exc.code, error_message=exc.failure.message)
        return exc.failure
    return None


def _complete_one(session: CloudSession, notice: Notice,
                  hooks_failure: Optional[CloudFailure]) -> Tuple[Optional[CloudFailure], Optional[str]]:
    """(failure, note): no failure and no note means this run or an earlier one set the result."""
    from .cloud.autoscaling import ALREADY_COMPLETED, COMPLETED, complete_lifecycle_action
    from .own_hooks import hook_named, is_ours

    action = notice.lifecycle
    assert action is not None
    if not notice.confirmed:
        if hooks_failure is not None:
            return hooks_failure, None
        hook = hook_named(session, notice.claimed_group, action.hook_id)
        if hook is None or not is_ours(hook, session.settings):
            decision("not_our_hook", level=logging.WARNING, instance_id=notice.instance_id, lifecycle_hook_id=action.hook_id,
                     group_id=notice.claimed_group, reason="the hook does not notify our queue or topics: left to its owner")
            return None, "not_our_hook"
    try:
        result = complete_lifecycle_action(session, notice.instance_id, action)
    except CloudError as exc:
        decision("lifecycle_failed", level=logging.ERROR, instance_id=notice.instance_id, lifecycle_hook_id=action.hook_id,
                 lifecycle_action_token=action.token, error_code=exc.code, error_message=exc.failure.message)
        return exc.failure, None
    decision(result, level=logging.INFO if result in (COMPLETED, ALREADY_COMPLETED) else logging.WARNING,
             instance_id=notice.instance_id, lifecycle_hook_id=action.hook_id, lifecycle_action_token=action.token,
             lifecycle_result="CONTINUE")
    return None, (None if result in (COMPLETED, ALREADY_COMPLETED) else result)
