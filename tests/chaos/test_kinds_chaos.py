"""The chaos suite and every kind of binding (issue 18, "Chaos covers the new kinds").

A seeded estate (chaos/estate.py, `_add_kinds`) holds target groups v1, v2 and full-listen, a group in
another VPC holding main-VPC IPs, classic load balancers, and binds on secondary network interfaces' IPs,
with bystanders bound through the same listener, group or classic load balancer: `ins-keeper01`, which
now holds eni-moved001 (once another instance's), and the IP of eni-loose001, which nobody holds.

These tests show that the harness sees every kind: faults land on the new actions, a leaving instance is
unbound only when no binding of any kind is left (chaos/holdings.py), and a bystander's membership,
classic backend or interface-IP bind is never someone else's to remove.
"""
from __future__ import annotations

import copy
import random
from typing import Any, Callable, Dict, List

import pytest

from chaos.estate import KEEPER, KINDS_ONLY, build_estate, kinds_tags
from chaos.invariants import RunResult, check
from chaos.runner import Trace, run
from chaos.scenario import HANDLER_ACTIONS, Delivery, Record, Scenario, base_env, cmq_event, cmq_record, lifecycle_body
from tests.chaos.test_chaos import emulator_action

ESTATE_SEED = 98
"""A variant estate with every kind: v1, v2 and full-listen groups, the other-VPC group, two classic load
balancers, ins-ktg00001/2, and ins-keeper01 bound through eni-moved001's IP on a listener and in a group."""
TOKEN_KENI = "7c1d2e3f-4a5b-4c6d-8e7f-001122334455"
NEW_ACTIONS = ("clb:DescribeTargetGroupInstances", "clb:DescribeTargetGroups", "clb:DeregisterTargetGroupInstances",
               "clb:ModifyTargetGroupInstancesWeight", "clb:DescribeClassicalLBByInstanceId",
               "clb:DeregisterTargetsFromClassicalLB", "vpc:DescribeNetworkInterfaces")


def explain(result: RunResult) -> str:
    return "\n".join([result.description, *result.violations])


def kinds_estate() -> Dict[str, Any]:
    """The seed-98 variant estate, with a pending lifecycle action for ins-keni0001 (bound only through its
    secondary interface's IPs)."""
    estate, label = build_estate(random.Random(ESTATE_SEED), variant=True)
    assert label == "variant"
    estate["lifecycleActions"] = [a for a in estate["lifecycleActions"] if a["instanceId"] != "ins-keni0001"]
    estate["lifecycleActions"].append({"lifecycleHookId": "ash-hook0001", "autoScalingGroupId": "asg-group001",
                                       "instanceId": "ins-keni0001", "lifecycleActionToken": TOKEN_KENI, "result": None})
    related = estate["activities"][0]["relatedInstances"]
    if not any(r["instanceId"] == "ins-keni0001" for r in related):
        related.append({"instanceId": "ins-keni0001", "instanceStatus": "RUNNING"})
    return estate


def kinds_scenario(*, knobs: Dict[str, Any] | None = None, env: Dict[str, str] | None = None) -> Scenario:
    """ins-keni0001 by its lifecycle message; every other instance bound only one new way, and ins-web00002, directly."""
    estate = kinds_estate()
    present = [i for i in KINDS_ONLY if any(x["instanceId"] == i for x in estate["instances"]) and i != "ins-keni0001"]
    body = lifecycle_body("ins-keni0001", TOKEN_KENI)
    deliveries = [
        [Delivery(cmq_event([cmq_record("m-keni", body)]), [Record("m-keni", frozenset(["ins-keni0001"]),
                                                                  tokens=(("ins-keni0001", TOKEN_KENI),))])],
        [Delivery({"instanceIds": present + ["ins-web00002"]}, [Record("direct", frozenset(present + ["ins-web00002"]))])],
    ]
    return Scenario(seed=ESTATE_SEED, estate=estate, knobs={"seed": ESTATE_SEED, "task_seconds": 0.02, **(knobs or {})},
                    env={**base_env(max_attempts=3), **(env or {})}, time_limit_ms=3000, deliveries=deliveries,
                    label="variant", tags=kinds_tags(estate))


def test_the_kinds_estate_holds_every_kind_and_its_bystanders() -> None:
    estate = kinds_estate()
    assert {"target-group-v1", "target-group-v2", "full-listen-group", "group-ip-reused-in-other-vpc", "classic",
            "secondary-eni-ip", "moved-eni-ip", "loose-eni-ip"} <= kinds_tags(estate)
    trace = run(kinds_scenario(knobs={"error_rate": 1.0, "fault_actions": ["as:CompleteLifecycleAction"]}))
    kinds_of_keeper = {trace.kinds[k] for k in trace.before if k[5] == KEEPER}
    assert {"eni_ip", "target_group", "classic"} <= kinds_of_keeper
    assert any(k[5] is None and trace.kinds[k] == "target_group" for k in trace.before)  # eni-loose001's IP, nobody's
    keni = trace.before_by_instance["ins-keni0001"]
    assert keni and all(b[3].startswith("10.0.6.") for b in keni)  # only its secondary interface's IPs


def test_faults_reach_every_new_action() -> None:
    assert set(NEW_ACTIONS) <= set(HANDLER_ACTIONS)
    trace = run(kinds_scenario(knobs={"error_rate": 0.3, "busy_rate": 0.3, "drop_reply_rate": 0.3, "task_fail_rate": 0.3,
                                      "fault_actions": list(NEW_ACTIONS)}))
    result = check(trace)
    assert result.ok, explain(result)
    faulted = {f"{c.service}:{c.action}" for c in trace.calls if c.error_code or c.dropped}
    assert {"clb:DescribeTargetGroupInstances", "clb:DeregisterTargetGroupInstances", "vpc:DescribeNetworkInterfaces"} <= faulted
    for kind in ("target_group", "classic", "eni_ip"):
        assert result.counts[f"removed_{kind}"] > 0 and result.counts[f"kept_{kind}"] > 0, (kind, result.counts)
    assert result.counts["lost"] == 0 and result.counts["wrong_unbinds"] == 0


# ------------------------------------------------------------------------------------------- the checks bite
def test_the_checks_catch_an_instance_left_bound_on_its_secondary_interface() -> None:
    """A cloud whose DescribeNetworkInterfaces answers nothing: the function sees only ins-keni0001's primary IP,
    finds no binding, and completes its lifecycle action while 10.0.6.11 and 10.0.6.12 still serve it. Before
    the harness knew interfaces, it judged this run clean."""

    def blind(original: Callable, ctx: Any, params: dict) -> dict:
        return {"TotalCount": 0, "NetworkInterfaceSet": []}

    with emulator_action("vpc", "DescribeNetworkInterfaces", blind):
        result = check(run(kinds_scenario()))
    text = "\n".join(result.violations)
    assert "LOST: ins-keni0001 is still bound" in text and "10.0.6.11" in text
    assert "lifecycle action of ins-keni0001 completed (CONTINUE) while it was still bound" in text
    assert result.outcome["ins-keni0001"] == "lost"


def test_the_checks_catch_an_unbind_through_an_ip_that_moved_to_a_bystander() -> None:
    """A cloud that still reports eni-moved001 attached to ins-keni0001 (stale): the function takes the moved
    IP for the leaving instance's and removes ins-keeper01's binds on it, target-group memberships included."""

    def stale(original: Callable, ctx: Any, params: dict) -> dict:
        reply = original(ctx, params)
        if any("ins-keni0001" in f["Values"] for f in params.get("Filters") or []):
            (moved,) = original(ctx, {"NetworkInterfaceIds": ["eni-moved001"]})["NetworkInterfaceSet"]
            moved["Attachment"]["InstanceId"] = "ins-keni0001"
            reply = {"TotalCount": reply["TotalCount"] + 1, "NetworkInterfaceSet": reply["NetworkInterfaceSet"] + [moved]}
        return reply

    with emulator_action("vpc", "DescribeNetworkInterfaces", stale):
        result = check(run(kinds_scenario()))
    text = "\n".join(result.violations)
    assert f"WRONG UNBIND: {KEEPER} lost its eni_ip binding lb-kinds001/lbl-kindeni1" in text
    assert f"WRONG UNBIND: {KEEPER} lost its target_group binding" in text
    assert result.counts["wrong_unbinds"] >= 2


@pytest.fixture(scope="module")
def benign() -> Trace:
    trace = run(kinds_scenario())
    result = check(trace)
    assert result.ok, explain(result)
    return trace


def test_the_checks_catch_a_leftover_membership_and_classic_backend(benign: Trace) -> None:
    trace = copy.deepcopy(benign)
    leaving = "ins-ktg00001"
    assert trace.after_by_instance[leaving] == [] and any(k[5] == leaving and trace.kinds[k] == "target_group" for k in trace.before)
    membership = next(k for k in trace.before if k[5] == leaving and trace.kinds[k] == "target_group")
    trace.after[membership] = trace.before[membership]
    trace.after_by_instance[leaving] = [(membership[0], membership[1], "", membership[3], membership[4], 10)]
    classic = next(k for k in trace.before if k[5] == "ins-kcl00001")
    trace.after_by_instance["ins-kcl00001"] = [(classic[0], classic[1], "", classic[3], classic[4], 10)]
    result = check(trace)
    text = "\n".join(result.violations)
    assert f"LOST: {leaving} is still bound (1 binding(s): {membership[0]}/target-group" in text
    assert "LOST: ins-kcl00001 is still bound (1 binding(s): lb-classic" in text
    assert result.counts["lost"] == 2


def test_the_checks_catch_a_bystanders_lost_membership_classic_backend_and_nobodys_ip(benign: Trace) -> None:
    trace = copy.deepcopy(benign)
    removed: List[Any] = []
    for kind in ("target_group", "classic"):
        key = next(k for k in trace.after if k[5] == KEEPER and trace.kinds[k] == kind)
        del trace.after[key]
        removed.append(key)
    loose = next(k for k in trace.after if k[5] is None and trace.kinds[k] == "target_group")
    trace.after[loose] = 0  # drained, not removed
    result = check(trace)
    text = "\n".join(result.violations)
    assert f"WRONG UNBIND: {KEEPER} lost its target_group binding {removed[0][0]}/target-group" in text
    assert f"WRONG UNBIND: {KEEPER} lost its classic binding {removed[1][0]}/classic" in text
    assert f"WRONG CHANGE: weight of {loose[3]} on target_group {loose[0]}/target-group" in text
    assert result.counts["wrong_unbinds"] == 3
