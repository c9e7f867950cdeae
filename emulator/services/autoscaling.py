"""Auto Scaling 2018-04-19: CompleteLifecycleAction, DescribeAutoScalingActivities,
DescribeAutoScalingInstances, DescribeLifecycleHooks.

Behaviour sources:
* docs/cloud-facts.md#as-completelifecycleaction and ``CompleteLifecycleActionRequest`` docstring: ``LifecycleHookId`` required;
  ``LifecycleActionResult`` CONTINUE (default) | ABANDON; "`InstanceId` 和 `LifecycleActionToken`
  必须填充其中一个". Errors (autoscaling ``errorcodes.py``): ``InvalidParameterValue.InvalidLifecycleHookId``,
  ``ResourceNotFound.LifecycleHookNotFound``, ``ResourceNotFound.LifecycleHookTokenNotFound``,
  ``ResourceNotFound.LifecycleHookInstanceNotFound``, ``ResourceUnavailable.LifecycleActionResultHasSet``,
  ``InvalidParameter.MustOneParameter`` (两种参数之中必须指定其中一个).
* docs/cloud-facts.md#as-reads-instances-hooks-activities and ``DescribeAutoScalingActivitiesRequest`` docstring: ``ActivityIds`` ≤ 100, not
  together with ``Filters``; ``Limit`` ≤ 100; ``RelatedInstanceSet`` {InstanceId, InstanceStatus}
  (``ActivityRelatedInstanceSet`` is deprecated but still a model field, filled the same way).
  Malformed ids → ``InvalidParameterValue.InvalidActivityId``; a well-formed unknown id is simply
  not returned (describe semantics, as CVM DescribeInstances). ``Limit`` applies to ``ActivityIds``
  too (default 20: a caller naming more ids must ask for as many). Activities are regional, like
  their group (a group the estate does not declare is in the estate's region).
* A completed action moves its instance's ``LifeCycleState`` on (:func:`emulator.scaling.after_completion`).
* docs/cloud-facts.md#as-reads-instances-hooks-activities and ``DescribeAutoScalingInstancesRequest`` docstring: ``InstanceIds`` ≤ 100, not together
  with ``Filters`` (≤ 10, ``Filter.Values`` ≤ 5: ``instance-id``, ``auto-scaling-group-id``,
  ``private-ip-address``); ``Limit`` default 20, max 100; ``Offset``. Error codes from the per-action
  list of the Go SDK (``tencentcloud/as/v20180419/client.go``): ``InvalidParameter.Conflict`` (ids with
  filters), ``InvalidParameterValue.Filter`` (unknown filter), ``InvalidParameterValue.InvalidInstanceId``
  (malformed instance id, also inside the ``instance-id`` filter),
  ``InvalidParameterValue.InvalidAutoScalingGroupId``, ``LimitExceeded.FilterValuesTooLong`` (> 5 values:
  errorcodes "特定过滤器的值过多"), ``InvalidParameterValue.LimitExceeded`` (> 100 ids, > 10 filters,
  ``Limit`` > 100: errorcodes "取值超出限制"; which limit answers which of these is UNCONFIRMED).
  A well-formed id that is in no group is simply absent. Reply ``Instance`` fields the estate has
  (``LaunchConfigurationId``/``Name`` and ``VersionNumber`` are made up: launch configurations are not
  emulated).
* ``DescribeLifecycleHooksRequest`` docstring: ``LifecycleHookIds`` ≤ 100 ("每次请求的上限为100"), not
  together with ``Filters`` (``lifecycle-hook-id``, ``lifecycle-hook-name``, ``auto-scaling-group-id``;
  ≤ 10, ``Filter.Values`` ≤ 5); ``Limit`` ≤ 100. Go SDK list for this action: ``InvalidParameter``,
  ``InvalidParameter.Conflict``, ``InvalidParameterValue.InvalidAutoScalingGroupId``,
  ``InvalidParameterValue.InvalidFilter``, ``InvalidParameterValue.InvalidLifecycleHookId``,
  ``MissingParameter``; it has no limit code, so every exceeded limit answers ``InvalidParameter``
  (UNCONFIRMED).
"""
from __future__ import annotations

from typing import Any

from .. import scaling
from ..errors import INVALID_PARAMETER, INVALID_PARAMETER_VALUE, ApiError
from ..estate import ID_RE, Activity, Estate, Group, Hook, Member
from .common import ActionSpec, Ctx, ServiceSpec, check_count, filters, page, require

INVALID_HOOK_ID = "InvalidParameterValue.InvalidLifecycleHookId"
HOOK_NOT_FOUND = "ResourceNotFound.LifecycleHookNotFound"
TOKEN_NOT_FOUND = "ResourceNotFound.LifecycleHookTokenNotFound"
INSTANCE_NOT_FOUND = "ResourceNotFound.LifecycleHookInstanceNotFound"
RESULT_HAS_SET = "ResourceUnavailable.LifecycleActionResultHasSet"
MUST_ONE = "InvalidParameter.MustOneParameter"
CONFLICT = "InvalidParameter.Conflict"
INVALID_ACTIVITY_ID = "InvalidParameterValue.InvalidActivityId"
INVALID_FILTER = "InvalidParameterValue.Filter"
TOO_LONG = "InvalidParameterValue.TooLong"
INVALID_INSTANCE_ID = "InvalidParameterValue.InvalidInstanceId"
INVALID_GROUP_ID = "InvalidParameterValue.InvalidAutoScalingGroupId"
INVALID_FILTER_NAME = "InvalidParameterValue.InvalidFilter"
VALUE_LIMIT = "InvalidParameterValue.LimitExceeded"
FILTER_VALUES_TOO_LONG = "LimitExceeded.FilterValuesTooLong"


def complete_lifecycle_action(ctx: Ctx, params: dict) -> dict:
    hook_id = require(params, "LifecycleHookId")
    if not ID_RE["ash"].match(hook_id):
        raise ApiError(INVALID_HOOK_ID, f"The lifecycle hook ID `{hook_id}` is invalid.")
    result = params.get("LifecycleActionResult") or "CONTINUE"
    if result not in ("CONTINUE", "ABANDON"):
        raise ApiError(INVALID_PARAMETER_VALUE, f"LifecycleActionResult must be CONTINUE or ABANDON, got {result}.")
    iid, token = params.get("InstanceId") or None, params.get("LifecycleActionToken") or None
    if not iid and not token:
        raise ApiError(MUST_ONE, "One of `InstanceId` and `LifecycleActionToken` must be specified.")
    actions = [a for a in ctx.estate.lifecycle_actions if a.hook_id == hook_id]
    if not actions:
        raise ApiError(HOOK_NOT_FOUND, f"The lifecycle hook `{hook_id}` is not found.")
    if token:
        matched = [a for a in actions if a.token == token and (iid is None or a.instance_id == iid)]
        if not matched:
            raise ApiError(TOKEN_NOT_FOUND, f"The lifecycle action token `{token}` is not found.")
    else:
        matched = [a for a in actions if a.instance_id == iid]
        if not matched:
            raise ApiError(INSTANCE_NOT_FOUND, f"The instance `{iid}` of lifecycle hook `{hook_id}` is not found.")
    # The most recent action for that instance is the one waiting (a hook fires once per transition).
    action = matched[-1]
    action.completions += 1
    if action.result is not None:
        raise ApiError(RESULT_HAS_SET, f"The lifecycle action result of `{action.instance_id}` has already been set.")
    action.result = result
    scaling.after_completion(ctx.estate, action, ctx.wall)
    return {}


def describe_auto_scaling_instances(ctx: Ctx, params: dict) -> dict:
    ids = params.get("InstanceIds")
    if ids is not None and params.get("Filters") is not None:
        raise ApiError(CONFLICT, "The parameters `InstanceIds` and `Filters` cannot be specified at the same time.")
    check_count(ids, 100, "InstanceIds", VALUE_LIMIT)
    check_count(params.get("Filters"), 10, "Filters", VALUE_LIMIT)
    wanted = filters(params, {"instance-id", "auto-scaling-group-id", "private-ip-address"}, invalid_code=INVALID_FILTER,
                     values_limit=5, values_code=FILTER_VALUES_TOO_LONG)
    for iid in (ids or []) + wanted.get("instance-id", []):
        if not ID_RE["ins"].match(iid):
            raise ApiError(INVALID_INSTANCE_ID, f"The instance ID `{iid}` is invalid.")
    _check_group_ids(wanted.get("auto-scaling-group-id", []))
    _page_limit(params, VALUE_LIMIT)
    scaling.leave(ctx.estate, ctx.wall, ctx.knobs.as_terminate_seconds)
    found = [(g, m) for g in ctx.estate.groups.values() if g.region == ctx.region for m in g.members.values()]
    if ids is not None:
        found = [(g, m) for g, m in found if m.instance_id in set(ids)]
    checks = {
        "instance-id": lambda g, m, v: m.instance_id in v,
        "auto-scaling-group-id": lambda g, m, v: g.group_id in v,
        "private-ip-address": lambda g, m, v: any(ip in v for ip in _ips(ctx.estate, m)),
    }
    for name, values in wanted.items():
        found = [(g, m) for g, m in found if checks[name](g, m, set(values))]
    return {"TotalCount": len(found),
            "AutoScalingInstanceSet": [_member(ctx.estate, g, m) for g, m in page(found, params)]}


def _ips(estate: Estate, m: Member) -> list[str]:
    inst = estate.instances.get(m.instance_id)
    return list(inst.private_ips) if inst else []


def _member(estate: Estate, g: Group, m: Member) -> dict[str, Any]:
    inst = estate.instances.get(m.instance_id)
    return {
        "InstanceId": m.instance_id, "AutoScalingGroupId": g.group_id, "AutoScalingGroupName": g.name,
        "LaunchConfigurationId": "asc-" + g.group_id[-8:], "LaunchConfigurationName": g.name + "-launch",
        "LifeCycleState": m.state, "HealthStatus": m.health, "ProtectedFromScaleIn": m.protected,
        "Zone": inst.zone if inst else g.region + "-1", "CreationType": m.creation_type, "AddTime": m.add_time,
        "InstanceType": m.instance_type, "VersionNumber": 1, "WarmupStatus": "NO_NEED_WARMUP",
        "DisasterRecoverGroupIds": [],
    }


def describe_lifecycle_hooks(ctx: Ctx, params: dict) -> dict:
    ids = params.get("LifecycleHookIds")
    if ids is not None and params.get("Filters") is not None:
        raise ApiError(CONFLICT, "The parameters `LifecycleHookIds` and `Filters` cannot be specified at the same time.")
    check_count(ids, 100, "LifecycleHookIds", INVALID_PARAMETER)
    check_count(params.get("Filters"), 10, "Filters", INVALID_PARAMETER)
    wanted = filters(params, {"lifecycle-hook-id", "lifecycle-hook-name", "auto-scaling-group-id"},
                     invalid_code=INVALID_FILTER_NAME, values_limit=5, values_code=INVALID_PARAMETER)
    for hid in (ids or []) + wanted.get("lifecycle-hook-id", []):
        if not ID_RE["ash"].match(hid):
            raise ApiError(INVALID_HOOK_ID, f"The lifecycle hook ID `{hid}` is invalid.")
    _check_group_ids(wanted.get("auto-scaling-group-id", []))
    _page_limit(params, INVALID_PARAMETER)
    regions = {g.group_id: g.region for g in ctx.estate.groups.values()}
    found = [h for h in ctx.estate.hooks.values() if regions.get(h.group_id) == ctx.region]
    if ids is not None:
        found = [h for h in found if h.hook_id in set(ids)]
    checks = {
        "lifecycle-hook-id": lambda h, v: h.hook_id in v,
        "lifecycle-hook-name": lambda h, v: h.name in v,
        "auto-scaling-group-id": lambda h, v: h.group_id in v,
    }
    for name, values in wanted.items():
        found = [h for h in found if checks[name](h, set(values))]
    return {"TotalCount": len(found), "LifecycleHookSet": [_hook(h) for h in page(found, params)]}


def _hook(h: Hook) -> dict[str, Any]:
    target = None
    if h.target_type:
        target = {"TargetType": h.target_type, "QueueName": h.queue_name or "", "TopicName": h.topic_name or ""}
    return {
        "LifecycleHookId": h.hook_id, "LifecycleHookName": h.name, "AutoScalingGroupId": h.group_id,
        "DefaultResult": h.default_result, "HeartbeatTimeout": h.heartbeat_timeout,
        "LifecycleTransition": h.transition, "NotificationMetadata": h.metadata, "CreatedTime": h.created_time,
        "NotificationTarget": target, "LifecycleTransitionType": h.transition_type, "LifecycleCommand": None,
    }


def _check_group_ids(group_ids: list[str]) -> None:
    for gid in group_ids:
        if not ID_RE["asg"].match(gid):
            raise ApiError(INVALID_GROUP_ID, f"The auto scaling group ID `{gid}` is invalid.")


def _page_limit(params: dict, code: str) -> None:
    limit = params.get("Limit")
    if limit is not None and limit > 100:
        raise ApiError(code, f"The value of `Limit` must be within [0, 100], got {limit}.")


def describe_auto_scaling_activities(ctx: Ctx, params: dict) -> dict:
    ids = params.get("ActivityIds")
    if ids is not None and params.get("Filters") is not None:
        raise ApiError(CONFLICT, "The parameters `ActivityIds` and `Filters` cannot be specified at the same time.")
    check_count(ids, 100, "ActivityIds", TOO_LONG)
    for aid in ids or []:
        if not ID_RE["asa"].match(aid):
            raise ApiError(INVALID_ACTIVITY_ID, f"The activity ID `{aid}` is invalid.")
    wanted = filters(params, {"auto-scaling-group-id", "activity-status-code", "activity-type", "activity-id"},
                     invalid_code=INVALID_FILTER)
    regions = {g.group_id: g.region for g in ctx.estate.groups.values()}
    found = [a for a in ctx.estate.activities.values() if regions.get(a.group_id, ctx.estate.region) == ctx.region]
    if ids is not None:
        found = [a for a in found if a.activity_id in set(ids)]
    checks = {
        "auto-scaling-group-id": lambda a, v: a.group_id in v,
        "activity-status-code": lambda a, v: a.status_code in v,
        "activity-type": lambda a, v: a.activity_type in v,
        "activity-id": lambda a, v: a.activity_id in v,
    }
    for name, values in wanted.items():
        found = [a for a in found if checks[name](a, set(values))]
    return {"TotalCount": len(found), "ActivitySet": [_activity(ctx, a) for a in page(found, params)]}


def _activity(ctx: Ctx, a: Activity) -> dict:
    related = [{"InstanceId": i, "InstanceStatus": s} for i, s in a.related]
    ids = {i for i, _ in a.related}
    results = [
        {"LifecycleHookId": l.hook_id, "InstanceId": l.instance_id, "NotificationResult": "SUCCESSFUL",
         "LifecycleActionResult": l.result or "", "ResultReason": "CALL_INTERFACE" if l.result else ""}
        for l in ctx.estate.lifecycle_actions if l.group_id == a.group_id and l.instance_id in ids
    ]
    return {
        "AutoScalingGroupId": a.group_id, "ActivityId": a.activity_id, "ActivityType": a.activity_type,
        "StatusCode": a.status_code, "StatusMessage": a.status_message, "StatusMessageSimplified": a.status_message,
        "Cause": a.cause, "Description": a.description, "StartTime": a.start_time, "EndTime": a.end_time,
        "CreatedTime": a.created_time, "RelatedInstanceSet": related, "ActivityRelatedInstanceSet": related,
        "LifecycleActionResultSet": results, "DetailedStatusMessageSet": [], "InvocationResultSet": [],
    }


SERVICE = ServiceSpec(
    name="as",
    version="2018-04-19",
    models="tencentcloud.autoscaling.v20180419.models",
    actions={
        "CompleteLifecycleAction": ActionSpec(complete_lifecycle_action, write=True),
        "DescribeAutoScalingActivities": ActionSpec(describe_auto_scaling_activities),
        "DescribeAutoScalingInstances": ActionSpec(describe_auto_scaling_instances),
        "DescribeLifecycleHooks": ActionSpec(describe_lifecycle_hooks),
    },
)
