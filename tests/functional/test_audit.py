"""The hook audit: how Auto Scaling ended our hooks, reported once (issue 20 point 2)."""
from __future__ import annotations

import json
import math
import os
import time
from typing import Any, Callable, Dict, List

import pytest

from bench.estates import DEAD_LETTER_QUEUE, LIFECYCLE_QUEUE, Shape, fleet_estate, group_id, leaving_id
from tests.conftest import load_event, point_function_at

TIMER = load_event("timer.json")
OTHER_HOOK = "ash-other001"


@pytest.fixture
def fleet(make_emulator: Callable[..., Any], function_env: Dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """One watched group whose instances wait on two terminating hooks: ours (notifying our queue) and
    another team's (notifying theirs)."""
    estate = fleet_estate(Shape(leaving=10, load_balancers=2, bound_on=1), 30, 1)
    estate["scalingGroups"][0]["lifecycleHooks"].append(
        {"lifecycleHookId": OTHER_HOOK, "lifecycleHookName": "theirs", "lifecycleTransition": "INSTANCE_TERMINATING",
         "defaultResult": "CONTINUE", "heartbeatTimeout": 300,
         "notificationTarget": {"targetType": "TDMQ_CMQ_QUEUE", "queueName": DEAD_LETTER_QUEUE}})
    return point_function_at(make_emulator(estate), monkeypatch)


ENV = {"CLB_UNBIND_QUEUE": LIFECYCLE_QUEUE, "CLB_UNBIND_DEAD_LETTER_QUEUE": DEAD_LETTER_QUEUE,
       "CLB_UNBIND_POLL_SECONDS": "0", "CLB_UNBIND_GROUPS": group_id(0)}


def minute_mark() -> float:
    """The last whole minute, away from the next one: the run that follows starts in the same minute."""
    now = time.time()
    if now % 60 > 55:
        time.sleep(60 - now % 60 + 0.1)
        now = time.time()
    return math.floor(now / 60) * 60


def lines(out: str, name: str) -> List[Dict[str, Any]]:
    parsed = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [p for p in parsed if p.get("decision") == name]


def test_each_ending_on_our_hook_becomes_one_audit_line(fleet: Any, invoke: Any, capsys: Any) -> None:
    timed_out, unnotified, abandoned = leaving_id(0), leaving_id(1), leaving_id(2)
    for iid in (timed_out, unnotified, abandoned):
        fleet.scale_in(group_id(0), [iid], publish=False)
    ended = minute_mark() - 90  # inside the window of a run started this minute (audit.window)
    fleet.end_wait(timed_out, "HEARTBEAT_TIMEOUT", ended_at=ended)
    fleet.end_wait(unnotified, "NOTIFICATION_FAILURE", ended_at=ended)
    fleet.end_wait(abandoned, "ANOTHER_ACTION_ABANDON", ended_at=ended)
    invoke(TIMER, **ENV)
    out = capsys.readouterr().out
    found = {(f["instance_id"], f["result_reason"]): f for f in lines(out, "audit")}
    # Each instance waited on two hooks: only our hook's ending is ours to report.
    assert set(found) == {(timed_out, "HEARTBEAT_TIMEOUT"), (unnotified, "NOTIFICATION_FAILURE"),
                          (abandoned, "ANOTHER_ACTION_ABANDON")}
    assert {f["lifecycle_hook_id"] for f in found.values()} == {"ash-bench001"}
    assert all(f["activity_id"].startswith("asa-") and f["level"] == "WARNING" for f in found.values())
    failure = found[(unnotified, "NOTIFICATION_FAILURE")]["meaning"]
    assert "queue" in failure and "make check" in failure
    assert lines(out, "metrics")[0]["audit_findings"] == 3


def test_a_finding_is_reported_by_one_run_only(fleet: Any, function_env: Dict[str, str]) -> None:
    """Runs one timer interval apart, before and after the activity ended: exactly one reports it."""
    import io
    import sys

    from clb_unbind import log
    from clb_unbind.audit import audit
    from clb_unbind.cloud.deadline import Deadline
    from clb_unbind.cloud.session import CloudSession
    from clb_unbind.config import Settings

    settings = Settings.from_env({**os.environ, **ENV})
    fleet.scale_in(group_id(0), [leaving_id(3)], publish=False)
    mark = minute_mark()
    fleet.end_wait(leaving_id(3), "HEARTBEAT_TIMEOUT", ended_at=mark - 37)
    stream = io.StringIO()
    log.configure(stream=stream)
    reported = []
    for minutes in range(-2, 4):
        session = CloudSession(settings, Deadline.from_context({"time_limit_in_ms": 30000}, 1.0))
        started = mark + 60 * minutes + 1.5  # a run starts a moment after its minute mark
        reported.append(len(audit(settings, session, started).findings))
    log.configure(stream=sys.stdout)
    assert reported == [0, 0, 0, 1, 0, 0]  # the run one interval after the end, and no other


def test_an_idle_audit_costs_one_read(fleet: Any, function_env: Dict[str, str]) -> None:
    from clb_unbind.audit import audit
    from clb_unbind.cloud.deadline import Deadline
    from clb_unbind.cloud.session import CloudSession
    from clb_unbind.config import Settings

    settings = Settings.from_env({**os.environ, **ENV})
    session = CloudSession(settings, Deadline.from_context({"time_limit_in_ms": 30000}, 1.0))
    report = audit(settings, session)
    assert report.findings == [] and session.calls.counts == {"as:DescribeAutoScalingActivities": 1}
    off = Settings.from_env({**os.environ, **ENV, "CLB_UNBIND_AUDIT_SECONDS": "0"})
    quiet = CloudSession(off, Deadline.from_context({"time_limit_in_ms": 30000}, 1.0))
    audit(off, quiet)
    assert quiet.calls.counts == {}
