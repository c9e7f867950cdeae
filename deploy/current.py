"""Reading the live deployment: read-only calls, each answering None (or nothing) for what does not
exist, so that ``setup`` and ``check`` share one view of the cloud.

"Does not exist" answers, by action (SDK ``errorcodes.py`` of each product):
* scf ``GetFunction``: ``ResourceNotFound.Function`` (scf errorcodes);
* tdmq ``DescribeCmqQueueDetail``: ``ResourceNotFound`` (the tdmq Go SDK lists it for the CMQ queue
  actions; the exact code for an unknown queue name is UNCONFIRMED);
* cam ``GetRole``: ``InvalidParameter.RoleNotExist``; ``GetPolicy``: ``ResourceNotFound.PolicyIdNotFound``
  or ``InvalidParameter.PolicyIdNotExist`` (cam errorcodes).
Paging: ``ListTriggers`` Offset/Limit (default 20), ``DescribeLifecycleHooks`` Offset/Limit ≤ 100
(docs/cloud-facts.md#as-reads-instances-hooks-activities), ``ListAttachedRolePolicies`` Page from 1 / Rp ≤ 200, ``ListPolicies`` Page/Rp ≤ 200.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Set

from .cloud import Cloud

Json = Dict[str, Any]


def queue(cloud: Cloud, name: str) -> Optional[Json]:
    reply = cloud.read_or_none("tdmq", "DescribeCmqQueueDetail", {"QueueName": name}, "ResourceNotFound")
    return (reply or {}).get("QueueDescribe") or None


def function(cloud: Cloud, name: str, namespace: str) -> Optional[Json]:
    return cloud.read_or_none("scf", "GetFunction", {"FunctionName": name, "Namespace": namespace}, "ResourceNotFound")


def environment(fn: Optional[Json]) -> Dict[str, str]:
    variables = ((fn or {}).get("Environment") or {}).get("Variables") or []
    return {v["Key"]: v.get("Value", "") for v in variables if v.get("Key")}


def triggers(cloud: Cloud, name: str, namespace: str) -> List[Json]:
    found: List[Json] = []
    while True:
        reply = cloud.read("scf", "ListTriggers", {"FunctionName": name, "Namespace": namespace,
                                                    "Offset": len(found), "Limit": 20})
        page = reply.get("Triggers") or []
        found.extend(page)
        if not page or len(found) >= int(reply.get("TotalCount") or 0):
            return found


def async_config(cloud: Cloud, name: str, namespace: str) -> Json:
    reply = cloud.read("scf", "GetFunctionEventInvokeConfig", {"FunctionName": name, "Namespace": namespace})
    return reply.get("AsyncTriggerConfig") or {}


def role(cloud: Cloud, name: str) -> Optional[Json]:
    reply = cloud.read_or_none("cam", "GetRole", {"RoleName": name}, "InvalidParameter.RoleNotExist", "ResourceNotFound")
    return (reply or {}).get("RoleInfo") or None


def attached_policies(cloud: Cloud, role_name: str) -> List[Json]:
    found: List[Json] = []
    page = 1
    while True:
        reply = cloud.read("cam", "ListAttachedRolePolicies", {"RoleName": role_name, "Page": page, "Rp": 200})
        items = reply.get("List") or []
        found.extend(items)
        if not items or len(found) >= int(reply.get("TotalNum") or 0):
            return found
        page += 1


def policy_by_name(cloud: Cloud, name: str) -> Optional[Json]:
    """The custom policy with exactly this name (``ListPolicies`` matches by keyword)."""
    page = 1
    seen = 0
    while True:
        reply = cloud.read("cam", "ListPolicies", {"Keyword": name, "Scope": "Local", "Page": page, "Rp": 200})
        items = reply.get("List") or []
        for item in items:
            if item.get("PolicyName") == name:
                return item
        seen += len(items)
        if not items or seen >= int(reply.get("TotalNum") or 0):
            return None
        page += 1


def policy(cloud: Cloud, policy_id: int) -> Optional[Json]:
    return cloud.read_or_none("cam", "GetPolicy", {"PolicyId": int(policy_id)},
                              "ResourceNotFound", "InvalidParameter.PolicyIdNotExist")


def existing_groups(cloud: Cloud, ids: Sequence[str]) -> Set[str]:
    found: Set[str] = set()
    wanted = sorted(set(ids))
    for i in range(0, len(wanted), 100):
        reply = cloud.read("as", "DescribeAutoScalingGroups", {"AutoScalingGroupIds": wanted[i:i + 100], "Limit": 100})
        found.update(g["AutoScalingGroupId"] for g in reply.get("AutoScalingGroupSet") or [])
    return found


def hooks(cloud: Cloud, group: Optional[str] = None) -> List[Json]:
    """Lifecycle hooks of one group, or of every group (no filter)."""
    found: List[Json] = []
    while True:
        params: Json = {"Offset": len(found), "Limit": 100}
        if group:
            params["Filters"] = [{"Name": "auto-scaling-group-id", "Values": [group]}]
        reply = cloud.read("as", "DescribeLifecycleHooks", params)
        page = reply.get("LifecycleHookSet") or []
        found.extend(page)
        if not page or len(found) >= int(reply.get("TotalCount") or 0):
            return found


def notifies(hook: Json, queue_name: str) -> bool:
    target = hook.get("NotificationTarget") or {}
    return target.get("TargetType") in ("TDMQ_CMQ_QUEUE", "CMQ_QUEUE") and target.get("QueueName") == queue_name
