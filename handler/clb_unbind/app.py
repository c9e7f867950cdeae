"""The function from event to answer: parse, expand, run the pipeline, finish, answer the trigger."""
from __future__ import annotations

import logging
import time
import uuid
from dataclasses import replace
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from . import log
from .cloud.deadline import Deadline
from .cloud.errors import CloudError
from .cloud.session import CloudSession, MissingCredentials
from .config import Settings, SettingsError
from .finish import Finisher, RecordReport, UnfinishedWork
from .log import correlation, decision
from .model import ActivityRef, CloudFailure, InstanceOutcome, Notice, Record, RecordFailure, Status, is_instance_id
from .triggers import ParsedEvent, http_answer, parse_event
from .triggers.envelopes import utc_now_iso


def handle(event: Any, context: Any, env: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    started = time.monotonic()
    context = context if isinstance(context, Mapping) else {}
    request_id = str(context.get("request_id") or uuid.uuid4())
    try:
        settings = Settings.from_env(env)
    except SettingsError as exc:
        log.configure()
        decision("misconfigured", level=logging.ERROR, request_id=request_id, reason=str(exc))
        if isinstance(event, Mapping) and "requestContext" in event:
            return http_answer(500, {"error": "the function is misconfigured; see its logs", "requestId": request_id})
        raise
    log.configure(settings.log_level, settings.secrets)
    with correlation(request_id=request_id, dry_run=settings.dry_run or None):
        parsed = parse_event(event, settings)
        decision("received", trigger=parsed.kind, records=len(parsed.records))
        if parsed.http_refusal is not None:
            decision("http_refused", level=logging.WARNING, status=parsed.http_refusal.status, reason=parsed.http_refusal.body.get("error"))
            return http_answer(parsed.http_refusal.status, {**parsed.http_refusal.body, "requestId": request_id})
        try:
            reports, calls, unqueued = _process(parsed, settings, Deadline.from_context(context, settings.safety_margin_seconds))
        except Exception:
            if parsed.kind != "apigw":
                raise
            logging.getLogger(log.LOGGER_NAME).exception("unexpected error", extra={"decision": "crashed"})
            return http_answer(500, {"error": "internal error; see the function's logs", "requestId": request_id})
        summary = _summary(request_id, parsed.kind, reports, calls, time.monotonic() - started)
        decision("summary", trigger=parsed.kind, api_calls=summary["apiCalls"], seconds=summary["seconds"],
                 records={r.record_id: r.status for r in reports})
        if parsed.kind == "apigw":
            return http_answer(_http_status(reports), summary)
        if unqueued:
            # Nowhere to keep this work: fail loudly, so SCF's own retry and dead-letter settings keep the event.
            raise UnfinishedWork("; ".join(unqueued))
        return summary


def _process(parsed: ParsedEvent, settings: Settings, deadline: Deadline) -> Tuple[List[RecordReport], Dict[str, int], List[str]]:
    records = list(parsed.records)
    seen = utc_now_iso()
    notices: List[Notice] = [
        replace(n, original=n.original or r.payload, first_seen=n.first_seen or seen)
        for r in records if r.refused is None for n in r.notices
    ]
    needs_cloud = bool(notices) or any(r.activities for r in records if r.refused is None) or (
        any(r.refused for r in records) and bool(settings.dead_letter_queue)
    )
    session: Optional[CloudSession] = None
    record_failures: Dict[str, RecordFailure] = {}
    outcomes: List[InstanceOutcome] = []
    if needs_cloud:
        try:
            session = CloudSession(settings, deadline)
        except MissingCredentials as exc:
            decision("no_credentials", level=logging.ERROR, reason=str(exc))
            failure = CloudFailure("MissingCredentials", str(exc), "configure")
            record_failures = {r.record_id: RecordFailure(failure) for r in records if r.refused is None and (r.notices or r.activities)}
    finisher = Finisher(settings, session)
    refused = finisher.finish_refused(records)
    if session is not None:
        from .pipeline import run

        # Keep back time for one queue send per record that may leave work behind, and one more.
        session.reserved_calls = 1 + sum(1 for r in records if r.refused is None and (r.notices or r.activities))
        more, record_failures = _expand_activities(session, records, seen)
        outcomes = run(session, notices + more)
    reports = finisher.finish(records, outcomes, record_failures, done=refused)
    calls = dict(session.calls.counts) if session is not None else {}
    return reports, calls, finisher.unqueued


def _expand_activities(session: CloudSession, records: Sequence[Record], seen: str) -> Tuple[List[Notice], Dict[str, RecordFailure]]:
    """SCALE_IN activity notifications name no instance: read them from DescribeAutoScalingActivities."""
    refs = [
        replace(a, original=a.original or r.payload, first_seen=a.first_seen or seen)
        for r in records if r.refused is None for a in r.activities
    ]
    if not refs:
        return [], {}
    from .cloud.autoscaling import scale_in_instances

    by_record: Dict[str, List[ActivityRef]] = {}
    for ref in refs:
        by_record.setdefault(ref.record_id, []).append(ref)
    try:
        found = scale_in_instances(session, sorted({a.activity_id for a in refs}))
    except CloudError as exc:
        return [], {rid: RecordFailure(exc.failure, tuple(rs)) for rid, rs in by_record.items()}
    notices: List[Notice] = []
    missing: Dict[str, List[ActivityRef]] = {}
    for ref in refs:
        if ref.activity_id not in found:
            missing.setdefault(ref.record_id, []).append(ref)
            continue
        ids = [i for i in found[ref.activity_id] if is_instance_id(i)]
        decision("activity_resolved", activity_id=ref.activity_id, instances=ids)
        notices.extend(
            Notice(i, ref.source, "SCALE_IN", ref.record_id, dry_run=ref.dry_run, attempt=ref.attempt,
                   first_seen=ref.first_seen, original=ref.original)
            for i in ids
        )
    failures = {
        rid: RecordFailure(
            CloudFailure("ActivityNotFound", f"{', '.join(a.activity_id for a in rs)}: no such SCALE_IN activity in this account", "as:DescribeAutoScalingActivities"),
            tuple(rs),
        )
        for rid, rs in missing.items()
    }
    return notices, failures


def _http_status(reports: Sequence[RecordReport]) -> int:
    statuses = {o.status for r in reports for o in r.outcomes}
    if any(r.status == "failed" for r in reports):
        return 502
    if Status.REFUSED in statuses:
        return 404 if all(f.code == "InstanceNotFound" for r in reports for o in r.outcomes for f in o.failures) else 422
    if Status.INCOMPLETE in statuses:
        return 202 if all(r.status.startswith("retry_queued") for r in reports if any(o.status is Status.INCOMPLETE for o in r.outcomes)) else 503
    return 200


def _summary(request_id: str, kind: str, reports: Sequence[RecordReport], calls: Dict[str, int], seconds: float) -> Dict[str, Any]:
    return {
        "requestId": request_id,
        "trigger": kind,
        "records": [r.to_dict() for r in reports],
        "apiCalls": dict(sorted(calls.items())),
        "seconds": round(seconds, 3),
    }
