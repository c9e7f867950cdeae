"""The hook audit: how Auto Scaling says our hooks ended, read once a timer run (issue 20; docs/alarms.md).

Auto Scaling records the end of every lifecycle action in the activity that started it
(`DescribeAutoScalingActivities` → `Activity.LifecycleActionResultSet[]`, SDK
`LifecycleActionResultInfo.ResultReason`). Three endings mean the function did not end a wait of ours:

* `HEARTBEAT_TIMEOUT`: nobody completed it within the hook's `HeartbeatTimeout`; Auto Scaling applied
  the hook's `DefaultResult` and the instance went on, perhaps still bound;
* `NOTIFICATION_FAILURE`: Auto Scaling could not write the notification to the queue, the one failure
  no run can see for itself (the sweep still finds the instance while it waits);
* `ANOTHER_ACTION_ABANDON`: another hook of the instance ended with ABANDON, which ended ours.

Each becomes one `audit` decision naming the instance, the activity, the hook and what to do, for
the groups of `CLB_UNBIND_GROUPS`, on our own hooks only (the group's terminating hook that notifies
`CLB_UNBIND_QUEUE` or a topic of `CLB_UNBIND_TOPICS`: own_hooks.py).

Reported once, with no state kept between runs: a run audits the activities that **ended** in one
window of `CLB_UNBIND_AUDIT_SECONDS` (the timer's interval, 60 s), the window ending `SETTLE_SECONDS`
before the last multiple of the interval at or before the run's start. The timer fires on those
multiples, so consecutive runs audit adjacent windows, each activity's end falls in exactly one,
and a run that starts late (a cold start, seconds) still picks its own. A timer event delivered twice
reports its window twice; a run that fails to read reports `audit_failed`, and that window's
findings are not seen again.

Cost: one `DescribeAutoScalingActivities` per 5 groups (the activities that started within
`LOOKBACK_SECONDS` and ended by the window's end, 100 a page, at most `MAX_PAGES` pages), plus the
groups' `DescribeLifecycleHooks` only in a run that has a candidate finding (and not at all when the
run already read them).
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Sequence

from .cloud.autoscaling import VALUES_PER_FILTER
from .cloud.errors import CloudError
from .cloud.session import CloudSession, chunks
from .config import Settings
from .log import decision
from .metrics import parse_time
from .own_hooks import hooks_of, is_ours

SETTLE_SECONDS = 60
"""How long after an activity's end its record is taken to be complete (chosen: one timer interval)."""
LOOKBACK_SECONDS = 7200 + 600
"""An activity ending now may have started this long ago: the longest `HeartbeatTimeout` (7200 s,
autoscaling `CreateLifecycleHook`) plus the time to terminate."""
PAGE = 100
MAX_PAGES = 3

MEANINGS: Dict[str, str] = {
    "HEARTBEAT_TIMEOUT": (
        "nobody completed this hook within its HeartbeatTimeout: Auto Scaling applied its DefaultResult and "
        "the instance went on, possibly still bound. Look for this instance's unbound line; if none, the "
        "timer did not run or could not finish in time (make check)"
    ),
    "NOTIFICATION_FAILURE": (
        "Auto Scaling could not write the notification to the queue, so no run saw it: the likely cause is "
        "the queue (deleted, renamed, full) or the hook's NotificationTarget; run make check. The sweep "
        "still unbinds instances it finds waiting"
    ),
    "ANOTHER_ACTION_ABANDON": (
        "another lifecycle hook of this instance ended with ABANDON, which ended ours before the function "
        "completed it; the other hook's owner knows why"
    ),
}


@dataclass
class Finding:
    instance_id: str
    activity_id: str
    group_id: str
    hook_id: str
    reason: str
    result: str
    ended: str


@dataclass
class AuditReport:
    window: List[str] = field(default_factory=list)
    activities: int = 0
    findings: List[Finding] = field(default_factory=list)
    error: str = ""
    truncated: bool = False


def window(started: float, interval: int) -> tuple:
    """The [start, end) Unix seconds of the activities' ends that a run started at `started` audits."""
    mark = math.floor(started / interval) * interval
    return mark - SETTLE_SECONDS - interval, mark - SETTLE_SECONDS


def audit(settings: Settings, session: CloudSession, started: Optional[float] = None) -> AuditReport:
    report = AuditReport()
    if not settings.groups or settings.audit_seconds <= 0:
        return report
    begin, end = window(time.time() if started is None else started, settings.audit_seconds)
    report.window = [_utc(begin), _utc(end)]
    try:
        activities = _activities(session, sorted(settings.groups), begin - LOOKBACK_SECONDS, end, report)
        candidates = _candidates(activities, begin, end)
        ours = _our_hooks(session, settings, candidates) if candidates else set()
    except CloudError as exc:
        report.error = exc.code
        decision("audit_failed", level=logging.ERROR, groups=sorted(settings.groups), error_code=exc.code,
                 error_message=exc.failure.message, window=report.window)
        return report
    report.activities = len(activities)
    report.findings = [c for c in candidates if c.hook_id in ours]
    for f in report.findings:
        decision("audit", level=logging.WARNING, instance_id=f.instance_id, activity_id=f.activity_id,
                 group_id=f.group_id, lifecycle_hook_id=f.hook_id, result_reason=f.reason, lifecycle_result=f.result,
                 activity_ended=f.ended, meaning=MEANINGS[f.reason])
    decision("audited", groups=sorted(settings.groups), window=report.window, activities=report.activities,
             findings=len(report.findings), truncated=report.truncated or None)
    return report


def _activities(session: CloudSession, groups: Sequence[str], since: float, until: float, report: AuditReport) -> List[Dict[str, Any]]:
    out: List[Dict[str, Any]] = []
    for part in chunks(list(groups), VALUES_PER_FILTER):
        for number in range(MAX_PAGES):
            reply = session.call("as", "DescribeAutoScalingActivities", {
                "Filters": [{"Name": "auto-scaling-group-id", "Values": part}],
                "StartTime": _utc(since), "EndTime": _utc(until), "Limit": PAGE, "Offset": number * PAGE,
            })
            items = [a for a in reply.get("ActivitySet") or [] if isinstance(a, dict)]
            out.extend(items)
            if len(items) < PAGE or (number + 1) * PAGE >= int(reply.get("TotalCount") or 0):
                break
        else:
            report.truncated = True
    return out


def _candidates(activities: Sequence[Dict[str, Any]], begin: float, end: float) -> List[Finding]:
    found: List[Finding] = []
    for a in activities:
        ended = parse_time(a.get("EndTime"))
        if ended is None or not begin <= ended < end:
            continue
        for r in a.get("LifecycleActionResultSet") or []:
            if isinstance(r, dict) and r.get("ResultReason") in MEANINGS:
                found.append(Finding(str(r.get("InstanceId") or ""), str(a.get("ActivityId") or ""),
                                     str(a.get("AutoScalingGroupId") or ""), str(r.get("LifecycleHookId") or ""),
                                     str(r["ResultReason"]), str(r.get("LifecycleActionResult") or ""), str(a["EndTime"])))
    return found


def _our_hooks(session: CloudSession, settings: Settings, candidates: Sequence[Finding]) -> set:
    """Hooks of the candidates' groups that are ours (own_hooks.is_ours); read once a run, shared with the sweep."""
    hooks = hooks_of(session, sorted({c.group_id for c in candidates if c.group_id}))
    return {h.hook_id for group in hooks.values() for h in group if is_ours(h, settings)}


def _utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
