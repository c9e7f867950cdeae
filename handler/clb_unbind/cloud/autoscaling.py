"""AS 2018-04-19: lifecycle actions, scaling activities, and who Auto Scaling says is leaving."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Dict, List, Optional, Sequence, Tuple

from ..model import LifecycleAction
from .errors import CloudError
from .session import CloudSession, chunks

ALREADY_SET = "ResourceUnavailable.LifecycleActionResultHasSet"  # autoscaling errorcodes.py (docs/cloud-facts.md#as-completelifecycleaction)
NOTHING_WAITING = "ResourceNotFound.LifecycleHookInstanceNotFound"
"""The instance is not waiting on that hook (any more): its wait already ended (docs/cloud-facts.md#as-completelifecycleaction)."""

IDS_PER_CALL = 100  # DescribeAutoScalingInstances: InstanceIds ≤ 100, Limit ≤ 100 (docs/cloud-facts.md#as-reads-instances-hooks-activities)
VALUES_PER_FILTER = 5  # "Filter.Values" ≤ 5 (docs/cloud-facts.md#as-reads-instances-hooks-activities)

WAITING_STATE = "IN_TERMINATING_HOOK"
PAST_THE_HOOK = frozenset({"TERMINATING", "DETACHING"})
"""On the way out, but only an activity that removes the instance tells it apart from, say, a failed
detach (SDK `Instance.LifeCycleState`; docs/cloud-facts.md#as-instance-states). `DETACHING_LB` is not here: Auto Scaling also uses it for
serving instances while a group's load balancers change."""

REMOVAL_TYPES = frozenset({"SCALE_IN", "REMOVE_INSTANCES", "DETACH_INSTANCES", "REPLACE_UNHEALTHY_INSTANCE",
                           "TERMINATE_INSTANCES_UNEXPECTEDLY", "STOP_INSTANCES"})
"""Activity types that take instances out of service (SDK `Activity.ActivityType`)."""

ACTIVITY_IDS_PER_CALL = 100
"""`DescribeAutoScalingActivitiesRequest.ActivityIds`: "每次请求的上限为100"; `Limit` "默认为20，最大值为100"
(SDK autoscaling models.py), so a call asks for as many as it names."""


@dataclass(frozen=True)
class GroupMember:
    """One instance as Auto Scaling reports it (`AutoScalingInstanceSet[]`)."""

    instance_id: str
    group_id: str
    state: str


COMPLETED = "completed"
ALREADY_COMPLETED = "completed_already"
NOT_WAITING = "not_waiting"


def complete_lifecycle_action(session: CloudSession, instance_id: str, action: LifecycleAction, result: str = "CONTINUE") -> str:
    """Complete the action of `instance_id` on `action.hook_id`: `COMPLETED` if this call set the result,
    `ALREADY_COMPLETED` if a result was set before, `NOT_WAITING` if the instance does not wait on that
    hook (`ResourceNotFound.LifecycleHookInstanceNotFound`: nothing was completed).

    By `InstanceId` + `LifecycleHookId`, never by a token alone: a message can then only ever end the
    wait of the instance it names, whatever token it carries (SDK `CompleteLifecycleActionRequest`).
    """
    params: Dict[str, object] = {"LifecycleHookId": action.hook_id, "LifecycleActionResult": result, "InstanceId": instance_id}
    try:
        session.call("as", "CompleteLifecycleAction", params)
    except CloudError as exc:
        if exc.code == ALREADY_SET:
            return ALREADY_COMPLETED
        if exc.code == NOTHING_WAITING:
            return NOT_WAITING
        raise
    return COMPLETED


def members(session: CloudSession, instance_ids: Sequence[str]) -> Dict[str, GroupMember]:
    """Auto Scaling's view of these instances, one call per 100 ids; an instance in no group is absent."""
    found: Dict[str, GroupMember] = {}
    for part in chunks(sorted(set(instance_ids)), IDS_PER_CALL):
        reply = session.call("as", "DescribeAutoScalingInstances", {"InstanceIds": part, "Limit": IDS_PER_CALL})
        for member in _members(reply):
            found[member.instance_id] = member
    return found


def group_members(session: CloudSession, group_ids: Sequence[str]) -> List[GroupMember]:
    """Every instance of these groups: the `auto-scaling-group-id` filter, 5 groups a call, 100 a page."""
    out: List[GroupMember] = []
    for part in chunks(sorted(set(group_ids)), VALUES_PER_FILTER):
        offset = 0
        while True:
            reply = session.call("as", "DescribeAutoScalingInstances", {
                "Filters": [{"Name": "auto-scaling-group-id", "Values": part}], "Limit": IDS_PER_CALL, "Offset": offset,
            })
            page = _members(reply)
            out.extend(page)
            offset += len(reply.get("AutoScalingInstanceSet") or [])
            if not page or offset >= int(reply.get("TotalCount") or 0):
                break
    return out


def _members(reply: Dict[str, object]) -> List[GroupMember]:
    items = reply.get("AutoScalingInstanceSet") or []
    assert isinstance(items, list)
    return [
        GroupMember(str(i.get("InstanceId")), str(i.get("AutoScalingGroupId") or ""), str(i.get("LifeCycleState") or ""))
        for i in items if isinstance(i, dict) and i.get("InstanceId")
    ]


@dataclass(frozen=True)
class Hook:
    hook_id: str
    group_id: str
    transition: str
    target_type: Optional[str]
    queue_name: Optional[str]
    topic_name: Optional[str] = None
    heartbeat_timeout: Optional[int] = None
    """`LifecycleHook.HeartbeatTimeout`: 30–7200 s, default 300 (SDK as 3.1.169); bounds an adaptive drain."""


def lifecycle_hooks(session: CloudSession, group_ids: Sequence[str]) -> List[Hook]:
    """The lifecycle hooks of these groups (`auto-scaling-group-id` filter, 5 a call, paged by 100)."""
    out: List[Hook] = []
    for part in chunks(sorted(set(group_ids)), VALUES_PER_FILTER):
        offset = 0
        while True:
            reply = session.call("as", "DescribeLifecycleHooks", {
                "Filters": [{"Name": "auto-scaling-group-id", "Values": part}], "Limit": 100, "Offset": offset,
            })
            items = [h for h in reply.get("LifecycleHookSet") or [] if isinstance(h, dict)]
            for h in items:
                target = h.get("NotificationTarget") or {}
                out.append(Hook(str(h.get("LifecycleHookId")), str(h.get("AutoScalingGroupId") or ""),
                                str(h.get("LifecycleTransition") or ""), target.get("TargetType"), target.get("QueueName"),
                                target.get("TopicName"), _int_or_none(h.get("HeartbeatTimeout"))))
            offset += len(items)
            if not items or offset >= int(reply.get("TotalCount") or 0):
                break
    return out


# An activity's instance has left, or is leaving, unless the activity says it failed for it
# (SDK `RelatedInstance.InstanceStatus`: INIT, RUNNING, SUCCESSFUL, FAILED).
LEFT_OR_LEAVING = frozenset({"INIT", "RUNNING", "SUCCESSFUL"})


@dataclass(frozen=True)
class ActivityInfo:
    """One scaling activity as Auto Scaling reports it (`ActivitySet[]`)."""

    activity_id: str
    group_id: str
    activity_type: str
    leaving: Tuple[str, ...]
    """Related instances the activity has not failed for (`RelatedInstanceSet`)."""
    start: Optional[float] = None
    """`StartTime` ("伸缩活动开始时间，为 `UTC` 标准时间", `YYYY-MM-DDThh:mm:ssZ` in api.json's
    example) as Unix seconds; None when absent or in another form."""

    @property
    def removes(self) -> bool:
        return self.activity_type in REMOVAL_TYPES


def activities(session: CloudSession, activity_ids: Sequence[str]) -> Dict[str, ActivityInfo]:
    """These activities, one call per 100 ids; an id Auto Scaling does not know is absent (a scale-in
    notification names no instance: docs/cloud-facts.md#as-scaling-activity-notification)."""
    found: Dict[str, ActivityInfo] = {}
    for part in chunks(sorted(set(activity_ids)), ACTIVITY_IDS_PER_CALL):
        reply = session.call("as", "DescribeAutoScalingActivities", {"ActivityIds": part, "Limit": len(part)})
        for info in _activities(reply):
            found[info.activity_id] = info
    return found


UNFINISHED = ("INIT", "RUNNING")
"""`Activity.StatusCode` values of an activity still under way; the others (SUCCESSFUL,
PARTIALLY_SUCCESSFUL, FAILED, CANCELLED) are ends. A hook's wait is part of its activity (SDK
`Activity.LifecycleActionResultSet`, "伸缩活动中生命周期挂钩的执行结果"; `LifecycleHook.DefaultResult`
CONTINUE "继续执行扩缩容活动"), so the activity that put an instance in its hook is unfinished while it waits."""


def unfinished_activities(session: CloudSession, group_ids: Sequence[str]) -> List[ActivityInfo]:
    """The INIT and RUNNING activities of these groups: one call per 5 groups (`Filter.Values` ≤ 5),
    `Limit` 100 and no further page (an activity past the first 100 is not listed: callers treat an
    instance they do not find as unknown)."""
    out: List[ActivityInfo] = []
    for part in chunks(sorted(set(group_ids)), VALUES_PER_FILTER):
        out += _activities(session.call("as", "DescribeAutoScalingActivities", {
            "Filters": [{"Name": "auto-scaling-group-id", "Values": part},
                        {"Name": "activity-status-code", "Values": list(UNFINISHED)}],
            "Limit": ACTIVITY_IDS_PER_CALL,
        }))
    return out


def _activities(reply: Dict[str, object]) -> List[ActivityInfo]:
    out: List[ActivityInfo] = []
    items = reply.get("ActivitySet") or []
    assert isinstance(items, list)
    for a in items:
        if not isinstance(a, dict) or not a.get("ActivityId"):
            continue
        related = a.get("RelatedInstanceSet") or []
        leaving = tuple(str(i["InstanceId"]) for i in related
                        if isinstance(i, dict) and i.get("InstanceId") and i.get("InstanceStatus") in LEFT_OR_LEAVING)
        out.append(ActivityInfo(str(a["ActivityId"]), str(a.get("AutoScalingGroupId") or ""),
                                str(a.get("ActivityType") or ""), leaving, _utc_seconds(a.get("StartTime"))))
    return out


def _utc_seconds(value: object) -> Optional[float]:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None


def _int_or_none(value: object) -> Optional[int]:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
