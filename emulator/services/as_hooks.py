"""Auto Scaling 2018-04-19 hook management: CreateLifecycleHook, ModifyLifecycleHook, DeleteLifecycleHook, and
DescribeAutoScalingGroups (whether a group exists), on the estate's groups and hooks
(:class:`emulator.estate.Group`, :class:`emulator.estate.Hook`), so a hook setup creates is the hook
a scale-in notifies and the function's reconcile pass finds with DescribeLifecycleHooks.

Behaviour sources (SDK autoscaling 3.1.169 ``models.py`` docstrings and ``errorcodes.py``):
* ``CreateLifecycleHookRequest``: AutoScalingGroupId (malformed ``InvalidParameterValue.InvalidAutoScalingGroupId``,
  unknown ``ResourceNotFound.AutoScalingGroupNotFound``); LifecycleHookName "仅支持中文、英文、数字、下划线、
  短横线、小数点，最大长度不能超128" (``InvalidParameterValue.InvalidLifecycleHookName``: no such code in
  errorcodes, so ``InvalidParameterValue`` is answered; chosen), taken in the group
  ``InvalidParameterValue.LifecycleHookNameDuplicated``; LifecycleTransition INSTANCE_LAUNCHING |
  INSTANCE_TERMINATING; DefaultResult CONTINUE (default) | ABANDON; HeartbeatTimeout 30–7200, default
  300 (``InvalidParameterValue.Range``); NotificationTarget TargetType one of CMQ_QUEUE, CMQ_TOPIC,
  TDMQ_CMQ_QUEUE, TDMQ_CMQ_TOPIC, QueueName required for the queue types, TopicName for the topic
  types; a TDMQ queue that does not exist ``ResourceNotFound.TDMQCMQQueueNotFound``; NotificationTarget
  with LifecycleCommand ``InvalidParameterValue.ConflictNotificationTarget`` (LifecycleCommand itself is
  not emulated: refused with ``UnsupportedOperation``, chosen).
* ``ModifyLifecycleHookRequest``: LifecycleHookId (malformed ``InvalidParameterValue.InvalidLifecycleHookId``,
  unknown ``ResourceNotFound.LifecycleHookNotFound``), then the same fields; those left out stay.
* ``DescribeAutoScalingGroupsRequest``: AutoScalingGroupIds ≤ 100, not with Filters
  (``InvalidParameter.Conflict``); Filters ``auto-scaling-group-id``, ``auto-scaling-group-name``;
  Limit ≤ 100. A well-formed unknown id, or a group of another region, is absent from the answer
  (Auto Scaling is regional, as DescribeAutoScalingInstances/DescribeLifecycleHooks here). Launch configurations, capacities
  and VPCs are not emulated: the reply carries what the estate has.
"""
from __future__ import annotations

import re
from typing import Any

from ..errors import ApiError, missing
from ..estate import ID_RE, Hook
from .common import ActionSpec, Ctx, check_count, filters, page, require

HOOK_NAME = re.compile(r"^[\w.\-\u4e00-\u9fff]{1,128}$")
TARGET_TYPES = ("CMQ_QUEUE", "CMQ_TOPIC", "TDMQ_CMQ_QUEUE", "TDMQ_CMQ_TOPIC")
INVALID_GROUP_ID = "InvalidParameterValue.InvalidAutoScalingGroupId"
GROUP_NOT_FOUND = "ResourceNotFound.AutoScalingGroupNotFound"


def _group(ctx: Ctx, group_id: str) -> Any:
    if not ID_RE["asg"].match(group_id):
        raise ApiError(INVALID_GROUP_ID, f"The scaling group ID `{group_id}` is invalid.")
    group = ctx.estate.groups.get(group_id)
    if group is None or group.region != ctx.region:
        raise ApiError(GROUP_NOT_FOUND, f"The scaling group `{group_id}` is not found.")
    return group


def _fields(ctx: Ctx, params: dict, group_id: str, hook_id: str | None) -> dict:
    """Validated hook attributes present in ``params``."""
    out: dict = {}
    name = params.get("LifecycleHookName")
    if name is not None:
        if not HOOK_NAME.match(name):
            raise ApiError("InvalidParameterValue", f"The lifecycle hook name `{name}` is invalid.")
        if any(h.group_id == group_id and h.name == name and h.hook_id != hook_id for h in ctx.estate.hooks.values()):
            raise ApiError("InvalidParameterValue.LifecycleHookNameDuplicated",
                           f"The lifecycle hook name `{name}` already exists in `{group_id}`.")
        out["name"] = name
    transition = params.get("LifecycleTransition")
    if transition is not None:
        if transition not in ("INSTANCE_LAUNCHING", "INSTANCE_TERMINATING"):
            raise ApiError("InvalidParameterValue", f"LifecycleTransition `{transition}` is invalid.")
        out["transition"] = transition
    result = params.get("DefaultResult")
    if result is not None:
        if result not in ("CONTINUE", "ABANDON"):
            raise ApiError("InvalidParameterValue", f"DefaultResult `{result}` is invalid.")
        out["default_result"] = result
    heartbeat = params.get("HeartbeatTimeout")
    if heartbeat is not None:
        if not 30 <= heartbeat <= 7200:
            raise ApiError("InvalidParameterValue.Range", f"HeartbeatTimeout must be within [30, 7200], got {heartbeat}.")
        out["heartbeat_timeout"] = heartbeat
    if params.get("NotificationMetadata") is not None:
        if len(params["NotificationMetadata"]) > 1024:
            raise ApiError("InvalidParameterValue.TooLong", "NotificationMetadata is longer than 1024 characters.")
        out["metadata"] = params["NotificationMetadata"]
    if params.get("LifecycleCommand") is not None:
        if params.get("NotificationTarget") is not None:
            raise ApiError("InvalidParameterValue.ConflictNotificationTarget",
                           "NotificationTarget and LifecycleCommand cannot be given together.")
        raise ApiError("UnsupportedOperation", "LifecycleCommand is not emulated.")
    target = params.get("NotificationTarget")
    if target is not None:
        kind = target.get("TargetType")
        if kind not in TARGET_TYPES:
            raise ApiError("InvalidParameterValue", f"TargetType `{kind}` is invalid.")
        queue, topic = target.get("QueueName"), target.get("TopicName")
        if kind.endswith("QUEUE"):
            if not queue:
                raise missing("NotificationTarget.QueueName")
            if kind == "TDMQ_CMQ_QUEUE" and queue not in ctx.estate.queues:
                raise ApiError("ResourceNotFound.TDMQCMQQueueNotFound", f"The TDMQ CMQ queue `{queue}` is not found.")
            out.update(target_type=kind, queue_name=queue, topic_name=None)
        else:
            if not topic:
                raise missing("NotificationTarget.TopicName")
            out.update(target_type=kind, queue_name=None, topic_name=topic)
    if params.get("LifecycleTransitionType") is not None:
        if params["LifecycleTransitionType"] not in ("NORMAL", "EXTENSION"):
            raise ApiError("InvalidParameterValue", "LifecycleTransitionType must be NORMAL or EXTENSION.")
        out["transition_type"] = params["LifecycleTransitionType"]
    return out


def _new_hook_id(ctx: Ctx) -> str:
    for _ in range(1000):
        candidate = "ash-" + "".join(ctx.rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8))
        if candidate not in ctx.estate.hooks:
            return candidate
    raise ApiError("InternalError", "no free lifecycle hook id")


def create_lifecycle_hook(ctx: Ctx, params: dict) -> dict:
    group = _group(ctx, require(params, "AutoScalingGroupId"))
    require(params, "LifecycleHookName")
    require(params, "LifecycleTransition")
    fields = _fields(ctx, params, group.group_id, None)
    hook = Hook(_new_hook_id(ctx), fields.pop("name"), group.group_id)
    for key, value in fields.items():
        setattr(hook, key, value)
    ctx.estate.hooks[hook.hook_id] = hook
    return {"LifecycleHookId": hook.hook_id}


def modify_lifecycle_hook(ctx: Ctx, params: dict) -> dict:
    hook_id = require(params, "LifecycleHookId")
    if not ID_RE["ash"].match(hook_id):
        raise ApiError("InvalidParameterValue.InvalidLifecycleHookId", f"The lifecycle hook ID `{hook_id}` is invalid.")
    hook = ctx.estate.hooks.get(hook_id)
    if hook is None:
        raise ApiError("ResourceNotFound.LifecycleHookNotFound", f"The lifecycle hook `{hook_id}` is not found.")
    for key, value in _fields(ctx, params, hook.group_id, hook_id).items():
        setattr(hook, key, value)
    return {}


def delete_lifecycle_hook(ctx: Ctx, params: dict) -> dict:
    """``DeleteLifecycleHookRequest.LifecycleHookId``; what becomes of actions still pending on the hook is
    not emulated (they stay, and a completion of one answers as before): UNCONFIRMED."""
    hook_id = require(params, "LifecycleHookId")
    if not ID_RE["ash"].match(hook_id):
        raise ApiError("InvalidParameterValue.InvalidLifecycleHookId", f"The lifecycle hook ID `{hook_id}` is invalid.")
    if ctx.estate.hooks.pop(hook_id, None) is None:
        raise ApiError("ResourceNotFound.LifecycleHookNotFound", f"The lifecycle hook `{hook_id}` is not found.")
    return {}


def describe_auto_scaling_groups(ctx: Ctx, params: dict) -> dict:
    ids = params.get("AutoScalingGroupIds")
    if ids is not None and params.get("Filters") is not None:
        raise ApiError("InvalidParameter.Conflict",
                       "The parameters `AutoScalingGroupIds` and `Filters` cannot be specified at the same time.")
    check_count(ids, 100, "AutoScalingGroupIds", "InvalidParameterValue.LimitExceeded")
    for gid in ids or []:
        if not ID_RE["asg"].match(gid):
            raise ApiError(INVALID_GROUP_ID, f"The scaling group ID `{gid}` is invalid.")
    wanted = filters(params, {"auto-scaling-group-id", "auto-scaling-group-name"}, invalid_code="InvalidParameterValue.Filter",
                     values_limit=5, values_code="LimitExceeded.FilterValuesTooLong")
    found = [g for g in ctx.estate.groups.values() if g.region == ctx.region]
    if ids is not None:
        found = [g for g in found if g.group_id in set(ids)]
    if "auto-scaling-group-id" in wanted:
        found = [g for g in found if g.group_id in set(wanted["auto-scaling-group-id"])]
    if "auto-scaling-group-name" in wanted:
        found = [g for g in found if g.name in set(wanted["auto-scaling-group-name"])]
    return {"TotalCount": len(found), "AutoScalingGroupSet": [
        {"AutoScalingGroupId": g.group_id, "AutoScalingGroupName": g.name, "AutoScalingGroupStatus": "NORMAL",
         "InstanceCount": len(g.members), "InServiceInstanceCount": sum(m.state == "IN_SERVICE" for m in g.members.values()),
         "EnabledStatus": "ENABLED", "InActivityStatus": "NOT_IN_ACTIVITY",
         "ForwardLoadBalancerSet": [dict(f, TargetAttributes=[dict(a) for a in f["TargetAttributes"]])
                                    for f in g.forward_load_balancers],
         "LoadBalancerIdSet": list(g.load_balancer_ids)}
        for g in page(found, params)]}


ACTIONS = {
    "CreateLifecycleHook": ActionSpec(create_lifecycle_hook, write=True),
    "ModifyLifecycleHook": ActionSpec(modify_lifecycle_hook, write=True),
    "DeleteLifecycleHook": ActionSpec(delete_lifecycle_hook, write=True),
    "DescribeAutoScalingGroups": ActionSpec(describe_auto_scaling_groups),
}
