"""The function from event to answer: settings, then the timer's queue run or a pushed event's work."""
from __future__ import annotations

import logging
import time
import uuid
from typing import Any, Dict, Mapping, Optional, Sequence

from . import log
from .cloud.deadline import Deadline
from .config import Settings, SettingsError
from .finish import RecordReport, UnfinishedWork, summary_of
from .log import correlation, decision
from .model import Status
from .process import needs_cloud, open_session, process
from .triggers import http_answer, parse_event
from .triggers.timer import is_timer_event


def handle(event: Any, context: Any, env: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    started = time.monotonic()
    context = context if isinstance(context, Mapping) else {}
    request_id = str(context.get("request_id") or uuid.uuid4())
    try:
        context_region = context.get("tencentcloud_region")
        settings = Settings.from_env(env, context_region if isinstance(context_region, str) else None).require_region()
    except SettingsError as exc:
        log.configure()
        decision("misconfigured", level=logging.ERROR, request_id=request_id, reason=str(exc))
        if isinstance(event, Mapping) and "requestContext" in event:
            return http_answer(500, {"error": "the function is misconfigured; see its logs", "requestId": request_id})
        raise
    log.configure(settings.log_level, settings.secrets)
    deadline = Deadline.from_context(context, settings.safety_margin_seconds)
    with correlation(request_id=request_id, dry_run=settings.dry_run or None):
        if is_timer_event(event):
            from .timer_run import timer_run

            return timer_run(settings, deadline, request_id)
        return _pushed(event, settings, deadline, request_id, started)


def _pushed(event: Any, settings: Settings, deadline: Deadline, request_id: str, started: float) -> Dict[str, Any]:
    """An event a trigger pushed: every record handled, then answered (HTTP) or raised if work has no end."""
    parsed = parse_event(event, settings)
    decision("received", trigger=parsed.kind, records=len(parsed.records))
    if parsed.http_refusal is not None:
        decision("http_refused", level=logging.WARNING, status=parsed.http_refusal.status, reason=parsed.http_refusal.body.get("error"))
        return http_answer(parsed.http_refusal.status, {**parsed.http_refusal.body, "requestId": request_id})
    session, failure = open_session(settings, deadline) if needs_cloud(parsed.records, settings) else (None, None)
    try:
        done = process(parsed.records, settings, session, failure)
    except Exception:
        if parsed.kind != "apigw":
            raise
        logging.getLogger(log.LOGGER_NAME).exception("unexpected error", extra={"decision": "crashed"})
        return http_answer(500, {"error": "internal error; see the function's logs", "requestId": request_id})
    calls = dict(session.calls.counts) if session is not None else {}
    summary = summary_of(request_id, parsed.kind, done.reports, calls, time.monotonic() - started)
    decision("summary", trigger=parsed.kind, api_calls=summary["apiCalls"], seconds=summary["seconds"],
             records={r.record_id: r.status for r in done.reports})
    if parsed.kind == "apigw":
        return http_answer(_http_status(done.reports), summary)
    if done.unqueued:
        # Nowhere to keep this work: fail loudly, so SCF's own retry and dead-letter settings keep the event.
        raise UnfinishedWork("; ".join(done.unqueued))
    return summary


def _http_status(reports: Sequence[RecordReport]) -> int:
    """503 whenever unfinished work could not be queued: the caller must try again, nothing else holds it.

    A refusal needs no queue here: the 4xx itself tells the caller that trying again will not help."""
    statuses = {o.status for r in reports for o in r.outcomes}
    if any(not r.settled and not r.outcomes for r in reports):
        return 502
    if any(o.status is Status.INCOMPLETE and "retry_queued" not in r.status for r in reports for o in r.outcomes):
        return 503
    if Status.REFUSED in statuses:
        return 404 if all(f.code == "InstanceNotFound" for r in reports for o in r.outcomes for f in o.failures) else 422
    if Status.INCOMPLETE in statuses:
        return 202
    return 200
