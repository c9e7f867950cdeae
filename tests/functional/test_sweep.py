"""Every timer run also asks Auto Scaling who waits on a terminating hook (issue 10)."""
from __future__ import annotations

from typing import Any, Callable, Dict, List

import pytest

from bench.estates import DEAD_LETTER_QUEUE, LIFECYCLE_QUEUE, Shape, fleet_estate, group_id, leaving_id, staying_id
from tests.conftest import load_event, point_function_at

TIMER = load_event("timer.json")
GROUPS = ",".join(group_id(g) for g in range(3))


def start(make_emulator: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, estate: Dict[str, Any]) -> Any:
    return point_function_at(make_emulator(estate), monkeypatch)


@pytest.fixture
def fleet(make_emulator: Callable[..., Any], function_env: Dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """The 40-instance fleet spread over 3 scaling groups, each with its own hook notifying our queue."""
    return start(make_emulator, monkeypatch, fleet_estate(Shape(leaving=40, load_balancers=5, bound_on=4), groups=3))


def timer(invoke: Any, timeout_ms: int = 30000, **extra: str) -> Dict[str, Any]:
    env = {"CLB_UNBIND_QUEUE": LIFECYCLE_QUEUE, "CLB_UNBIND_DEAD_LETTER_QUEUE": DEAD_LETTER_QUEUE,
           "CLB_UNBIND_POLL_SECONDS": "0", "CLB_UNBIND_GROUPS": GROUPS, **extra}
    return invoke(TIMER, timeout_ms=timeout_ms, **env)


def results(emulator: Any) -> Dict[str, List[Any]]:
    out: Dict[str, List[Any]] = {}
    for r in emulator.lifecycle_results():
        out.setdefault(r["instanceId"], []).append(r["result"])
    return out


def scale_in(emulator: Any, ids: List[str], publish: bool) -> None:
    by_group: Dict[str, List[str]] = {}
    for member in emulator.auto_scaling_instances():
        if member["instanceId"] in ids:
            by_group.setdefault(member["autoScalingGroupId"], []).append(member["instanceId"])
    for group, members in by_group.items():
        emulator.scale_in(group, members, publish=publish)


def test_lost_notifications_are_found_and_completed_by_the_next_run(fleet: Any, invoke: Any) -> None:
    leaving = [leaving_id(i) for i in range(12)]
    scale_in(fleet, leaving, publish=False)
    assert fleet.queue_state(LIFECYCLE_QUEUE)["visible"] == 0
    answer = timer(invoke)
    assert all(fleet.bindings(i) == [] for i in leaving)
    assert results(fleet) == {i: ["CONTINUE"] for i in leaving}
    assert all(r["completions"] == 1 for r in fleet.lifecycle_results())
    assert fleet.count("BatchDeregisterTargets") == 4  # one per load balancer for all twelve
    assert sorted(answer["sweep"]["reconciled"]) == sorted(leaving)
    assert fleet.count("DescribeLifecycleHooks") == 1


def test_instances_in_the_queue_and_the_sweep_are_handled_once(fleet: Any, invoke: Any) -> None:
    leaving = [leaving_id(i) for i in range(6)]
    scale_in(fleet, leaving, publish=True)
    answer = timer(invoke)
    assert answer["sweep"]["reconciled"] == [] and answer["queue"]["received"] == 6
    assert fleet.count("BatchDeregisterTargets") == 4 and fleet.count("CompleteLifecycleAction") == 6
    assert results(fleet) == {i: ["CONTINUE"] for i in leaving}
    assert fleet.count("DescribeLifecycleHooks") == 1  # the queue pass's hook check; the sweep has nobody left


def test_an_idle_sweep_costs_one_read_per_hundred_members(fleet: Any, invoke: Any) -> None:
    answer = timer(invoke)
    members = len(fleet.auto_scaling_instances())
    assert answer["sweep"]["watched"] == members
    assert fleet.count("DescribeAutoScalingInstances") == -(-members // 100)
    # and the hook audit's one read of recent activities (audit.py)
    assert {c.action for c in fleet.calls} == {"BatchReceiveMessage", "DescribeAutoScalingInstances", "DescribeAutoScalingActivities"}
    assert fleet.count("DescribeAutoScalingActivities") == 1


def test_only_our_own_hook_of_a_watched_group_is_ever_completed(make_emulator: Any, function_env: Any, monkeypatch: Any, invoke: Any) -> None:
    estate = fleet_estate(Shape(leaving=40, load_balancers=5, bound_on=4), groups=4)
    other_team = estate["scalingGroups"][1]["lifecycleHooks"][0]
    other_team["notificationTarget"] = {"targetType": "TDMQ_CMQ_QUEUE", "queueName": "another-teams-queue"}
    estate["queues"].append("another-teams-queue")
    emu = start(make_emulator, monkeypatch, estate)
    serving = leaving_id(0)  # group 0, never scaled in
    ours, theirs, unwatched = leaving_id(4), leaving_id(5), leaving_id(7)  # groups 0, 1 and 3
    before = {i: emu.bindings(i) for i in (serving, unwatched, staying_id(0))}
    scale_in(emu, [ours, theirs, unwatched], publish=False)
    answer = timer(invoke)
    assert results(emu) == {ours: ["CONTINUE"], theirs: [None], unwatched: [None]}
    assert emu.bindings(ours) == [] and emu.bindings(theirs) == []  # unbound, but their hook left to them
    assert {i: emu.bindings(i) for i in before} == before
    assert answer["sweep"]["noOwnHook"] == [group_id(1)]
    (call,) = [c.params for c in emu.calls if c.action == "CompleteLifecycleAction"]
    assert call == {"LifecycleHookId": "ash-bench001", "InstanceId": ours, "LifecycleActionResult": "CONTINUE"}


def test_auto_scaling_failing_leaves_the_queue_pass_finished(fleet: Any, invoke: Any) -> None:
    scale_in(fleet, [leaving_id(0)], publish=True)
    scale_in(fleet, [leaving_id(1)], publish=False)
    fleet.set_knobs(error_rate=1.0, fault_actions=["DescribeLifecycleHooks"])
    answer = timer(invoke, timeout_ms=5000, CLB_UNBIND_SAFETY_MARGIN_SECONDS="1")
    # Unbound; whether the hook is ours is unknown, so its completion waits for a retry, never a guess.
    assert fleet.bindings(leaving_id(0)) == [] and results(fleet)[leaving_id(0)] == [None]
    (record,) = [r for r in answer["records"] if r["source"] == "queue"]
    assert record["status"] == "retry_queued" and answer["queue"]["deleted"] == 1
    assert answer["sweep"]["error"] and results(fleet)[leaving_id(1)] == [None]


def test_dry_run_sweep_reads_and_logs_only(fleet: Any, invoke: Any) -> None:
    scale_in(fleet, [leaving_id(0)], publish=False)
    before = fleet.bindings(leaving_id(0))
    answer = timer(invoke, CLB_UNBIND_DRY_RUN="true")
    assert answer["sweep"]["reconciled"] == [leaving_id(0)]
    assert fleet.bindings(leaving_id(0)) == before and results(fleet) == {leaving_id(0): [None]}
    assert not {c.action for c in fleet.calls} & {"BatchDeregisterTargets", "CompleteLifecycleAction", "SendCmqMsg"}


def test_unset_groups_means_no_sweep(fleet: Any, invoke: Any) -> None:
    scale_in(fleet, [leaving_id(0)], publish=False)
    answer = invoke(TIMER, CLB_UNBIND_QUEUE=LIFECYCLE_QUEUE, CLB_UNBIND_POLL_SECONDS="0")
    assert "sweep" not in answer and fleet.count("DescribeAutoScalingInstances") == 0
    assert results(fleet) == {leaving_id(0): [None]} and answer["queue"]["received"] == 0


def test_the_sweep_leaves_load_balancers_outside_the_allow_list_alone(fleet: Any, invoke: Any) -> None:
    scale_in(fleet, [leaving_id(0)], publish=False)
    answer = timer(invoke, CLB_UNBIND_ALLOWED_LOAD_BALANCERS="lb-bn000000,lb-bn000001")
    left = {b["loadBalancerId"] for b in fleet.bindings(leaving_id(0))}
    assert left == {"lb-bn000002", "lb-bn000003"}
    (record,) = [r for r in answer["records"] if r["source"] == "reconcile"]
    assert {b["loadBalancerId"] for b in record["instances"][0]["leftAlone"]} == left


def test_the_sweep_skips_what_the_queue_pass_brought_even_when_it_still_waits(fleet: Any, invoke: Any) -> None:
    """A dry run leaves the queued instances waiting on their hook: the sweep must still not take them again."""
    leaving = [leaving_id(i) for i in range(3)]
    scale_in(fleet, leaving, publish=True)
    answer = timer(invoke, CLB_UNBIND_DRY_RUN="true")
    assert answer["queue"]["received"] == 3 and answer["sweep"]["waiting"] == 3
    assert answer["sweep"]["reconciled"] == [] and fleet.count("DescribeLifecycleHooks") == 0


def test_every_own_hook_a_member_waits_on_is_completed(make_emulator: Any, function_env: Any, monkeypatch: Any, invoke: Any) -> None:
    """Two hooks of one group notify our queue and both notifications are lost (found by the chaos suite's
    queue mode, seed 60): the sweep completed only the lowest hook id, and the member waited its heartbeat."""
    estate = fleet_estate(Shape(leaving=40, load_balancers=5, bound_on=4), groups=1)
    hooks = estate["scalingGroups"][0]["lifecycleHooks"]
    hooks.append({**hooks[0], "lifecycleHookId": "ash-second01", "lifecycleHookName": "second"})
    emu = start(make_emulator, monkeypatch, estate)
    leaving = [leaving_id(0), leaving_id(1)]
    scale_in(emu, leaving, publish=False)
    timer(invoke, CLB_UNBIND_GROUPS=group_id(0))
    assert results(emu) == {i: ["CONTINUE", "CONTINUE"] for i in leaving}
    assert {m["instanceId"]: m["lifeCycleState"] for m in emu.auto_scaling_instances() if m["instanceId"] in leaving} \
        == {i: "TERMINATING" for i in leaving}
    assert all(emu.bindings(i) == [] for i in leaving)
