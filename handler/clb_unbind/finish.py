"""Outcomes ──► what happens to each record: done, retried through the retry queue, or dead-lettered.

Every record ends in exactly one of these. Unfinished work goes to `CLB_UNBIND_RETRY_QUEUE` with a
delay; work that is out of attempts, or can never succeed, goes to `CLB_UNBIND_DEAD_LETTER_QUEUE` with a
machine-readable reason. Where a queue is not configured, or sending fails, the invocation raises at
the end, so SCF's own retry and dead-letter settings keep the event: a loss needs two failures.
"""
from __future__ import annotations

import logging
import math
import random
import time
from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .cloud.errors import CloudError, is_permanent
from .config import Settings
from .log import decision
from .model import ActivityRef, CloudFailure, InstanceOutcome, Notice, Record, RecordFailure, Status
from .wire.envelopes import (MAX_MESSAGE_BYTES, NOTICE_ORIGINAL_CHARS, SIGNATURE_BYTES, DeadLetterEnvelope,
                             EnvelopeRefusal, RetryEnvelope, utc_now_iso)

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
        **({"drain": [{"binding": e.key, "how": e.how, "seconds": e.seconds, "connections": e.connections}
                      for e in o.drain_ends]} if o.drain_ends else {}),
        **({"draining": [b.key for b in o.drain.bindings]} if o.drain is not None else {}),
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
        self._draining: List[Tuple[RecordReport, List[InstanceOutcome], bool]] = []

    def finish(
        self,
        records: Sequence[Record],
        outcomes: Sequence[InstanceOutcome],
        record_failures: Dict[str, RecordFailure],
    ) -> List[RecordReport]:
        """One report per record, in the event's order.

        Refused records are dead-lettered last, all together (one message, or a few within the size
        cap): junk ahead of real work costs one send after it, never one send each before it. Drains
        still under way go back together too (`_send_drains`): one envelope for all of them, or as few
        as the size and count caps allow.
        """
        by_record: Dict[str, List[InstanceOutcome]] = {}
        for o in outcomes:
            by_record.setdefault(o.notice.record_id, []).append(o)
        reports = {
            r.record_id: self._finish_record(r, by_record.get(r.record_id, []), record_failures.get(r.record_id))
            for r in records if r.refused is None
        }
        self._send_drains()
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

        draining = [o for o in outcomes if o.status is Status.INCOMPLETE and o.drain is not None]
        unfinished = [o for o in outcomes if o.status is Status.INCOMPLETE and o.drain is None]
        hopeless = [o for o in outcomes if o.status is Status.REFUSED]
        out_of_attempts = [o for o in unfinished if o.notice.attempt >= self.settings.max_attempts]
        to_retry = [o for o in unfinished if o.notice.attempt < self.settings.max_attempts]
        dry = all(o.notice.dry_run for o in outcomes) and bool(outcomes)
        if draining:
            self._draining.append((report, draining, dry))
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

    def _send_drains(self) -> None:
        """Drains under way go back to the queue, looked at again by the next timer run (`drain_delay`).

        Not a failed attempt: the attempt number stays, and a drain is never dead-lettered for it. One
        envelope carries every instance of the pass still draining (docs/drain.md#one-envelope-per-pass),
        split only by the size cap (`MAX_MESSAGE_BYTES`), the notices a message may hold
        (`CLB_UNBIND_MAX_INSTANCES`, `CLB_UNBIND_MAX_INSTANCES_PER_PASS`) and the attempt number; each
        instance once, however many records named it. A drain this run already re-queued (drain_run.py:
        a second chain met later in the run) is carried by that envelope and not sent again. A record
        is `retry_queued` once every instance it named is carried by a sent envelope; else its work has
        no end yet (its message stays and comes back)."""
        from .drain_run import sent_this_run

        pending, self._draining = self._draining, []
        if not pending:
            return
        sent = sent_this_run(self.session) if self.session is not None else {}
        first: Dict[str, InstanceOutcome] = {}
        for _, outcomes, _ in pending:
            for o in outcomes:
                first.setdefault(o.notice.instance_id, o)
        carried = {iid for iid, o in first.items() if o.drain is not None and iid in sent and sent[iid].look == o.drain.look}
        to_send = [o for iid, o in first.items() if iid not in carried]
        dry = all(d for _, _, d in pending)
        ok: Dict[str, Optional[str]] = {iid: None for iid in carried}
        for group in _drain_envelopes(to_send, self._notices_per_message()):
            msg_id = self._send_drain_envelope(group, dry)
            if msg_id is None:
                continue
            for o in group:
                ok[o.notice.instance_id] = msg_id
                if o.drain is not None and self.session is not None and not (self.settings.dry_run or dry):
                    sent[o.notice.instance_id] = o.drain
        for report, outcomes, _ in pending:
            ids = {o.notice.instance_id for o in outcomes}
            why = _summarise(outcomes)
            if not ids <= set(ok):
                self._unsettle(report, why)
                continue
            _mark(report, "retry_queued", why if not ids <= carried else "draining: carried by the envelope sent earlier in this run")
            report.message_id = report.message_id or next((ok[i] for i in sorted(ids) if ok[i]), None)

    def _notices_per_message(self) -> int:
        return max(min(self.settings.max_instances, self.settings.max_instances_per_pass), 1)

    def _send_drain_envelope(self, outcomes: List[InstanceOutcome], dry_run: bool) -> Optional[str]:
        """Send one drain envelope; its message id ("" for a dry run), or None when it could not be sent."""
        envelope = _drain_envelope(outcomes, dry_run)
        attempt = envelope.attempt
        delay = drain_delay(self.settings.timer_seconds, time.time())
        fields = dict(record_ids=sorted({o.notice.record_id for o in outcomes}), next_attempt=attempt, delay_seconds=delay,
                      queue=self.settings.retry_queue, instances=[o.notice.instance_id for o in outcomes], draining=True)
        if self.settings.dry_run or dry_run:
            decision("retry_skipped_dry_run", **fields)
            return ""
        if not self.settings.retry_queue:
            decision("unfinished", level=logging.ERROR, reason="CLB_UNBIND_RETRY_QUEUE is not set", **fields)
            return None
        return self._send(self.settings.retry_queue, envelope.fitted(), delay, "retry_queued", fields)

    def _queue_retry(self, report: RecordReport, envelope: RetryEnvelope, attempt: int, dry_run: bool, why: str, what: Dict[str, Any],
                     delay: Optional[int] = None) -> None:
        """The record is `retry_queued` only once the send succeeded; otherwise its work has no end yet."""
        delay = retry_delay(attempt, self.settings, self.rng) if delay is None else delay
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


def drain_delay(timer_seconds: float, now: float) -> int:
    """`DelaySeconds` of a drain envelope: it becomes visible at the next firing of the timer (a cron of
    `CLB_UNBIND_TIMER_SECONDS` fires on its multiples, deploy/numbers.py), not later, so the next run's
    queue pass reads it before that run's sweep looks for waiting instances: the sweep sees the drain
    handled and never resumes it (docs/drain.md#one-chain-per-drain). At least 1 s: an envelope sent
    in the last second before a firing becomes visible during the next run's first long poll."""
    period = max(float(timer_seconds), 1.0)
    next_firing = (math.floor(now / period) + 1) * period
    return max(int(next_firing - now), 1)


def _drain_envelopes(outcomes: Sequence[InstanceOutcome], per_message: int,
                     limit: int = MAX_MESSAGE_BYTES) -> List[List[InstanceOutcome]]:
    """Draining instances in as few envelopes as fit: one attempt number an envelope (its notices come back
    with it), at most `per_message` notices and `limit` bytes each."""
    by_attempt: Dict[int, List[InstanceOutcome]] = {}
    for o in outcomes:
        by_attempt.setdefault(o.notice.attempt, []).append(o)
    groups: List[List[InstanceOutcome]] = []
    for _, same in sorted(by_attempt.items()):
        group: List[InstanceOutcome] = []
        rough = 0
        for o in same:
            size = len(o.notice.original or "") + 2048  # the notice, its drain state, its share of errors and ids
            # Measured exactly only once the rough sum nears the cap: a pass of small notices never is.
            full = group and (len(group) >= per_message or (rough + size > limit // 2 and
                              _drain_envelope([*group, o], False).json_bytes() + SIGNATURE_BYTES > limit))
            if full:
                groups.append(group)
                group, rough = [], 0
            group.append(o)
            rough += size
        groups.append(group)
    return [g for g in groups if g]


def _drain_envelope(outcomes: Sequence[InstanceOutcome], dry_run: bool) -> RetryEnvelope:
    """One envelope for the drains of `outcomes`: each notice with its state, and its own `firstSeen` and
    original where they differ from the envelope's (a combined envelope must not give every instance the
    first one's)."""
    notices = [replace(o.notice, drain=o.drain) for o in outcomes]
    first_seen = _first_seen(notices)
    originals = {n.original for n in notices}
    shared = next(iter(originals)) if len(originals) == 1 else None
    envelope = RetryEnvelope.from_notices(
        notices,
        attempt=max(n.attempt for n in notices),
        first_seen=first_seen,
        dry_run=dry_run,
        last_errors=list(dict.fromkeys(f for o in outcomes for f in o.failures)),
        request_ids=_request_ids(outcomes),
        original=shared,
    )
    own = [e.model_copy(update={
        "first_seen": n.first_seen if n.first_seen and n.first_seen != first_seen else None,
        "original": n.original if len(originals) > 1 and n.original and len(n.original) <= NOTICE_ORIGINAL_CHARS else None,
    }) for e, n in zip(envelope.notices, notices)]
    return envelope.model_copy(update={"notices": own})


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
