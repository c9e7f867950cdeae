"""One seeded chaos run, fully described before anything runs: world, faults, settings and events.

`build(seed)` draws every choice from `random.Random(seed)`; the emulator gets `Knobs(seed=seed)`.
The same seed gives the same scenario; the emulator's faults then follow the order of the calls,
which the handler's concurrency across load balancers can vary, so a replay is close, not exact.

What the events carry (each delivery names the instance ids it asks for, so the checks know what
every record may touch):

* leaving instances as AS lifecycle messages (CMQ, with the estate's tokens; sometimes no token),
  direct invocations (several instances per payload), and SCALE_IN activity notifications (an
  activity added to the estate); the direct shape forged into CMQ messages, which must be refused;
* several records per CMQ event, duplicates (redelivered with the same msgId, or a copy with
  another msgId in the same event) and repeated direct invocations;
* noise that must change nothing: INSTANCE_LAUNCHING messages and dry runs for staying instances;
* malformed records and well-formed ids of instances that do not exist.
"""
from __future__ import annotations

import copy
import json
import random
from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, List, Optional, Set, Tuple

from . import DEAD_LETTER_QUEUE, RETRY_QUEUE
from .estate import KINDS_ONLY, STAYING, build_estate, instance_ids, kinds_tags, load_balancer_ids, token

HANDLER_ACTIONS = (
    "cvm:DescribeInstances", "vpc:DescribeNetworkInterfaces", "clb:DescribeLBListeners", "clb:BatchDeregisterTargets",
    "clb:DescribeTaskStatus", "clb:BatchModifyTargetWeight", "clb:DescribeTargetGroupInstances", "clb:DescribeTargetGroups",
    "clb:DeregisterTargetGroupInstances", "clb:ModifyTargetGroupInstancesWeight", "clb:DescribeClassicalLBByInstanceId",
    "clb:DeregisterTargetsFromClassicalLB", "ecm:DescribeInstances", "ecm:DescribeLoadBalancers", "ecm:DescribeTargets",
    "ecm:BatchDeregisterTargets", "ecm:DescribeLoadBalanceTaskStatus", "as:CompleteLifecycleAction",
    "as:DescribeAutoScalingActivities", "as:DescribeAutoScalingInstances", "as:DescribeLifecycleHooks",
)
"""Every action the function calls except the queue (tdmq:SendCmqMsg) and Cloud Monitor's (the adaptive drain, off
here), as `service:Action` fault targets. The tasks of the target-group and classic writes are clb:DescribeTaskStatus."""
WRITE_ACTIONS = ("clb:BatchDeregisterTargets", "ecm:BatchDeregisterTargets", "as:CompleteLifecycleAction", "clb:BatchModifyTargetWeight",
                 "clb:DeregisterTargetGroupInstances", "clb:ModifyTargetGroupInstancesWeight", "clb:DeregisterTargetsFromClassicalLB")
TASK_ACTIONS = ("clb:BatchDeregisterTargets", "ecm:BatchDeregisterTargets", "clb:DeregisterTargetGroupInstances",
                "clb:DeregisterTargetsFromClassicalLB")
"""The unbinds that run as tasks (clb:BatchDeregisterTargets only with the emulator's `clb_batch_deregister_async`)."""
QUEUE_ACTION = "tdmq:SendCmqMsg"
LISTENERS_SHOW_GROUPS_RATE = 0.3
"""Chance that DescribeLBListeners also reports target-group members as the listeners' targets (the emulator's
`listeners_show_target_groups`: whether the real API does is not documented, so both answers are run)."""

MALFORMED_BODIES = (
    "not json at all",
    "{}",
    "[1, 2, 3]",
    json.dumps({"instanceIds": "ins-web00001"}),
    json.dumps({"instanceIds": []}),
    json.dumps({"instanceIds": ["ins-WEB00002"], "dryRun": False}),
    json.dumps({"kind": "clb-unbind/retry", "version": 1, "attempt": 0, "firstSeen": "2024-05-01T10:00:00Z",
                "notices": [{"instanceId": "ins-web00003", "reason": "x", "source": "cmq", "recordId": "m"}]}),
    json.dumps({"kind": "clb-unbind/unknown", "instanceIds": ["ins-web00004"]}),
)
"""Bodies the function must refuse and dead-letter (`refused_input`; `not_a_queue_payload` for the
direct-invocation shape, which a queue or topic never carries as an order), never act on."""


def refusal_of(body: str) -> str:
    return "not_a_queue_payload" if body.startswith('{"instanceIds"') else "refused_input"

MALFORMED_DIRECT = (
    {"instanceIds": "ins-web00003"},
    {"instanceIds": ["ins-web0000X"]},
    {"instanceIds": ["ins-web00004"], "dryRun": "no"},
)
UNKNOWN_IDS = ("ins-gone0001", "ins-gone0002", "ins-gone0003", "ein-gone0001")
SLOW_API_RATE = 0.05
"""Chance of 0.1–0.4 s of latency on every API reply (tests/chaos/test_found_bugs.py has the case that
made an invocation outlive its time limit)."""
UNKNOWN_ACTIVITY_RATE = 0.1
"""Chance of a SCALE_IN notification for an activity the account does not have (it must be
dead-lettered with its payload; tests/chaos/test_found_bugs.py has the minimal case)."""


def load_balancers_of(estate: Dict[str, Any], instances: Set[str]) -> Set[str]:
    """Load balancers (and target groups) holding a target of one of `instances` by InstanceId or primary IP."""
    found = set()
    for lb in estate["loadBalancers"] + estate.get("ecmLoadBalancers", []):
        for listener in lb["listeners"]:
            for ts in [listener.get("targets", [])] + [r["targets"] for r in listener.get("rules", [])]:
                if any(t.get("instanceId") in instances for t in ts):
                    found.add(lb["loadBalancerId"])
    ips = {(i["vpcId"], i["privateIps"][0]) for i in estate["instances"] if i["instanceId"] in instances}
    for tg in estate.get("targetGroups", []):
        if any((tg["vpcId"], m["privateIp"]) in ips for m in tg["members"]):
            found.add(tg["targetGroupId"])
    for backend in estate.get("classicBackends", []):
        if set(backend["instanceIds"]) & instances:
            found.add(backend["loadBalancerId"])
    return found


def lifecycle_body(instance: str, tok: Optional[str], hook: str = "ash-hook0001", transition: str = "INSTANCE_TERMINATING") -> str:
    body: Dict[str, Any] = {
        "Service": "Tencent Cloud Auto Scaling", "Time": "2026-11-22T10:15:11Z", "AppId": "1251783334",
        "ActivityId": "asa-scalein1", "AutoScalingGroupId": "asg-group001", "LifecycleHookId": hook,
        "LifecycleHookName": "unbind-before-terminate", "InstanceId": instance,
        "LifecycleTransition": transition, "NotificationMetadata": "",
    }
    if tok is not None:
        body["LifecycleActionToken"] = tok
    return json.dumps(body)


def activity_body(activity_id: str) -> str:
    return json.dumps({
        "Service": "Tencent Cloud Auto Scaling", "CreatedTime": "2026-11-22T10:20:39Z", "AppId": "1251783334",
        "ActivityId": activity_id, "AutoScalingGroupId": "asg-group001", "ActivityType": "SCALE_IN",
        "StatusCode": "SUCCESSFUL", "Description": "chaos", "DetailedStatusMessageSet": [],
    })


def cmq_record(msg_id: str, body: str, topic: str = "clb-unbind-lifecycle") -> Dict[str, Any]:
    return {"CMQ": {"type": "queue", "topicOwner": 1251783334, "topicName": topic, "subscriptionName": "",
                    "publishTime": "2026-11-22T10:15:12.000Z", "msgId": msg_id, "requestId": msg_id,
                    "msgBody": body, "msgTag": ""}}


def cmq_event(records: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {"Records": records}


@dataclass
class Record:
    """One record the scenario sends: what it names and what the function must do with it."""

    record_id: str
    """The CMQ msgId, or "direct" (the function's record id for a direct invocation)."""
    names: FrozenSet[str] = frozenset()
    """Instance ids the record asks to unbind (for an activity: the activity's instances)."""
    wet: bool = True
    """False for dry runs and INSTANCE_LAUNCHING: the record must change nothing."""
    malformed: Optional[str] = None
    """The payload as sent, when the record must be refused and dead-lettered with it as `original`."""
    dead_reason: Optional[str] = "refused_input"
    """The reason that dead letter must give (None: any machine-readable reason)."""
    tokens: Tuple[Tuple[str, Optional[str]], ...] = ()
    """(instance id, lifecycle token or None) of a TERMINATING lifecycle message."""
    activities: FrozenSet[str] = frozenset()
    """SCALE_IN activity ids the record names."""


@dataclass
class Delivery:
    """One invocation of `main_handler` and the records it carries."""

    event: Dict[str, Any]
    records: List[Record]


@dataclass
class Scenario:
    seed: int
    estate: Dict[str, Any]
    knobs: Dict[str, Any]
    env: Dict[str, str]
    time_limit_ms: int
    deliveries: List[List[Delivery]]
    """Groups of deliveries; the deliveries of one group are invoked concurrently."""
    locks: List[Tuple[str, float]] = field(default_factory=list)
    """(load balancer, seconds): someone else's task, set before the first delivery."""
    queue_faulted: bool = False
    """Whether tdmq:SendCmqMsg is among the fault targets (then the handler may raise)."""
    retry_batch: int = 1
    """Most retry-queue messages per queue-trigger event."""
    redeliver_rate: float = 0.0
    """Chance that the queue trigger delivers a retry message twice."""
    queue_outage: int = 0
    """The first this many invocations find the queue down (every SendCmqMsg fails); then it recovers."""
    label: str = "demo"
    tags: Set[str] = field(default_factory=set)
    """What this run exercises (for the verbose report and for picking the short suite's seeds)."""

    @property
    def records(self) -> List[Record]:
        return [r for group in self.deliveries for d in group for r in d.records]

    @property
    def leaving(self) -> Set[str]:
        """Existing instances some wet, well-formed record asks to unbind."""
        known = set(instance_ids(self.estate))
        return {i for r in self.records if r.wet and r.malformed is None for i in r.names if i in known}

    @property
    def unknown(self) -> Set[str]:
        known = set(instance_ids(self.estate))
        return {i for r in self.records if r.wet and r.malformed is None for i in r.names if i not in known}

    @property
    def max_attempts(self) -> int:
        return int(self.env["CLB_UNBIND_MAX_ATTEMPTS"])

    def describe(self) -> str:
        k = self.knobs
        faults = ", ".join(f"{n}={k[n]:.2f}" for n in ("error_rate", "drop_reply_rate", "busy_rate", "task_fail_rate") if k.get(n))
        return (f"seed {self.seed}: {self.label} estate, leaving {sorted(self.leaving)}, unknown {sorted(self.unknown)}, "
                f"{sum(len(g) for g in self.deliveries)} invocation(s); faults [{faults or 'none'}] on "
                f"{sorted(k.get('fault_actions') or ['*'])}{', not_bound_as_failure' if k.get('not_bound_as_failure') else ''}; "
                f"locks {self.locks}; tags {sorted(self.tags)}; queue {'down for ' + str(self.queue_outage) + ' invocation(s)' if self.queue_outage else ('faulted' if self.queue_faulted else 'reachable')}; max attempts {self.max_attempts}; time limit {self.time_limit_ms} ms")


LIFECYCLE_QUEUE = "clb-unbind-lifecycle"
ENVELOPE_SECRET = "chaos-envelope-secret-0123456789abcdef0123456789abcdef"


def base_env(max_attempts: int = 3, margin: float = 0.4, poll: float = 0.02) -> Dict[str, str]:
    return {
        "CLB_UNBIND_RETRY_QUEUE": RETRY_QUEUE,
        "CLB_UNBIND_DEAD_LETTER_QUEUE": DEAD_LETTER_QUEUE,
        "CLB_UNBIND_QUEUE": LIFECYCLE_QUEUE,  # the queue the estate's hooks notify: they are the function's own
        "CLB_UNBIND_ENVELOPE_SECRET": ENVELOPE_SECRET,
        "CLB_UNBIND_MAX_ATTEMPTS": str(max_attempts),
        "CLB_UNBIND_TASK_POLL_SECONDS": str(poll),
        "CLB_UNBIND_SAFETY_MARGIN_SECONDS": str(margin),
        "CLB_UNBIND_RETRY_BASE_SECONDS": "0",
        "CLB_UNBIND_LOG_LEVEL": "INFO",
    }


class _Ids:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.n = 0

    def msg(self) -> str:
        self.n += 1
        return f"chaos-{self.seed}-{self.n}"


def _faults(rng: random.Random, seed: int) -> Tuple[Dict[str, Any], bool]:
    knobs: Dict[str, Any] = {"seed": seed, "task_seconds": round(rng.uniform(0.01, 0.05), 3)}
    if rng.random() < 0.85:
        knobs["error_rate"] = round(rng.uniform(0.0, 0.3), 3)
    if rng.random() < 0.6:
        knobs["drop_reply_rate"] = round(rng.uniform(0.0, 0.3), 3)
        knobs["drop_reply_mode"] = rng.choice(["close", "http502"])
    if rng.random() < 0.5:
        knobs["busy_rate"] = round(rng.uniform(0.0, 0.3), 3)
    if rng.random() < 0.5:
        knobs["task_fail_rate"] = round(rng.uniform(0.0, 0.3), 3)
    knobs["not_bound_as_failure"] = rng.random() < 0.3
    if rng.random() < 0.5:
        actions = set(HANDLER_ACTIONS)
    else:
        actions = set(rng.sample(HANDLER_ACTIONS, rng.randint(1, len(HANDLER_ACTIONS))))
    extreme = rng.random()
    tags: Set[str] = set()
    if extreme < 0.08:
        tags.add("drop-all")  # every reply of one kind of write lost after the change was applied
        actions = {rng.choice(WRITE_ACTIONS)}
        knobs["drop_reply_rate"] = 1.0
        knobs["drop_reply_mode"] = rng.choice(["close", "http502"])
    elif extreme < 0.12:  # every unbind task fails
        tags.add("task-fail-all")
        actions = {rng.choice(TASK_ACTIONS)}
        knobs["task_fail_rate"] = 1.0
    queue_faulted = rng.random() < 0.12
    if queue_faulted:
        actions.add(QUEUE_ACTION)
        knobs["drop_reply_rate"] = min(knobs.get("drop_reply_rate", 0.0), 0.3)  # a lost reply makes a duplicate
    knobs["fault_actions"] = sorted(actions)
    if rng.random() < LISTENERS_SHOW_GROUPS_RATE:
        knobs["listeners_show_target_groups"] = True
        tags.add("listeners-show-groups")
    if queue_faulted:
        tags.add("queue-faulted")
    if knobs["not_bound_as_failure"]:
        tags.add("not-bound-as-failure")
    knobs["_tags"] = tags
    return knobs, queue_faulted


def build(seed: int, *, variant: Optional[bool] = None) -> Scenario:
    rng = random.Random(seed)
    estate, label = build_estate(rng, variant)
    knobs, queue_faulted = _faults(rng, seed)
    tags: Set[str] = knobs.pop("_tags")
    if label == "variant":
        tags.add("variant")
    tags |= kinds_tags(estate)
    if any(i["instanceId"].startswith("ins-twin") for i in estate["instances"]):
        tags.add("shared-ip-twins")
    if any("vpcId" in t for lb in estate["loadBalancers"] for lst in lb["listeners"]
           for ts in [lst.get("targets", [])] + [r["targets"] for r in lst.get("rules", [])] for t in ts):
        tags.add("cross-vpc-target")
    env = base_env(max_attempts=rng.choice([2, 3, 4, 5]), margin=round(rng.uniform(0.2, 0.6), 2),
                   poll=round(rng.uniform(0.02, 0.05), 3))
    env["CLB_UNBIND_CONCURRENCY"] = str(rng.randint(1, 4))
    if rng.random() < 0.1:
        env["CLB_UNBIND_DRAIN_SECONDS"] = "0.05"
        tags.add("drain")
    time_limit_ms = rng.choice([2000, 2500, 3000, 4000])

    everyone = instance_ids(estate)
    candidates = [i for i in everyone if i not in STAYING]
    leaving = set(rng.sample(candidates, rng.randint(1, min(6, len(candidates)))))
    only = [i for i in KINDS_ONLY if i in everyone]
    if only and rng.random() < 0.6:  # one bound only through a target group, a classic load balancer or an interface's IP
        leaving.add(rng.choice(only))
    if rng.random() < 0.6:
        leaving.add("ins-web00001")  # shares its IP with ins-other001: the case that must not spill over
    twins = [i for i in estate["instances"] if i["instanceId"].startswith("ins-twin")]
    if twins and rng.random() < 0.4:  # both instances of one IP leave, from two VPCs, in one run
        twin = rng.choice(twins)
        leaving.add(twin["instanceId"])
        leaving.update(i["instanceId"] for i in estate["instances"]
                       if i["privateIps"][0] == twin["privateIps"][0] and i["vpcId"] != twin["vpcId"])
        tags.add("shared-ip-both-leave")
    staying = [i for i in everyone if i not in leaving]
    waiting = {a["instanceId"]: a for a in estate["lifecycleActions"] if a["result"] is None}

    ids = _Ids(seed)
    cmq: List[Tuple[Dict[str, Any], Record]] = []  # CMQ records, packed into events later
    direct: List[Delivery] = []

    def add_cmq(body: str, record: Record) -> None:
        record.record_id = ids.msg()
        cmq.append((cmq_record(record.record_id, body), record))

    def direct_payload(names: List[str], dry: bool = False) -> Dict[str, Any]:
        payload: Dict[str, Any] = {"instanceIds": names}
        if dry or rng.random() < 0.3:
            payload["dryRun"] = dry
        return payload

    plain: List[str] = []
    activity: List[str] = []
    for iid in sorted(leaving):
        ways = ["direct", "direct"]
        if iid in waiting:
            ways += ["lifecycle"] * 3
        if iid.startswith("ins-"):
            ways.append("activity")
        way = rng.choice(ways)
        if way == "lifecycle":
            action = waiting[iid]
            tok = action["lifecycleActionToken"] if rng.random() < 0.9 else None
            add_cmq(lifecycle_body(iid, tok, action["lifecycleHookId"]),
                    Record("", frozenset([iid]), tokens=((iid, tok),)))
            tags.add("lifecycle" if tok else "lifecycle-no-token")
            if rng.random() < 0.2:  # also named directly: two notices for one instance
                plain.append(iid)
        elif way == "activity":
            activity.append(iid)
        else:
            plain.append(iid)

    unknown = [u for u in UNKNOWN_IDS if rng.random() < 0.12]
    if rng.random() < 0.08:  # a lifecycle message for an instance that does not exist
        gone = rng.choice(UNKNOWN_IDS[:3])
        add_cmq(lifecycle_body(gone, token(rng)), Record("", frozenset([gone])))
        tags.add("unknown")
    names = plain + unknown
    if unknown:
        tags.add("unknown")
    rng.shuffle(names)
    while names:
        size = rng.randint(1, 3)
        part, names = names[:size], names[size:]
        payload = direct_payload(part)
        direct.append(Delivery(payload, [Record("direct", frozenset(part))]))
        if rng.random() < 0.3:  # the same order forged into the queue: refused, it is nobody's word there
            body = json.dumps(payload)
            add_cmq(body, Record("", malformed=body, dead_reason="not_a_queue_payload"))
            tags.add("forged-order")

    if activity:
        activity_id = "asa-chaos001"
        estate.setdefault("activities", []).append({
            "activityId": activity_id, "autoScalingGroupId": "asg-group001", "activityType": "SCALE_IN",
            "statusCode": "SUCCESSFUL", "relatedInstances": [{"instanceId": i, "instanceStatus": "SUCCESSFUL"} for i in activity],
        })
        add_cmq(activity_body(activity_id), Record("", frozenset(activity), activities=frozenset([activity_id])))
        tags.add("activity")

    # Noise that must change nothing.
    if staying and rng.random() < 0.3:
        iid = rng.choice(staying)
        add_cmq(lifecycle_body(iid, token(rng), transition="INSTANCE_LAUNCHING"), Record("", frozenset([iid]), wet=False))
        tags.add("launching-noise")
    if staying and rng.random() < 0.25:
        part = rng.sample(staying, min(len(staying), rng.randint(1, 2)))
        record = Record("direct", frozenset(part), wet=False)
        tags.add("dry-run-noise")
        if rng.random() < 0.5:
            direct.append(Delivery(direct_payload(part, dry=True), [record]))
        else:
            body = json.dumps(direct_payload(part, dry=True))
            add_cmq(body, Record("", malformed=body, dead_reason="not_a_queue_payload"))
    if rng.random() < 0.3:
        body = rng.choice(MALFORMED_BODIES)
        add_cmq(body, Record("", malformed=body, dead_reason=refusal_of(body)))
        tags.add("malformed")
    if rng.random() < UNKNOWN_ACTIVITY_RATE:
        body = activity_body("asa-gone0001")
        add_cmq(body, Record("", malformed=body, dead_reason=None, activities=frozenset(["asa-gone0001"])))
        tags.add("unknown-activity")
    if rng.random() < 0.1:
        event = copy.deepcopy(rng.choice(MALFORMED_DIRECT))
        direct.append(Delivery(event, [Record("direct", malformed=json.dumps(event))]))
        tags.add("malformed")

    # Duplicates: a redelivery (same msgId, a later event) or a copy in the same event (another msgId).
    again: List[Tuple[Dict[str, Any], Record]] = []
    for raw, record in list(cmq):
        roll = rng.random()
        if roll < 0.15:
            again.append((copy.deepcopy(raw), record))
            tags.add("duplicates")
        elif roll < 0.25:
            twin = copy.deepcopy(raw)
            twin_record = Record(ids.msg(), record.names, record.wet, record.malformed, record.dead_reason, record.tokens,
                                 record.activities)
            twin["CMQ"]["msgId"] = twin["CMQ"]["requestId"] = twin_record.record_id
            cmq.append((twin, twin_record))
            tags.add("duplicates")
    for delivery in list(direct):
        if rng.random() < 0.2:
            direct.append(Delivery(copy.deepcopy(delivery.event), list(delivery.records)))
            tags.add("duplicates")

    rng.shuffle(cmq)
    events: List[Delivery] = []
    while cmq:
        size = rng.randint(1, 4)
        part, cmq = cmq[:size], cmq[size:]
        events.append(Delivery(cmq_event([raw for raw, _ in part]), [r for _, r in part]))
    events.extend(direct)
    rng.shuffle(events)
    for raw, record in again:  # redeliveries come after the first delivery
        events.append(Delivery(cmq_event([raw]), [record]))

    groups: List[List[Delivery]] = []
    concurrent = rng.random() < 0.15
    if concurrent:
        tags.add("concurrent")
    while events:
        size = 2 if concurrent and len(events) > 1 and rng.random() < 0.6 else 1
        groups.append(events[:size])
        events = events[size:]

    locks: List[Tuple[str, float]] = []
    if rng.random() < 0.15:
        lbs = load_balancer_ids(estate)
        for lb in rng.sample(lbs, rng.randint(1, 2)):
            locks.append((lb, round(rng.uniform(0.2, 2.5), 2)))
        tags.add("lock")
    if rng.random() < 0.03:  # someone else's task outlasts every attempt: the work must end in the dead-letter queue
        mine = sorted(load_balancers_of(estate, leaving))
        if mine:
            locks.append((rng.choice(mine), 60.0))
            tags.add("lock-forever")
    if rng.random() < SLOW_API_RATE:
        knobs["latency_seconds"] = round(rng.uniform(0.1, 0.4), 2)
        tags.add("slow-api")

    outage = 0
    if rng.random() < 0.06:  # the queue is down for the first few invocations, then comes back
        outage = rng.randint(1, 4)
        queue_faulted = True
        tags.update({"queue-faulted", "queue-outage"})

    return Scenario(
        seed=seed, estate=estate, knobs=knobs, env=env, time_limit_ms=time_limit_ms, deliveries=groups,
        locks=locks, queue_faulted=queue_faulted, retry_batch=rng.randint(1, 3),
        redeliver_rate=rng.choice([0.0, 0.0, 0.1, 0.2]), queue_outage=outage, label=label, tags=tags,
    )
