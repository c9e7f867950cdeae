"""AS 2018-04-19: lifecycle actions, scaling activities, and who Auto Scaling says is leaving."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

from ..model import LifecycleAction
from .errors import CloudError
from .session import CloudSession, chunks

ALREADY_SET = "ResourceUnavailable.LifecycleActionResultHasSet"  # autoscaling errorcodes.py (docs/cloud-facts.md#as-completelifecycleaction)
NOTHING_WAITING = "ResourceNotFound.LifecycleHookInstanceNotFound"
"""The instance is not waiting on that hook (any more): its wait already ended (docs/cloud-facts.md#as-completelifecycleaction)."""

IDS_PER_CALL = 100  # DescribeAutoScalingInstances: InstanceIds ≤ 100, Limit ≤ 100 (docs/cloud-facts.md#as-reads-instances-hooks-activities)
VALUES_PER_FILTER = 5  # "Filter.Values" ≤ 5 (docs/cloud-facts.md#as-reads-instances-hooks-activities)

# IN_TERMINATING_HOOK waits for us; the others are past the hook on the way out (docs/cloud-facts.md#as-instance-states).
LEAVING_STATES = frozenset({"IN_TERMINATING_HOOK", "TERMINATING", "DETACHING", "DETACHING_LB"})
WAITING_STATE = "IN_TERMINATING_HOOK"


@dataclass(frozen=True)
class GroupMember:
    """One instance as Auto Scaling reports it (`AutoScalingInstanceSet[]`)."""

    instance_id: str
    group_id: str
    state: str


def complete_lifecycle_action(session: CloudSession, instance_id: str, action: LifecycleAction, result: str = "CONTINUE") -> bool:
    """Complete the action of `instance_id` on `action.hook_id`: True if this call set the result,
    False if the wait had already ended (also success).

    By `InstanceId` + `LifecycleHookId`, never by a token alone: a message can then only ever end the
    wait of the instance it names, whatever token it carries (SDK `CompleteLifecycleActionRequest`).
    """
    params: Dict[str, object] = {"LifecycleHookId": action.hook_id, "LifecycleActionResult": result, "InstanceId": instance_id}
    try:
        session.call("as", "CompleteLifecycleAction", params)
    except CloudError as exc:
        if exc.code in (ALREADY_SET, NOTHING_WAITING):
            return False
        raise
    return True


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
                                str(h.get("LifecycleTransition") or ""), target.get("TargetType"), target.get("QueueName")))
            offset += len(items)
            if not items or offset >= int(reply.get("TotalCount") or 0):
                break
    return out


# An activity's instance has left, or is leaving, unless the activity says it failed for it
# (SDK `ActivtyRelatedInstance.InstanceStatus`: INIT, RUNNING, SUCCESSFUL, FAILED).
LEFT_OR_LEAVING = frozenset({"INIT", "RUNNING", "SUCCESSFUL"})


def scale_in_instances(session: CloudSession, activity_ids: Sequence[str]) -> Dict[str, List[str]]:
    """Instance ids of each SCALE_IN activity that the activity reports leaving (`RelatedInstanceSet`;
    the notification carries none: docs/cloud-facts.md#as-scaling-activity-notification). Instances the activity failed for are left out: they stay."""
    found: Dict[str, List[str]] = {}
    for part in chunks(list(activity_ids), 100):
        reply = session.call("as", "DescribeAutoScalingActivities", {"ActivityIds": part, "Limit": len(part)})
        for activity in reply.get("ActivitySet") or []:
            if activity.get("ActivityType") != "SCALE_IN":
                continue
            related = activity.get("RelatedInstanceSet") or []
            found[activity.get("ActivityId")] = [
                i["InstanceId"] for i in related if i.get("InstanceId") and i.get("InstanceStatus") in LEFT_OR_LEAVING
            ]
    return found
