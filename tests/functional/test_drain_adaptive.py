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


EDGE = ("lb-edge0001", "lbl-edge0080", "10.8.0.11", 80)
EDGE_DIRECT = {"instanceIds": ["ein-edge0001"]}


def test_an_ecm_binding_is_read_in_qce_ecm_lb_and_unbound_in_the_third_period_not_before(emu: Any, invoke: Any) -> None:
    """Before QCE/ECM_LB was sourced (docs/drain.md#ecm), ECM bindings ended `fixed_wait`, weights untouched."""
    emu.set_connections("10.8.0.11", 10, close_per_period=5)
    first = invoke(EDGE_DIRECT, **ENV, CLB_UNBIND_RETRY_QUEUE=QUEUE)
    assert bound(emu, EDGE) and emu.count("BatchModifyTargetWeight", "ecm") == 1
    assert all(b["weight"] == 0 for b in emu.bindings("ein-edge0001"))
    answers = [first] + run_until(invoke, lambda: not bound(emu, EDGE))
    zero_at = emu._estate.connections.zero_since[EDGE]
    p1 = math.ceil(zero_at)
    (unbind,) = [c for c in emu.calls if c.action == "BatchDeregisterTargets" and c.service == "ecm" and any(
        t.get("Port") == 80 and t.get("ListenerId") == "lbl-edge0080" for t in c.params.get("Targets", []))]
    # The first zero period starts two periods after p1, and is published a period and the delay later.
    assert unbind.at >= p1 + 2 + 1 + 1
    reads = [c.params for c in emu.calls if c.action == "GetMonitorData" and c.params["Namespace"] == "QCE/ECM_LB"]
    assert reads and all(r["MetricName"] == "ConNum" for r in reads)
    assert {tuple(sorted((d["Name"], d["Value"]) for d in i["Dimensions"])) for r in reads for i in r["Instances"]
            if any(d["Value"] == "80" and d["Name"] == "port" for d in i["Dimensions"])} == {
        (("lanIp", "10.8.0.11"), ("loadBalancerPort", "80"), ("port", "80"), ("protocol", "TCP"),
         ("vip", "10.8.1.1"), ("vpcId", "vpc-edge0001"))}
    edge = [d for d in drains(answers, "ein-edge0001") if "lbl-edge0080" in d["binding"]]
    assert [d["how"] for d in edge] == ["drained"] and edge[0]["connections"] == 0.0 and "reason" not in edge[0]


def test_an_ecm_binding_where_qce_ecm_lb_has_no_data_waits_the_fixed_time_saying_so(emu: Any, invoke: Any) -> None:
    """A region whose Cloud Monitor never reports the ECM backend: no data point is never a zero, but after
    three looks (CLB_UNBIND_TIMER_SECONDS apart) the binding is taken to have no metric, and waits the
    fixed time (here 0) rather than the cap."""
    emu.set_knobs(monitor_no_ecm_regions=["ap-guangzhou"])
    emu.set_connections("10.8.0.11", 0)  # idle: a read would say 0, if there were one
    answers = [invoke(EDGE_DIRECT, **ENV, CLB_UNBIND_RETRY_QUEUE=QUEUE)]
    answers += run_until(invoke, lambda: not bound(emu, EDGE))
    assert emu.count("GetMonitorData") >= 2
    ends = drains(answers, "ein-edge0001")
    assert ends and {(d["how"], d.get("reason")) for d in ends} == {("fixed_wait", "no_data_point")}
    assert all(d["seconds"] >= 3 for d in ends) and {d["connections"] for d in ends} == {None}


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


TG = ("lb-tgroup01", "lbl-tg4l0001", "10.0.1.21", 80)
TG_DIRECT = {"instanceIds": ["ins-tgv10001"]}


def _one_listener_group(make_emulator: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, **knobs: Any) -> Any:
    """The binding-kinds estate with lbtg-v1grp001 serving only lb-tgroup01's TCP listener (port 9100)."""
    from .test_binding_kinds import kinds_estate
    from .test_sweep import start as start_on

    estate = kinds_estate()
    (group,) = [g for g in estate["targetGroups"] if g["targetGroupId"] == "lbtg-v1grp001"]
    group["associations"] = group["associations"][:1]
    emu = start_on(make_emulator, monkeypatch, estate)
    emu.set_knobs(monitor_period_seconds=1.0, monitor_delay_seconds=1.0, **knobs)
    return emu


def test_a_target_group_member_is_read_as_its_one_listeners_real_server_and_drains(
        make_emulator: Callable[..., Any], function_env: Dict[str, str], monkeypatch: pytest.MonkeyPatch, invoke: Any) -> None:
    """Before target-group members were read (docs/drain.md#target-groups) they ended `fixed_wait`."""
    emu = _one_listener_group(make_emulator, monkeypatch)
    emu.set_connections("10.0.1.21", 10, close_per_period=5)
    first = invoke(TG_DIRECT, **ENV, CLB_UNBIND_RETRY_QUEUE=QUEUE)
    assert emu.bindings("ins-tgv10001") and emu.count("ModifyTargetGroupInstancesWeight") == 1
    answers = [first] + run_until(invoke, lambda: not emu.bindings("ins-tgv10001"))
    p1 = math.ceil(emu._estate.connections.zero_since[TG])
    (unbind,) = [c for c in emu.calls if c.action == "DeregisterTargetGroupInstances"
                 and c.params["TargetGroupId"] == "lbtg-v1grp001"]
    assert unbind.at >= p1 + 2 + 1 + 1
    reads = [c.params for c in emu.calls if c.action == "GetMonitorData"]
    tg = [i for r in reads for i in r["Instances"] if any(d == {"Name": "lanIp", "Value": "10.0.1.21"} for d in i["Dimensions"])]
    assert tg and all({(d["Name"], d["Value"]) for d in i["Dimensions"]} >= {
        ("vip", "10.0.9.1"), ("loadBalancerPort", "9100"), ("protocol", "TCP"), ("port", "80")} for i in tg)
    ends = drains(answers, "ins-tgv10001")
    assert [d["how"] for d in ends] == ["drained"] and ends[0]["connections"] == 0.0


def test_a_target_group_member_never_reported_waits_the_fixed_time_saying_so(
        make_emulator: Callable[..., Any], function_env: Dict[str, str], monkeypatch: pytest.MonkeyPatch, invoke: Any) -> None:
    emu = _one_listener_group(make_emulator, monkeypatch, monitor_skip_target_groups=True)
    emu.set_connections("10.0.1.21", 0)
    answers = [invoke(TG_DIRECT, **ENV, CLB_UNBIND_RETRY_QUEUE=QUEUE)]
    answers += run_until(invoke, lambda: not emu.bindings("ins-tgv10001"))
    ends = drains(answers, "ins-tgv10001")
    assert ends and {(d["how"], d.get("reason")) for d in ends} == {("fixed_wait", "no_data_point")}
    assert all(d["seconds"] >= 3 for d in ends)
