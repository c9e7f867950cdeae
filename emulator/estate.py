"""The emulated estate: credentials, instances, load balancers and their bindings, Auto Scaling
groups (members, lifecycle hooks, lifecycle actions, activities), and TDMQ-CMQ queue attributes.

It is loaded from a JSON document (format in ``emulator/README.md``), validated strictly (a typo
in an estate file should fail loudly, not produce a silently different cloud), and held in plain
dataclasses. The :class:`~emulator.core.Emulator` guards it with one lock; nothing here is
thread-safe on its own.
"""
from __future__ import annotations

import ipaddress
import re
import time
from datetime import datetime, timezone
from dataclasses import dataclass, field
from typing import Any, Iterator

from . import bindings as extra_bindings
from .connections import ConnectionModel

L7_PROTOCOLS = frozenset({"HTTP", "HTTPS"})
L4_PROTOCOLS = frozenset({"TCP", "UDP", "TCP_SSL", "QUIC"})
LISTENER_TARGET_TYPES = ("NODE", "POLARIS", "TARGETGROUP", "TARGETGROUP-V2")  # SDK clb Listener.TargetType

# Id shapes: 8 lower-case letters/digits after the prefix (CVM doc "ins-xxxxxxxx", CLB "lb-12345678",
# "lbl-12345678", "loc-12345678", ECM "ein-xxxxxxxx", AS "ash-"/"asg-"/"asa-xxxxxxxx").
ID_RE = {
    "ins": re.compile(r"^ins-[a-z0-9]{8}$"),
    "ein": re.compile(r"^ein-[a-z0-9]{8}$"),
    "lb": re.compile(r"^lb-[a-z0-9]{8}$"),
    "lbl": re.compile(r"^lbl-[a-z0-9]{8}$"),
    "loc": re.compile(r"^loc-[a-z0-9]{8}$"),
    "ash": re.compile(r"^ash-[a-z0-9]{8}$"),
    "asg": re.compile(r"^asg-[a-z0-9]{8}$"),
    "asa": re.compile(r"^asa-[a-z0-9]{8}$"),
    "vpc": re.compile(r"^vpc-[a-z0-9]{8}$"),
}

DEFAULT_TIME = "2024-01-01 00:00:00"


class EstateError(ValueError):
    """The estate document is malformed; the message names the offending path."""


@dataclass
class Credential:
    secret_id: str
    secret_key: str
    token: str | None = None


@dataclass
class Instance:
    """A CVM (``kind="cvm"``) or ECM (``kind="ecm"``) instance.

    ``private_ips`` are the primary NIC's private IPs, primary first (CVM
    ``Instance.PrivateIpAddresses``: "实例主网卡的内网IP列表"); binding by ``InstanceId`` means the
    first one.
    """

    instance_id: str
    kind: str
    vpc_id: str
    private_ips: list[str]
    state: str = "RUNNING"
    region: str = ""
    subnet_id: str = ""
    name: str = ""
    zone: str = ""

    @property
    def primary_ip(self) -> str:
        return self.private_ips[0]


@dataclass
class Target:
    """A bound backend: ``type`` "cvm" (bound by InstanceId) or "eni" (bound by IP)."""

    type: str
    ip: str
    port: int
    weight: int
    vpc_id: str
    instance_id: str | None = None
    registered_time: str = DEFAULT_TIME

    def key(self) -> tuple[str, int]:
        return (self.ip, self.port)


@dataclass
class Rule:
    location_id: str
    domain: str
    url: str
    targets: list[Target] = field(default_factory=list)


@dataclass
class Listener:
    listener_id: str
    protocol: str
    port: int
    end_port: int | None = None
    name: str = ""
    targets: list[Target] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    target_type: str | None = None
    """SDK clb ``Listener.TargetType``: NODE, POLARIS, TARGETGROUP or TARGETGROUP-V2; None: TARGETGROUP(-V2)
    when a target group of the estate is associated with the listener, else NODE (DescribeListeners)."""
    deregister_target_rst: bool = False
    reschedule_interval: int = 0
    reschedule_start_time: int = 0
    """``DeregisterTargetRst`` / ``RescheduleInterval`` / ``RescheduleStartTime``: "仅TCP/UDP监听器支持"."""

    @property
    def is_l7(self) -> bool:
        return self.protocol in L7_PROTOCOLS

    def rule(self, location_id: str) -> Rule | None:
        return next((r for r in self.rules if r.location_id == location_id), None)

    def rule_by_domain_url(self, domain: str, url: str) -> Rule | None:
        return next((r for r in self.rules if r.domain == domain and r.url == url), None)

    def target_lists(self) -> Iterator[tuple[str | None, list[Target]]]:
        """``(location_id, targets)`` for the listener itself (L4) or each rule (L7)."""
        if self.is_l7:
            for rule in self.rules:
                yield rule.location_id, rule.targets
        else:
            yield None, self.targets


@dataclass
class LoadBalancer:
    """A CLB (``kind="clb"``) or ECM (``kind="ecm"``) load balancer."""

    lb_id: str
    kind: str
    vpc_id: str
    vip: str
    region: str
    listeners: list[Listener] = field(default_factory=list)
    forward: int = 1
    name: str = ""
    lb_type: str = "INTERNAL"
    subnet_id: str = ""
    create_time: str = DEFAULT_TIME

    def listener(self, listener_id: str) -> Listener | None:
        return next((l for l in self.listeners if l.listener_id == listener_id), None)

    def target_count(self) -> int:
        return sum(len(ts) for l in self.listeners for _, ts in l.target_lists())


@dataclass
class LifecycleAction:
    hook_id: str
    group_id: str
    instance_id: str
    token: str
    result: str | None = None
    transition: str = "INSTANCE_TERMINATING"
    completions: int = 0
    reason: str = ""
    """``ResultReason`` when Auto Scaling itself ended the wait (``HEARTBEAT_TIMEOUT``, ...); empty: by the API."""
    notification: str = "SUCCESSFUL"


@dataclass
class Activity:
    activity_id: str
    group_id: str
    activity_type: str
    status_code: str
    related: list[tuple[str, str]] = field(default_factory=list)
    cause: str = ""
    description: str = ""
    status_message: str = ""
    start_time: str = "2024-01-01T00:00:00Z"
    end_time: str = "2024-01-01T00:01:00Z"
    created_time: str = "2024-01-01T00:00:00Z"


# LifeCycleState values (SDK autoscaling ``Instance.LifeCycleState``; docs/cloud-facts.md#as-instance-states).
LIFE_CYCLE_STATES = frozenset({
    "IN_SERVICE", "CREATING", "CREATION_FAILED", "TERMINATING", "TERMINATION_FAILED", "ATTACHING", "ATTACH_FAILED",
    "DETACHING", "DETACH_FAILED", "ATTACHING_LB", "DETACHING_LB", "MODIFYING_LB", "STARTING", "START_FAILED",
    "STOPPING", "STOP_FAILED", "STOPPED", "IN_LAUNCHING_HOOK", "IN_TERMINATING_HOOK",
})
HOOK_STATE = {"INSTANCE_TERMINATING": "IN_TERMINATING_HOOK", "INSTANCE_LAUNCHING": "IN_LAUNCHING_HOOK"}
TARGET_TYPES = frozenset({"CMQ_QUEUE", "CMQ_TOPIC", "TDMQ_CMQ_QUEUE", "TDMQ_CMQ_TOPIC"})


@dataclass
class Member:
    """An instance of a scaling group (SDK autoscaling ``Instance``). ``left_at`` is when a TERMINATING
    member leaves the group (see the ``as_terminate_seconds`` knob); ``terminating_since`` is wall time."""

    instance_id: str
    group_id: str
    state: str = "IN_SERVICE"
    health: str = "HEALTHY"
    protected: bool = False
    creation_type: str = "AUTO_CREATION"
    add_time: str = "2024-01-01T00:00:00Z"
    instance_type: str = "S5.MEDIUM4"
    terminating_since: float | None = None


@dataclass
class Hook:
    """A lifecycle hook (SDK autoscaling ``LifecycleHook`` / ``NotificationTarget``; docs/cloud-facts.md#as-lifecycle-hooks)."""

    hook_id: str
    name: str
    group_id: str
    transition: str = "INSTANCE_TERMINATING"
    default_result: str = "CONTINUE"
    heartbeat_timeout: int = 300
    metadata: str = ""
    target_type: str | None = None
    queue_name: str | None = None
    topic_name: str | None = None
    transition_type: str = "NORMAL"
    created_time: str = "2024-01-01T00:00:00Z"
    declared: bool = True


@dataclass
class Group:
    group_id: str
    name: str
    region: str
    members: dict[str, Member] = field(default_factory=dict)
    declared: bool = True
    forward_load_balancers: list[dict[str, Any]] = field(default_factory=list)
    """SDK autoscaling ``ForwardLoadBalancer`` {LoadBalancerId, ListenerId, LocationId, TargetAttributes, Region}."""
    load_balancer_ids: list[str] = field(default_factory=list)
    """Classic load balancers (``LoadBalancerIdSet``); a group has these or forward ones, never both."""


@dataclass
class Queue:
    """A TDMQ-for-CMQ queue's attributes (``CreateCmqQueueRequest``; docs/cloud-facts.md#cmq-queue-semantics). Its messages
    live in :class:`emulator.cmq.broker.Broker`.

    ``policy`` 0: a message received ``max_receive_count`` times without being deleted moves to
    ``dead_letter_queue_name``; 1: a message not deleted ``max_time_to_live`` seconds after it was sent.
    """

    name: str
    msg_retention_seconds: int = 3600
    max_msg_size: int = 1048576
    visibility_timeout: int = 30
    polling_wait_seconds: int = 0
    dead_letter_queue_name: str | None = None
    policy: int = 0
    max_receive_count: int = 0
    max_time_to_live: int = 0

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "msgRetentionSeconds": self.msg_retention_seconds,
                             "maxMsgSize": self.max_msg_size, "visibilityTimeout": self.visibility_timeout,
                             "pollingWaitSeconds": self.polling_wait_seconds}
        if self.dead_letter_queue_name:
            d["deadLetterQueueName"] = self.dead_letter_queue_name
            d["policy"] = self.policy
            d["maxReceiveCount" if self.policy == 0 else "maxTimeToLive"] = (
                self.max_receive_count if self.policy == 0 else self.max_time_to_live)
        return d


@dataclass
class Estate:
    region: str
    credentials: list[Credential]
    instances: dict[str, Instance]
    load_balancers: dict[str, LoadBalancer]
    lifecycle_actions: list[LifecycleAction]
    activities: dict[str, Activity]
    queues: dict[str, Queue]
    vpc_numbers: dict[str, int]
    groups: dict[str, Group] = field(default_factory=dict)
    hooks: dict[str, Hook] = field(default_factory=dict)
    app_id: str = "1251783334"
    extras: extra_bindings.Extras = field(default_factory=extra_bindings.Extras)
    """Target groups and classic load balancers' backends (``emulator/bindings.py``)."""
    connections: ConnectionModel = field(default_factory=ConnectionModel)
    """Backends' connections as Cloud Monitor reports them (``emulator/connections.py``)."""

    # ----------------------------------------------------------------- loading
    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> "Estate":
        return _Loader(doc).load()

    # ----------------------------------------------------------------- queries
    def credential(self, secret_id: str) -> Credential | None:
        return next((c for c in self.credentials if c.secret_id == secret_id), None)

    def instance_by_ip(self, ip: str, vpc_id: str, kind: str) -> Instance | None:
        return next(
            (i for i in self.instances.values() if i.kind == kind and i.vpc_id == vpc_id and ip in i.private_ips),
            None,
        )

    def vpc_number(self, vpc_id: str) -> int:
        """Numeric VPC id (``LbRsTargets.VpcId`` is typed int in the SDK)."""
        if vpc_id not in self.vpc_numbers:
            self.vpc_numbers[vpc_id] = 100000 + len(self.vpc_numbers) + 1
        return self.vpc_numbers[vpc_id]

    def regions(self) -> set[str]:
        found = {self.region}
        found.update(lb.region for lb in self.load_balancers.values() if lb.kind == "clb")
        found.update(i.region for i in self.instances.values() if i.kind == "cvm")
        return found

    def member(self, instance_id: str) -> Member | None:
        return next((g.members[instance_id] for g in self.groups.values() if instance_id in g.members), None)

    def iter_bindings(self) -> Iterator[tuple[LoadBalancer, Listener, str | None, Target]]:
        for lb in self.load_balancers.values():
            for listener in lb.listeners:
                for location_id, targets in listener.target_lists():
                    for target in targets:
                        yield lb, listener, location_id, target

    # ----------------------------------------------------------------- writes (applied by tasks)
    def remove_target(self, lb_id: str, listener_id: str, location_id: str | None, ip: str, port: int) -> bool:
        targets = self._targets(lb_id, listener_id, location_id)
        if targets is None:
            return False
        for i, t in enumerate(targets):
            if t.ip == ip and t.port == port:
                del targets[i]
                return True
        return False

    def set_weight(self, lb_id: str, listener_id: str, location_id: str | None, ip: str, port: int, weight: int) -> bool:
        targets = self._targets(lb_id, listener_id, location_id)
        for t in targets or ():
            if t.ip == ip and t.port == port:
                t.weight = weight
                return True
        return False

    def _targets(self, lb_id: str, listener_id: str, location_id: str | None) -> list[Target] | None:
        lb = self.load_balancers.get(lb_id)
        listener = lb.listener(listener_id) if lb else None
        if listener is None:
            return None
        if listener.is_l7:
            rule = listener.rule(location_id or "")
            return rule.targets if rule else None
        return listener.targets

    # ----------------------------------------------------------------- snapshot
    def to_dict(self) -> dict[str, Any]:
        """The current state in the estate file format (reloadable with :meth:`from_dict`)."""

        def target(t: Target, ecm: bool, lb_vpc: str) -> dict[str, Any]:
            d: dict[str, Any] = {"privateIp": t.ip, "port": t.port, "weight": t.weight}
            if not ecm:
                d["type"] = t.type
            if t.instance_id:
                d["instanceId"] = t.instance_id
            if t.vpc_id != lb_vpc:  # a cross-VPC target: its IP is in another VPC than the load balancer's
                d["vpcId"] = t.vpc_id
            return d

        def listener(l: Listener, ecm: bool, vpc: str) -> dict[str, Any]:
            d: dict[str, Any] = {"listenerId": l.listener_id, "protocol": l.protocol, "port": l.port}
            if l.end_port:
                d["endPort"] = l.end_port
            if l.target_type:
                d["targetType"] = l.target_type
            if l.deregister_target_rst or l.reschedule_interval or l.reschedule_start_time:
                d.update(deregisterTargetRst=l.deregister_target_rst, rescheduleInterval=l.reschedule_interval,
                         rescheduleStartTime=l.reschedule_start_time)
            if l.is_l7:
                d["rules"] = [
                    {"locationId": r.location_id, "domain": r.domain, "url": r.url,
                     "targets": [target(t, ecm, vpc) for t in r.targets]}
                    for r in l.rules
                ]
            else:
                d["targets"] = [target(t, ecm, vpc) for t in l.targets]
            return d

        clbs, ecms = [], []
        for lb in self.load_balancers.values():
            d = {"loadBalancerId": lb.lb_id, "vpcId": lb.vpc_id, "vip": lb.vip, "name": lb.name,
                 "listeners": [listener(l, lb.kind == "ecm", lb.vpc_id) for l in lb.listeners]}
            if lb.kind == "ecm":
                d["ecmRegion"] = lb.region
                ecms.append(d)
            else:
                d.update(region=lb.region, forward=lb.forward)
                clbs.append(d)
        return {
            "region": self.region,
            "credentials": [{"secretId": c.secret_id, "secretKey": "***", "token": "***" if c.token else None}
                            for c in self.credentials],
            "instances": [{"instanceId": i.instance_id, "vpcId": i.vpc_id, "privateIps": list(i.private_ips),
                           "state": i.state, "region": i.region}
                          for i in self.instances.values() if i.kind == "cvm"],
            "ecmInstances": [{"instanceId": i.instance_id, "vpcId": i.vpc_id, "privateIps": list(i.private_ips),
                              "state": i.state, "ecmRegion": i.region}
                             for i in self.instances.values() if i.kind == "ecm"],
            "loadBalancers": clbs,
            "ecmLoadBalancers": ecms,
            "lifecycleActions": [{"lifecycleHookId": a.hook_id, "autoScalingGroupId": a.group_id,
                                  "instanceId": a.instance_id, "lifecycleActionToken": a.token,
                                  "result": a.result, "completions": a.completions}
                                 for a in self.lifecycle_actions],
            "activities": [{"activityId": a.activity_id, "autoScalingGroupId": a.group_id,
                            "activityType": a.activity_type, "statusCode": a.status_code,
                            "relatedInstances": [{"instanceId": i, "instanceStatus": s} for i, s in a.related]}
                           for a in self.activities.values()],
            "queues": [q.to_dict() for q in self.queues.values()],
            "appId": self.app_id,
            "scalingGroups": [_group_dict(g, self) for g in self.groups.values()],
            **extra_bindings.to_dict(self.extras),
        }


def _group_dict(g: Group, estate: Estate) -> dict[str, Any]:
    hooks = []
    for h in estate.hooks.values():
        if h.group_id != g.group_id:
            continue
        d: dict[str, Any] = {"lifecycleHookId": h.hook_id, "lifecycleHookName": h.name,
                             "lifecycleTransition": h.transition, "defaultResult": h.default_result,
                             "heartbeatTimeout": h.heartbeat_timeout, "notificationMetadata": h.metadata,
                             "lifecycleTransitionType": h.transition_type}
        if h.target_type:
            target = {"targetType": h.target_type}
            target.update({"queueName": h.queue_name} if h.queue_name else {})
            target.update({"topicName": h.topic_name} if h.topic_name else {})
            d["notificationTarget"] = target
        hooks.append(d)
    lbs: dict[str, Any] = {}
    if g.load_balancer_ids:
        lbs["loadBalancerIds"] = list(g.load_balancer_ids)
    if g.forward_load_balancers:
        lbs["forwardLoadBalancers"] = [
            {"loadBalancerId": f["LoadBalancerId"], "listenerId": f["ListenerId"], "locationId": f["LocationId"],
             "region": f["Region"], "targetAttributes": [{"port": a["Port"], "weight": a["Weight"]} for a in f["TargetAttributes"]]}
            for f in g.forward_load_balancers]
    return {"autoScalingGroupId": g.group_id, "name": g.name, "region": g.region, **lbs,
            # Members that are not instances of the estate were derived from lifecycleActions and are
            # derived again on reload.
            "instances": [{"instanceId": m.instance_id, "lifeCycleState": m.state, "healthStatus": m.health,
                           "protectedFromScaleIn": m.protected}
                          for m in g.members.values() if m.instance_id in estate.instances],
            "lifecycleHooks": hooks}


class _Loader:
    """Strict estate-document parser: unknown keys and bad values raise :class:`EstateError`."""

    TOP = {"region", "credentials", "instances", "ecmInstances", "loadBalancers", "ecmLoadBalancers",
           "lifecycleActions", "activities", "queues", "vpcNumericIds", "description", "appId", "scalingGroups",
           "targetGroups", "classicBackends", "networkInterfaces"}

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    def load(self) -> Estate:
        doc = self.doc
        if not isinstance(doc, dict):
            raise EstateError("estate: must be a JSON object")
        self._keys(doc, self.TOP, "estate")
        region = self._str(doc, "region", "estate", default="ap-guangzhou")
        creds = [self._credential(c, f"credentials[{i}]") for i, c in enumerate(self._list(doc, "credentials", "estate"))]
        if not creds:
            raise EstateError("credentials: at least one credential is required")
        instances: dict[str, Instance] = {}
        for i, raw in enumerate(self._list(doc, "instances", "estate", required=False)):
            inst = self._instance(raw, f"instances[{i}]", "cvm", region)
            self._unique(instances, inst.instance_id, f"instances[{i}]")
            instances[inst.instance_id] = inst
        for i, raw in enumerate(self._list(doc, "ecmInstances", "estate", required=False)):
            inst = self._instance(raw, f"ecmInstances[{i}]", "ecm", region)
            self._unique(instances, inst.instance_id, f"ecmInstances[{i}]")
            instances[inst.instance_id] = inst
        estate = Estate(region, creds, instances, {}, [], {}, {}, {})
        numeric = doc.get("vpcNumericIds") or {}
        if not isinstance(numeric, dict) or not all(isinstance(v, int) and not isinstance(v, bool) for v in numeric.values()):
            raise EstateError("vpcNumericIds: must map vpc ids to integers")
        estate.vpc_numbers.update(numeric)
        for i, raw in enumerate(self._list(doc, "loadBalancers", "estate", required=False)):
            lb = self._lb(raw, f"loadBalancers[{i}]", "clb", estate)
            self._unique(estate.load_balancers, lb.lb_id, f"loadBalancers[{i}]")
            estate.load_balancers[lb.lb_id] = lb
        for i, raw in enumerate(self._list(doc, "ecmLoadBalancers", "estate", required=False)):
            lb = self._lb(raw, f"ecmLoadBalancers[{i}]", "ecm", estate)
            self._unique(estate.load_balancers, lb.lb_id, f"ecmLoadBalancers[{i}]")
            estate.load_balancers[lb.lb_id] = lb
        for vpc in sorted({x.vpc_id for x in list(instances.values()) + list(estate.load_balancers.values())}):
            estate.vpc_number(vpc)
        try:
            estate.extras = extra_bindings.load(doc, estate)
        except extra_bindings.BindingsError as exc:
            raise EstateError(str(exc)) from None
        for i, raw in enumerate(self._list(doc, "lifecycleActions", "estate", required=False)):
            estate.lifecycle_actions.append(self._lifecycle(raw, f"lifecycleActions[{i}]"))
        for i, raw in enumerate(self._list(doc, "activities", "estate", required=False)):
            act = self._activity(raw, f"activities[{i}]")
            self._unique(estate.activities, act.activity_id, f"activities[{i}]")
            estate.activities[act.activity_id] = act
        for i, raw in enumerate(self._list(doc, "queues", "estate", required=False)):
            q = self._queue(raw, f"queues[{i}]")
            self._unique(estate.queues, q.name, f"queues[{i}]")
            estate.queues[q.name] = q
        for i, q in enumerate(estate.queues.values()):
            if q.dead_letter_queue_name and q.dead_letter_queue_name not in estate.queues:
                raise EstateError(f"queues[{i}].deadLetterQueueName: no queue {q.dead_letter_queue_name!r} in the estate")
        estate.app_id = self._str(doc, "appId", "estate", default="1251783334")
        for i, raw in enumerate(self._list(doc, "scalingGroups", "estate", required=False)):
            self._group(raw, f"scalingGroups[{i}]", estate)
        self._derive_groups(estate)
        return estate

    # -- pieces
    def _credential(self, raw: Any, path: str) -> Credential:
        self._obj(raw, path)
        self._keys(raw, {"secretId", "secretKey", "token"}, path)
        token = raw.get("token")
        if token is not None and not isinstance(token, str):
            raise EstateError(f"{path}.token: must be a string or null")
        return Credential(self._str(raw, "secretId", path), self._str(raw, "secretKey", path), token or None)

    def _instance(self, raw: Any, path: str, kind: str, region: str) -> Instance:
        self._obj(raw, path)
        allowed = {"instanceId", "vpcId", "privateIps", "state", "subnetId", "name", "zone"}
        allowed.add("ecmRegion" if kind == "ecm" else "region")
        self._keys(raw, allowed, path)
        iid = self._str(raw, "instanceId", path)
        self._id(iid, "ein" if kind == "ecm" else "ins", f"{path}.instanceId")
        ips = raw.get("privateIps")
        if not isinstance(ips, list) or not ips:
            raise EstateError(f"{path}.privateIps: must be a non-empty list")
        for j, ip in enumerate(ips):
            self._ip(ip, f"{path}.privateIps[{j}]")
        inst_region = self._str(raw, "ecmRegion", path) if kind == "ecm" else self._str(raw, "region", path, default=region)
        return Instance(
            instance_id=iid, kind=kind, vpc_id=self._vpc(raw, path), private_ips=list(ips),
            state=self._str(raw, "state", path, default="RUNNING"), region=inst_region,
            subnet_id=self._str(raw, "subnetId", path, default="subnet-" + iid[-8:]),
            name=self._str(raw, "name", path, default=iid), zone=self._str(raw, "zone", path, default=inst_region + "-1"),
        )

    def _lb(self, raw: Any, path: str, kind: str, estate: Estate) -> LoadBalancer:
        self._obj(raw, path)
        allowed = {"loadBalancerId", "vpcId", "vip", "name", "listeners", "loadBalancerType", "subnetId"}
        allowed |= {"ecmRegion"} if kind == "ecm" else {"region", "forward"}
        self._keys(raw, allowed, path)
        lb_id = self._str(raw, "loadBalancerId", path)
        self._id(lb_id, "lb", f"{path}.loadBalancerId")
        vpc = self._vpc(raw, path)
        region = self._str(raw, "ecmRegion", path) if kind == "ecm" else self._str(raw, "region", path, default=estate.region)
        forward = raw.get("forward", 1)
        if forward not in (0, 1):
            raise EstateError(f"{path}.forward: must be 0 or 1")
        vip = self._str(raw, "vip", path)
        self._ip(vip, f"{path}.vip")
        lb = LoadBalancer(
            lb_id=lb_id, kind=kind, vpc_id=vpc, vip=vip, region=region, forward=forward,
            name=self._str(raw, "name", path, default=lb_id),
            lb_type=self._str(raw, "loadBalancerType", path, default="OPEN" if kind == "ecm" else "INTERNAL"),
            subnet_id=self._str(raw, "subnetId", path, default=""),
        )
        seen: set[str] = set()
        for j, lraw in enumerate(self._list(raw, "listeners", path, required=False)):
            listener = self._listener(lraw, f"{path}.listeners[{j}]", lb, estate)
            if listener.listener_id in seen:
                raise EstateError(f"{path}.listeners[{j}]: duplicate listenerId {listener.listener_id}")
            seen.add(listener.listener_id)
            lb.listeners.append(listener)
        return lb

    def _listener(self, raw: Any, path: str, lb: LoadBalancer, estate: Estate) -> Listener:
        self._obj(raw, path)
        self._keys(raw, {"listenerId", "protocol", "port", "endPort", "name", "targets", "rules", "targetType",
                         "deregisterTargetRst", "rescheduleInterval", "rescheduleStartTime"}, path)
        lid = self._str(raw, "listenerId", path)
        self._id(lid, "lbl", f"{path}.listenerId")
        protocol = self._str(raw, "protocol", path).upper()
        allowed = {"TCP", "UDP"} if lb.kind == "ecm" else L4_PROTOCOLS | L7_PROTOCOLS
        if protocol not in allowed:
            raise EstateError(f"{path}.protocol: {protocol} is not one of {sorted(allowed)}")
        listener = Listener(lid, protocol, self._int(raw, "port", path), raw.get("endPort"),
                            self._str(raw, "name", path, default=""))
        if "targetType" in raw:
            listener.target_type = self._choice(raw, "targetType", path, set(LISTENER_TARGET_TYPES), None)
        reschedule = [k for k in ("deregisterTargetRst", "rescheduleInterval", "rescheduleStartTime") if k in raw]
        if reschedule and protocol not in ("TCP", "UDP"):
            raise EstateError(f"{path}.{reschedule[0]}: TCP/UDP listeners only (\"仅TCP/UDP监听器支持\", SDK clb Listener)")
        rst = raw.get("deregisterTargetRst", False)
        if not isinstance(rst, bool):
            raise EstateError(f"{path}.deregisterTargetRst: must be a boolean")
        listener.deregister_target_rst = rst
        listener.reschedule_interval = self._ranged(raw, "rescheduleInterval", path, 0, 3600, 0)
        listener.reschedule_start_time = self._ranged(raw, "rescheduleStartTime", path, 0, 3600, 0)
        if listener.is_l7:
            if "targets" in raw and raw["targets"]:
                raise EstateError(f"{path}.targets: {protocol} listeners hold targets only under rules")
            locs: set[str] = set()
            for k, rraw in enumerate(self._list(raw, "rules", path, required=False)):
                rpath = f"{path}.rules[{k}]"
                self._obj(rraw, rpath)
                self._keys(rraw, {"locationId", "domain", "url", "targets"}, rpath)
                loc = self._str(rraw, "locationId", rpath)
                self._id(loc, "loc", f"{rpath}.locationId")
                if loc in locs:
                    raise EstateError(f"{rpath}: duplicate locationId {loc}")
                locs.add(loc)
                rule = Rule(loc, self._str(rraw, "domain", rpath), self._str(rraw, "url", rpath))
                rule.targets = self._targets(rraw, rpath, lb, estate)
                listener.rules.append(rule)
        else:
            if raw.get("rules"):
                raise EstateError(f"{path}.rules: only HTTP/HTTPS listeners have rules")
            listener.targets = self._targets(raw, path, lb, estate)
        return listener

    def _targets(self, raw: dict[str, Any], path: str, lb: LoadBalancer, estate: Estate) -> list[Target]:
        out: list[Target] = []
        for k, traw in enumerate(self._list(raw, "targets", path, required=False)):
            tpath = f"{path}.targets[{k}]"
            self._obj(traw, tpath)
            self._keys(traw, {"type", "instanceId", "privateIp", "port", "weight", "vpcId", "registeredTime"}, tpath)
            kind = "ecm" if lb.kind == "ecm" else "cvm"
            ttype = self._str(traw, "type", tpath, default="cvm").lower()
            if ttype not in ("cvm", "eni"):
                raise EstateError(f"{tpath}.type: must be 'cvm' or 'eni'")
            vpc = self._str(traw, "vpcId", tpath, default=lb.vpc_id)
            iid = traw.get("instanceId")
            ip = traw.get("privateIp")
            inst = estate.instances.get(iid) if iid else None
            if iid and (inst is None or inst.kind != kind):
                raise EstateError(f"{tpath}.instanceId: {iid} is not a {kind.upper()} instance of this estate")
            if ip is None:
                if inst is None:
                    raise EstateError(f"{tpath}: needs privateIp or instanceId")
                ip = inst.primary_ip
            self._ip(ip, f"{tpath}.privateIp")
            if inst is not None and ip not in inst.private_ips:
                raise EstateError(f"{tpath}.privateIp: {ip} is not an IP of {iid}")
            if inst is None:
                inst = estate.instance_by_ip(ip, vpc, kind)
            if ttype == "cvm" and inst is not None and ip != inst.primary_ip and lb.kind == "clb":
                raise EstateError(f"{tpath}: a 'cvm' target is bound by InstanceId, i.e. on the primary IP; use type 'eni' for {ip}")
            weight = traw.get("weight", 10)
            if not isinstance(weight, int) or not 0 <= weight <= 100:
                raise EstateError(f"{tpath}.weight: must be an integer in [0, 100]")
            target = Target(ttype, ip, self._int(traw, "port", tpath), weight, vpc,
                            inst.instance_id if inst else None,
                            self._str(traw, "registeredTime", tpath, default=DEFAULT_TIME))
            if any(t.key() == target.key() for t in out):
                raise EstateError(f"{tpath}: {ip}:{target.port} is bound twice here")
            out.append(target)
        return out

    def _lifecycle(self, raw: Any, path: str) -> LifecycleAction:
        self._obj(raw, path)
        self._keys(raw, {"lifecycleHookId", "autoScalingGroupId", "instanceId", "lifecycleActionToken", "result",
                         "lifecycleTransition"}, path)
        hook = self._str(raw, "lifecycleHookId", path)
        self._id(hook, "ash", f"{path}.lifecycleHookId")
        result = raw.get("result")
        if result not in (None, "CONTINUE", "ABANDON"):
            raise EstateError(f"{path}.result: must be null, CONTINUE or ABANDON")
        return LifecycleAction(hook, self._str(raw, "autoScalingGroupId", path), self._str(raw, "instanceId", path),
                               self._str(raw, "lifecycleActionToken", path), result,
                               self._str(raw, "lifecycleTransition", path, default="INSTANCE_TERMINATING"))

    def _activity(self, raw: Any, path: str) -> Activity:
        self._obj(raw, path)
        self._keys(raw, {"activityId", "autoScalingGroupId", "activityType", "statusCode", "relatedInstances",
                         "cause", "description", "statusMessage", "startTime", "endTime", "createdTime"}, path)
        aid = self._str(raw, "activityId", path)
        self._id(aid, "asa", f"{path}.activityId")
        related = []
        for k, r in enumerate(self._list(raw, "relatedInstances", path, required=False)):
            rpath = f"{path}.relatedInstances[{k}]"
            self._obj(r, rpath)
            self._keys(r, {"instanceId", "instanceStatus"}, rpath)
            related.append((self._str(r, "instanceId", rpath), self._str(r, "instanceStatus", rpath, default="SUCCESSFUL")))
        status = self._str(raw, "statusCode", path)
        # An unfinished activity with no times given started as the estate was loaded and has no end yet
        # (the scale-in the estate describes is under way); a finished one keeps the fixed defaults.
        loaded = datetime.fromtimestamp(time.time(), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        running = status in ("INIT", "RUNNING")
        return Activity(
            aid, self._str(raw, "autoScalingGroupId", path), self._str(raw, "activityType", path),
            status, related,
            cause=self._str(raw, "cause", path, default=""), description=self._str(raw, "description", path, default=""),
            status_message=self._str(raw, "statusMessage", path, default=""),
            start_time=self._str(raw, "startTime", path, default=loaded if running else "2024-01-01T00:00:00Z"),
            end_time=self._str(raw, "endTime", path, default="" if running else "2024-01-01T00:01:00Z"),
            created_time=self._str(raw, "createdTime", path, default=loaded if running else "2024-01-01T00:00:00Z"),
        )

    def _queue(self, raw: Any, path: str) -> Queue:
        """A name, or an object of ``CreateCmqQueueRequest`` attributes (ranges from its docstring)."""
        if isinstance(raw, str):
            return Queue(raw)
        self._obj(raw, path)
        self._keys(raw, {"name", "msgRetentionSeconds", "maxMsgSize", "visibilityTimeout", "pollingWaitSeconds",
                         "deadLetterQueueName", "policy", "maxReceiveCount", "maxTimeToLive"}, path)
        q = Queue(self._str(raw, "name", path),
                  self._ranged(raw, "msgRetentionSeconds", path, 30, 43200, 3600),
                  self._ranged(raw, "maxMsgSize", path, 1024, 1048576, 1048576),
                  self._ranged(raw, "visibilityTimeout", path, 1, 43200, 30),
                  self._ranged(raw, "pollingWaitSeconds", path, 0, 30, 0))
        dlq = raw.get("deadLetterQueueName")
        if dlq is not None:
            q.dead_letter_queue_name = self._str(raw, "deadLetterQueueName", path)
            q.policy = self._ranged(raw, "policy", path, 0, 1, 0)
            if q.policy == 0:
                q.max_receive_count = self._ranged(raw, "maxReceiveCount", path, 1, 1000, None)
            else:
                q.max_time_to_live = self._ranged(raw, "maxTimeToLive", path, 300, 43200, None)
                if q.max_time_to_live >= q.msg_retention_seconds:
                    raise EstateError(f"{path}.maxTimeToLive: must be below msgRetentionSeconds")
        elif any(k in raw for k in ("policy", "maxReceiveCount", "maxTimeToLive")):
            raise EstateError(f"{path}: a dead-letter policy needs deadLetterQueueName")
        return q

    def _group(self, raw: Any, path: str, estate: Estate) -> None:
        self._obj(raw, path)
        self._keys(raw, {"autoScalingGroupId", "name", "region", "instances", "lifecycleHooks", "forwardLoadBalancers",
                         "loadBalancerIds"}, path)
        gid = self._str(raw, "autoScalingGroupId", path)
        self._id(gid, "asg", f"{path}.autoScalingGroupId")
        self._unique(estate.groups, gid, path)
        group = Group(gid, self._str(raw, "name", path, default=gid), self._str(raw, "region", path, default=estate.region))
        estate.groups[gid] = group
        self._group_load_balancers(raw, path, group)
        for j, mraw in enumerate(self._list(raw, "instances", path, required=False)):
            mpath = f"{path}.instances[{j}]"
            self._obj(mraw, mpath)
            self._keys(mraw, {"instanceId", "lifeCycleState", "healthStatus", "protectedFromScaleIn", "creationType",
                              "addTime", "instanceType"}, mpath)
            iid = self._str(mraw, "instanceId", mpath)
            inst = estate.instances.get(iid)
            if inst is None or inst.kind != "cvm":
                raise EstateError(f"{mpath}.instanceId: {iid} is not a CVM instance of this estate")
            if estate.member(iid) is not None:
                raise EstateError(f"{mpath}.instanceId: {iid} is already a member of a scaling group")
            state = mraw.get("lifeCycleState")
            if state is not None and state not in LIFE_CYCLE_STATES:
                raise EstateError(f"{mpath}.lifeCycleState: {state!r} is not one of the SDK's LifeCycleState values")
            protected = mraw.get("protectedFromScaleIn", False)
            if not isinstance(protected, bool):
                raise EstateError(f"{mpath}.protectedFromScaleIn: must be a boolean")
            group.members[iid] = Member(
                iid, gid, state or "", self._str(mraw, "healthStatus", mpath, default="HEALTHY"), protected,
                self._str(mraw, "creationType", mpath, default="AUTO_CREATION"),
                self._str(mraw, "addTime", mpath, default="2024-01-01T00:00:00Z"),
                self._str(mraw, "instanceType", mpath, default="S5.MEDIUM4"))
        for j, hraw in enumerate(self._list(raw, "lifecycleHooks", path, required=False)):
            hook = self._hook(hraw, f"{path}.lifecycleHooks[{j}]", gid, estate)
            self._unique(estate.hooks, hook.hook_id, f"{path}.lifecycleHooks[{j}]")
            estate.hooks[hook.hook_id] = hook

    def _group_load_balancers(self, raw: dict[str, Any], path: str, group: Group) -> None:
        """SDK autoscaling ``CreateAutoScalingGroupRequest``: ``LoadBalancerIds`` (classic, at most 20) or
        ``ForwardLoadBalancers`` (at most 100), "二者同时最多只能指定一个"; ``ForwardLoadBalancer`` {LoadBalancerId,
        ListenerId, TargetAttributes [{Port 1-65535, Weight 0-100}], LocationId (layer 7), Region}."""
        classic = self._list(raw, "loadBalancerIds", path, required=False)
        forward = self._list(raw, "forwardLoadBalancers", path, required=False)
        if classic and forward:
            raise EstateError(f"{path}: loadBalancerIds and forwardLoadBalancers: at most one of the two")
        if len(classic) > 20 or len(forward) > 100:
            raise EstateError(f"{path}: at most 20 loadBalancerIds and 100 forwardLoadBalancers")
        for j, lb_id in enumerate(classic):
            self._id(lb_id, "lb", f"{path}.loadBalancerIds[{j}]")
            group.load_balancer_ids.append(lb_id)
        for j, fraw in enumerate(forward):
            fpath = f"{path}.forwardLoadBalancers[{j}]"
            self._obj(fraw, fpath)
            self._keys(fraw, {"loadBalancerId", "listenerId", "locationId", "targetAttributes", "region"}, fpath)
            item: dict[str, Any] = {"LoadBalancerId": self._str(fraw, "loadBalancerId", fpath),
                                    "ListenerId": self._str(fraw, "listenerId", fpath),
                                    "LocationId": self._str(fraw, "locationId", fpath, default=""),
                                    "Region": self._str(fraw, "region", fpath, default=group.region),
                                    "TargetAttributes": []}
            self._id(item["LoadBalancerId"], "lb", f"{fpath}.loadBalancerId")
            self._id(item["ListenerId"], "lbl", f"{fpath}.listenerId")
            for k, araw in enumerate(self._list(fraw, "targetAttributes", fpath)):
                apath = f"{fpath}.targetAttributes[{k}]"
                self._obj(araw, apath)
                self._keys(araw, {"port", "weight"}, apath)
                item["TargetAttributes"].append({"Port": self._ranged(araw, "port", apath, 1, 65535, None),
                                                 "Weight": self._ranged(araw, "weight", apath, 0, 100, 10)})
            group.forward_load_balancers.append(item)

    def _hook(self, raw: Any, path: str, gid: str, estate: Estate) -> Hook:
        """Fields and ranges of ``CreateLifecycleHookRequest`` / ``LifecycleHook`` (docs/cloud-facts.md#as-lifecycle-hooks)."""
        self._obj(raw, path)
        self._keys(raw, {"lifecycleHookId", "lifecycleHookName", "lifecycleTransition", "defaultResult",
                         "heartbeatTimeout", "notificationMetadata", "notificationTarget", "lifecycleTransitionType",
                         "createdTime"}, path)
        hid = self._str(raw, "lifecycleHookId", path)
        self._id(hid, "ash", f"{path}.lifecycleHookId")
        hook = Hook(hid, self._str(raw, "lifecycleHookName", path, default=hid), gid,
                    self._choice(raw, "lifecycleTransition", path, set(HOOK_STATE), "INSTANCE_TERMINATING"),
                    self._choice(raw, "defaultResult", path, {"CONTINUE", "ABANDON"}, "CONTINUE"),
                    self._ranged(raw, "heartbeatTimeout", path, 30, 7200, 300),
                    self._str(raw, "notificationMetadata", path, default=""),
                    transition_type=self._choice(raw, "lifecycleTransitionType", path, {"NORMAL", "EXTENSION"}, "NORMAL"),
                    created_time=self._str(raw, "createdTime", path, default="2024-01-01T00:00:00Z"))
        target = raw.get("notificationTarget")
        if target is not None:
            tpath = f"{path}.notificationTarget"
            self._obj(target, tpath)
            self._keys(target, {"targetType", "queueName", "topicName"}, tpath)
            hook.target_type = self._choice(target, "targetType", tpath, set(TARGET_TYPES), None)
            if hook.target_type.endswith("QUEUE"):
                hook.queue_name = self._str(target, "queueName", tpath)
                if hook.queue_name not in estate.queues:
                    raise EstateError(f"{tpath}.queueName: no queue {hook.queue_name!r} in the estate")
            else:
                hook.topic_name = self._str(target, "topicName", tpath)
        return hook

    @staticmethod
    def _derive_groups(estate: Estate) -> None:
        """Groups, members and hooks implied by ``lifecycleActions`` where the estate does not declare them;
        a pending action puts its instance in the hook state (IN_TERMINATING_HOOK / IN_LAUNCHING_HOOK)."""
        for i, a in enumerate(estate.lifecycle_actions):
            path = f"lifecycleActions[{i}]"
            group = estate.groups.get(a.group_id)
            if group is None:
                group = estate.groups[a.group_id] = Group(a.group_id, a.group_id, estate.region, declared=False)
            hook = estate.hooks.get(a.hook_id)
            if hook is None:
                hook = estate.hooks[a.hook_id] = Hook(a.hook_id, a.hook_id, a.group_id, a.transition, declared=False)
            if hook.group_id != a.group_id:
                raise EstateError(f"{path}: hook {a.hook_id} belongs to {hook.group_id}, not {a.group_id}")
            if hook.transition != a.transition:
                raise EstateError(f"{path}: hook {a.hook_id} is an {hook.transition} hook")
            member = estate.member(a.instance_id)
            if member is None:
                member = group.members[a.instance_id] = Member(a.instance_id, a.group_id, "")
            elif member.group_id != a.group_id:
                raise EstateError(f"{path}: {a.instance_id} is a member of {member.group_id}, not {a.group_id}")
        for group in estate.groups.values():
            for m in group.members.values():
                derived = _derived_state(estate, m.instance_id)
                if not m.state:
                    m.state = derived
                elif derived in HOOK_STATE.values() and m.state != derived:
                    raise EstateError(f"scalingGroups: {m.instance_id} has a pending lifecycle action, so its "
                                      f"lifeCycleState is {derived}, not {m.state}")

    # -- primitives
    @staticmethod
    def _ranged(raw: dict[str, Any], key: str, path: str, low: int, high: int, default: int | None) -> int:
        value = raw.get(key, default)
        if value is None:
            raise EstateError(f"{path}.{key}: required")
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise EstateError(f"{path}.{key}: must be an integer in [{low}, {high}]")
        return value

    @staticmethod
    def _choice(raw: dict[str, Any], key: str, path: str, allowed: set[str], default: str | None) -> str:
        value = raw.get(key, default)
        if value not in allowed:
            raise EstateError(f"{path}.{key}: must be one of {sorted(allowed)}")
        return value

    @staticmethod
    def _obj(raw: Any, path: str) -> None:
        if not isinstance(raw, dict):
            raise EstateError(f"{path}: must be an object")

    @staticmethod
    def _keys(raw: dict[str, Any], allowed: set[str], path: str) -> None:
        unknown = set(raw) - allowed
        if unknown:
            raise EstateError(f"{path}: unknown key(s) {sorted(unknown)}")

    @staticmethod
    def _list(raw: dict[str, Any], key: str, path: str, required: bool = True) -> list[Any]:
        value = raw.get(key)
        if value is None and not required:
            return []
        if not isinstance(value, list):
            raise EstateError(f"{path}.{key}: must be a list")
        return value

    @staticmethod
    def _str(raw: dict[str, Any], key: str, path: str, default: str | None = None) -> str:
        value = raw.get(key, default)
        if not isinstance(value, str):
            raise EstateError(f"{path}.{key}: must be a string")
        return value

    @staticmethod
    def _int(raw: dict[str, Any], key: str, path: str) -> int:
        value = raw.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 65535:
            raise EstateError(f"{path}.{key}: must be an integer port")
        return value

    @staticmethod
    def _ip(value: Any, path: str) -> None:
        try:
            ipaddress.ip_address(value)
        except (ValueError, TypeError):
            raise EstateError(f"{path}: {value!r} is not an IP address") from None

    @staticmethod
    def _id(value: str, kind: str, path: str) -> None:
        if not ID_RE[kind].match(value):
            raise EstateError(f"{path}: {value!r} is not a well-formed {kind}- id ({ID_RE[kind].pattern})")

    def _vpc(self, raw: dict[str, Any], path: str) -> str:
        vpc = self._str(raw, "vpcId", path)
        self._id(vpc, "vpc", f"{path}.vpcId")
        return vpc

    @staticmethod
    def _unique(existing: dict[str, Any], key: str, path: str) -> None:
        if key in existing:
            raise EstateError(f"{path}: duplicate id {key}")


def _derived_state(estate: Estate, instance_id: str) -> str:
    """LifeCycleState implied by an instance's lifecycle actions: the hook state while one is pending;
    TERMINATING once a terminating (or an abandoned launching) action is complete; else IN_SERVICE."""
    actions = [a for a in estate.lifecycle_actions if a.instance_id == instance_id]
    pending = [a for a in actions if a.result is None]
    if pending:
        return HOOK_STATE.get(pending[-1].transition, "IN_TERMINATING_HOOK")
    if any(a.transition == "INSTANCE_TERMINATING" or a.result == "ABANDON" for a in actions):
        return "TERMINATING"
    return "IN_SERVICE"
