"""Every kind of binding beside a listener's own targets: target groups (v1, v2, full-listen) and classic
load balancers. Each: an instance bound only that way is unbound and verified, a bystander on the same
group or load balancer keeps its binding, a dry run touches nothing, a failed unbind is retried and then
dead-lettered with the group or load balancer named. All through the unmodified SDK against the emulator."""
from __future__ import annotations

import json
from typing import Any, Callable, Dict, List

import pytest

from tests.estates import base_estate

VPC = "vpc-main0001"
STAY = "ins-tgstay01"
WRITES = ("BatchDeregisterTargets", "DeregisterTargetGroupInstances", "ModifyTargetGroupInstancesWeight",
          "DeregisterTargetsFromClassicalLB", "BatchModifyTargetWeight", "CompleteLifecycleAction", "SendCmqMsg")


def kinds_estate() -> Dict[str, Any]:
    """The demo estate plus: ins-tgv10001 only in the v1 group lbtg-v1grp001 (which serves lb-tgroup01 and
    lb-tgroup02), ins-tgv20001 only in the v2 group lbtg-v2grp001 (a layer-7 rule of lb-tgroup01),
    ins-fullls01 only in the full-listen group lbtg-fullgrp1, ins-classic1 only on the classic lb-classic1.
    ins-tgstay01 stays, bound every one of those ways; ins-tgother1 in another VPC reuses ins-tgv10001's IP.
    ins-eni00001 is bound only through 10.0.2.11, an IP of its secondary network interface eni-second01, on
    lb-eniweb01; 10.0.2.20 (eni-moved001, now attached to ins-eni00002) and 10.0.2.21 (eni-loose001, attached
    to nothing) are bound on the same listener and belong to someone else."""
    doc = base_estate()
    doc["instances"] += [
        {"instanceId": iid, "vpcId": VPC, "privateIps": [ip]}
        for iid, ip in (("ins-tgv10001", "10.0.1.21"), ("ins-tgv20001", "10.0.1.22"), ("ins-fullls01", "10.0.1.23"),
                        ("ins-classic1", "10.0.1.24"), (STAY, "10.0.1.30"), ("ins-eni00001", "10.0.2.10"), ("ins-eni00002", "10.0.2.19"))
    ] + [{"instanceId": "ins-tgother1", "vpcId": "vpc-else0001", "privateIps": ["10.0.1.21"]}]
    doc["loadBalancers"] += [
        {"loadBalancerId": "lb-tgroup01", "vpcId": VPC, "vip": "10.0.9.1", "listeners": [
            {"listenerId": "lbl-tg4l0001", "protocol": "TCP", "port": 9100},
            {"listenerId": "lbl-tg7l0001", "protocol": "HTTP", "port": 9180, "rules": [
                {"locationId": "loc-tg7r0001", "domain": "tg.example.com", "url": "/"}]}]},
        {"loadBalancerId": "lb-tgroup02", "vpcId": VPC, "vip": "10.0.9.2", "listeners": [
            {"listenerId": "lbl-tg4l0002", "protocol": "TCP", "port": 9200}]},
        {"loadBalancerId": "lb-tgfull01", "vpcId": VPC, "vip": "10.0.9.3", "listeners": [
            {"listenerId": "lbl-tgfl0001", "protocol": "TCP", "port": 1, "endPort": 65535}]},
        {"loadBalancerId": "lb-classic1", "vpcId": VPC, "vip": "10.0.9.4", "forward": 0},
        {"loadBalancerId": "lb-eniweb01", "vpcId": VPC, "vip": "10.0.9.5", "listeners": [
            {"listenerId": "lbl-eni09300", "protocol": "TCP", "port": 9300, "targets": [
                {"type": "eni", "privateIp": ip, "port": 9300} for ip in ("10.0.2.11", "10.0.2.20", "10.0.2.21")]}]},
    ]
    doc["networkInterfaces"] = [
        {"networkInterfaceId": "eni-second01", "vpcId": VPC, "privateIps": ["10.0.2.11", "10.0.2.12"], "instanceId": "ins-eni00001"},
        {"networkInterfaceId": "eni-moved001", "vpcId": VPC, "privateIps": ["10.0.2.20"], "instanceId": "ins-eni00002"},
        {"networkInterfaceId": "eni-loose001", "vpcId": VPC, "privateIps": ["10.0.2.21"]},
    ]
    doc["targetGroups"] = [
        {"targetGroupId": "lbtg-v1grp001", "vpcId": VPC, "type": "v1", "port": 80,
         "members": [{"privateIp": "10.0.1.21", "port": 80}, {"privateIp": "10.0.1.30", "port": 80}],
         "associations": [{"loadBalancerId": "lb-tgroup01", "listenerId": "lbl-tg4l0001"},
                          {"loadBalancerId": "lb-tgroup02", "listenerId": "lbl-tg4l0002"}]},
        {"targetGroupId": "lbtg-v2grp001", "vpcId": VPC, "type": "v2", "port": 8080,
         "members": [{"privateIp": "10.0.1.22", "port": 8080, "weight": 30}, {"privateIp": "10.0.1.30", "port": 8080}],
         "associations": [{"loadBalancerId": "lb-tgroup01", "listenerId": "lbl-tg7l0001", "locationId": "loc-tg7r0001"}]},
        {"targetGroupId": "lbtg-fullgrp1", "vpcId": VPC, "type": "v2", "fullListen": True,
         "members": [{"privateIp": "10.0.1.23"}, {"privateIp": "10.0.1.30"}],
         "associations": [{"loadBalancerId": "lb-tgfull01", "listenerId": "lbl-tgfl0001"}]},
        {"targetGroupId": "lbtg-else0001", "vpcId": "vpc-else0001", "type": "v1", "port": 80,
         "members": [{"privateIp": "10.0.1.21", "port": 80}], "associations": []},
    ]
    doc["classicBackends"] = [{"loadBalancerId": "lb-classic1", "instanceIds": ["ins-classic1", STAY]}]
    return doc


KINDS = {
    # instance, the write that removes it, what a dead letter must name
    "v1": ("ins-tgv10001", "DeregisterTargetGroupInstances", "lbtg-v1grp001"),
    "v2": ("ins-tgv20001", "DeregisterTargetGroupInstances", "lbtg-v2grp001"),
    "full-listen": ("ins-fullls01", "DeregisterTargetGroupInstances", "lbtg-fullgrp1"),
    "classic": ("ins-classic1", "DeregisterTargetsFromClassicalLB", "lb-classic1"),
    "secondary-ip": ("ins-eni00001", "BatchDeregisterTargets", "lbl-eni09300"),
}


@pytest.fixture
def emu(make_emulator: Callable[..., Any], function_env: Dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """The kinds estate, with the function pointed at it instead of the default emulator."""
    e = make_emulator(kinds_estate())
    monkeypatch.setenv("CLB_UNBIND_ENDPOINT", e.endpoint)
    return e


def writes(e: Any) -> int:
    return sum(e.count(a) for a in WRITES)


def others(e: Any) -> Dict[str, List[Dict[str, Any]]]:
    return {i: e.bindings(i) for i in (STAY, "ins-tgother1", "ins-web00003", "10.0.2.20", "10.0.2.21", "ins-eni00002")}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_bound_only_that_way_is_unbound_and_verified(kind: str, emu: Any, invoke: Any) -> None:
    iid, write, name = KINDS[kind]
    assert emu.bindings(iid) or kind == "secondary-ip", "the estate binds it"
    assert emu.bindings("10.0.2.11")
    before = others(emu)

    answer = invoke({"instanceIds": [iid]})

    (outcome,) = answer["records"][0]["instances"]
    assert outcome["status"] == "unbound", outcome
    assert emu.bindings(iid) == [] and emu.bindings("10.0.2.11") == ([] if kind == "secondary-ip" else emu.bindings("10.0.2.11"))
    assert others(emu) == before  # the bystander on the same group / load balancer, and the IP's other owner
    assert emu.count(write) == 1
    if write != "BatchDeregisterTargets":
        assert emu.count("DescribeTaskStatus") >= 1  # asynchronous: waited on
    (removed,) = outcome["removed"]
    assert name in (removed.get("targetGroupId"), removed["loadBalancerId"], removed["listenerId"])


def test_full_listen_members_are_removed_without_a_port(emu: Any, invoke: Any) -> None:
    invoke({"instanceIds": ["ins-fullls01"]})
    (call,) = [c for c in emu.calls if c.action == "DeregisterTargetGroupInstances"]
    assert call.params["TargetGroupInstances"] == [{"BindIP": "10.0.1.23"}]


def test_one_call_per_group_for_every_leaving_member(emu: Any, invoke: Any) -> None:
    answer = invoke({"instanceIds": ["ins-tgv10001", STAY]})
    assert [i["status"] for i in answer["records"][0]["instances"]] == ["unbound", "unbound"]
    calls = [c for c in emu.calls if c.action == "DeregisterTargetGroupInstances"]
    assert sorted(c.params["TargetGroupId"] for c in calls) == ["lbtg-fullgrp1", "lbtg-v1grp001", "lbtg-v2grp001"]
    assert emu.count("DeregisterTargetsFromClassicalLB") == 1
    assert emu.count("DescribeTargetGroupInstances") == 2  # one to find, one to verify
    assert emu.count("DescribeTargetGroups") == 1  # the verification reuses what the groups serve
    assert emu.bindings("ins-tgother1")  # same IP, other VPC: not ours


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_dry_run_touches_nothing(kind: str, emu: Any, invoke: Any) -> None:
    iid = KINDS[kind][0]
    before = emu.bindings(iid), emu.bindings("10.0.2.11")
    answer = invoke({"instanceIds": [iid], "dryRun": True})
    assert writes(emu) == 0
    assert (emu.bindings(iid), emu.bindings("10.0.2.11")) == before
    (outcome,) = answer["records"][0]["instances"]
    assert outcome["status"] == "planned" and len(outcome["remaining"]) == 1


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_failed_unbind_is_retried_then_dead_lettered_naming_it(kind: str, make_emulator: Callable[..., Any],
                                                               function_env: Dict[str, str], invoke: Any,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    iid, write, name = KINDS[kind]
    e = make_emulator(kinds_estate(), task_fail_rate=1.0, fault_actions=frozenset({write}))
    monkeypatch.setenv("CLB_UNBIND_ENDPOINT", e.endpoint)
    queues = dict(CLB_UNBIND_MAX_ATTEMPTS="2", CLB_UNBIND_RETRY_QUEUE="clb-unbind-retry",
                  CLB_UNBIND_DEAD_LETTER_QUEUE="clb-unbind-dead-letter",
                  CLB_UNBIND_ENVELOPE_SECRET="binding-kinds-envelope-secret-0123456789")  # the retry envelope is signed
    if write == "BatchDeregisterTargets":  # synchronous, no task to fail: the load balancer stays busy instead
        e.lock_load_balancer("lb-eniweb01", 60)
        queues.update(CLB_UNBIND_SAFETY_MARGIN_SECONDS="0.3", timeout_ms=2000)  # type: ignore[arg-type]

    first = invoke({"instanceIds": [iid]}, **queues)
    assert first["records"][0]["status"] == "retry_queued"
    (retry,) = e.messages("clb-unbind-retry")
    record = {"CMQ": {"type": "queue", "topicOwner": 1251783334, "topicName": "clb-unbind-retry", "subscriptionName": "",
                      "publishTime": "2026-11-22T10:15:12.000Z", "msgId": "retry-1", "requestId": "retry-1",
                      "msgBody": retry["body"], "msgTag": ""}}
    second = invoke({"Records": [record]}, **queues)

    assert second["records"][0]["status"] == "dead_lettered"
    assert e.count(write) >= 2
    (message,) = e.messages("clb-unbind-dead-letter")
    dead = json.loads(message["body"])
    assert dead["reason"] == "max_attempts" and name in dead["detail"]
    if write != "BatchDeregisterTargets":
        assert e.count(write) == 2 and any(name in err["message"] for err in dead["errors"])
    assert e.bindings(iid) or e.bindings("10.0.2.11"), "a failed unbind changes nothing"


def test_allow_list_applies_through_the_load_balancers_a_group_serves(emu: Any, invoke: Any) -> None:
    answer = invoke({"instanceIds": ["ins-tgv10001"]}, CLB_UNBIND_ALLOWED_LOAD_BALANCERS="lb-web00001")
    (outcome,) = answer["records"][0]["instances"]
    assert outcome["status"] == "not_bound" and emu.count("DeregisterTargetGroupInstances") == 0
    (alone,) = outcome["leftAlone"]
    assert alone["targetGroupId"] == "lbtg-v1grp001" and alone["loadBalancerIds"] == ["lb-tgroup01", "lb-tgroup02"]
    assert emu.bindings("ins-tgv10001")

    answer = invoke({"instanceIds": ["ins-tgv10001"]}, CLB_UNBIND_ALLOWED_LOAD_BALANCERS="lb-tgroup02")
    (outcome,) = answer["records"][0]["instances"]
    assert outcome["status"] == "unbound" and emu.bindings("ins-tgv10001") == []
    (removed,) = outcome["removed"]
    assert removed["loadBalancerIds"] == ["lb-tgroup01", "lb-tgroup02"] and "one membership" in removed["note"]


def test_drain_sets_the_members_weight_to_zero_first(emu: Any, invoke: Any) -> None:
    answer = invoke({"instanceIds": ["ins-tgv20001"]}, CLB_UNBIND_DRAIN_SECONDS="0.05")
    assert answer["records"][0]["instances"][0]["status"] == "unbound"
    actions = [c.action for c in emu.calls if c.action in ("ModifyTargetGroupInstancesWeight", "DeregisterTargetGroupInstances")]
    assert actions == ["ModifyTargetGroupInstancesWeight", "DeregisterTargetGroupInstances"]
    (drain,) = [c for c in emu.calls if c.action == "ModifyTargetGroupInstancesWeight"]
    assert drain.params["TargetGroupInstances"] == [{"BindIP": "10.0.1.22", "Port": 8080, "Weight": 0}]
    assert emu.bindings(STAY) == others(emu)[STAY]


@pytest.mark.parametrize("kind", ["v1", "v2", "full-listen"])
def test_a_membership_seen_through_its_listener_is_removed_from_the_group_only(kind: str, make_emulator: Callable[..., Any],
                                                                               function_env: Dict[str, str], invoke: Any,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Should DescribeLBListeners report group members as the listener's targets (undocumented either way),
    the membership is still removed once, from its group, and never with BatchDeregisterTargets."""
    iid, write, _ = KINDS[kind]
    e = make_emulator(kinds_estate(), listeners_show_target_groups=True)
    monkeypatch.setenv("CLB_UNBIND_ENDPOINT", e.endpoint)
    answer = invoke({"instanceIds": [iid]})
    (outcome,) = answer["records"][0]["instances"]
    assert outcome["status"] == "unbound" and len(outcome["removed"]) == 1
    assert e.count("BatchDeregisterTargets") == 0 and e.count(write) == 1
    assert e.bindings(iid) == []


NEW_ACTIONS = frozenset({"DescribeTargetGroupInstances", "DescribeTargetGroups", "DeregisterTargetGroupInstances",
                         "DescribeClassicalLBByInstanceId", "DeregisterTargetsFromClassicalLB", "DescribeNetworkInterfaces",
                         "DescribeTaskStatus", "BatchDeregisterTargets"})


@pytest.mark.parametrize("seed", range(4))
def test_under_faults_unbound_means_unbound_and_bystanders_keep_theirs(seed: int, make_emulator: Callable[..., Any],
                                                                       function_env: Dict[str, str], invoke: Any,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Errors, lost replies, busy groups and failed tasks on the new kinds' calls: whatever an attempt says
    `unbound` has nothing left on any kind, nothing else changes, and retries get there."""
    e = make_emulator(kinds_estate(), seed=seed, error_rate=0.2, drop_reply_rate=0.3, busy_rate=0.3, task_fail_rate=0.3,
                      fault_actions=NEW_ACTIONS)
    monkeypatch.setenv("CLB_UNBIND_ENDPOINT", e.endpoint)
    leaving = sorted(i for i, _, _ in KINDS.values())
    before = others(e)
    left = list(leaving)
    for _ in range(8):
        answer = invoke({"instanceIds": left}, timeout_ms=8000, CLB_UNBIND_RETRY_QUEUE="clb-unbind-retry")
        for o in answer["records"][0]["instances"]:
            if o["status"] == "unbound" or o["status"] == "not_bound":
                assert e.bindings(o["instanceId"]) == [], o
                if o["instanceId"] == "ins-eni00001":
                    assert e.bindings("10.0.2.11") == []
        left = [o["instanceId"] for o in answer["records"][0]["instances"] if o["status"] not in ("unbound", "not_bound")]
        assert others(e) == before
        if not left:
            break
    assert left == [], f"still bound after 8 attempts: {left}"
