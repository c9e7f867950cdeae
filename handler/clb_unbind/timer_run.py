"""A timer run: the queue consumer's passes, then the sweep of the watched scaling groups.

The answer is a summary for the logs and the operator CLI; nothing reads it back. Work a run could not
end stays where it came from (the queue's message, Auto Scaling's waiting instance), so the run never
raises for it: the next run finds it again.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Dict, List, Optional

from .audit import audit
from .cloud.deadline import Deadline
from .config import Settings
from .consumer import ConsumeReport, consume
from .finish import RecordReport, summary_of
from .log import LOGGER_NAME, decision
from .process import open_session
from .sweep import sweep


def timer_run(settings: Settings, deadline: Deadline, request_id: str, memory_mb: Optional[float] = None) -> Dict[str, Any]:
    """`memory_mb` is SCF's `memory_limit_in_mb`: it sizes what one queue pass may hold (consumer.PassLimits)."""
    started = time.monotonic()
    decision("received", trigger="timer", queue=settings.queue, groups=sorted(settings.groups) or None)
    if not settings.queue:
        decision("misconfigured", level=logging.ERROR,
                 reason="a timer event starts a consumer run of CLB_UNBIND_QUEUE, which is not set: nothing done")
        return {**summary_of(request_id, "timer", [], {}, time.monotonic() - started), "error": "CLB_UNBIND_QUEUE is not set"}
    session, failure = open_session(settings, deadline)
    if session is None:
        assert failure is not None
        return {**summary_of(request_id, "timer", [], {}, time.monotonic() - started), "error": failure.message}
    try:
        queue_report = consume(settings, session, settings.queue, started, memory_mb)
    except Exception:  # noqa: BLE001 - consume keeps its messages safe itself; the sweep must run regardless
        logging.getLogger(LOGGER_NAME).exception("the queue consumer failed; the sweep still runs", extra={"decision": "consume_failed"})
        queue_report = ConsumeReport(stopped="consume_failed")
    reports: List[RecordReport] = list(queue_report.reports)
    answer: Dict[str, Any] = {"queue": _queue_figures(settings.queue, queue_report)}
    if settings.groups:
        swept = sweep(settings, session, queue_report.handled)
        reports += swept.reports
        answer["sweep"] = {"groups": sorted(settings.groups), "watched": swept.watched, "waiting": swept.waiting,
                           "reconciled": swept.reconciled, "noOwnHook": swept.no_own_hook, "error": swept.error or None}
    audit(settings, session, time.time() - (time.monotonic() - started))  # audit.py: the window of the run's start
    summary = {**summary_of(request_id, "timer", reports, dict(session.calls.counts), time.monotonic() - started), **answer}
    decision("summary", trigger="timer", api_calls=summary["apiCalls"], seconds=summary["seconds"],
             records={r.record_id: r.status for r in reports})
    return summary


def _queue_figures(queue: str, report: ConsumeReport) -> Dict[str, Any]:
    return {"name": queue, "passes": report.passes, "received": report.received, "deleted": report.deleted,
            "kept": report.kept, "stopped": report.stopped}
