"""check's member_bindings (issue 18) and listener_deadline (issue 19, point 5) against the emulator: the
watched groups' members read with the function's own resolvers, their load balancers' listeners with
DescribeListeners, through the unmodified SDK."""
from __future__ import annotations

import json
from typing import Any, Callable, Dict

from emulator import deployment
from tests.deploy.conftest import GROUPS, Ops, ops_estate

FUNCTION = "clb-unbind"
MEMBERS = ["ins-web00001", "ins-web00002", "ins-web00003", "ins-web00004"]


def mixed_estate() -> Dict[str, Any]:
    """The demo's direct binds (lb-web00001..3), plus a target group on lb-tgroup01 holding ins-web00004, a
    classic load balancer lb-classic1 holding ins-web00003, a POLARIS listener on lb-polaris1; the first
    group holds the four web instances, all IN_SERVICE."""
    estate = ops_estate()
    estate["scalingGroups"][0]["instances"] = [{"instanceId": i, "lifeCycleState": "IN_SERVICE"} for i in MEMBERS]
    estate["loadBalancers"] += [
        {"loadBalancerId": "lb-tgroup01", "vpcId": "vpc-main0001", "vip": "10.0.1.5",
         "listeners": [{"listenerId": "lbl-tg000001", "protocol": "TCP", "port": 7000}]},
        {"loadBalancerId": "lb-classic1", "vpcId": "vpc-main0001", "vip": "10.0.1.6", "forward": 0},
        {"loadBalancerId": "lb-polaris1", "vpcId": "vpc-main0001", "vip": "10.0.1.7",
         "listeners": [{"listenerId": "lbl-polar001", "protocol": "TCP", "port": 6000, "targetType": "POLARIS"}]},
    ]
    estate["targetGroups"] = [{"targetGroupId": "lbtg-ops00001", "vpcId": "vpc-main0001", "type": "v1", "port": 7000,
                               "members": [{"privateIp": "10.0.0.14", "port": 7000, "instanceId": "ins-web00004"}],
                               "associations": [{"loadBalancerId": "lb-tgroup01", "listenerId": "lbl-tg000001"}]}]
    estate["classicBackends"] = [{"loadBalancerId": "lb-classic1", "instanceIds": ["ins-web00003"]}]
    return estate


def _env(ops: Ops) -> Dict[str, str]:
    return deployment.of_emulator(ops.emu).function("ap-guangzhou", "default", FUNCTION).environment


def rows(ops: Ops) -> Dict[str, Dict[str, Any]]:
    code, out = ops.check("--json", "--group", GROUPS[0])
    found = {r["invariant"]: r for r in json.loads(out)}
    assert code == (0 if all(r["ok"] for r in found.values()) else 1)
    return found


def _forward(estate: Dict[str, Any], lb: str, listener: str, port: int) -> Dict[str, Any]:
    estate["scalingGroups"][0]["forwardLoadBalancers"] = [
        {"loadBalancerId": lb, "listenerId": listener, "targetAttributes": [{"port": port, "weight": 10}]}]
    return estate


def test_counts_per_kind_what_the_function_would_unbind_and_what_it_leaves_alone(ops_for: Callable[..., Ops]) -> None:
    ops = ops_for(mixed_estate())
    assert ops.setup()[0] == 0
    row = rows(ops)["member_bindings"]
    assert row["ok"], row
    assert ("asg-ops00001: 4 member(s); bindings by kind the function would unbind: classic 1, listener 13, "
            "target_group 1; left alone: none; members not bound: 0") in row["detail"]
    # The live function's allow-list: lb-web00002/3's direct binds and the target group, whose only listener is
    # on lb-tgroup01, are left alone; lb-web00001's binds and the classic one are still the function's.
    _env(ops)["CLB_UNBIND_ALLOWED_LOAD_BALANCERS"] = "lb-web00001,lb-classic1"
    row = rows(ops)["member_bindings"]
    assert row["ok"], row
    assert ("bindings by kind the function would unbind: classic 1, listener 8; left alone: listener 5, target_group 1 "
            "(on lb-tgroup01, lb-web00002, lb-web00003, outside CLB_UNBIND_ALLOWED_LOAD_BALANCERS)") in row["detail"]


def test_a_polaris_listener_the_group_forwards_to_is_a_kind_the_function_cannot_see(ops_for: Callable[..., Ops]) -> None:
    ops = ops_for(_forward(mixed_estate(), "lb-polaris1", "lbl-polar001", 6000))
    assert ops.setup()[0] == 0
    row = rows(ops)["member_bindings"]
    assert not row["ok"]
    assert ("cannot see: forward lb-polaris1/lbl-polar001 is a POLARIS listener, whose backends no read of the function "
            "names; 4 member(s) may be bound through it") in row["detail"]
    assert "ForwardLoadBalancers at a NODE listener" in row["fix"]


def test_members_missing_from_the_groups_own_forward_listener_are_reported(ops_for: Callable[..., Ops]) -> None:
    ops = ops_for(_forward(mixed_estate(), "lb-web00003", "lbl-tcp09000", 9000))
    assert ops.setup()[0] == 0
    row = rows(ops)["member_bindings"]
    assert not row["ok"]
    assert ("cannot see: 3 IN_SERVICE member(s) (ins-web00001, ins-web00002, ins-web00004) not found on forward "
            "lb-web00003/lbl-tcp09000, where the group's configuration binds them") in row["detail"]


def test_every_member_on_its_forward_listener_holds(ops_for: Callable[..., Ops]) -> None:
    estate = _forward(mixed_estate(), "lb-web00003", "lbl-tcp09000", 9000)
    estate["scalingGroups"][0]["instances"] = [{"instanceId": "ins-web00003", "lifeCycleState": "IN_SERVICE"},
                                               {"instanceId": "ins-web00001", "lifeCycleState": "ATTACHING_LB"}]
    ops = ops_for(estate)
    assert ops.setup()[0] == 0
    row = rows(ops)["member_bindings"]
    assert row["ok"], row


def test_members_missing_from_the_groups_own_classic_load_balancer_are_reported(ops_for: Callable[..., Ops]) -> None:
    estate = mixed_estate()
    estate["scalingGroups"][0]["loadBalancerIds"] = ["lb-classic1"]
    ops = ops_for(estate)
    assert ops.setup()[0] == 0
    row = rows(ops)["member_bindings"]
    assert not row["ok"]
    assert ("cannot see: 3 IN_SERVICE member(s) (ins-web00001, ins-web00002, ins-web00004) not found on classic "
            "lb-classic1, where the group's configuration binds them") in row["detail"]
    assert "classic load balancers of the group: lb-classic1 (seen: classic)" in row["detail"]


def test_a_forward_listener_in_target_group_mode_is_reported_unconfirmed(ops_for: Callable[..., Ops]) -> None:
    ops = ops_for(_forward(mixed_estate(), "lb-tgroup01", "lbl-tg000001", 7000))
    assert ops.setup()[0] == 0
    row = rows(ops)["member_bindings"]
    assert not row["ok"]
    assert ("forward lb-tgroup01/lbl-tg000001 forwards to a target group (TARGETGROUP, lbtg-ops00001): Auto Scaling "
            "binds members to the listener directly and cannot name a target group; what CLB does with that bind is "
            "UNCONFIRMED") in row["detail"]


def test_the_reads_are_bounded(ops_for: Callable[..., Ops]) -> None:
    ops = ops_for(_forward(mixed_estate(), "lb-polaris1", "lbl-polar001", 6000))
    assert ops.setup()[0] == 0
    ops.emu.clear_calls()
    rows(ops)
    counts: Dict[str, int] = {}
    for c in ops.emu.calls:
        counts[c.action] = counts.get(c.action, 0) + 1
    # One DescribeListeners per load balancer of the region the groups forward to or a member is bound on
    # (lb-polaris1, lb-tgroup01, lb-web00001..3; never the classic one); the function's resolution of four
    # members, one read of each kind; the groups read twice (the groups line, then this one).
    assert {a: counts.get(a, 0) for a in (
        "DescribeListeners", "DescribeAutoScalingInstances", "DescribeInstances", "DescribeNetworkInterfaces",
        "DescribeLBListeners", "DescribeTargetGroupInstances", "DescribeTargetGroups", "DescribeClassicalLBByInstanceId",
        "DescribeAutoScalingGroups")} == {
        "DescribeListeners": 5, "DescribeAutoScalingInstances": 1, "DescribeInstances": 1, "DescribeNetworkInterfaces": 1,
        "DescribeLBListeners": 1, "DescribeTargetGroupInstances": 1, "DescribeTargetGroups": 1,
        "DescribeClassicalLBByInstanceId": 1, "DescribeAutoScalingGroups": 2}
    assert ops.writes() == []


def deadline_estate() -> Dict[str, Any]:
    estate = mixed_estate()
    tcp = next(lb for lb in estate["loadBalancers"] if lb["loadBalancerId"] == "lb-web00001")["listeners"][0]
    tcp.update(deregisterTargetRst=True, rescheduleInterval=30)
    return estate


def test_layer4_listeners_are_reported_with_their_reschedule_settings_and_the_drain_cap(ops_for: Callable[..., Ops]) -> None:
    ops = ops_for(deadline_estate())
    assert ops.setup()[0] == 0
    _env(ops).update(CLB_UNBIND_DRAIN="adaptive")
    ops.emu.clear_calls()
    row = rows(ops)["listener_deadline"]
    assert row["ok"] and row["detail"].startswith("advice only, setup changes no listener; ")
    # cap: min(CLB_UNBIND_DRAIN_MAX_SECONDS 3600, heartbeat 790 - timer 60 - consume 50 - margin 3) = 677 s
    assert "CLB_UNBIND_DRAIN=adaptive: weight 0, then the unbind once the connections read 0, or at the drain cap (677 s" \
        in row["detail"]
    assert ("lb-web00001/lbl-tcp00080 TCP:80: DeregisterTargetRst on, RescheduleInterval 30 s, RescheduleStartTime 0: "
            "connections still open at the unbind (at the drain's end (zero connections, or the cap)) are broken and "
            "reassigned within 30 s of it (RescheduleInterval)") in row["detail"]
    assert ("lb-web00002/lbl-udp00053 UDP:53: DeregisterTargetRst off, RescheduleInterval 0 s, RescheduleStartTime 0: "
            "the unbind (at the drain's end (zero connections, or the cap)) triggers no rescheduling: what CLB does with "
            "connections still open then is UNCONFIRMED") in row["detail"]
    assert "RescheduleTargetZeroWeight on (ModifyListener; no read reports it" in row["detail"]
    assert "lbl-http0080" not in row["detail"] and "lbl-https443" not in row["detail"]  # layer 7: no reschedule settings
    assert ("lb-tgroup01/lbl-tg000001 TCP:7000: DeregisterTargetRst off, RescheduleInterval 0 s, RescheduleStartTime 0: "
            "the unbind (at the drain's end (zero connections, or the cap)) triggers no rescheduling: what CLB does with "
            "connections still open then is UNCONFIRMED (TARGETGROUP: the function removes members from the target "
            "group, not from the listener; whether the listener's reschedule settings apply to that is UNCONFIRMED)"
            ) in row["detail"]
    assert ops.writes() == []  # check changes no listener


def test_a_polaris_listener_gets_no_unbind_advice(ops_for: Callable[..., Ops]) -> None:
    ops = ops_for(_forward(deadline_estate(), "lb-polaris1", "lbl-polar001", 6000))
    assert ops.setup()[0] == 0
    row = rows(ops)["listener_deadline"]
    assert ("lb-polaris1/lbl-polar001 TCP:6000: DeregisterTargetRst off, RescheduleInterval 0 s, RescheduleStartTime 0: "
            "a POLARIS listener: the function unbinds nothing here (it cannot see its backends)") in row["detail"]


def test_setup_changes_no_listener(ops_for: Callable[..., Ops]) -> None:
    ops = ops_for(deadline_estate())
    assert ops.setup()[0] == 0
    assert [c.action for c in ops.emu.calls if c.service == "clb"] == []
    listener = ops.emu._estate.load_balancers["lb-web00001"].listeners[0]
    assert (listener.deregister_target_rst, listener.reschedule_interval) == (True, 30)


def test_a_fixed_drain_is_said_so(ops_for: Callable[..., Ops]) -> None:
    ops = ops_for(deadline_estate())
    assert ops.setup()[0] == 0
    _env(ops).update(CLB_UNBIND_DRAIN_SECONDS="20")
    row = rows(ops)["listener_deadline"]
    assert "CLB_UNBIND_DRAIN=fixed: weight 0, the unbind 20 s later" in row["detail"]
    assert "are broken and reassigned within 30 s of it" in row["detail"]
