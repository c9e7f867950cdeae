"""Issue 19's bound on reads: a drain of 40 instances, each bound on the same 4 load balancers (160
bindings), costs ceil(160 / 10) = 16 GetMonitorData calls a look (10 dimension sets a request,
docs/drain.md), whatever the number of load balancers, not one per binding."""
from __future__ import annotations

from typing import Any, Callable, Dict

import pytest

from bench.estates import LIFECYCLE_QUEUE, Shape, fleet_estate, group_id, leaving_id
from tests.conftest import load_event

from .test_sweep import scale_in, start


def test_forty_instances_on_four_load_balancers_cost_sixteen_reads_a_look(
        make_emulator: Callable[..., Any], function_env: Dict[str, str], monkeypatch: pytest.MonkeyPatch, invoke: Any) -> None:
    emu = start(make_emulator, monkeypatch, fleet_estate(Shape(leaving=40, load_balancers=4, bound_on=4, l7_listeners=0)))
    emu.set_knobs(monitor_period_seconds=1.0)
    scale_in(emu, [leaving_id(i) for i in range(40)], publish=False)
    answer = invoke(load_event("timer.json"), CLB_UNBIND_QUEUE=LIFECYCLE_QUEUE, CLB_UNBIND_GROUPS=group_id(0),
                    CLB_UNBIND_POLL_SECONDS="0", CLB_UNBIND_DRAIN="adaptive", CLB_UNBIND_ENVELOPE_SECRET="cd" * 32)
    draining = {i["instanceId"] for r in answer["records"] for i in r["instances"] if i.get("draining")}
    bindings = sum(len(i["draining"]) for r in answer["records"] for i in r["instances"] if i.get("draining"))
    assert len(draining) == 40 and bindings == 160
    assert answer["apiCalls"]["monitor:GetMonitorData"] == 16
    assert answer["apiCalls"]["clb:DescribeLoadBalancers"] == 1
    assert answer["apiCalls"]["clb:BatchModifyTargetWeight"] == 4
