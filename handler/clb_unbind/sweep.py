"""Reconciling with Auto Scaling: every timer run asks who waits on a terminating hook
(docs/design.md#reconciling-with-auto-scaling; docs/cloud-facts.md#as-reads-instances-hooks-activities).

A notification can be lost (a hook notifying another queue, a queue re-created, a message past its
retention, a hook older than the function); Auto Scaling's own state cannot. For the groups in
`CLB_UNBIND_GROUPS`, one `DescribeAutoScalingInstances` per 5 groups and 100 instances lists every
member; those `IN_TERMINATING_HOOK` that the queue pass did not handle become notices with the source
`reconcile` and go through the same pipeline as the queue's.

Only our own hook is completed (own_hooks.py: the group's `INSTANCE_TERMINATING` hook whose notification
target is `CLB_UNBIND_QUEUE` or one of `CLB_UNBIND_TOPICS`; its hooks read at most once a run, shared with
the queue passes, and only when someone waits). A group without one is unbound and left waiting
(`no_own_hook`), so another team's hook is never ended early.
An idle sweep costs its reads and nothing else.

A draining instance (CLB_UNBIND_DRAIN=adaptive) also waits on its hook, its weights at 0; its drain
envelope is delayed to the timer's next firing (finish.drain_delay), so the queue pass before this
sweep has read it and the instance is in `handled`: the sweep does not start it over. One it finds
anyway (a lost envelope, a run out of schedule) is resumed, and a second chain met later merges with
the first (drain_run.py, docs/drain.md#one-chain-per-drain).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import List, Set

from .cloud.autoscaling import WAITING_STATE, group_members
from .cloud.errors import CloudError
from .cloud.session import CloudSession
from .config import Settings
from .finish import RecordReport
from .log import decision
from .model import LifecycleAction, Notice, Record
from .own_hooks import TERMINATING, hooks_of, is_ours, own_hooks
from .process import process

SOURCE = "reconcile"


@dataclass
class SweepReport:
    watched: int = 0
    """Members of the watched groups that Auto Scaling listed."""
    waiting: int = 0
    reconciled: List[str] = field(default_factory=list)
    no_own_hook: List[str] = field(default_factory=list)
    error: str = ""
    reports: List[RecordReport] = field(default_factory=list)


def sweep(settings: Settings, session: CloudSession, handled: Set[str]) -> SweepReport:
    report = SweepReport()
    groups = sorted(settings.groups)
    try:
        members = group_members(session, groups)
    except CloudError as exc:
        report.error = exc.code
        decision("sweep_failed", level=logging.ERROR, groups=groups, error_code=exc.code, error_message=exc.failure.message)
        return report
    report.watched = len(members)
    waiting = [m for m in members if m.state == WAITING_STATE and m.group_id in settings.groups]
    report.waiting = len(waiting)
    leftover = sorted((m for m in waiting if m.instance_id not in handled), key=lambda m: m.instance_id)
    if not leftover:
        decision("swept", groups=groups, watched=report.watched, waiting=report.waiting, reconciled=0)
        return report
    try:
        hooks = hooks_of(session, sorted({m.group_id for m in leftover}))
        own = own_hooks((h for group_hooks in hooks.values() for h in group_hooks), settings)
        every_own = {g: [h for h in sorted(group_hooks, key=lambda h: h.hook_id) if is_ours(h, settings)]
                     for g, group_hooks in hooks.items()}
    except CloudError as exc:
        report.error = exc.code
        decision("sweep_failed", level=logging.ERROR, groups=groups, error_code=exc.code, error_message=exc.failure.message)
        return report
    report.no_own_hook = sorted({m.group_id for m in leftover if m.group_id not in own})
    for group_id in report.no_own_hook:
        decision("no_own_hook", level=logging.WARNING, group_id=group_id, queue=settings.queue,
                 reason=f"no {TERMINATING} hook of this group notifies {settings.queue}: unbinding, not completing")
    # Which of the group's own hooks a member waits on, Auto Scaling does not say: each is completed (one
    # that does not wait answers "not found", which is not a completion). Two own hooks on one group are
    # odd, but when both notifications are lost, completing only one leaves the member waiting its heartbeat.
    records = [
        Record(record_id=record_id, source=SOURCE, notices=(Notice(
            instance_id=m.instance_id, source=SOURCE, reason=WAITING_STATE, record_id=record_id,
            lifecycle=LifecycleAction(hook.hook_id, None, m.group_id) if hook is not None else None,
            dry_run=settings.dry_run, confirmed=True,
        ),))
        for m in leftover
        for n, hook in enumerate(every_own.get(m.group_id) or [None])
        for record_id in [f"{SOURCE}:{m.instance_id}" + (f":{hook.hook_id}" if n and hook is not None else "")]
    ]
    report.reconciled = [m.instance_id for m in leftover]
    decision("swept", groups=groups, watched=report.watched, waiting=report.waiting, reconciled=report.reconciled)
    report.reports = process(records, settings, session).reports
    return report
