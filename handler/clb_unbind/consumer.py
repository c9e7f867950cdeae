"""The queue consumer: a timer run pulls lifecycle notifications from `CLB_UNBIND_QUEUE` and acknowledges
what has an end (docs/design.md#the-queue-consumer; docs/cloud-facts.md#cmq-delivery-path).

Auto Scaling can only notify a TDMQ-for-CMQ queue or topic, and no SCF trigger pushes from a queue, so
a timer starts a run that pulls. A run is a series of passes. A pass receives up to 16 messages a call,
with a long poll of `CLB_UNBIND_POLL_SECONDS` for its first receive and none for the next ones while full
batches keep coming. A pass is bounded: every message counts toward `max_instances_per_pass` (by the
instances it asks for, and at least one: junk and INSTANCE_LAUNCHING included), the bodies it holds stay
under a byte cap derived from the function's memory size (`PassLimits`), and the deadline is checked
before every receive. Everything a pass received is handled at once (process.py: one resolution, one
write per load balancer, one verification), and then each message whose work has an end (done,
ignored, re-queued, dead-lettered) is deleted. A message whose work has no end stays: the queue's
visibility timeout brings it back, and after `MaxReceiveCount` the queue's own dead-letter policy keeps
it. Nothing depends on the run finishing.

Nothing received is dropped: a receive that fails, an unreadable answer or an exception in the middle of
a pass ends the gathering, and what the pass already holds is handled as usual; an exception while
handling leaves the pass's messages in flight. The run then ends, and the timer run goes on to its sweep.

The run ends at the first empty receive (an idle timer run costs one long poll), after
`CLB_UNBIND_CONSUME_SECONDS`, when the deadline leaves no room for another pass, or after a failure.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Set, Tuple

from .cloud import cmq
from .cloud.errors import CloudError
from .cloud.session import CloudSession
from .config import Settings
from .finish import RecordReport
from .log import LOGGER_NAME, decision
from .model import Record
from .process import process
from .triggers import payloads
from .triggers.common import Context, make_unique, utf8_len
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


def consume(settings: Settings, session: CloudSession, queue: str, started: float,
            memory_mb: Optional[float] = None) -> ConsumeReport:
    """Passes until the queue is empty, the consume time or the deadline is up, or the queue fails.

    Never raises: whatever goes wrong in a pass (a receive, an unreadable answer, the deadline, an
    exception), what the pass already holds is still handled, or else left in flight, and the timer run
    goes on to its sweep."""
    report = ConsumeReport()
    limits = PassLimits.of(settings, memory_mb)
    pass_seconds = 0.0
    while True:
        why = _why_stop(settings, session, started, pass_seconds)
        if why:
            report.stopped = why
            break
        began = time.monotonic()
        held = _Pass()
        why = _gather(settings, session, queue, limits, held, started, pass_seconds)
        if not held.received:
            report.stopped = why or "queue_empty"
            break
        report.passes += 1
        report.received += len(held.received)
        try:
            delivered = _handle_pass(settings, session, queue, held.received, report)
        except Exception:  # noqa: BLE001 - the sweep must still run; the messages come back after the visibility timeout
            logging.getLogger(LOGGER_NAME).exception("a pass failed; its messages stay in flight and come back",
                                                     extra={"decision": "pass_failed", "queue": queue, "messages": len(held.received)})
            report.kept += len(held.received)
            report.stopped = "pass_failed"
            break
        if not delivered:
            report.stopped = "delete_failed"
            break
        if why in STOPS_THE_RUN:
            report.stopped = why
            break
        pass_seconds = max(pass_seconds, time.monotonic() - began)
    decision("consumed", queue=queue, passes=report.passes, received=report.received, deleted=report.deleted,
             kept=report.kept, stopped=report.stopped, pass_limits=limits.describe())
    return report


STOPS_THE_RUN = frozenset({"receive_failed", "receive_crashed", "deadline", "consume_seconds"})
"""Why a pass stopped gathering that also ends the run once the pass is handled."""


def _why_stop(settings: Settings, session: CloudSession, started: float, pass_seconds: float, poll: Optional[float] = None) -> str:
    """Receive again only if the pass can still end, deletes included, inside the consume time and the deadline."""
    if time.monotonic() - started >= settings.consume_seconds:
        return "consume_seconds"
    needed = (settings.poll_seconds if poll is None else poll) + max(pass_seconds, 1.0)
    if session.deadline.remaining() < needed:
        return "deadline"
    return ""


@dataclass(frozen=True)
class PassLimits:
    """How much one pass may hold: messages (each counted by what it asks for) and bytes of bodies.

    The byte cap keeps a pass inside the function's memory size (SCF's context `memory_limit_in_mb`):

        byte_cap = (memory_mb - RUNTIME_MB) MiB / HEAP_PER_BODY_BYTE, and at least one largest message

    `RUNTIME_MB` (64) is what the function needs before it holds any message: 61.2 MiB peak resident
    size of a fresh interpreter with the handler and every SDK client it loads imported.
    `HEAP_PER_BODY_BYTE` (3) is the Python heap a pass uses per byte of body it may hold: the reply's
    bytes and its decoded JSON while a receive is read, the body string, its parse, a refusal's copy in
    the dead letter; measured 2.0 (128 MB, 150 junk bodies of 900 KiB: 42.5 MiB peak for a 21.3 MiB
    cap), 2.5 (96 MB, 24 such bodies: 26.6 MiB for 10.7 MiB) and 2.7 (88 MB, 16: 21.4 MiB for 8 MiB),
    so 3: the peak stays under memory - RUNTIME_MB at every size measured. Both figures come
    from `python -m bench.pass_memory`. A receive asks for no more messages than fit under the cap at
    CMQ's largest message size (`MAX_MESSAGE_BYTES`), so the cap holds whatever the queue contains. At
    the deployed 128 MB the cap is 21.3 MiB: the first receive of a pass takes 16 messages, the next
    ones only as many 1 MiB messages as still fit (a pass of small notifications is limited by its
    count, never by this cap). Known limit: a body of control characters, which CMQ's JSON answer
    escapes to six bytes each, makes one receive's transient reply larger than counted here.
    """

    max_count: int
    byte_cap: int

    @classmethod
    def of(cls, settings: Settings, memory_mb: Optional[float]) -> "PassLimits":
        memory = float(memory_mb) if memory_mb and memory_mb > 0 else DEFAULT_MEMORY_MB
        cap = int((memory - RUNTIME_MB) * MIB / HEAP_PER_BODY_BYTE)
        return cls(max_count=settings.max_instances_per_pass, byte_cap=max(cap, MAX_MESSAGE_BYTES))

    def describe(self) -> Dict[str, int]:
        return {"messages": self.max_count, "bytes": self.byte_cap}


MIB = 1024 * 1024
MAX_MESSAGE_BYTES = MIB
"""A TDMQ-for-CMQ message is at most 1 MiB (`MaxMsgSize` 1024-1048576, CreateCmqQueueRequest)."""
DEFAULT_MEMORY_MB = 128.0
"""When the context does not say: the function's deployed memory size (serverless.yml, deploy/)."""
RUNTIME_MB = 64.0
HEAP_PER_BODY_BYTE = 3.0


@dataclass
class _Pass:
    received: List[Tuple[cmq.QueueMessage, Record]] = field(default_factory=list)
    counted: int = 0
    """Each message counts what it asks for, and at least one (junk and INSTANCE_LAUNCHING included)."""
    body_bytes: int = 0


def _gather(settings: Settings, session: CloudSession, queue: str, limits: PassLimits, held: _Pass,
            started: float, pass_seconds: float) -> str:
    """Receive into `held` until the pass is full, a batch comes back short, or time is up.

    The first receive waits up to the long poll; later ones do not wait, and each is preceded by the
    deadline check. Returns why gathering stopped when that should also end the run ("" otherwise).
    A receive that fails, or an exception, leaves what `held` has received so far to be handled."""
    poll = settings.poll_seconds
    call_seconds = 0.0
    while True:
        room = min(RECEIVE_MAX, limits.max_count - held.counted, (limits.byte_cap - held.body_bytes) // MAX_MESSAGE_BYTES)
        if room < 1:
            return ""
        if held.received:
            why = _why_stop(settings, session, started, pass_seconds, poll=0)
            if why:
                return why
            if session.deadline.remaining() < _finish_estimate(len(held.received) + room, call_seconds):
                return "deadline"
        began = time.monotonic()
        try:
            batch = cmq.receive(session, queue, room, poll)
            records = records_of(batch, settings, queue)
        except CloudError as exc:
            decision("receive_failed", level=logging.ERROR, queue=queue, error_code=exc.code,
                     error_message=exc.failure.message, held=len(held.received))
            return "receive_failed"
        except Exception:  # noqa: BLE001 - what the pass holds is still handled, and the sweep still runs
            logging.getLogger(LOGGER_NAME).exception("a receive failed unexpectedly; the pass handles what it holds",
                                                     extra={"decision": "receive_crashed", "queue": queue, "held": len(held.received)})
            return "receive_crashed"
        call_seconds = max(call_seconds, time.monotonic() - began - poll)
        held.received.extend(zip(batch, records))
        held.counted += sum(_weight(r, limits) for r in records)
        held.body_bytes += sum(utf8_len(m.body) for m in batch)
        if len(batch) < room:
            return ""
        poll = 0


PASS_CALLS = 8
"""Calls one after another that handling a pass takes at least: trust, resolution, unbind, verification,
completion, a retry and a dead-letter send."""


def _finish_estimate(messages: int, call_seconds: float) -> float:
    """Seconds to receive once more and still handle and delete `messages`, at the receives' pace."""
    return call_seconds * (1 + PASS_CALLS + -(-messages // RECEIVE_MAX))


def _weight(record: Record, limits: PassLimits) -> int:
    """What a message counts toward the pass cap: its instances, and at least one. A scaling activity's
    instances are read only when the pass is handled, and may be as many as a pass holds: it fills the pass."""
    if record.activities:
        return limits.max_count
    return max(1, len(record.notices))


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
    # The deletes get their time before the sends: a message re-queued but not deleted comes back and
    # is re-queued again, and such copies multiply (chaos seed 111); one that is neither simply comes back.
    session.acks_kept = -(-len(messages) // cmq.MAX_BATCH)
    try:
        return _finish_pass(settings, session, queue, messages, records, report)
    finally:
        session.acks_kept = 0


def _finish_pass(settings: Settings, session: CloudSession, queue: str, messages: Sequence[cmq.QueueMessage],
                 records: List[Record], report: ConsumeReport) -> bool:
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
