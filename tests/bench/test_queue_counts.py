"""The deterministic part of the queue workloads (f)-(i) of `make bench`, on small versions: the exact
calls per action of timer runs, against the bounds of bench/queue_workloads.py. No wall-clock assertion.

The emulator runs in this process with tasks that take no time and its rate limit off (the function's
own limiter still paces it), so that no refused call makes a count depend on timing; every receive
has a long poll of 0 (an empty receive answers at once: the poll changes the time, not the calls).
"""
from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import replace
from typing import Any, Callable, Dict, List

import pytest

from bench.emulator_process import EmulatorKnobs, check_outcome
from bench.estates import DEAD_LETTER_QUEUE, LIFECYCLE_QUEUE, Shape, fleet_estate, group_id, leaving_id
from bench.queue_workloads import (QUEUE_WORKLOADS, TIMER_EVENT, QueueWorkload, gb_seconds_a_day, idle_sweep_bound,
                                   queue_call_bound, queue_wall_bound, receive_bound, reconcile_bound, sweep_reads)


def counts(emu: Any) -> Dict[str, int]:
    return dict(Counter(f"{c.service}:{c.action}" for c in emu.calls))


@pytest.fixture
def fleet(make_emulator: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """Start the emulator on a workload's fleet estate and point the function's environment at it."""

    def start(w: QueueWorkload) -> Any:
        emu = make_emulator(fleet_estate(w.shape, groups=w.groups), task_seconds=0.0, rate_limit_per_second=0)
        secret_id, secret_key, _ = emu.credentials
        for name in [k for k in os.environ if k.startswith(("CLB_UNBIND_", "TENCENTCLOUD_"))]:
            monkeypatch.delenv(name, raising=False)
        env = {"TENCENTCLOUD_SECRETID": secret_id, "TENCENTCLOUD_SECRETKEY": secret_key, "TENCENTCLOUD_REGION": "ap-guangzhou",
               "CLB_UNBIND_ENDPOINT": emu.endpoint, "CLB_UNBIND_TASK_POLL_SECONDS": "0.05", **w.env(),
               "CLB_UNBIND_POLL_SECONDS": "0"}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return emu

    return start


def timer_run() -> Dict[str, Any]:
    from index import main_handler

    return main_handler(dict(TIMER_EVENT), {"request_id": "bench-queue", "time_limit_in_ms": 60000})


def scale_in(emu: Any, w: QueueWorkload) -> None:
    by_group: Dict[str, List[str]] = {}
    for n, iid in enumerate(w.leaving_ids()):
        by_group.setdefault(group_id(n % w.groups), []).append(iid)
    for group, ids in by_group.items():
        emu.scale_in(group, ids, publish=w.publish)


def small(key: str, **changes: Any) -> QueueWorkload:
    return replace(QUEUE_WORKLOADS[key], **changes)


def test_queue_workload_costs_one_write_per_load_balancer(fleet: Callable[..., Any]) -> None:
    w = small("f", shape=Shape(leaving=20, load_balancers=5, bound_on=4), leaving=20)
    emu = fleet(w)
    before = emu.state()
    scale_in(emu, w)

    answer = timer_run()

    assert answer["queue"]["received"] == 20 and answer["queue"]["deleted"] == 20
    assert check_outcome(emu.state(), w.leaving_ids(), before) == []
    assert counts(emu)["clb:BatchDeregisterTargets"] <= 2 * w.shape.bound_on
    assert counts(emu) == queue_call_bound(w.shape, 20)
    assert emu.queue_state(LIFECYCLE_QUEUE) == {"visible": 0, "inFlight": 0, "delayed": 0}


def test_idle_queue_costs_one_receive(fleet: Callable[..., Any]) -> None:
    emu = fleet(QUEUE_WORKLOADS["g"])

    answer = timer_run()

    assert answer["queue"]["stopped"] == "queue_empty"
    assert counts(emu) == {"cmq:BatchReceiveMessage": 1}


@pytest.mark.parametrize("groups", [3, 6])
def test_idle_sweep_reads_one_page_per_hundred_members_per_five_groups(fleet: Callable[..., Any], groups: int) -> None:
    w = small("h", groups=groups)
    emu = fleet(w)
    before = emu.state()

    answer = timer_run()

    assert answer["sweep"]["watched"] == w.members() == 300 and answer["sweep"]["reconciled"] == []
    assert counts(emu) == idle_sweep_bound(w.members_per_group())
    assert check_outcome(emu.state(), [], before) == []


def test_lost_notification_is_found_by_the_next_run(fleet: Callable[..., Any]) -> None:
    w = QUEUE_WORKLOADS["i"]
    emu = fleet(w)
    before = emu.state()
    timer_run()
    assert counts(emu) == idle_sweep_bound(w.members_per_group())
    emu.clear_calls()
    scale_in(emu, w)
    assert emu.queue_state(LIFECYCLE_QUEUE)["visible"] == 0

    answer = timer_run()

    assert sorted(answer["sweep"]["reconciled"]) == w.leaving_ids()
    assert check_outcome(emu.state(), w.leaving_ids(), before) == []
    assert counts(emu) == reconcile_bound(w.shape, w.members_per_group(), w.leaving)


def test_bounds_of_the_full_queue_workloads() -> None:
    f, h, i = (QUEUE_WORKLOADS[k] for k in "fhi")
    assert receive_bound(40) == 4 and receive_bound(0) == 1 and receive_bound(16) == 2
    assert queue_call_bound(f.shape, 40) == {
        "cvm:DescribeInstances": 1, "clb:DescribeLBListeners": 2, "clb:BatchDeregisterTargets": 4,
        "clb:DescribeTargetGroupInstances": 1, "clb:DescribeClassicalLBByInstanceId": 1, "vpc:DescribeNetworkInterfaces": 8,
        "as:DescribeAutoScalingInstances": 1, "as:DescribeLifecycleHooks": 1, "as:CompleteLifecycleAction": 40,
        "cmq:BatchReceiveMessage": 4, "cmq:BatchDeleteMessage": 3,
    }
    assert h.members_per_group() == [100, 100, 100]
    assert idle_sweep_bound(h.members_per_group()) == {"as:DescribeAutoScalingInstances": 3, "cmq:BatchReceiveMessage": 1}
    assert sweep_reads([50] * 6) == math.ceil(250 / 100) + 1 and sweep_reads([0]) == 1
    assert reconcile_bound(i.shape, i.members_per_group(), 4) == {
        "cvm:DescribeInstances": 1, "clb:DescribeLBListeners": 2, "clb:BatchDeregisterTargets": 4,
        "clb:DescribeTargetGroupInstances": 1, "clb:DescribeClassicalLBByInstanceId": 1, "vpc:DescribeNetworkInterfaces": 1,
        "as:DescribeAutoScalingInstances": 1, "as:DescribeLifecycleHooks": 1, "as:CompleteLifecycleAction": 4,
        "cmq:BatchReceiveMessage": 1,
    }
    assert queue_wall_bound(40, EmulatorKnobs(0.5, 0.02, 20)) == pytest.approx(10 * 0.02 + 1)
    assert queue_wall_bound(40, EmulatorKnobs(0.5, 0.02, 0)) == pytest.approx(10 * 0.02)
    assert gb_seconds_a_day(3.0) == pytest.approx(1440 * 3.0 * 0.125)
    assert f.env()["CLB_UNBIND_POLL_SECONDS"] == "3" and "CLB_UNBIND_GROUPS" not in f.env()
    assert h.env()["CLB_UNBIND_GROUPS"] == ",".join(group_id(g) for g in range(3)) and h.env()["CLB_UNBIND_DEAD_LETTER_QUEUE"] == DEAD_LETTER_QUEUE
    assert leaving_id(0) in i.leaving_ids() and not i.publish
