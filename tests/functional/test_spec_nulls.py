"""Null mode (knob `spec_nulls`): every reply member that Tencent's api.json marks `value_allowed_null`
comes back null, as the spec allows the real API to answer. The core, queue and sweep scenarios must
end correct: no crash, nothing lost, nothing wrongly unbound or completed. Where a null leaves the
work unknowable (the targets of a listener, an edge instance's addresses) the outcome is a retried
failure (`ReplyMemberNull`); once the API answers in full, the next run finishes the work.

Before the reading code was fixed, the core scenario reported both instances `not_bound`/`unbound`
with nothing removed and completed the lifecycle action while the instance was still bound.
"""
from __future__ import annotations

import json
import time
from typing import Any, Dict, List

import pytest

from bench.estates import DEAD_LETTER_QUEUE, LIFECYCLE_QUEUE, Shape, fleet_estate, group_id, leaving_id, staying_id
from tests.conftest import load_event, point_function_at
from tests.estates import TOKEN_LEAVING_1, cmq_event, lifecycle_message

TIMER = load_event("timer.json")
EVERYONE = ["ins-web00001", "ins-web00002", "ins-web00003", "ins-web00004", "ein-edge0001", "ein-edge0002"]
NULL_CODE = "ReplyMemberNull"


def snapshot(emulator: Any, ids: List[str]) -> Dict[str, Any]:
    return {i: sorted(json.dumps(b, sort_keys=True) for b in emulator.bindings(i)) for i in ids}


def nulled(emulator: Any) -> int:
    from emulator import spec

    return sum(len(o.nulled) for o in spec.JOURNAL)


@pytest.mark.parametrize("inner", [False, True], ids=["outer", "inner"])
def test_core_path_in_null_mode_retries_and_changes_nothing(emulator: Any, invoke: Any, inner: bool) -> None:
    before = snapshot(emulator, EVERYONE)
    emulator.set_knobs(spec_nulls=True, spec_nulls_inner=inner)
    answer = invoke(cmq_event(lifecycle_message("ins-web00001", TOKEN_LEAVING_1)), CLB_UNBIND_RETRY_QUEUE="clb-unbind-retry",
                    CLB_UNBIND_DEAD_LETTER_QUEUE="clb-unbind-dead-letter")
    direct = invoke({"instanceIds": ["ein-edge0001"]}, CLB_UNBIND_RETRY_QUEUE="clb-unbind-retry",
                    CLB_UNBIND_DEAD_LETTER_QUEUE="clb-unbind-dead-letter")
    assert nulled(emulator) > 0
    assert snapshot(emulator, EVERYONE) == before  # nothing unbound on a guess
    assert emulator.count("CompleteLifecycleAction") == 0 and emulator.count("BatchDeregisterTargets") == 0
    assert [r["status"] for r in answer["records"] + direct["records"]] == ["retry_queued", "retry_queued"]
    assert emulator.messages("clb-unbind-dead-letter") == []
    envelopes = [json.loads(m["body"]) for m in emulator.messages("clb-unbind-retry")]
    assert {n["instanceId"] for e in envelopes for n in e["notices"]} == {"ins-web00001", "ein-edge0001"}
    assert all(NULL_CODE in json.dumps(e["lastErrors"]) for e in envelopes)

    emulator.set_knobs(spec_nulls=False)  # the API answers in full again: the same work now finishes
    invoke(cmq_event(lifecycle_message("ins-web00001", TOKEN_LEAVING_1)))
    invoke({"instanceIds": ["ein-edge0001"]})
    assert emulator.bindings("ins-web00001") == [] and emulator.bindings("ein-edge0001") == []
    others = [i for i in EVERYONE if i not in ("ins-web00001", "ein-edge0001")]
    assert snapshot(emulator, others) == {i: before[i] for i in others}


def _fleet(make_emulator: Any, monkeypatch: Any, groups: int = 1) -> Any:
    return point_function_at(make_emulator(fleet_estate(Shape(leaving=12, load_balancers=5, bound_on=4), 2, groups)), monkeypatch)


def _timer(invoke: Any, **extra: str) -> Dict[str, Any]:
    env = {"CLB_UNBIND_QUEUE": LIFECYCLE_QUEUE, "CLB_UNBIND_DEAD_LETTER_QUEUE": DEAD_LETTER_QUEUE,
           "CLB_UNBIND_POLL_SECONDS": "0", "CLB_UNBIND_RETRY_BASE_SECONDS": "1", **extra}
    return invoke(TIMER, **env)


def wait_until_visible(emulator: Any, limit: float = 20.0) -> None:
    """The retries wait out their delay (CLB_UNBIND_RETRY_BASE_SECONDS=1) before the next run takes them."""
    end = time.monotonic() + limit
    while emulator.queue_state(LIFECYCLE_QUEUE)["delayed"] and time.monotonic() < end:
        time.sleep(0.2)


def _results(emulator: Any) -> Dict[str, List[Any]]:
    out: Dict[str, List[Any]] = {}
    for r in emulator.lifecycle_results():
        out.setdefault(r["instanceId"], []).append(r["result"])
    return out


def test_queue_pass_in_null_mode_loses_no_notification(make_emulator: Any, function_env: Any, monkeypatch: Any,
                                                       invoke: Any) -> None:
    fleet = _fleet(make_emulator, monkeypatch)
    leaving = [leaving_id(i) for i in range(6)]
    stayers = snapshot(fleet, [staying_id(i) for i in range(8)])
    before = snapshot(fleet, leaving)
    fleet.scale_in(group_id(0), leaving)
    fleet.set_knobs(spec_nulls=True)
    _timer(invoke)
    assert snapshot(fleet, leaving) == before and fleet.count("CompleteLifecycleAction") == 0
    envelopes = [json.loads(m["body"]) for m in fleet.messages(LIFECYCLE_QUEUE)]
    assert {n["instanceId"] for e in envelopes for n in e["notices"]} == set(leaving)  # each waits, retried
    assert all(NULL_CODE in json.dumps(e["lastErrors"]) for e in envelopes)
    assert fleet.messages(DEAD_LETTER_QUEUE) == []

    fleet.set_knobs(spec_nulls=False)
    wait_until_visible(fleet)
    _timer(invoke)
    assert all(fleet.bindings(i) == [] for i in leaving)
    assert _results(fleet) == {i: ["CONTINUE"] for i in leaving}
    assert snapshot(fleet, [staying_id(i) for i in range(8)]) == stayers


def test_sweep_in_null_mode_completes_nothing_it_could_not_read(make_emulator: Any, function_env: Any,
                                                                monkeypatch: Any, invoke: Any) -> None:
    fleet = _fleet(make_emulator, monkeypatch, groups=3)
    groups = ",".join(group_id(g) for g in range(3))
    leaving = [leaving_id(i) for i in range(6)]
    before = snapshot(fleet, leaving)
    by_group: Dict[str, List[str]] = {}
    for member in fleet.auto_scaling_instances():
        if member["instanceId"] in leaving:
            by_group.setdefault(member["autoScalingGroupId"], []).append(member["instanceId"])
    for group, members in by_group.items():
        fleet.scale_in(group, members, publish=False)  # lost notifications: only the sweep finds them
    fleet.set_knobs(spec_nulls=True)
    _timer(invoke, CLB_UNBIND_GROUPS=groups)
    assert snapshot(fleet, leaving) == before and fleet.count("CompleteLifecycleAction") == 0
    assert fleet.messages(DEAD_LETTER_QUEUE) == []

    fleet.set_knobs(spec_nulls=False)
    answer = _timer(invoke, CLB_UNBIND_GROUPS=groups)
    assert all(fleet.bindings(i) == [] for i in leaving)
    assert _results(fleet) == {i: ["CONTINUE"] for i in leaving}
    assert answer["sweep"] is not None


NULLABLE_READS = ["cvm:DescribeInstances", "clb:DescribeLBListeners", "clb:DescribeTaskStatus", "ecm:DescribeInstances",
                  "ecm:DescribeLoadBalancers", "ecm:DescribeTargets", "ecm:BatchDeregisterTargets"]


@pytest.mark.parametrize("inner", [False, True], ids=["outer", "inner"])
@pytest.mark.parametrize("action", NULLABLE_READS)
def test_nulls_in_one_action_alone_end_correct(emulator: Any, invoke: Any, action: str, inner: bool) -> None:
    """Null in one action at a time, so the reading code meets each action's nulls, not only the first
    one on the path, on the outermost nullable members or the innermost: every instance ends unbound (and is then truly unbound) or retried, nothing else moves."""
    leaving = ["ins-web00001", "ein-edge0001"]
    others = [i for i in EVERYONE if i not in leaving]
    before = snapshot(emulator, others)
    emulator.set_knobs(spec_nulls=True, spec_null_actions=[action], spec_nulls_inner=inner)
    answer = invoke({"instanceIds": leaving}, CLB_UNBIND_RETRY_QUEUE="clb-unbind-retry",
                    CLB_UNBIND_DEAD_LETTER_QUEUE="clb-unbind-dead-letter", CLB_UNBIND_DRAIN_SECONDS="0.05")
    outcomes = {o["instanceId"]: o["status"] for r in answer["records"] for o in r["instances"]}
    assert set(outcomes) == set(leaving) and set(outcomes.values()) <= {"unbound", "incomplete"}, outcomes
    assert all(emulator.bindings(i) == [] for i, status in outcomes.items() if status == "unbound")
    assert snapshot(emulator, others) == before and emulator.messages("clb-unbind-dead-letter") == []

    emulator.set_knobs(spec_nulls=False, spec_null_actions=[])
    invoke({"instanceIds": leaving}, CLB_UNBIND_DRAIN_SECONDS="0.05")
    assert all(emulator.bindings(i) == [] for i in leaving) and snapshot(emulator, others) == before
