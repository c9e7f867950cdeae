"""The queue consumer: a timer run pulls lifecycle notifications from `CLB_UNBIND_QUEUE` and acknowledges
what has an end (docs/design.md#the-queue-consumer; docs/cloud-facts.md#cmq-delivery-path).

Auto Scaling can only notify a TDMQ-for-CMQ queue or topic, and no SCF trigger pushes from a queue, so
a timer starts a run that pulls. A run is a series of passes. A pass receives up to 16 messages a call,
with a long poll of `CLB_UNBIND_POLL_SECONDS` for its first receive and none for the next ones while full
batches keep coming, up to `max_instances_per_pass` notices. Everything a pass received is handled at
once (process.py: one resolution, one write per load balancer, one verification), and then each
message whose work has an end (done, ignored, re-queued, dead-lettered) is deleted. A message whose
work has no end stays: the queue's visibility timeout brings it back, and after `MaxReceiveCount` the
queue's own dead-letter policy keeps it. Nothing depends on the run finishing.

The run ends at the first empty receive (an idle timer run costs one long poll), after
`CLB_UNBIND_CONSUME_SECONDS`, or when the deadline leaves no room for another pass.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import List, Sequence, Set, Tuple

from .cloud import cmq
from .cloud.errors import CloudError
from .cloud.session import CloudSession
from .config import Settings
from .finish import RecordReport
from .log import decision
from .model import Record
from .process import process
from .triggers import payloads
from .triggers.common import Context, make_unique
from .trust import NOT_LEAVING, UNSIGNED_ENVELOPE

REFUSED_CLAIMS = (NOT_LEAVING, UNSIGNED_ENVELOPE)

RECEIVE_MAX = 16  # BatchReceiveMessage numOfMsg 1–16 (docs/cloud-facts.md#cmq-data-plane-api)


@dataclass
class ConsumeReport:
    """What a run did with the queue: the figures of the timer run's answer."""

    passes: int = 0
    received: int = 0
    deleted: int = 0
    kept: int = 0
    """Messages left in the queue on purpose (no end yet, dry run, a failed delete): they come back."""
    stopped: str = ""
    reports: List[RecordReport] = field(default_factory=list)
    handled: Set[str] = field(default_factory=set)
    """Instances this run's passes named: the sweep leaves them to the queue's own path."""


def consume(settings: Settings, session: CloudSession, queue: str, started: float) -> ConsumeReport:
    report = ConsumeReport()
    pass_seconds = 0.0
    while True:
        why = _why_stop(settings, session, started, pass_seconds)
        if why:
            report.stopped = why
            break
        began = time.monotonic()
        try:
            received = _receive_pass(settings, session, queue)
        except CloudError as exc:
            decision("receive_failed", level=logging.ERROR, queue=queue, error_code=exc.code, error_message=exc.failure.message)
            report.stopped = "receive_failed"
            break
        if not received:
            report.stopped = "queue_empty"
            break
        report.passes += 1
        report.received += len(received)
        if not _handle_pass(settings, session, queue, received, report):
            report.stopped = "delete_failed"
            break
        pass_seconds = max(pass_seconds, time.monotonic() - began)
    decision("consumed", queue=queue, passes=report.passes, received=report.received, deleted=report.deleted,
             kept=report.kept, stopped=report.stopped)
    return report


def _why_stop(settings: Settings, session: CloudSession, started: float, pass_seconds: float) -> str:
    """Start another pass only if it can end, deletes included, inside the consume time and the deadline."""
    if time.monotonic() - started >= settings.consume_seconds:
        return "consume_seconds"
    needed = settings.poll_seconds + max(pass_seconds, 1.0)
    if session.deadline.remaining() < needed:
        return "deadline"
    return ""


def _receive_pass(settings: Settings, session: CloudSession, queue: str) -> List[Tuple[cmq.QueueMessage, Record]]:
    """The first receive waits up to the long poll; later ones do not wait, while full batches come and
    the pass names fewer than `max_instances_per_pass` instances (a scaling activity counts as one)."""
    received: List[Tuple[cmq.QueueMessage, Record]] = []
    poll = settings.poll_seconds
    named = 0
    while named < settings.max_instances_per_pass:
        batch = cmq.receive(session, queue, RECEIVE_MAX, poll)
        records = records_of(batch, settings, queue)
        received.extend(zip(batch, records))
        named += sum(len(r.notices) + len(r.activities) for r in records)
        if len(batch) < RECEIVE_MAX:
            break
        poll = 0
    return received


def records_of(messages: Sequence[cmq.QueueMessage], settings: Settings, queue: str) -> List[Record]:
    """One record per message, id = its msgId, source `queue`."""
    now = time.time()
    return [
        payloads.parse_body(m.body, Context(settings=settings, source="queue", record_id=m.msg_id,
                                            path=f"{queue}[{m.msg_id}].msgBody", now=now))
        for m in messages
    ]


def handled_by(reports: Sequence[RecordReport], settings: Settings) -> Set[str]:
    """Instances the pass really took on, which the sweep leaves to it: not one whose claim was refused
    (a forged message must not hide a waiting instance), nor one a message's own `dryRun` kept dry."""
    return {o.notice.instance_id for r in reports for o in r.outcomes
            if (settings.dry_run or not o.notice.dry_run) and not any(f.code in REFUSED_CLAIMS for f in o.failures)}


def _handle_pass(settings: Settings, session: CloudSession, queue: str,
                 received: Sequence[Tuple[cmq.QueueMessage, Record]], report: ConsumeReport) -> bool:
    """Handle one pass and acknowledge it; False when deleting failed (the queue is unwell: stop the run).

    A message delivered twice in one pass is two records (a repeated msgId gets `#n`); the pipeline
    still unbinds and completes its instance once."""
    messages = [m for m, _ in received]
    records = list(make_unique([r for _, r in received]))
    done = process(records, settings, session)
    report.reports.extend(done.reports)
    report.handled |= handled_by(done.reports, settings)
    ended = [m.receipt_handle for m, r in zip(messages, done.reports) if r.settled]
    kept = len(messages) - len(ended)
    if settings.dry_run:
        decision("kept_dry_run", queue=queue, messages=len(messages))
        report.kept += len(messages)
        return True
    if not ended:
        report.kept += kept
        return True
    result = cmq.delete(session, queue, ended)
    if result.stale:
        # Their work is done, but the queue handed the messages out again: they will be redone, and
        # after MaxReceiveCount dead-lettered by the queue. `make check` names the fix.
        decision("visibility_timeout_too_short", level=logging.WARNING, queue=queue, stale=len(result.stale),
                 reason="the queue's VisibilityTimeout ran out during the pass; set it to at least the function timeout")
    for failure in result.failed.values():
        # Harmless: redelivery finds nothing bound, and the lifecycle result already set counts as done.
        decision("delete_failed", level=logging.WARNING, queue=queue, error_code=failure.code, error_message=failure.message)
    report.deleted += len(result.deleted)
    report.kept += kept + len(ended) - len(result.deleted)
    return not result.failed
