"""CLB 2018-03-17 target groups and classic load balancers: DescribeTargetGroups,
DescribeTargetGroupInstances, DeregisterTargetGroupInstances, ModifyTargetGroupInstancesWeight,
DescribeClassicalLBByInstanceId, DeregisterTargetsFromClassicalLB.

Sources: tencentcloud-sdk-python-clb 3.1.194 ``models.py`` and tccli 3.1.189.1
``services/clb/v20180317/api.json`` (the same text):

* ``DescribeTargetGroupInstancesRequest.Filters`` (required): "当前支持按照 TargetGroupId，BindIP，
  InstanceId 多个条件组合过滤"; ``Limit`` "默认20" (no maximum documented: the emulator takes 100, the
  documented range of the sibling ``DescribeTargetGroupList.Limit`` "[0, 100]").
* ``DescribeTargetGroupsRequest``: ``TargetGroupIds`` "与Filters互斥"; Filters TargetGroupVpcId,
  TargetGroupName, Tag; ``Limit`` "默认为20".
* ``DeregisterTargetGroupInstances``: "单次批量解除数量最多为20个。在这个接口 Port 参数为必填项" and
  "本接口为异步接口 ... 调用 DescribeTaskStatus". ``TargetGroupInstance`` is ``BindIP`` (required),
  ``Port`` ("全监听目标组不支持传此字段"), ``Weight``. The two sentences about ``Port`` disagree for a
  full-listen group; the emulator follows the field's own: a full-listen group refuses ``Port``, any
  other group requires it (UNCONFIRMED against the live API).
* ``ModifyTargetGroupInstancesWeight``: "在这个接口 Port 为必填项", asynchronous, weights [0, 100].
* ``DescribeClassicalLBByInstanceId`` (``InstanceIds``) → ``LoadBalancerInfoList`` of
  ``ClassicalLoadBalancerInfo`` {InstanceId, LoadBalancerIds}; ``DeregisterTargetsFromClassicalLB``
  (``LoadBalancerId``, ``InstanceIds``) "本接口为异步接口 ... 调用 DescribeTaskStatus".
* Errors: the action lists of the Go SDK's clb client (DeregisterTargetGroupInstances: FailedOperation,
  InternalError, InvalidParameter, InvalidParameterValue, UnauthorizedOperation). A write while the
  group's (or the classic load balancer's) task runs answers ``FailedOperation.ResourceInOperating``,
  as the CLB writes do (``clb.py``) and as gwlb's DeregisterTargetGroupInstances lists. A target that is
  not a member refuses the whole call with ``InvalidParameter``, like a direct deregister of a target
  that is not bound (``not_bound_rejects_call``).
"""
from __future__ import annotations

import ipaddress
import time
from typing import Any

from ..bindings import TargetGroup
from ..errors import INVALID_PARAMETER, INVALID_PARAMETER_VALUE, UNSUPPORTED_OPERATION, ApiError, missing
from ..faults import deny
from .common import ActionSpec, Ctx, check_count, filters, page, require

RESOURCE_IN_OPERATING = "FailedOperation.ResourceInOperating"
LENGTH = "InvalidParameterValue.Length"
RANGE = "InvalidParameterValue.Range"
INVALID_FILTER = "InvalidParameterValue.InvalidFilter"
LB_ID_NOT_FOUND = "InvalidParameter.LBIdNotFound"
UNAUTHORIZED = "UnauthorizedOperation"
MAX_DEREGISTER = 20


def _group(ctx: Ctx, tg_id: str) -> TargetGroup:
    tg = ctx.estate.extras.target_groups.get(tg_id)
    if tg is None:
        raise ApiError(INVALID_PARAMETER_VALUE, f"TargetGroup {tg_id} not found.")
    return tg


def _writable(ctx: Ctx, resource_id: str) -> None:
    if ctx.tasks.busy(resource_id, ctx.now) or ctx.faulty(ctx.knobs.busy_rate):
        raise ApiError(RESOURCE_IN_OPERATING, f"{resource_id} is in operation, please try again later.")


# --------------------------------------------------------------------------- target groups: reads
def _association(ctx: Ctx, a: Any) -> dict:
    lb = ctx.estate.load_balancers[a.load_balancer_id]
    listener = lb.listener(a.listener_id)
    rule = listener.rule(a.location_id) if listener and a.location_id else None
    item: dict[str, Any] = {
        "LoadBalancerId": lb.lb_id, "ListenerId": a.listener_id, "Protocol": listener.protocol if listener else "",
        "Port": listener.port if listener else 0, "LoadBalancerName": lb.name, "ListenerName": listener.name if listener else "",
    }
    if rule is not None:
        item.update(LocationId=rule.location_id, Domain=rule.domain, Url=rule.url)
    return item


def _info(ctx: Ctx, tg: TargetGroup) -> dict:
    rules = [_association(ctx, a) for a in tg.associations]
    info: dict[str, Any] = {
        "TargetGroupId": tg.target_group_id, "VpcId": tg.vpc_id, "TargetGroupName": tg.name, "Port": tg.port,
        "CreatedTime": "2024-01-01 00:00:00", "UpdatedTime": "2024-01-01 00:00:00", "AssociatedRule": rules,
        "TargetGroupType": tg.group_type, "AssociatedRuleCount": len(rules), "RegisteredInstancesCount": len(tg.members),
        "Tag": [], "FullListenSwitch": tg.full_listen,
    }
    if tg.group_type == "v2":
        info["Weight"] = 10
    return info


def describe_target_groups(ctx: Ctx, params: dict) -> dict:
    deny(ctx.knobs, params, UNAUTHORIZED)
    ids = params.get("TargetGroupIds")
    if ids and params.get("Filters"):
        raise ApiError(INVALID_PARAMETER, "`TargetGroupIds` and `Filters` cannot be given together.")
    wanted = filters(params, {"TargetGroupVpcId", "TargetGroupName", "Tag"}, invalid_code=INVALID_FILTER)
    found = list(ctx.estate.extras.target_groups.values())
    if ids:
        found = [tg for tg in found if tg.target_group_id in set(ids)]
    if "TargetGroupVpcId" in wanted:
        found = [tg for tg in found if tg.vpc_id in wanted["TargetGroupVpcId"]]
    if "TargetGroupName" in wanted:
        found = [tg for tg in found if tg.name in wanted["TargetGroupName"]]
    if "Tag" in wanted:
        found = []
    return {"TotalCount": len(found), "TargetGroupSet": [_info(ctx, tg) for tg in page(found, params, code=RANGE)]}


def _backend(ctx: Ctx, tg: TargetGroup, m: Any) -> dict:
    inst = ctx.estate.instances.get(m.instance_id) if m.instance_id else None
    return {
        "TargetGroupId": tg.target_group_id, "Type": "CVM", "InstanceId": m.instance_id or "", "Port": m.port,
        "Weight": m.weight, "PublicIpAddresses": [], "PrivateIpAddresses": [m.ip], "InstanceName": inst.name if inst else "",
        "RegisteredTime": m.registered_time, "EniId": "", "ZoneId": 100003,
    }


def describe_target_group_instances(ctx: Ctx, params: dict) -> dict:
    deny(ctx.knobs, params, UNAUTHORIZED)
    require(params, "Filters")
    wanted = filters(params, {"TargetGroupId", "BindIP", "InstanceId"}, invalid_code=INVALID_FILTER)
    rows = []
    for tg in ctx.estate.extras.target_groups.values():
        if "TargetGroupId" in wanted and tg.target_group_id not in wanted["TargetGroupId"]:
            continue
        for m in tg.members:
            if "BindIP" in wanted and m.ip not in wanted["BindIP"]:
                continue
            if "InstanceId" in wanted and (m.instance_id or "") not in wanted["InstanceId"]:
                continue
            rows.append((tg, m))
    chosen = page(rows, params, code=RANGE)
    return {"TotalCount": len(rows), "TargetGroupInstanceSet": [_backend(ctx, tg, m) for tg, m in chosen], "RealCount": len(rows)}


# --------------------------------------------------------------------------- target groups: writes
def _instances(tg: TargetGroup, items: list[dict], *, weight: bool) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for i, item in enumerate(items):
        path = f"TargetGroupInstances.{i}."
        ip = require(item, "BindIP", path)
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise ApiError("InvalidParameter.FormatError", f"`{path}BindIP` is not a valid IP address: {ip}.") from None
        port = item.get("Port")
        if tg.full_listen:
            if port is not None or item.get("NewPort") is not None:
                raise ApiError(INVALID_PARAMETER_VALUE, f"`{path}Port` is not supported by the full-listen target group {tg.target_group_id}.")
            port = 0
        elif port is None:
            raise missing(f"{path}Port")
        if weight:
            value = item.get("Weight")
            if value is None:
                raise missing(f"{path}Weight")
            if not 0 <= value <= 100:
                raise ApiError(RANGE, f"The value of `{path}Weight` must be within [0, 100], got {value}.")
        if (ip, port) in out:
            raise ApiError("InvalidParameterValue.Duplicate", f"{ip}:{port} is given twice.")
        if tg.member(ip, port) is None:
            raise ApiError(INVALID_PARAMETER, f"{ip}:{port} is not a member of target group {tg.target_group_id}.")
        out.append((ip, port))
    return out


def deregister_target_group_instances(ctx: Ctx, params: dict) -> dict:
    tg = _group(ctx, require(params, "TargetGroupId"))
    items = require(params, "TargetGroupInstances")
    check_count(items, MAX_DEREGISTER, "TargetGroupInstances", LENGTH)
    leaving = _instances(tg, items, weight=False)
    _writable(ctx, tg.target_group_id)

    def op() -> None:
        tg.members = [m for m in tg.members if (m.ip, m.port) not in leaving]

    ctx.start_task(tg.target_group_id, [op])
    return {}


def modify_target_group_instances_weight(ctx: Ctx, params: dict) -> dict:
    tg = _group(ctx, require(params, "TargetGroupId"))
    items = require(params, "TargetGroupInstances")
    _instances(tg, items, weight=True)
    _writable(ctx, tg.target_group_id)
    weights = {(item["BindIP"], 0 if tg.full_listen else item["Port"]): item["Weight"] for item in items}

    def op() -> None:
        for m in tg.members:
            if (m.ip, m.port) in weights:
                m.weight = weights[(m.ip, m.port)]
                for a in tg.associations:  # the member is each associated listener's real server
                    ctx.estate.connections.weight_changed(a.load_balancer_id, a.listener_id, m.ip, m.port, m.weight, time.time())

    ctx.start_task(tg.target_group_id, [op])
    return {}


# --------------------------------------------------------------------------- classic load balancers
def describe_classical_lb_by_instance_id(ctx: Ctx, params: dict) -> dict:
    deny(ctx.knobs, params, UNAUTHORIZED)
    ids = require(params, "InstanceIds")
    out = []
    for iid in dict.fromkeys(ids):
        lbs = [lb for lb, members in ctx.estate.extras.classic.items()
               if iid in members and ctx.estate.load_balancers[lb].region == ctx.region]
        if lbs:
            out.append({"InstanceId": iid, "LoadBalancerIds": lbs})
    return {"LoadBalancerInfoList": out}


def deregister_targets_from_classical_lb(ctx: Ctx, params: dict) -> dict:
    lb_id = require(params, "LoadBalancerId")
    ids = require(params, "InstanceIds")
    lb = ctx.estate.load_balancers.get(lb_id)
    if lb is None or lb.kind != "clb" or lb.region != ctx.region:
        raise ApiError(LB_ID_NOT_FOUND, f"LoadBalancer {lb_id} not found.")
    if lb.forward != 0:
        raise ApiError(UNSUPPORTED_OPERATION, f"{lb_id} is not a classic load balancer.")
    members = ctx.estate.extras.classic.setdefault(lb_id, [])
    for iid in ids:
        if iid not in members:
            raise ApiError(INVALID_PARAMETER, f"Instance {iid} is not bound to {lb_id}.")
    _writable(ctx, lb_id)
    leaving = set(ids)

    def op() -> None:
        members[:] = [i for i in members if i not in leaving]

    ctx.start_task(lb_id, [op])
    return {}


ACTIONS = {
    "DescribeTargetGroups": ActionSpec(describe_target_groups),
    "DescribeTargetGroupInstances": ActionSpec(describe_target_group_instances),
    "DeregisterTargetGroupInstances": ActionSpec(deregister_target_group_instances, write=True, lb_write=True),
    "ModifyTargetGroupInstancesWeight": ActionSpec(modify_target_group_instances_weight, write=True, lb_write=True),
    "DescribeClassicalLBByInstanceId": ActionSpec(describe_classical_lb_by_instance_id),
    "DeregisterTargetsFromClassicalLB": ActionSpec(deregister_targets_from_classical_lb, write=True, lb_write=True),
}
