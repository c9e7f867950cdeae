"""CLB_UNBIND_DRAIN=adaptive against the emulator's Cloud Monitor (docs/drain.md): timer runs look at each
draining binding's connections, re-queue the drain's signed state, and unbind once the connections have
read 0 after the weight change, or at the cap. The emulator's periods last a second (knob
monitor_period_seconds), so a drain of minutes takes seconds; timer runs are a second apart, as the
function is told (CLB_UNBIND_TIMER_SECONDS=1). Assertions are on the emulator's records and the outcomes,
never on how long a test took."""
from __future__ import annotations

import math
import time
from typing import Any, Callable, Dict, List

import pytest

from tests.conftest import load_event

TIMER = load_event("timer.json")
QUEUE = "clb-unbind-lifecycle"
TCP = ("lb-web00001", "lbl-tcp00080", "10.0.0.11", 8080)
ENV = {"CLB_UNBIND_QUEUE": QUEUE, "CLB_UNBIND_GROUPS": "asg-group001", "CLB_UNBIND_POLL_SECONDS": "0",
       "CLB_UNBIND_DRAIN": "adaptive", "CLB_UNBIND_TIMER_SECONDS": "1", "CLB_UNBIND_DRAIN_ZERO_READINGS": "1",
       "CLB_UNBIND_CONSUME_SECONDS": "5", "CLB_UNBIND_ENVELOPE_SECRET": "ab" * 32}


@pytest.fixture
def emu(emulator: Any) -> Any:
    emulator.set_knobs(monitor_period_seconds=1.0, monitor_delay_seconds=1.0)
    return emulator


def bound(emu: Any, key: tuple) -> bool:
    lb, listener, ip, port = key
    return any(b["loadBalancerId"] == lb and b["listenerId"] == listener and b["port"] == port
               for b in emu.bindings(ip))


def drains(answers: List[Dict[str, Any]], instance_id: str) -> List[Dict[str, Any]]:
    return [d for a in answers for r in a.get("records", []) for i in r.get("instances", [])
            if i["instanceId"] == instance_id for d in i.get("drain", [])]


def run_until(invoke: Any, done: Callable[[], bool], runs: int = 40, **env: str) -> List[Dict[str, Any]]:
    answers = []
    for _ in range(runs):
        answers.append(invoke(TIMER, **{**ENV, **env}))
        if done():
            return answers
        time.sleep(1.0)
    raise AssertionError(f"not done after {runs} timer runs")


def completed(emu: Any, instance_id: str) -> bool:
    return any(r["instanceId"] == instance_id and r["result"] == "CONTINUE" for r in emu.lifecycle_results())


def test_connections_closing_after_two_periods_unbind_in_the_third_not_before(emu: Any, invoke: Any) -> None:
    emu.set_connections("10.0.0.11", 10, close_per_period=5)
    first = invoke(TIMER, **ENV)
    assert bound(emu, TCP) and emu.count("BatchModifyTargetWeight") >= 1
    answers = [first] + run_until(invoke, lambda: not bound(emu, TCP))
    model = emu._estate.connections
    zero_at = model.zero_since[("lb-web00001", "lbl-tcp00080", "10.0.0.11", 8080)]
    p1 = math.ceil(zero_at)
    (unbind,) = [c for c in emu.calls if c.action == "BatchDeregisterTargets" and any(
        t.get("Port") == 8080 and t.get("ListenerId") == "lbl-tcp00080" and t.get("InstanceId") == "ins-web00001"
        for t in c.params.get("Targets", []))]
    # The first zero period starts two periods after p1, and is published a period and the delay later.
    assert unbind.at >= p1 + 2 + 1 + 1
    tcp = [d for d in drains(answers, "ins-web00001") if "lbl-tcp00080" in d["binding"] and ":8080" in d["binding"]]
    assert [d["how"] for d in tcp] == ["drained"] and tcp[0]["connections"] == 0.0
    assert run_until(invoke, lambda: completed(emu, "ins-web00001"))


def test_connections_that_never_close_are_cut_at_the_cap_and_the_hook_completed(emu: Any, invoke: Any) -> None:
    emu.set_connections("10.0.0.11", 5, stuck=5)
    answers = run_until(invoke, lambda: completed(emu, "ins-web00001"), CLB_UNBIND_DRAIN_MAX_SECONDS="3")
    assert not bound(emu, TCP)
    hows = {d["how"] for d in drains(answers, "ins-web00001") if "lbl-tcp00080" in d["binding"]}
    assert hows == {"drain_cap"}
    assert {d["connections"] for d in drains(answers, "ins-web00001") if "lbl-tcp00080" in d["binding"]} == {5.0}
    assert all(d["seconds"] >= 3 for d in drains(answers, "ins-web00001") if d["how"] == "drain_cap")


def test_a_monitor_error_never_unbinds_early(emu: Any, invoke: Any) -> None:
    emu.set_knobs(monitor_error_rate=1.0)  # idle backends: every read would be 0, if it were read
    answers = run_until(invoke, lambda: completed(emu, "ins-web00002"), CLB_UNBIND_DRAIN_MAX_SECONDS="3")
    ends = drains(answers, "ins-web00002")
    assert ends and {d["how"] for d in ends} == {"drain_cap"} and {d["connections"] for d in ends} == {None}
    assert all(d["seconds"] >= 3 for d in ends)


def test_a_dry_run_touches_no_weight(emu: Any, invoke: Any) -> None:
    invoke(TIMER, **ENV, CLB_UNBIND_DRY_RUN="true")
    assert emu.count("BatchModifyTargetWeight") == 0 and emu.count("GetMonitorData") == 0
    assert all(b["weight"] == 10 for b in emu.bindings("10.0.0.11") if b["loadBalancerId"] == "lb-web00001"
               and b["listenerId"] == "lbl-tcp00080")


def test_a_crash_mid_drain_resumes_without_writing_weights_again(emu: Any, invoke: Any) -> None:
    emu.set_connections("10.0.0.11", 10, close_per_period=5)
    invoke(TIMER, **ENV, CLB_UNBIND_RETRY_QUEUE="clb-unbind-retry")  # its drain envelope is never read back
    writes = emu.count("BatchModifyTargetWeight")
    assert writes >= 1 and bound(emu, TCP)
    assert all(b["weight"] == 0 for b in emu.bindings("10.0.0.11") if b["loadBalancerId"] == "lb-web00001")
    answers = run_until(invoke, lambda: completed(emu, "ins-web00001"), CLB_UNBIND_RETRY_QUEUE=QUEUE)
    assert emu.count("BatchModifyTargetWeight") == writes
    assert not bound(emu, TCP)
    assert {d["how"] for d in drains(answers, "ins-web00001") if "lbl-tcp00080" in d["binding"]} == {"drained"}


def test_ecm_has_no_backend_metric_and_waits_the_fixed_time_saying_so(emu: Any, invoke: Any) -> None:
    answer = invoke({"instanceIds": ["ein-edge0001"]}, CLB_UNBIND_DRAIN="adaptive", CLB_UNBIND_DRAIN_SECONDS="0")
    (outcome,) = answer["records"][0]["instances"]
    assert outcome["status"] == "unbound"
    assert outcome["drain"] and {d["how"] for d in outcome["drain"]} == {"fixed_wait"}
    assert emu.count("GetMonitorData") == 0 and emu.count("BatchModifyTargetWeight") == 0


def _public_estate() -> Dict[str, Any]:
    """lb-web00001 as a public CLB (LoadBalancerType OPEN, a public VIP); lb-web00002 stays private."""
    from tests.estates import base_estate

    estate = base_estate()
    (lb,) = [lb for lb in estate["loadBalancers"] if lb["loadBalancerId"] == "lb-web00001"]
    lb.update(loadBalancerType="OPEN", vip="203.0.113.10")
    return estate


def test_a_public_clb_is_read_in_its_own_namespace_and_drains_rather_than_waiting(
        make_emulator: Callable[..., Any], function_env: Dict[str, str], monkeypatch: pytest.MonkeyPatch, invoke: Any) -> None:
    from .test_sweep import start as start_on

    emu = start_on(make_emulator, monkeypatch, _public_estate())
    emu.set_knobs(monitor_period_seconds=1.0, monitor_delay_seconds=1.0)
    emu.set_connections("10.0.0.11", 10, close_per_period=5)
    answers = run_until(invoke, lambda: completed(emu, "ins-web00001"))
    assert not bound(emu, TCP)
    reads = [c.params for c in emu.calls if c.action == "GetMonitorData"]
    public = [r for r in reads if r["Namespace"] == "QCE/LB_PUBLIC"]
    private = [r for r in reads if r["Namespace"] == "QCE/LB_RS_PRIVATE"]
    assert public and private and all(r["MetricName"] == "ConNum" for r in public)
    assert {d["Value"] for r in public for i in r["Instances"] for d in i["Dimensions"] if d["Name"] == "vip"} == {"203.0.113.10"}
    assert {d["Value"] for r in private for i in r["Instances"] for d in i["Dimensions"] if d["Name"] == "vip"} == {"10.0.1.2"}
    tcp = [d for d in drains(answers, "ins-web00001") if "lbl-tcp00080" in d["binding"]]
    assert tcp and {d["how"] for d in tcp} == {"drained"}
