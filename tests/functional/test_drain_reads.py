"""Issue 19's bounds on a drain of 40 instances, each bound on the same 4 load balancers (160 bindings):
a look costs ceil(160 / 10) = 16 GetMonitorData calls (10 dimension sets a request, docs/drain.md),
whatever the number of load balancers, not one per binding; and the drains still under way go back to
the queue in one envelope a pass (docs/drain.md#one-envelope-per-pass), not one per instance."""
from __future__ import annotations

import json
import time
from typing import Any, Callable, Dict, List

import pytest

from bench.estates import LIFECYCLE_QUEUE, Shape, fleet_estate, group_id, leaving_id
from tests.conftest import load_event

from .test_sweep import scale_in, start

TIMER = load_event("timer.json")
SECRET = "cd" * 32
ENV = dict(CLB_UNBIND_QUEUE=LIFECYCLE_QUEUE, CLB_UNBIND_GROUPS=group_id(0), CLB_UNBIND_POLL_SECONDS="0",
           CLB_UNBIND_DRAIN="adaptive", CLB_UNBIND_ENVELOPE_SECRET=SECRET)


def test_forty_instances_on_four_load_balancers_cost_sixteen_reads_a_look(
        make_emulator: Callable[..., Any], function_env: Dict[str, str], monkeypatch: pytest.MonkeyPatch, invoke: Any) -> None:
    emu = start(make_emulator, monkeypatch, fleet_estate(Shape(leaving=40, load_balancers=4, bound_on=4, l7_listeners=0)))
    emu.set_knobs(monitor_period_seconds=1.0)
    scale_in(emu, [leaving_id(i) for i in range(40)], publish=False)
    answer = invoke(TIMER, **ENV)
    draining = {i["instanceId"] for r in answer["records"] for i in r["instances"] if i.get("draining")}
    bindings = sum(len(i["draining"]) for r in answer["records"] for i in r["instances"] if i.get("draining"))
    assert len(draining) == 40 and bindings == 160
    assert answer["apiCalls"]["monitor:GetMonitorData"] == 16
    assert answer["apiCalls"]["clb:DescribeLoadBalancers"] == 1
    assert answer["apiCalls"]["clb:BatchModifyTargetWeight"] == 4


def drain_messages(emu: Any) -> List[List[str]]:
    """The instances each drain envelope in the queue names."""
    out = []
    for m in emu.messages(LIFECYCLE_QUEUE):
        body = json.loads(m["body"])
        if body.get("kind") == "clb-unbind/retry" and any(n.get("drain") for n in body["notices"]):
            out.append(sorted(n["instanceId"] for n in body["notices"]))
    return out


def test_forty_draining_instances_go_back_in_one_envelope_and_one_ending_resends_the_others_once(
        make_emulator: Callable[..., Any], function_env: Dict[str, str], monkeypatch: pytest.MonkeyPatch, invoke: Any) -> None:
    estate = fleet_estate(Shape(leaving=40, load_balancers=4, bound_on=4, l7_listeners=0))
    ips = {i["instanceId"]: i["privateIps"][0] for i in estate["instances"]}
    emu = start(make_emulator, monkeypatch, estate)
    emu.set_knobs(monitor_period_seconds=1.0, monitor_delay_seconds=0.0)
    for n in range(1, 40):  # leaving_id(0) is idle and drains; the others hold connections that never close
        emu.set_connections(ips[leaving_id(n)], 5, stuck=5)
    everyone = sorted(leaving_id(n) for n in range(40))
    scale_in(emu, everyone, publish=False)
    env = dict(ENV, CLB_UNBIND_TIMER_SECONDS="1", CLB_UNBIND_DRAIN_ZERO_READINGS="1", CLB_UNBIND_CONSUME_SECONDS="5")

    first = invoke(TIMER, timeout_ms=120000, **env)  # 40 instances: room for a loaded machine
    assert first["apiCalls"]["tdmq:SendCmqMsg"] == 1  # one envelope for the pass (it was one per instance: 40)
    assert drain_messages(emu) == [everyone]
    for _ in range(30):
        time.sleep(1.2)
        answer = invoke(TIMER, timeout_ms=120000, **env)
        # Each pass re-sends its drains once, in one envelope, the pass that ends one included. (A run
        # may make a second pass: a run longer than the 1 s interval reads its own envelope back.)
        assert answer["queue"]["passes"] >= 1
        assert answer["apiCalls"].get("tdmq:SendCmqMsg", 0) == answer["queue"]["passes"]
        assert len(drain_messages(emu)) == 1
        # A drain state carries its bindings' dimensions: a look that only goes on reads no address again.
        assert answer["apiCalls"].get("clb:DescribeLoadBalancers", 0) == 0
        if any(r["instanceId"] == leaving_id(0) and r["result"] == "CONTINUE" for r in emu.lifecycle_results()):
            break
    else:
        raise AssertionError("the idle instance never drained")
    assert emu.bindings(leaving_id(0)) == []
    assert drain_messages(emu) == [everyone[1:]]
