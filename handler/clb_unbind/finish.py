"""Outcomes ──► what happens to each record: done, retried through the retry queue, or dead-lettered.

Every record ends in exactly one of these. Unfinished work goes to `CLB_UNBIND_RETRY_QUEUE` with a
delay; work that is out of attempts, or can never succeed, goes to `CLB_UNBIND_DEAD_LETTER_QUEUE` with a
machine-readable reason. Where a queue is not configured, or sending fails, the invocation raises at
the end, so SCF's own retry and dead-letter settings keep the event: a loss needs two failures.
"""
from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from .cloud.errors import CloudError, is_permanent
from .config import Settings
from .log import decision
from .model import ActivityRef, CloudFailure, InstanceOutcome, Notice, Record, RecordFailure, Status
from .wire.envelopes import MAX_MESSAGE_BYTES, DeadLetterEnvelope, EnvelopeRefusal, RetryEnvelope, utc_now_iso

class UnfinishedWork(Exception):
    """Raised after every record was handled, when some work could not be queued anywhere."""

    def __init__(self, message: str) -> None:
        from .scrub import scrub

        super().__init__(scrub(message))  # SCF logs and keeps the text: no secret in it


@dataclass
class RecordReport:
    record_id: str
    source: str
    status: str
    """done | ignored | refused | retry_queued | dead_lettered | failed (several joined by `+`)"""
    reason: Optional[str] = None
    outcomes: List[InstanceOutcome] = field(default_factory=list)
    message_id: Optional[str] = None
    settled: bool = True
    """Whether the record's work has an end (done, ignored, queued or dead-lettered): only then may the
    message that carried it be deleted, or an HTTP caller be told it is taken care of."""

    def to_dict(self) -> Dict[str, Any]:
        return {
            "recordId": self.record_id,
            "source": self.source,
            "status": self.status,
            "reason": self.reason,
            "messageId": self.message_id,
            "instances": [outcome_dict(o) for o in self.outcomes],
        }


def summary_of(request_id: str, kind: str, reports: Sequence[RecordReport], calls: Dict[str, int], seconds: float) -> Dict[str, Any]:
    """The answer of an invocation: one entry per record, the API calls made, the time taken."""
    return {
        "requestId": request_id,
        "trigger": kind,
        "records": [r.to_dict() for r in reports],
        "apiCalls": dict(sorted(calls.items())),
        "seconds": round(seconds, 3),
    }


def outcome_dict(o: InstanceOutcome) -> Dict[str, Any]:
    def binding(b: Any) -> Dict[str, Any]:
        d: Dict[str, Any] = {
            "loadBalancerId": b.load_balancer_id,
            "listenerId": b.listener_id,
            "protocol": b.protocol,
            "listenerPort": b.listener_port,
            "locationId": b.location_id,
            "privateIp": b.private_ip,
            "port": b.target_port,
        }
        if b.kind.value != "listener":
            d["kind"] = b.kind.value
        if b.target_group_id:
            d.update(targetGroupId=b.target_group_id, loadBalancerIds=list(b.load_balancer_ids),
                     serves=[str(s) for s in b.serves], fullListen=b.full_listen)
            if len(b.load_balancer_ids) > 1:
                d["note"] = "one membership: removing it removes the instance from every load balancer listed"
        return d

    return {
        "instanceId": o.notice.instance_id,
        "status": o.status.value,
        "dryRun": o.notice.dry_run,
        "attempt": o.notice.attempt,
        "removed": [binding(b) for b in o.removed],
        "remaining": [binding(b) for b in o.remaining],
        "leftAlone": [binding(b) for b in o.left_alone],
        "errors": [failure_dict(f) for f in o.failures],
        "lifecycleCompleted": o.lifecycle_completed,
        "lifecycle": "completed" if o.lifecycle_completed else o.lifecycle_note,
    }


def failure_dict(f: CloudFailure) -> Dict[str, Any]:
    return {"code": f.code, "message": f.message, "action": f.action, "requestId": f.request_id}


def retry_delay(attempt: int, settings: Settings, rng: random.Random) -> int:
    """Capped exponential backoff with equal jitter: never less than half the step, so retries spread out."""
    step = min(settings.retry_max_seconds, settings.retry_base_seconds * 2 ** max(attempt - 1, 0))
    return int(round(step / 2 + rng.uniform(0, step / 2)))


DEAD_LETTER_REASONS = {
    "InstanceNotFound": "instance_not_found",
    "ActivityNotFound": "activity_not_found",
    "NotLeaving": "not_leaving",
    "UnsignedEnvelope": "unsigned_envelope",
    "UnauthorizedOperation": "unauthorized",
    "AuthFailure": "unauthorized",
    "ResourceNotFound.LifecycleHook": "lifecycle_action_not_found",
    "InvalidParameter": "rejected_by_api",
    "UnknownParameter": "rejected_by_api",
    "MissingParameter": "rejected_by_api",
}


def dead_letter_reason(failures: Sequence[CloudFailure]) -> str:
    for f in failures:
        for prefix, reason in DEAD_LETTER_REASONS.items():
            if f.code.startswith(prefix):
                return reason
    return "permanent_error"


class Finisher:
    def __init__(self, settings: Settings, session: Any, rng: Optional[random.Random] = None) -> None:
        self.settings = settings
        self.session = session
        self.rng = rng or random.Random()
        self.unqueued: List[str] = []

    def finish(
        self,
        records: Sequence[Record],
        outcomes: Sequence[InstanceOutcome],
        record_failures: Dict[str, RecordFailure],
    ) -> List[RecordReport]:
        """One report per record, in the event's order.

        Refused records are dead-lettered last, all together (one message, or a few within the size
        cap): junk ahead of real work costs one send after it, never one send each before it.
        """
        by_record: Dict[str, List[InstanceOutcome]] = {}
        for o in outcomes:
            by_record.setdefault(o.notice.record_id, []).append(o)
        reports = {
            r.record_id: self._finish_record(r, by_record.get(r.record_id, []), record_failures.get(r.record_id))
            for r in records if r.refused is None
        }
        reports.update(self._finish_refused([r for r in records if r.refused is not None]))
        return [reports[r.record_id] for r in records]

    def _finish_refused(self, records: Sequence[Record]) -> Dict[str, RecordReport]:
        reports = {r.record_id: RecordReport(r.record_id, r.source, "refused", r.refused) for r in records}
        for r in records:
            decision("refused", level=logging.WARNING, record_id=r.record_id, source=r.source, reason=r.refused)
        if not records:
            return reports
        by_code: Dict[str, List[EnvelopeRefusal]] = {}
        for r in records:
            by_code.setdefault(r.refusal_code, []).append(
                EnvelopeRefusal(record_id=r.record_id, source=r.source, reason=(r.refused or "")[:2000], original=r.payload))
        for code, group in ((c, g) for c, refusals in by_code.items() for g in _packed(refusals)):
            body = DeadLetterEnvelope(
                reason=code,
                detail=f"{len(group)} refused record(s): " + "; ".join(f.reason for f in group)[:2000],
                attempt=1,
                first_seen=utc_now_iso(),
                dry_run=self.settings.dry_run,
                refused=group,
            )
            group_reports = [reports[f.record_id] for f in group]
            self._send_dead_letter(group_reports, body)
        return reports

    def _finish_record(self, record: Record, outcomes: List[InstanceOutcome], record_failure: Optional[RecordFailure]) -> RecordReport:
        report = RecordReport(record.record_id, record.source, "done", outcomes=outcomes)
        if record.ignored is not None and not outcomes and record_failure is None:
            report.status, report.reason = "ignored", record.ignored
            decision("skipped", record_id=record.record_id, source=record.source, reason=record.ignored)
            return report
        if record_failure is not None:
            if not record_failure.activities or self.session is None:
                failure = record_failure.failure
                self._unsettle(report, f"{failure.code}: {failure.message}")
                return report
            self._finish_activities(report, record_failure)

        unfinished = [o for o in outcomes if o.status is Status.INCOMPLETE]
        hopeless = [o for o in outcomes if o.status is Status.REFUSED]
        out_of_attempts = [o for o in unfinished if o.notice.attempt >= self.settings.max_attempts]
        to_retry = [o for o in unfinished if o.notice.attempt < self.settings.max_attempts]
        dry = all(o.notice.dry_run for o in outcomes) and bool(outcomes)
        if to_retry:
            self._send_retry(report, to_retry, dry)
        for group, reason in ((hopeless, None), (out_of_attempts, "max_attempts")):
            if not group:
                continue
            failures = [f for o in group for f in o.failures]
            why = reason or dead_letter_reason(failures)
            body = self._dead_letter(why, _summarise(group), [o.notice for o in group], failures, _original(group, record), dry_run=dry)
            self._send_dead_letter([report], body)
        return report

    def _finish_activities(self, report: RecordReport, pending: RecordFailure) -> None:
        """Scaling activities whose instances could not be read: retried, or dead-lettered when hopeless."""
        refs = list(pending.activities)
        failure = pending.failure
        attempt = max(a.attempt for a in refs)
        dry = all(a.dry_run for a in refs)
        original = next((a.original for a in refs if a.original), None)
        detail = f"{', '.join(a.activity_id for a in refs)}: {failure.code}: {failure.message}"
        if is_permanent(failure.code) or attempt >= self.settings.max_attempts:
            why = dead_letter_reason([failure]) if is_permanent(failure.code) else "max_attempts"
            self._send_dead_letter([report], self._dead_letter(why, detail, [], [failure], original, dry, activities=refs))
            return
        envelope = RetryEnvelope.from_notices(
            [], attempt=attempt + 1, first_seen=_first_seen(refs), dry_run=dry, last_errors=[failure],
            request_ids=[failure.request_id] if failure.request_id else [], original=original, activities=refs,
        )
        self._queue_retry(report, envelope, attempt, dry, detail, dict(activities=[a.activity_id for a in refs]))

    def _send_retry(self, report: RecordReport, outcomes: List[InstanceOutcome], dry_run: bool) -> None:
        attempt = max(o.notice.attempt for o in outcomes)
        envelope = RetryEnvelope.from_notices(
            [o.notice for o in outcomes],
            attempt=attempt + 1,
            first_seen=_first_seen([o.notice for o in outcomes]),
            dry_run=dry_run,
            last_errors=[f for o in outcomes for f in o.failures],
            request_ids=_request_ids(outcomes),
            original=_original(outcomes, None),
        )
        what = dict(instances=[o.notice.instance_id for o in outcomes])
        self._queue_retry(report, envelope, attempt, dry_run, _summarise(outcomes), what)

    def _queue_retry(self, report: RecordReport, envelope: RetryEnvelope, attempt: int, dry_run: bool, why: str, what: Dict[str, Any]) -> None:
        """The record is `retry_queued` only once the send succeeded; otherwise its work has no end yet."""
        delay = retry_delay(attempt, self.settings, self.rng)
        queue = self.settings.retry_queue
        fields = dict(record_id=report.record_id, next_attempt=attempt + 1, delay_seconds=delay, queue=queue, **what)
        if self.settings.dry_run or dry_run:
            decision("retry_skipped_dry_run", **fields)
            _mark(report, "retry_queued", why)
            return
        if not queue:
            decision("unfinished", level=logging.ERROR, reason="CLB_UNBIND_RETRY_QUEUE is not set", **fields)
            self._unsettle(report, why)
            return
        msg_id = self._send(queue, envelope.fitted(), delay, "retry_queued", fields)
        if msg_id is None:
            self._unsettle(report, why)
            return
        _mark(report, "retry_queued", why)
        report.message_id = msg_id

    def _dead_letter(
        self,
        reason: str,
        detail: str,
        notices: List[Notice],
        failures: List[CloudFailure],
        original: Optional[str],
        dry_run: bool,
        activities: Sequence[ActivityRef] = (),
    ) -> DeadLetterEnvelope:
        work: List[Any] = [*notices, *activities]
        return DeadLetterEnvelope.from_notices(
            notices,
            reason=reason,
            detail=detail[:2000],
            attempt=max([w.attempt for w in work] or [1]),
            first_seen=_first_seen(work),
            dry_run=dry_run,
            errors=failures,
            request_ids=sorted({r for n in notices for r in n.prior_request_ids} | {f.request_id for f in failures if f.request_id}),
            original=original,
            activities=activities,
        )

    def _send_dead_letter(self, reports: Sequence[RecordReport], body: DeadLetterEnvelope) -> None:
        """Dead-letter the work of `reports`: each is marked `dead_lettered` (or keeps `refused`) only
        once the send succeeded; otherwise its work has no end yet."""
        queue = self.settings.dead_letter_queue
        fields = dict(record_ids=[r.record_id for r in reports], reason=body.reason, detail=body.detail, queue=queue,
                      instances=[n.instance_id for n in body.notices] or None)
        if self.settings.dry_run or body.dry_run:
            decision("dead_letter_skipped_dry_run", **fields)
            msg_id: Optional[str] = ""
        elif not queue:
            decision("dead_letter_unset", level=logging.ERROR, **fields)
            msg_id = None
        else:
            msg_id = self._send(queue, body.fitted(), 0, "dead_lettered", fields)
        for report in reports:
            if msg_id is None:
                self._unsettle(report, f"{body.reason}: {body.detail}")
            elif report.status != "refused":
                _mark(report, "dead_lettered", body.reason)
                report.message_id = msg_id or report.message_id
            else:
                report.message_id = msg_id or None

    def _unsettle(self, report: RecordReport, why: str) -> None:
        """Work with no end: nothing holds it but the trigger (SCF's retry, the queue's visibility timeout)."""
        report.settled = False
        if report.status in ("done", "ignored"):
            report.status = "failed"
        report.reason = why if report.reason is None else f"{report.reason}; {why}"
        self.unqueued.append(f"record {report.record_id}: {why}")

    def _send(self, queue: str, body: Any, delay: int, name: str, fields: Dict[str, Any]) -> Optional[str]:
        from .cloud import tdmq

        try:
            msg_id = tdmq.send(self.session, queue, body.to_json(self.settings.envelope_secret), delay)
        except CloudError as exc:
            decision("queue_send_failed", level=logging.ERROR, error_code=exc.code, error_message=exc.failure.message, **fields)
            self.unqueued.append(f"{queue}: {exc.code}")
            return None
        decision(name, level=logging.WARNING, message_id=msg_id, **fields)
        return msg_id


def _packed(refusals: Sequence[EnvelopeRefusal], limit: int = MAX_MESSAGE_BYTES) -> List[List[EnvelopeRefusal]]:
    """Refusals in as few dead letters as fit in `limit` bytes each; an original too big alone is digested."""
    room = limit - 4096  # the envelope around them, and the detail line (≤ 2000 characters)
    groups: List[List[EnvelopeRefusal]] = [[]]
    used = 0
    for refusal in refusals:
        size = refusal.json_bytes() + 1
        if size > room:
            refusal = refusal.digested()
            size = refusal.json_bytes() + 1
        if used + size > room and groups[-1]:
            groups.append([])
            used = 0
        groups[-1].append(refusal)
        used += size
    return [g for g in groups if g]


def _mark(report: RecordReport, status: str, reason: str) -> None:
    """A record can end in more than one way (some instances retried, some dead-lettered): say all."""
    report.status = status if report.status == "done" else f"{report.status}+{status}"
    report.reason = reason if report.reason is None else f"{report.reason}; {reason}"


def _summarise(outcomes: Sequence[InstanceOutcome]) -> str:
    parts = []
    for o in outcomes:
        codes = ",".join(sorted({f.code for f in o.failures})) or o.status.value
        left = f": {'; '.join(b.label for b in o.remaining[:5])}" if o.remaining else ""
        parts.append(f"{o.notice.instance_id}: {codes} ({len(o.remaining)} binding(s) left{left})")
    return "; ".join(parts)


def _first_seen(work: Sequence[Any]) -> str:
    """The earliest `first_seen` of notices or activity refs (both carry one)."""
    return min([w.first_seen for w in work if w.first_seen] or [utc_now_iso()])


def _request_ids(outcomes: Sequence[InstanceOutcome]) -> List[str]:
    ids = {r for o in outcomes for r in o.notice.prior_request_ids} | {r for o in outcomes for r in o.request_ids}
    ids |= {f.request_id for o in outcomes for f in o.failures if f.request_id}
    return sorted(ids)


def _original(outcomes: Sequence[InstanceOutcome], record: Optional[Record]) -> Optional[str]:
    for o in outcomes:
        if o.notice.original:
            return o.notice.original
    return record.payload if record is not None else None
