"""The values that flow through the function, one stage to the next.

event ──► Record[] (each holding Notice[]) ──► Binding[] ──► Batch[] ──► BatchResult[] ──► InstanceOutcome[]

Every type here is immutable and free of I/O, so each stage can be tested on its own.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Optional, Tuple

if TYPE_CHECKING:  # pragma: no cover
    from .wire.drain_state import DrainState

# Always used with `fullmatch`: `re.match` with `$` also accepts a trailing newline ("ins-xxxxxxxx\n").
CVM_INSTANCE_ID = re.compile(r"ins-[a-z0-9]{8}")
ECM_INSTANCE_ID = re.compile(r"ein-[a-z0-9]{8}")
LOAD_BALANCER_ID = re.compile(r"lb-[a-z0-9]{8}")
GROUP_ID = re.compile(r"asg-[a-z0-9]{8}")


class Cloud(str, Enum):
    """Which load-balancer product a binding lives on."""

    CLB = "clb"
    ECM = "ecm"


def cloud_of(instance_id: str) -> Cloud:
    """CVM instances (`ins-`) sit behind CLB, ECM edge instances (`ein-`) behind ECM load balancers."""
    if CVM_INSTANCE_ID.fullmatch(instance_id):
        return Cloud.CLB
    if ECM_INSTANCE_ID.fullmatch(instance_id):
        return Cloud.ECM
    raise ValueError(f"not a CVM (ins-xxxxxxxx) or ECM (ein-xxxxxxxx) instance id: {instance_id!r}")


def is_instance_id(value: str) -> bool:
    return bool(CVM_INSTANCE_ID.fullmatch(value) or ECM_INSTANCE_ID.fullmatch(value))


@dataclass(frozen=True)
class LifecycleAction:
    """The Auto Scaling lifecycle action that waits for this instance to be unbound."""

    hook_id: str
    token: Optional[str]
    group_id: Optional[str] = None
    hook_name: Optional[str] = None


@dataclass(frozen=True)
class Notice:
    """One instance that is leaving: the normalized interruption event every trigger is turned into."""

    instance_id: str
    source: str
    """Which trigger brought it: cmq, ckafka, eventbridge, apigw, direct, retry, redrive."""
    reason: str
    """Why it is leaving: INSTANCE_TERMINATING, SCALE_IN, an EventBridge type, operator, ..."""
    record_id: str
    """The record of the event it came from, for per-record outcomes."""
    lifecycle: Optional[LifecycleAction] = None
    attempt: int = 1
    dry_run: bool = False
    first_seen: Optional[str] = None
    """When the first attempt saw this notice (ISO-8601), carried through retries."""
    prior_request_ids: Tuple[str, ...] = ()
    """Cloud request ids of earlier attempts, so a dead letter lists every attempt's calls."""
    original: Optional[str] = None
    """The payload that first carried the notice, kept for dead letters."""
    claim: bool = False
    """A scale-in claim (an activity's instance): Auto Scaling must confirm it before any unbind."""
    confirmed: bool = False
    """Read from Auto Scaling itself in this run (the sweep): there is nothing left to confirm."""
    group_id: Optional[str] = None
    """The scaling group a scale-in claim names (a lifecycle notice names it in `lifecycle`)."""
    activity_id: Optional[str] = None
    """The scaling activity the claim names (`ActivityId`): what shows an instance past its hook is leaving."""
    refusal: Optional[str] = None
    """Why this notice is refused whatever Auto Scaling says (e.g. `unsigned_envelope`), set by the parser."""
    drain: Optional["DrainState"] = None
    """An adaptive drain under way (docs/drain.md), from a signed retry envelope; never from an unsigned one."""

    @property
    def cloud(self) -> Cloud:
        return cloud_of(self.instance_id)

    @property
    def claimed_group(self) -> Optional[str]:
        return (self.lifecycle.group_id if self.lifecycle else None) or self.group_id

    @property
    def needs_confirmation(self) -> bool:
        """Lifecycle and scale-in notices are claims, whatever carried them (trust.py)."""
        return not self.confirmed and (self.claim or self.lifecycle is not None)


@dataclass(frozen=True)
class ActivityRef:
    """A scaling-activity notification: its instance ids are read with DescribeAutoScalingActivities."""

    activity_id: str
    group_id: Optional[str]
    record_id: str
    source: str
    dry_run: bool = False
    attempt: int = 1
    first_seen: Optional[str] = None
    original: Optional[str] = None


@dataclass(frozen=True)
class Record:
    """One unit of an event (a queue message, an HTTP request, a direct call) and what it asks for.

    A record is handled on its own: a record that is refused or fails never stops the others.
    """

    record_id: str
    source: str
    notices: Tuple[Notice, ...] = ()
    activities: Tuple[ActivityRef, ...] = ()
    ignored: Optional[str] = None
    """Why a well-formed record asks for nothing (e.g. an INSTANCE_LAUNCHING lifecycle message)."""
    refused: Optional[str] = None
    """Why a record was refused (malformed, invalid id, ...): no cloud call is made for it."""
    refusal_code: str = "refused_input"
    """The dead letter's machine-readable reason for a refused record (`not_a_queue_payload`, ...)."""
    payload: Optional[str] = None
    """The original payload (a queue message body, an HTTP body), kept for retries and dead letters."""


@dataclass(frozen=True)
class RecordFailure:
    """A record whose work could not even be listed (its scaling activities could not be read)."""

    failure: "CloudFailure"
    activities: Tuple[ActivityRef, ...] = ()


class Kind(str, Enum):
    """How an instance is bound: each kind is found by its own resolve module and removed by its own call."""

    LISTENER = "listener"
    """A target on a listener (layer 4) or a rule (layer 7): BatchDeregisterTargets."""
    TARGET_GROUP = "target_group"
    """A member of a CLB target group (v1 or v2) that listeners or rules forward to: DeregisterTargetGroupInstances."""
    CLASSIC = "classic"
    """A backend of a classic CLB (Forward 0): DeregisterTargetsFromClassicalLB."""


@dataclass(frozen=True)
class Serves:
    """A listener (and, for layer 7, a rule) a target group is associated with (`AssociationItem`)."""

    load_balancer_id: str
    listener_id: str
    location_id: Optional[str] = None
    protocol: str = ""
    port: int = 0
    """The listener's protocol and port (`AssociationItem.Protocol`/`Port`, SDK clb): the adaptive drain's
    Cloud Monitor dimensions for the group's members (docs/drain.md#target-groups)."""

    def __str__(self) -> str:
        return f"{self.load_balancer_id}/{self.listener_id}" + (f"/{self.location_id}" if self.location_id else "")


@dataclass(frozen=True)
class Binding:
    """One way one instance receives traffic: a target on one listener (and, for layer 7, one rule), a
    membership of one target group, or a backend of one classic load balancer (`kind`).

    For a target-group membership, `load_balancer_id` is the first load balancer the group serves ("" when
    it serves none), `listener_id` is "" and `serves` lists every listener and rule it is associated with;
    for a classic backend, `listener_id` is "" and `target_port` 0.
    """

    cloud: Cloud
    region: str
    load_balancer_id: str
    listener_id: str
    protocol: str
    listener_port: int
    location_id: Optional[str]
    instance_id: str
    private_ip: str
    target_port: int
    weight: Optional[int] = None
    by_eni_ip: bool = False
    """Deregister by EniIp (the IP is not the instance's primary IP) rather than by InstanceId."""
    kind: Kind = Kind.LISTENER
    target_group_id: Optional[str] = None
    serves: Tuple[Serves, ...] = ()
    """Target groups only: the listeners and rules that forward to the group."""
    full_listen: bool = False
    """Target groups only: a full-listen group (`FullListenSwitch`): members have no port (0)."""

    @property
    def unit(self) -> str:
        """The resource a write names: the target group for a membership, else the load balancer."""
        return (self.target_group_id or "") if self.kind is Kind.TARGET_GROUP else self.load_balancer_id

    @property
    def load_balancer_ids(self) -> Tuple[str, ...]:
        """Every load balancer that sends this binding traffic (a target group may serve several)."""
        if self.kind is Kind.TARGET_GROUP:
            return tuple(sorted({s.load_balancer_id for s in self.serves}))
        return (self.load_balancer_id,)

    @property
    def key(self) -> Tuple[str, str, str, Optional[str], str, int]:
        """What identifies the binding, independent of how it was read."""
        return (self.kind.value, self.unit, self.listener_id, self.location_id, self.private_ip, self.target_port)

    @property
    def label(self) -> str:
        """How logs, outcomes and dead letters name the binding."""
        if self.kind is Kind.TARGET_GROUP:
            where = ", ".join(str(s) for s in self.serves) or "no listener"
            return f"target group {self.target_group_id} {self.private_ip}:{self.target_port} (serves {where})"
        if self.kind is Kind.CLASSIC:
            return f"classic {self.load_balancer_id} {self.instance_id}"
        return f"{self.load_balancer_id}/{self.listener_id}/{self.location_id or '-'}:{self.target_port}"


@dataclass(frozen=True)
class Batch:
    """Bindings of one kind to remove in one write call. `load_balancer_id` is the resource the call
    names (`Binding.unit`): the load balancer, or for target-group memberships the group."""

    cloud: Cloud
    region: str
    load_balancer_id: str
    bindings: Tuple[Binding, ...]
    kind: Kind = Kind.LISTENER


@dataclass(frozen=True)
class CloudFailure:
    """A cloud error kept as data: its code decides whether the work is retried or dead-lettered."""

    code: str
    message: str
    action: str
    request_id: Optional[str] = None


@dataclass(frozen=True)
class BatchResult:
    batch: Batch
    failed: Tuple[Binding, ...] = ()
    failure: Optional[CloudFailure] = None
    request_ids: Tuple[str, ...] = ()


class Status(str, Enum):
    UNBOUND = "unbound"
    """Bindings were removed and verification found none left."""
    NOT_BOUND = "not_bound"
    """The instance had no binding to remove."""
    PLANNED = "planned"
    """Dry run: what would have been removed."""
    INCOMPLETE = "incomplete"
    """Some bindings are still there, or a cloud error stopped the work: to be retried."""
    REFUSED = "refused"
    """The work can never succeed (unknown instance, no permission, ...)."""
    IGNORED = "ignored"


@dataclass(frozen=True)
class InstanceOutcome:
    """What was done for one notice: the record the function leaves behind."""

    notice: Notice
    status: Status
    removed: Tuple[Binding, ...] = ()
    remaining: Tuple[Binding, ...] = ()
    left_alone: Tuple[Binding, ...] = ()
    """Bindings on load balancers outside CLB_UNBIND_ALLOWED_LOAD_BALANCERS: reported, never removed."""
    failures: Tuple[CloudFailure, ...] = ()
    lifecycle_completed: bool = False
    lifecycle_note: Optional[str] = None
    """What happened to the lifecycle action when it was not completed: `not_our_hook`, `not_waiting`."""
    request_ids: Tuple[str, ...] = field(default=())
    drain: Optional["DrainState"] = None
    """Set while an adaptive drain goes on: the state the next look continues from (re-queued, not retried)."""
    drain_ends: Tuple[Any, ...] = ()
    """How each drained binding ended (`drain_adaptive.Ended`): drained, drain_cap or fixed_wait."""

    @property
    def done(self) -> bool:
        return self.status in (Status.UNBOUND, Status.NOT_BOUND, Status.PLANNED, Status.IGNORED)
