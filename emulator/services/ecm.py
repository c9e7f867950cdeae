"""ECM 2019-07-19: DescribeInstances, DescribeLoadBalancers, DescribeTargets, BatchDeregisterTargets,
BatchModifyTargetWeight, DescribeLoadBalanceTaskStatus.

Behaviour sources:
* docs/cloud-facts.md#ecm-takes-no-region: the common ``Region`` parameter is not required for the LB APIs ("本接口不需要传递此参数")
  and the SDK sends no ``X-TC-Region`` for an empty client region; ECM LBs are found by ``EcmRegion``
  / ``BackendPrivateIps`` in DescribeLoadBalancers, then DescribeTargets; ``Protocol`` of
  DescribeTargets is an int; ``DescribeLoadBalanceTaskStatus`` returns Status 0/1/2.
* ecm models: instance private IPs are ``Instance.Internet.PrivateIPAddressSet[].PrivateIPAddress``
  ("顺序为主网卡在前"), the VPC is ``Instance.VirtualPrivateCloud.VpcId``; DescribeInstances
  ``Filters`` names (instance-id, ip-address, vpc-id, ...), "Filter.Values的上限为5", ``Limit`` ≤ 100.
* ecm ``errorcodes.py``: ``InvalidParameter.LBIdNotFound``, ``InvalidParameter.ListenerIdNotFound``,
  ``InvalidParameterValue.Length``, ``InvalidParameterValue.Duplicate``,
  ``InvalidParameterValue.InvalidFilter``, ``InvalidParameterValue.LimitExceeded``,
  ``InvalidParameterValue.TaskNotFound`` (无法找到任务), ``InvalidParameterValue.InvalidEcmRegion``,
  ``InvalidParameterValue.InvalidInstanceID`` (实例ID不合法), given here for a malformed ``instance-id``
  filter value (which code the live service gives for it is UNCONFIRMED).
  There is no ``FailedOperation.ResourceInOperating`` in ECM's list; the closest documented code for
  "another task is running on this resource" is ``FailedOperation.OperationConflict``
  (其他操作正在运行，无法进行当前操作), used for the lock. UNCONFIRMED against the live service.
* The 500-target cap of BatchDeregisterTargets is assumed from CLB (docs/cloud-facts.md#ecm-batchderegistertargets: UNCONFIRMED for ECM).
  It is synchronous like CLB's (api.json, see ``batch_deregister_targets``).
* BatchModifyTargetWeight (``BatchModifyTargetWeightRequest``: LoadBalancerId, ModifyList of
  ``TargetsWeightRule`` {ListenerId, Targets, Weight}; weight "取值范围：0~100"; the response has only a
  RequestId): synchronous, as api.json does not call it asynchronous. No ModifyList limits are published
  for ECM: the 500-target cap above is applied (UNCONFIRMED). The weight change is recorded in the
  connection model (``emulator/connections.py``) as CLB's is.
"""
from __future__ import annotations

from typing import Any

from ..errors import ApiError
from ..estate import ID_RE, Instance, LoadBalancer, Target
import time

from .clb import apply_now, find_target, listener_or_error, not_bound, parse_batch_targets, resolve_ip, weighted_targets
from ..faults import deny
from .common import ActionSpec, Ctx, ServiceSpec, check_count, filters, page, require

OPERATION_CONFLICT = "FailedOperation.OperationConflict"
LB_ID_NOT_FOUND = "InvalidParameter.LBIdNotFound"
LENGTH = "InvalidParameterValue.Length"
INVALID_FILTER = "InvalidParameterValue.InvalidFilter"
FILTER_LIMIT = "InvalidParameterValue.FilterLimitExceeded"
RANGE = "InvalidParameterValue.Range"
TASK_NOT_FOUND = "InvalidParameterValue.TaskNotFound"
INVALID_ECM_REGION = "InvalidParameterValue.InvalidEcmRegion"
INVALID_INSTANCE_ID = "InvalidParameterValue.InvalidInstanceID"  # ecm errorcodes.py: 实例ID不合法

INSTANCE_FILTERS = {"instance-id", "ip-address", "vpc-id", "instance-state", "instance-name", "subnet-id"}
UNAUTHORIZED = "AuthFailure.UnauthorizedOperation"  # ecm errorcodes.py


def describe_instances(ctx: Ctx, params: dict) -> dict:
    deny(ctx.knobs, params, UNAUTHORIZED)
    wanted = filters(params, INSTANCE_FILTERS, invalid_code=INVALID_FILTER, values_limit=5, values_code=FILTER_LIMIT)
    for iid in wanted.get("instance-id", []):
        if not ID_RE["ein"].fullmatch(iid):
            raise ApiError(INVALID_INSTANCE_ID, f"The instance ID `{iid}` is malformed.")
    found = [i for i in ctx.estate.instances.values() if i.kind == "ecm"]
    checks = {
        "instance-id": lambda i, v: i.instance_id in v,
        "ip-address": lambda i, v: any(ip in v for ip in i.private_ips),
        "vpc-id": lambda i, v: i.vpc_id in v,
        "instance-state": lambda i, v: i.state in v,
        "instance-name": lambda i, v: any(x in i.name for x in v),
        "subnet-id": lambda i, v: i.subnet_id in v,
    }
    for name, values in wanted.items():
        found = [i for i in found if checks[name](i, set(values))]
    return {"TotalCount": len(found), "InstanceSet": [_instance(i) for i in page(found, params, code=RANGE)]}


def _instance(i: Instance) -> dict:
    return {
        "InstanceId": i.instance_id,
        "InstanceName": i.name,
        "InstanceState": i.state,
        "Internet": {"PrivateIPAddressSet": [{"PrivateIPAddress": ip} for ip in i.private_ips], "PublicIPAddressSet": []},
        "VirtualPrivateCloud": {"VpcId": i.vpc_id, "SubnetId": i.subnet_id, "AsVpcGateway": False,
                                "PrivateIpAddresses": list(i.private_ips)},  # api.json: output_required
        "Position": {"ZoneInfo": {"Zone": i.zone}, "RegionInfo": {"Region": i.region}},
        "CreateTime": "2024-01-01 00:00:00",
        "RestrictState": "NORMAL",
    }


def ecm_lb(ctx: Ctx, lb_id: str) -> LoadBalancer:
    lb = ctx.estate.load_balancers.get(lb_id)
    if lb is None or lb.kind != "ecm":
        raise ApiError(LB_ID_NOT_FOUND, f"LoadBalancer {lb_id} not found.")
    return lb


def describe_load_balancers(ctx: Ctx, params: dict) -> dict:
    deny(ctx.knobs, params, UNAUTHORIZED)
    estate = ctx.estate
    region = params.get("EcmRegion")
    known = {lb.region for lb in estate.load_balancers.values() if lb.kind == "ecm"}
    known |= {i.region for i in estate.instances.values() if i.kind == "ecm"}
    if region and region not in known and not region.endswith("-ecm"):
        raise ApiError(INVALID_ECM_REGION, f"EcmRegion {region} is not valid.")
    if params.get("Filters"):
        filters(params, set(), invalid_code=INVALID_FILTER)  # tag-key filters are not emulated
    found = [lb for lb in estate.load_balancers.values() if lb.kind == "ecm"]
    if region:
        found = [lb for lb in found if lb.region == region]
    if params.get("LoadBalancerIds") is not None:
        found = [lb for lb in found if lb.lb_id in set(params["LoadBalancerIds"])]
    if params.get("LoadBalancerVips"):
        found = [lb for lb in found if lb.vip in set(params["LoadBalancerVips"])]
    if params.get("VpcId"):
        found = [lb for lb in found if lb.vpc_id == params["VpcId"]]
    if params.get("BackendPrivateIps"):
        ips = set(params["BackendPrivateIps"])
        found = [lb for lb in found if any(t.ip in ips for l in lb.listeners for t in l.targets)]
    if params.get("WithBackend") in (0, 1):
        found = [lb for lb in found if (lb.target_count() > 0) == bool(params["WithBackend"])]
    chosen = page(found, params, code=RANGE)
    return {
        "TotalCount": len(found),
        "LoadBalancerSet": [
            {"Region": lb.region, "LoadBalancerId": lb.lb_id, "LoadBalancerName": lb.name,
             "LoadBalancerType": lb.lb_type, "LoadBalancerVips": [lb.vip], "Status": 1, "CreateTime": lb.create_time,
             "StatusTime": lb.create_time, "VpcId": lb.vpc_id, "Position": {"RegionInfo": {"Region": lb.region}}}
            for lb in chosen
        ],
    }


def _backend(ctx: Ctx, t: Target) -> dict:
    inst = ctx.estate.instances.get(t.instance_id) if t.instance_id else None
    return {"InstanceId": t.instance_id or "", "Port": t.port, "Weight": t.weight, "PrivateIpAddresses": [t.ip],
            "PublicIpAddresses": [], "InstanceName": inst.name if inst else "", "RegisteredTime": t.registered_time}


def describe_targets(ctx: Ctx, params: dict) -> dict:
    """``Protocol`` is typed int in the SDK and no mapping to TCP/UDP is documented: it is accepted
    and ignored (not faithful, see README)."""
    deny(ctx.knobs, params, UNAUTHORIZED)
    lb = ecm_lb(ctx, require(params, "LoadBalancerId"))
    ids = params.get("ListenerIds")
    for lid in ids or []:
        listener_or_error(lb, lid)
    out: list[dict[str, Any]] = []
    for listener in lb.listeners:
        if ids is not None and listener.listener_id not in ids:
            continue
        if params.get("Port") is not None and listener.port != params["Port"]:
            continue
        out.append({"ListenerId": listener.listener_id, "Protocol": listener.protocol, "Port": listener.port,
                    "Targets": [_backend(ctx, t) for t in listener.targets]})
    return {"Listeners": out}


def batch_deregister_targets(ctx: Ctx, params: dict) -> dict:
    lb_id = require(params, "LoadBalancerId")
    items = require(params, "Targets")
    check_count(items, 500, "Targets", LENGTH)
    lb = ecm_lb(ctx, lb_id)
    entries = parse_batch_targets(ctx.estate, items, with_location=False, kind="ecm")
    estate = ctx.estate
    failed: list[str] = []
    ops_by_listener: dict[str, list] = {}
    for e in entries:
        lid = e["listener_id"]
        if lid in failed:
            continue
        listener = lb.listener(lid)
        target = find_target(listener.targets, e["ip"], e["port"], e["instance"]) if listener else None
        if listener is not None and target is None and ctx.knobs.not_bound_rejects_call:
            raise not_bound(e["label"], e["port"], lid)
        if listener is None or (target is None and ctx.knobs.not_bound_as_failure):
            failed.append(lid)
            ops_by_listener.pop(lid, None)
            continue
        if target is not None:
            ops_by_listener.setdefault(lid, []).append(
                (lambda l=lid, ip=target.ip, port=target.port: estate.remove_target(lb.lb_id, l, None, ip, port)))
    ctx.ensure_writable(lb, OPERATION_CONFLICT)
    # Synchronous: tccli 3.1.189.1 ecm/v20190719/api.json (and doc 1108/48469) do not call it "异步接口"
    # (emulator.spec.asynchronous); its RequestId still answers DescribeLoadBalanceTaskStatus with 0.
    apply_now(ctx, lb.lb_id, [op for ops in ops_by_listener.values() for op in ops], len(items))
    return {"FailListenerIdSet": failed}


def batch_modify_target_weight(ctx: Ctx, params: dict) -> dict:
    lb_id = require(params, "LoadBalancerId")
    rules = require(params, "ModifyList")
    check_count([t for r in rules for t in r.get("Targets") or []], 500, "ModifyList.N.Targets", LENGTH)
    lb = ecm_lb(ctx, lb_id)
    estate = ctx.estate
    ops = []
    for i, r in enumerate(rules):
        path = f"ModifyList.{i}."
        lid = require(r, "ListenerId", path)
        listener = listener_or_error(lb, lid)
        for tpath, t, weight in weighted_targets(r, path):
            ip, inst, _ = resolve_ip(estate, t, tpath, kind="ecm")
            target = find_target(listener.targets, ip, t["Port"], inst)
            if target is not None:
                ops.append(_weight_op(ctx, lb.lb_id, lid, target.ip, target.port, weight))
    ctx.ensure_writable(lb, OPERATION_CONFLICT)
    apply_now(ctx, lb.lb_id, ops, len(ops))
    return {}


def _weight_op(ctx: Ctx, lb_id: str, lid: str, ip: str, port: int, weight: int):
    estate = ctx.estate

    def apply() -> None:
        if estate.set_weight(lb_id, lid, None, ip, port, weight):
            estate.connections.weight_changed(lb_id, lid, ip, port, weight, time.time())
    return apply


def describe_load_balance_task_status(ctx: Ctx, params: dict) -> dict:
    task_id = require(params, "TaskId")
    task = ctx.emu._tasks.get(task_id)
    if task is None or task.service != "ecm":
        raise ApiError(TASK_NOT_FOUND, f"Task {task_id} not found.")
    status = task.status()
    return {"Status": status}  # "可能返回 null" (api.json value_allowed_null): the spec_nulls knob answers null


SERVICE = ServiceSpec(
    name="ecm",
    version="2019-07-19",
    models="tencentcloud.ecm.v20190719.models",
    actions={
        "DescribeInstances": ActionSpec(describe_instances),
        "DescribeLoadBalancers": ActionSpec(describe_load_balancers),
        "DescribeTargets": ActionSpec(describe_targets),
        "BatchDeregisterTargets": ActionSpec(batch_deregister_targets, write=True, lb_write=True),
        "BatchModifyTargetWeight": ActionSpec(batch_modify_target_weight, write=True, lb_write=True),
        "DescribeLoadBalanceTaskStatus": ActionSpec(describe_load_balance_task_status),
    },
    region_required=False,
)
