"""Workload estates for the emulator, the events that go with them, and their lower bounds on API calls.

One generator, `Shape`, builds every workload: `leaving` instances, each bound on the first `bound_on`
of `load_balancers` load balancers, on every layer-4 listener and every layer-7 rule of those load
balancers, on `ports` ports each. Every listener and rule also holds `stayers` instances that must be
left bound, so a strategy that removes too much is caught. The rest of the account's load balancers
hold only staying instances. Every bind is by InstanceId (`type: cvm`), the bind the naive strategy can
find with `DescribeTargets`.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Dict, List

REGION = "ap-guangzhou"
VPC = "vpc-bench001"
SECRET_ID = "AKIDEMULATORBENCH00000000"
SECRET_KEY = "bench-secret-key-0000"
HOOK = "ash-bench001"
GROUP = "asg-bench001"
MAX_BATCH_TARGETS = 500  # BatchDeregisterTargets: at most 500 targets per call (docs/cloud-facts.md#clb-batchderegistertargets)


def leaving_id(n: int) -> str:
    return f"ins-lv{n:06d}"


def staying_id(n: int) -> str:
    return f"ins-st{n:06d}"


def lb_id(n: int) -> str:
    return f"lb-bn{n:06d}"


def token(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def _ip(block: int, n: int) -> str:
    return f"10.{block}.{n // 200}.{n % 200 + 10}"


@dataclass(frozen=True)
class Shape:
    leaving: int
    load_balancers: int
    bound_on: int
    l4_listeners: int = 1
    l7_listeners: int = 1
    rules_per_l7: int = 1
    ports: int = 1
    stayers: int = 2

    @property
    def lists_per_lb(self) -> int:
        """Target lists (layer-4 listeners plus layer-7 rules) per load balancer."""
        return self.l4_listeners + self.l7_listeners * self.rules_per_l7

    @property
    def bindings_per_instance_per_lb(self) -> int:
        return self.lists_per_lb * self.ports

    @property
    def bindings_per_instance(self) -> int:
        return self.bound_on * self.bindings_per_instance_per_lb

    def leaving_ids(self) -> List[str]:
        return [leaving_id(i) for i in range(self.leaving)]

    def describe(self) -> str:
        l7 = f"{self.l7_listeners} L7 x {self.rules_per_l7} rules" if self.l7_listeners else "no L7"
        return (f"{self.leaving} leaving x {self.bound_on} LBs (of {self.load_balancers}); per LB {self.l4_listeners} L4 + {l7}, "
                f"{self.ports} port(s): {self.bindings_per_instance} bindings per instance")


def build_estate(shape: Shape) -> Dict[str, Any]:
    """The emulator estate (emulator/README.md format) for a shape."""
    n_stayers = max(shape.stayers, 1) * 4
    instances = [{"instanceId": leaving_id(i), "vpcId": VPC, "privateIps": [_ip(1, i)]} for i in range(shape.leaving)]
    instances += [{"instanceId": staying_id(i), "vpcId": VPC, "privateIps": [_ip(2, i)]} for i in range(n_stayers)]
    stay_cursor = [0]

    def stayers() -> List[Dict[str, Any]]:
        out = []
        for _ in range(shape.stayers):
            i = stay_cursor[0] % n_stayers
            stay_cursor[0] += 1
            out.append({"type": "cvm", "instanceId": staying_id(i), "port": 80, "weight": 10})
        return out

    def leavers() -> List[Dict[str, Any]]:
        return [{"type": "cvm", "instanceId": leaving_id(i), "port": 8000 + p, "weight": 10}
                for i in range(shape.leaving) for p in range(shape.ports)]

    balancers = []
    for n in range(shape.load_balancers):
        bound = n < shape.bound_on
        listeners: List[Dict[str, Any]] = []
        l4 = shape.l4_listeners if bound else 1
        for k in range(l4):
            listeners.append({"listenerId": f"lbl-{n:04d}{k:04d}", "protocol": "TCP", "port": 1000 + k,
                              "targets": (leavers() if bound else []) + stayers()})
        for k in range(shape.l7_listeners if bound else 0):
            rules = [{"locationId": f"loc-{n:04d}{k * 100 + r:04d}", "domain": f"d{r}.example.com", "url": f"/l{k}",
                      "targets": leavers() + stayers()} for r in range(shape.rules_per_l7)]
            listeners.append({"listenerId": f"lbl-{n:04d}{9000 + k:04d}", "protocol": "HTTP", "port": 8000 + k, "rules": rules})
        balancers.append({"loadBalancerId": lb_id(n), "vpcId": VPC, "vip": f"10.0.{n // 200}.{n % 200 + 10}",
                          "region": REGION, "forward": 1, "listeners": listeners})
    return {
        "description": f"bench: {shape.describe()}",
        "region": REGION,
        "credentials": [{"secretId": SECRET_ID, "secretKey": SECRET_KEY, "token": None}],
        "instances": instances,
        "loadBalancers": balancers,
        "lifecycleActions": [{"lifecycleHookId": HOOK, "autoScalingGroupId": GROUP, "instanceId": leaving_id(i),
                              "lifecycleActionToken": token(i), "result": None} for i in range(shape.leaving)],
        # The group's hook notifies the function's queue: the hook the function may complete (own_hooks.py).
        "scalingGroups": [{"autoScalingGroupId": GROUP, "name": "bench", "lifecycleHooks": [{
            "lifecycleHookId": HOOK, "lifecycleHookName": "unbind-before-terminate", "lifecycleTransition": "INSTANCE_TERMINATING",
            "notificationTarget": {"targetType": "TDMQ_CMQ_QUEUE", "queueName": LIFECYCLE_QUEUE}}]}],
        "queues": ["clb-unbind-retry", "clb-unbind-dead-letter", LIFECYCLE_QUEUE],
    }


LIFECYCLE_QUEUE = "clb-unbind-lifecycle"
DEAD_LETTER_QUEUE = "clb-unbind-dead-letter"


def fleet_estate(shape: Shape, visibility_timeout: int = 30, groups: int = 1) -> Dict[str, Any]:
    """The shape's estate as Auto Scaling sees it before a scale-in: every instance serving in a scaling
    group (leavers and stayers spread over `groups` groups), each group's terminating hook notifying
    `LIFECYCLE_QUEUE`. `Emulator.scale_in` then starts the hooks and publishes the notifications."""
    estate = build_estate(shape)
    estate.pop("lifecycleActions")
    members = [i["instanceId"] for i in estate["instances"]]
    estate["scalingGroups"] = [
        {"autoScalingGroupId": group_id(g), "name": f"bench-{g}",
         "instances": [{"instanceId": iid, "lifeCycleState": "IN_SERVICE"} for iid in members[g::groups]],
         "lifecycleHooks": [{"lifecycleHookId": hook_id(g), "lifecycleHookName": "unbind-before-terminate",
                             "lifecycleTransition": "INSTANCE_TERMINATING", "defaultResult": "CONTINUE", "heartbeatTimeout": 300,
                             "notificationTarget": {"targetType": "TDMQ_CMQ_QUEUE", "queueName": LIFECYCLE_QUEUE}}]}
        for g in range(groups)
    ]
    estate["queues"] = [
        {"name": LIFECYCLE_QUEUE, "visibilityTimeout": visibility_timeout, "msgRetentionSeconds": 3600,
         "deadLetterQueueName": f"{LIFECYCLE_QUEUE}-dead", "policy": 0, "maxReceiveCount": 5},
        f"{LIFECYCLE_QUEUE}-dead", DEAD_LETTER_QUEUE,
    ]
    return estate


def group_id(g: int) -> str:
    return GROUP if g == 0 else f"asg-group{g:03d}"


def hook_id(g: int) -> str:
    return HOOK if g == 0 else f"ash-hook{g:04d}"


# -- events ----------------------------------------------------------------------------------------
def lifecycle_body(n: int) -> str:
    """The Auto Scaling lifecycle-hook notification for leaving instance n (docs/cloud-facts.md#as-lifecycle-hook-notification)."""
    return json.dumps({
        "Service": "Tencent Cloud Auto Scaling", "Time": "2026-11-22T10:15:11Z", "AppId": "1251783334",
        "ActivityId": "asa-bench001", "AutoScalingGroupId": GROUP, "LifecycleHookId": HOOK,
        "LifecycleHookName": "unbind-before-terminate", "LifecycleActionToken": token(n), "InstanceId": leaving_id(n),
        "LifecycleTransition": "INSTANCE_TERMINATING", "NotificationMetadata": "",
    })


def cmq_event(numbers: List[int]) -> Dict[str, Any]:
    """One CMQ queue event carrying one lifecycle record per leaving instance number."""
    return {"Records": [{"CMQ": {"type": "queue", "topicOwner": 1251783334, "topicName": "clb-unbind-lifecycle",
                                 "subscriptionName": "", "publishTime": "2026-11-22T10:15:12.000Z", "msgId": f"bench-{n}",
                                 "requestId": f"bench-{n}", "msgBody": lifecycle_body(n), "msgTag": ""}} for n in numbers]}


# -- lower bounds ----------------------------------------------------------------------------------
VERIFY = {"clb:DescribeLBListeners"}
"""Actions of the verification read; `call_bound(..., verify=False)` leaves it out."""


def call_bound(shape: Shape, notices: int, verify: bool = True) -> Dict[str, int]:
    """Fewest API calls one invocation handling `notices` lifecycle notices of this shape can make.

    Derivation (bench/README.md): the instances' network place is one CVM DescribeInstances (≤ 100
    ids); their bindings one CLB DescribeLBListeners; each load balancer needs ⌈targets/500⌉
    BatchDeregisterTargets, which are synchronous (docs/cloud-facts.md#clb-batchderegistertargets-is-synchronous), so no DescribeTaskStatus;
    the verification read is a second DescribeLBListeners (counted in the bound; the network place
    cannot change within the invocation, so it needs no second DescribeInstances); each lifecycle
    notice is a claim that Auto Scaling must confirm first (DescribeAutoScalingInstances, ≤ 100 ids;
    its instances wait on the hook, so no DescribeAutoScalingActivities is needed), whose hook must be
    the function's own (DescribeLifecycleHooks, once per 5 groups a run: the workloads have one group),
    and needs its own CompleteLifecycleAction. The bindings of the other kinds cost one read each for
    the batch: target-group memberships (DescribeTargetGroupInstances, a `BindIP` filter of every IP,
    one IP per instance here) and classic load balancers (DescribeClassicalLBByInstanceId); with none
    found, the verification does not read them again. Every private IP of an instance, secondary network
    interfaces included, is one VPC DescribeNetworkInterfaces per 5 instances (`attachment.instance-id`,
    5 values a filter).
    """
    targets_per_lb = notices * shape.bindings_per_instance_per_lb
    writes = shape.bound_on * math.ceil(targets_per_lb / MAX_BATCH_TARGETS)
    return {
        "cvm:DescribeInstances": math.ceil(notices / 100),
        "clb:DescribeLBListeners": (2 if verify else 1) * math.ceil(notices / 100),
        "clb:DescribeTargetGroupInstances": math.ceil(notices / 100),
        "clb:DescribeClassicalLBByInstanceId": math.ceil(notices / 100),
        "vpc:DescribeNetworkInterfaces": math.ceil(notices / 5),
        "clb:BatchDeregisterTargets": writes,
        "as:DescribeAutoScalingInstances": math.ceil(notices / 100),
        "as:DescribeLifecycleHooks": 1,
        "as:CompleteLifecycleAction": notices,
    }


def tasks_per_lb(shape: Shape, invocations: int, notices_per_invocation: int) -> int:
    """Tasks each bound load balancer must run: one write per invocation (or more past 500 targets)."""
    per_invocation = math.ceil(notices_per_invocation * shape.bindings_per_instance_per_lb / MAX_BATCH_TARGETS)
    return invocations * per_invocation


def busy_after_write(shape: Shape, notices_per_invocation: int, task_seconds: float) -> float:
    """How long a load balancer stays busy after one synchronous write: the emulator's model,
    `task_seconds` for a full batch of 500 targets, pro rata below (emulator/services/clb.py)."""
    per_write = min(notices_per_invocation * shape.bindings_per_instance_per_lb, MAX_BATCH_TARGETS)
    return task_seconds * per_write / MAX_BATCH_TARGETS


def wall_bound(shape: Shape, invocations: int, notices_per_invocation: int, task_seconds: float, latency: float,
               rate_limit: int = 0) -> float:
    """Lower bound on wall time. A write answers when it is done and leaves its load balancer busy for
    `busy_after_write`, so one load balancer takes (writes on it) x that. A single invocation also
    needs, one after the other: the Auto Scaling check of the claim (DescribeAutoScalingInstances),
    DescribeInstances, then DescribeLBListeners (it needs the instance's IP), each write on the busiest
    load balancer (a round trip each, the busy time between them), the verification read, the read of
    the group's hooks (is the hook ours?) and CompleteLifecycleAction: 6 round trips + k writes' round
    trips + (k - 1) busy times.

    Many invocations also share each action's `rate_limit` a second (0 = none): N writes in all
    need at least ⌈N / rate⌉ - 1 seconds, whichever load balancer they are for."""
    tasks = tasks_per_lb(shape, invocations, notices_per_invocation)
    busy = busy_after_write(shape, notices_per_invocation, task_seconds)
    if invocations > 1:
        writes = tasks * shape.bound_on
        spread = max(math.ceil(writes / rate_limit) - 1, 0) if rate_limit else 0.0
        return max(tasks * busy, float(spread))
    return 6 * latency + tasks * latency + (tasks - 1) * busy
