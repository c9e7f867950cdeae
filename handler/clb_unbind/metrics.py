"""One `metrics` line per run: the figures an on-call engineer charts and alarms on (docs/metrics.md).

Every invocation (each trigger, timer runs included) ends with one JSON line whose `decision` is
`metrics`, with the same fields every time. The line is built from what the run already says: the
decisions it logs (outcomes, completions, dead letters, the queue's and the sweep's figures) and the
cloud session's call records (calls by action, failed attempts by action and error code). Nothing in
the pipeline computes a metric; this module listens.

    with measure(request_id):
        ...the run...
    # on the way out, success or exception: {"decision": "metrics", "instances_unbound": 3, ...}

The fields are flat numbers where a chart sums them over time; the few breakdowns whose keys are not
known in advance (calls by action, errors by code, dead letters by reason, latency by instance) are
JSON objects, which CLS SQL reads with `CAST(json_extract(...) AS map(varchar, bigint))` and `UNNEST`.
"""
from __future__ import annotations

import contextvars
import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, Iterator, List, Optional

from .log import LOGGER_NAME

NAME = "metrics"
VERSION = 1
OUTCOMES = ("unbound", "not_bound", "planned", "incomplete", "refused")
"""`model.Status` values an instance can end a run in (`ignored` is a record's, not an instance's)."""


@dataclass
class Run:
    """What one invocation did, gathered from its decisions as they are logged."""

    request_id: str
    trigger: str = ""
    outcomes: Dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    lifecycle_completed: int = 0
    latency: Dict[str, float] = field(default_factory=dict)
    dead_letters: Dict[str, int] = field(default_factory=dict)
    retries_queued: int = 0
    reconciled: int = 0
    sweep_waiting: int = 0
    drain_seconds: float = 0.0
    queue: Dict[str, Any] = field(default_factory=lambda: {"passes": 0, "received": 0, "deleted": 0, "kept": 0, "stopped": ""})
    audit_findings: int = 0
    errors: Dict[str, int] = field(default_factory=dict)
    summary: bool = False
    counters: List[Any] = field(default_factory=list)
    """The cloud sessions' `CallCounter`s (`cloud.session`), read when the line is written."""

    def observe(self, record: logging.LogRecord) -> None:
        name = getattr(record, "decision", None)
        if not isinstance(name, str) or name == NAME:
            return
        fields = vars(record)
        if record.levelno >= logging.ERROR:
            self.errors[name] = self.errors.get(name, 0) + 1
        handler = _OBSERVERS.get(name)
        if handler is not None:
            handler(self, fields, record.created)

    def line(self, seconds: float) -> Dict[str, Any]:
        calls: Dict[str, int] = {}
        failed: Dict[str, int] = {}
        for counter in self.counters:
            for key, n in dict(counter.counts).items():
                calls[key] = calls.get(key, 0) + n
            for key, n in dict(getattr(counter, "failures", {})).items():
                failed[key] = failed.get(key, 0) + n
        by_code: Dict[str, int] = {}
        for key, n in failed.items():
            code = key.split(" ", 1)[-1]
            by_code[code] = by_code.get(code, 0) + n
        return {
            "metrics_version": VERSION,
            "trigger": self.trigger,
            "run_seconds": round(seconds, 3),
            "instances": sum(self.outcomes.values()),
            **{f"instances_{o}": self.outcomes[o] for o in OUTCOMES},
            "lifecycle_completed": self.lifecycle_completed,
            "hook_latency_max_seconds": max(self.latency.values()) if self.latency else None,
            "hook_latency_seconds": dict(sorted(self.latency.items())),
            "api_calls": sum(calls.values()),
            "api_errors": sum(failed.values()),
            "api_calls_by_action": dict(sorted(calls.items())),
            "api_errors_by_code": dict(sorted(by_code.items())),
            "api_errors_by_action_code": dict(sorted(failed.items())),
            "dead_letters": sum(self.dead_letters.values()),
            "dead_letters_by_reason": dict(sorted(self.dead_letters.items())),
            "retries_queued": self.retries_queued,
            "reconciled": self.reconciled,
            "sweep_waiting": self.sweep_waiting,
            "drain_seconds": round(self.drain_seconds, 3),
            "queue_passes": self.queue["passes"],
            "queue_received": self.queue["received"],
            "queue_deleted": self.queue["deleted"],
            "queue_kept": self.queue["kept"],
            "queue_stopped": self.queue["stopped"],
            "audit_findings": self.audit_findings,
            "errors": sum(self.errors.values()),
            "errors_by_decision": dict(sorted(self.errors.items())),
            "summary_logged": self.summary,
        }


def _received(run: Run, f: Dict[str, Any], at: float) -> None:
    run.trigger = run.trigger or str(f.get("trigger") or "")


def _outcome(run: Run, f: Dict[str, Any], at: float) -> None:
    # The pipeline's last word on an instance carries `lifecycle_completed`; a refused record's does not.
    if "lifecycle_completed" in f and "instance_id" in f:
        run.outcomes[f["decision"]] += 1


def _completed(run: Run, f: Dict[str, Any], at: float) -> None:
    run.lifecycle_completed += 1
    notified = parse_time(f.get("notified_at"))
    if notified is not None and f.get("instance_id"):
        run.latency[str(f["instance_id"])] = round(max(at - notified, 0.0), 3)


def _dead_lettered(run: Run, f: Dict[str, Any], at: float) -> None:
    reason = str(f.get("reason") or "unknown")
    run.dead_letters[reason] = run.dead_letters.get(reason, 0) + 1


def _retry_queued(run: Run, f: Dict[str, Any], at: float) -> None:
    run.retries_queued += 1


def _swept(run: Run, f: Dict[str, Any], at: float) -> None:
    reconciled = f.get("reconciled")
    run.reconciled += len(reconciled) if isinstance(reconciled, list) else int(reconciled or 0)
    run.sweep_waiting += int(f.get("waiting") or 0)


def _draining(run: Run, f: Dict[str, Any], at: float) -> None:
    run.drain_seconds += float(f.get("drain_seconds") or 0)


def _consumed(run: Run, f: Dict[str, Any], at: float) -> None:
    for key in ("passes", "received", "deleted", "kept"):
        run.queue[key] += int(f.get(key) or 0)
    run.queue["stopped"] = str(f.get("stopped") or "")


def _audit(run: Run, f: Dict[str, Any], at: float) -> None:
    run.audit_findings += 1


def _summary(run: Run, f: Dict[str, Any], at: float) -> None:
    run.summary = True
    run.trigger = run.trigger or str(f.get("trigger") or "")


_OBSERVERS = {
    "received": _received,
    **{o: _outcome for o in OUTCOMES},
    "completed": _completed,
    "dead_lettered": _dead_lettered,
    "retry_queued": _retry_queued,
    "swept": _swept,
    "draining": _draining,
    "consumed": _consumed,
    "audit": _audit,
    "summary": _summary,
}

_current: contextvars.ContextVar[Optional[Run]] = contextvars.ContextVar("clb_unbind_metrics", default=None)


class _Listener(logging.Filter):
    """Installed once on the function's logger; hands each record to the run of the context it was
    logged in (worker threads started with the context copied report to their own run)."""

    def filter(self, record: logging.LogRecord) -> bool:
        run = _current.get()
        if run is not None:
            run.observe(record)
        return True


_LISTENER = _Listener()


def watch(counter: Any) -> None:
    """A cloud session's call counter, read at the end of the run (called by `CloudSession`)."""
    run = _current.get()
    if run is not None:
        run.counters.append(counter)


@contextmanager
def measure(request_id: str, clock: Any = None) -> Iterator[Run]:
    """Gather the run's figures while the block runs; write the `metrics` line when it ends, however it ends."""
    import time

    clock = clock or time.monotonic
    logger = logging.getLogger(LOGGER_NAME)
    if _LISTENER not in logger.filters:
        logger.addFilter(_LISTENER)
    run = Run(request_id=request_id)
    started = clock()
    token = _current.set(run)
    try:
        yield run
    finally:
        _current.reset(token)
        # Written whatever the log level (it would drop the one line the alarms rely on), and not
        # through `decision()`, which drops None: every field of this line is always there.
        extra = {"decision": NAME, "request_id": request_id, **run.line(clock() - started)}
        record = logger.makeRecord(logger.name, logging.INFO, __file__, 0, NAME, (), None, extra=extra)
        for handler in logger.handlers:
            handler.handle(record)


def parse_time(value: Any) -> Optional[float]:
    """Unix seconds of an ISO-8601 time (`2019-03-14T10:15:11Z`, the notification's `Time`), else None."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()
