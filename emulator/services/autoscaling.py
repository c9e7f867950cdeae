"""Auto Scaling 2018-04-19: CompleteLifecycleAction, DescribeAutoScalingActivities.

Behaviour sources:
* facts §1.3 and ``CompleteLifecycleActionRequest`` docstring: ``LifecycleHookId`` required;
  ``LifecycleActionResult`` CONTINUE (default) | ABANDON; "`InstanceId` 和 `LifecycleActionToken`
  必须填充其中一个". Errors (autoscaling ``errorcodes.py``): ``InvalidParameterValue.InvalidLifecycleHookId``,
  ``ResourceNotFound.LifecycleHookNotFound``, ``ResourceNotFound.LifecycleHookTokenNotFound``,
  ``ResourceNotFound.LifecycleHookInstanceNotFound``, ``ResourceUnavailable.LifecycleActionResultHasSet``,
  ``InvalidParameter.MustOneParameter`` (两种参数之中必须指定其中一个).
* facts §1.4 and ``DescribeAutoScalingActivitiesRequest`` docstring: ``ActivityIds`` ≤ 100, not
  together with ``Filters``; ``Limit`` ≤ 100; ``RelatedInstanceSet`` {InstanceId, InstanceStatus}
  (``ActivityRelatedInstanceSet`` is deprecated but still a model field, filled the same way).
  Malformed ids → ``InvalidParameterValue.InvalidActivityId``; a well-formed unknown id is simply
  not returned (describe semantics, as CVM DescribeInstances).
"""
from __future__ import annotations

from ..errors import INVALID_PARAMETER_VALUE, ApiError
from ..estate import ID_RE, Activity
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
    return {}


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
    found = list(ctx.estate.activities.values())
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
    },
)
