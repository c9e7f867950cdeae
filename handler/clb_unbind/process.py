"""Records ──► reports: the work of one event, or of one pass over the queue.

Shared by every entry (app.py for pushed events, consumer.py for the timer's queue passes, sweep.py
for reconciled instances), so that all of them run one pipeline: expand scaling activities, confirm
claims, resolve, one write per load balancer, verify, complete, then retry or dead-letter.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional, Sequence, Tuple

from .cloud.autoscaling import ActivityInfo
from .cloud.deadline import Deadline
from .cloud.errors import CloudError
from .cloud.session import CloudSession, MissingCredentials
from .config import Settings
from .finish import Finisher, RecordReport
from .log import decision
from .model import ActivityRef, CloudFailure, InstanceOutcome, Notice, Record, RecordFailure, is_instance_id
from .pipeline import run
from .wire.envelopes import utc_now_iso

SCALE_IN = "SCALE_IN"


@dataclass
class Processed:
    reports: List[RecordReport]
    unqueued: List[str] = field(default_factory=list)
    """Why some work has no end: nothing but the trigger holds it."""


def needs_cloud(records: Sequence[Record], settings: Settings) -> bool:
    live = [r for r in records if r.refused is None]
    return any(r.notices or r.activities for r in live) or (len(live) < len(records) and bool(settings.dead_letter_queue))


def open_session(settings: Settings, deadline: Deadline) -> Tuple[Optional[CloudSession], Optional[CloudFailure]]:
    try:
        return CloudSession(settings, deadline), None
    except MissingCredentials as exc:
        decision("no_credentials", level=logging.ERROR, reason=str(exc))
        return None, CloudFailure("MissingCredentials", str(exc), "configure")


def process(records: Sequence[Record], settings: Settings, session: Optional[CloudSession],
            session_failure: Optional[CloudFailure] = None) -> Processed:
    """Run the records' work; `session_failure` says why there is no session when one was needed."""
    seen = utc_now_iso()
    notices: List[Notice] = [
        replace(n, original=n.original or r.payload, first_seen=n.first_seen or seen)
        for r in records if r.refused is None for n in r.notices
    ]
    record_failures: Dict[str, RecordFailure] = {}
    outcomes: List[InstanceOutcome] = []
    if session is None and session_failure is not None:
        record_failures = {r.record_id: RecordFailure(session_failure) for r in records if r.refused is None and (r.notices or r.activities)}
    finisher = Finisher(settings, session)
    if session is not None:
        # Keep back time for one queue send per record that may leave work behind, one per kind of refusal
        # (their dead letters are sent after the real work), and one more.
        refusals = len({r.refusal_code for r in records if r.refused is not None})
        session.reserved_calls = 1 + refusals + sum(1 for r in records if r.refused is None and (r.notices or r.activities))
        more, record_failures, known = _expand_activities(session, records, seen, notices)
        outcomes = run(session, [*notices, *more], known)
    reports = finisher.finish(records, outcomes, record_failures)
    return Processed(reports, finisher.unqueued)


def _expand_activities(session: CloudSession, records: Sequence[Record], seen: str, notices: Sequence[Notice]
                       ) -> Tuple[List[Notice], Dict[str, RecordFailure], Dict[str, ActivityInfo]]:
    """SCALE_IN activity notifications name no instance: read them from DescribeAutoScalingActivities.

    The instances found are scale-in claims: Auto Scaling must still confirm each is leaving. The same
    read covers the activities the pass's lifecycle notices name, so the trust check reads none again
    (one read per pass, not one per message); the activities read are returned for it."""
    refs = [
        replace(a, original=a.original or r.payload, first_seen=a.first_seen or seen)
        for r in records if r.refused is None for a in r.activities
    ]
    if not refs:
        return [], {}, {}
    from .cloud.autoscaling import activities

    by_record: Dict[str, List[ActivityRef]] = {}
    for ref in refs:
        by_record.setdefault(ref.record_id, []).append(ref)
    claimed = {n.activity_id for n in notices if n.activity_id and n.needs_confirmation}
    try:
        found = activities(session, sorted({a.activity_id for a in refs} | claimed))
    except CloudError as exc:
        return [], {rid: RecordFailure(exc.failure, tuple(rs)) for rid, rs in by_record.items()}, {}
    more: List[Notice] = []
    missing: Dict[str, List[ActivityRef]] = {}
    for ref in refs:
        activity = found.get(ref.activity_id)
        if activity is None or activity.activity_type != SCALE_IN:
            missing.setdefault(ref.record_id, []).append(ref)
            continue
        ids = [i for i in activity.leaving if is_instance_id(i)]
        decision("activity_resolved", activity_id=ref.activity_id, instances=ids)
        more.extend(
            Notice(i, ref.source, SCALE_IN, ref.record_id, dry_run=ref.dry_run, attempt=ref.attempt,
                   first_seen=ref.first_seen, original=ref.original, claim=True,
                   group_id=activity.group_id, activity_id=activity.activity_id)
            for i in ids
        )
    failures = {
        rid: RecordFailure(
            CloudFailure("ActivityNotFound", f"{', '.join(a.activity_id for a in rs)}: no such SCALE_IN activity in this account", "as:DescribeAutoScalingActivities"),
            tuple(rs),
        )
        for rid, rs in missing.items()
    }
    return more, failures, found
