"""CLB 2018-03-17 bindings beside a listener's own targets: target groups and classic load balancers.

Sources: tencentcloud-sdk-python-clb 3.1.194 models.py and tccli 3.1.189.1 services/clb/v20180317/api.json.
- DescribeTargetGroupInstances: `Filters` TargetGroupId, BindIP, InstanceId, combinable; `Limit` "默认20",
  no documented maximum (the sibling DescribeTargetGroupList documents [0, 100]: 100 is asked for).
- DescribeTargetGroups: `TargetGroupIds` (exclusive with `Filters`), `Limit` "默认为20": asked for the chunk.
- DeregisterTargetGroupInstances / ModifyTargetGroupInstancesWeight: `TargetGroupInstance` {BindIP, Port,
  Weight}; "单次批量解除数量最多为20个", "Port 参数为必填项", but `TargetGroupInstance.Port`: "全监听目标组
  不支持传此字段", so a full-listen group's members go without Port (unconfirmed against the live API).
  Both are asynchronous ("本接口为异步接口 ... DescribeTaskStatus").
- DescribeClassicalLBByInstanceId (`InstanceIds`) → `LoadBalancerInfoList` {InstanceId, LoadBalancerIds};
  DeregisterTargetsFromClassicalLB (`LoadBalancerId`, `InstanceIds`), asynchronous.
"""
from __future__ import annotations

from typing import Any, Dict, List, Sequence, Tuple

from ..model import CloudFailure
from .narrow import bisect
from .session import CloudSession, chunks

PAGE = 100
MAX_FILTER_VALUES = 100  # undocumented for these filters; DescribeLBListeners' conservative 100 is kept
MAX_GROUP_IDS = 20
MAX_CLASSIC_IDS = 100  # DescribeClassicalLBByInstanceId.InstanceIds: undocumented; CVM's 100 a read is kept


def target_group_members(session: CloudSession, ips: Sequence[str]) -> Tuple[List[Dict[str, Any]], Dict[str, CloudFailure]]:
    """(`TargetGroupBackend`s bound on one of these IPs, the failure of each IP the API refused alone)."""

    def read(part: List[str]) -> List[Dict[str, Any]]:
        rows: List[Dict[str, Any]] = []
        while True:
            reply = session.call("clb", "DescribeTargetGroupInstances",
                                 {"Filters": [{"Name": "BindIP", "Values": part}], "Offset": len(rows), "Limit": PAGE})
            page = reply.get("TargetGroupInstanceSet") or []
            rows.extend(page)
            if not page or len(rows) >= int(reply.get("TotalCount") or 0):
                return rows

    members: List[Dict[str, Any]] = []
    failed: Dict[str, CloudFailure] = {}
    for chunk in chunks(sorted(set(ips)), MAX_FILTER_VALUES):
        found, refused = bisect(chunk, read)
        failed.update(refused)
        for rows in found:
            members.extend(rows)
    return members, failed


def describe_target_groups(session: CloudSession, group_ids: Sequence[str]) -> List[Dict[str, Any]]:
    """`TargetGroupInfo` of each group (with `AssociatedRule`)."""
    out: List[Dict[str, Any]] = []
    for chunk in chunks(sorted(set(group_ids)), MAX_GROUP_IDS):
        reply = session.call("clb", "DescribeTargetGroups", {"TargetGroupIds": chunk, "Limit": len(chunk)})
        out.extend(reply.get("TargetGroupSet") or [])
    return out


def deregister_target_group_instances(session: CloudSession, region: str, group_id: str, instances: List[Dict[str, Any]]) -> str:
    reply = session.call("clb", "DeregisterTargetGroupInstances", {"TargetGroupId": group_id, "TargetGroupInstances": instances}, region=region)
    return str(reply.get("RequestId"))


def modify_target_group_instances_weight(session: CloudSession, region: str, group_id: str, instances: List[Dict[str, Any]]) -> str:
    reply = session.call("clb", "ModifyTargetGroupInstancesWeight", {"TargetGroupId": group_id, "TargetGroupInstances": instances}, region=region)
    return str(reply.get("RequestId"))


def classic_load_balancers(session: CloudSession, instance_ids: Sequence[str]) -> Tuple[Dict[str, List[str]], Dict[str, CloudFailure]]:
    """(instance id → ids of the classic load balancers it is bound to, the failure of each id refused alone)."""

    def read(part: List[str]) -> Dict[str, Any]:
        return session.call("clb", "DescribeClassicalLBByInstanceId", {"InstanceIds": part})

    found: Dict[str, List[str]] = {}
    failed: Dict[str, CloudFailure] = {}
    for chunk in chunks(sorted(set(instance_ids)), MAX_CLASSIC_IDS):
        replies, refused = bisect(chunk, read)
        failed.update(refused)
        for reply in replies:
            for info in reply.get("LoadBalancerInfoList") or []:
                iid = info.get("InstanceId")
                if iid in chunk:
                    found.setdefault(iid, []).extend(info.get("LoadBalancerIds") or [])
    return found, failed


def deregister_from_classic(session: CloudSession, region: str, load_balancer_id: str, instance_ids: List[str]) -> str:
    reply = session.call("clb", "DeregisterTargetsFromClassicalLB", {"LoadBalancerId": load_balancer_id, "InstanceIds": instance_ids}, region=region)
    return str(reply.get("RequestId"))
