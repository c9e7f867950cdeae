"""CLB 2018-03-17: DescribeLBListeners, DescribeLoadBalancers, DescribeTargets, BatchDeregisterTargets,
DeregisterTargets, BatchModifyTargetWeight, DescribeTaskStatus.

Behaviour sources (headings of docs/cloud-facts.md):
* DescribeLBListeners (#clb-describelblisteners): reverse lookup by (VpcId string, PrivateIp); ``LbRsTargets.Type`` is
  lower-case "cvm"/"eni", ``VpcId`` is an **int**; L7 targets only under ``Rules``; LBs of every
  region are returned (``Region`` field).
* DescribeTargets (#clb-describeloadbalancers-and-describetargets) (``ListenerIds`` ≤ 20, filters location-id / private-ip-address /
  tag) and DescribeLoadBalancers (``LoadBalancerIds`` ≤ 20, ``Limit`` ≤ 100, ``BackendPrivateIps``
  "只支持查询云服务器的内网 IP" → only targets bound as CVM are found by it).
* BatchDeregisterTargets (#clb-batchderegistertargets): ≤ 500 targets; ``BatchTarget`` needs exactly one of
  ``InstanceId`` (primary NIC primary IP) / ``EniIp``; ``LocationId`` required for L7; partial failure
  per listener in ``FailListenerIdSet`` + ``Message`` ("Listener lbl-xxxx not exists.").
  Synchronous (#clb-batchderegistertargets-is-synchronous): tkestack/tke-extend-network-controller removed its DescribeTaskStatus wait
  after it ("这两个接口是同步的，返回即代表操作完成", commit be29546; "BatchRegisterTargets 接口为同步任务",
  b51cf5d), and the SDK docstring lacks the "本接口为异步接口" that DeregisterTargets and
  BatchModifyTargetWeight carry. So the change is applied before the reply; the reply's RequestId
  still answers DescribeTaskStatus (status 0), as bk-bcs polls it. The same project found the load
  balancer still busy right after a large batch ("批量 500 后单次操作在 CLB 上执行时间长 ... 撞上 CLB
  desState 未恢复窗口", CHANGELOG v2.5.1): the load balancer stays locked for ``task_seconds`` × n/500
  after a batch of n targets. Knob ``clb_batch_deregister_async`` restores the task behaviour.
* DeregisterTargets (#clb-deregistertargets-and-describetaskstatus): ``Targets`` ≤ 20; ``Port`` required; L7 needs ``LocationId`` or
  ``Domain`` + ``Url``; asynchronous. #clb-batchmodifytargetweight / ``BatchModifyTargetWeightRequest`` docstring:
  ``ModifyList`` ≤ 100 items, ≤ 50 targets each, ≤ 500 in total; ``Target.Weight`` overrides the
  rule's ``Weight``; weights in [0, 100].
* DescribeTaskStatus (#clb-deregistertargets-and-describetaskstatus): 0 success / 1 failed / 2 running.
* Error codes: clb ``errorcodes.py`` and the per-action lists of the Go SDK
  (``tencentcloud/clb/v20180317/client.go``): BatchDeregisterTargets may return ``MissingParameter``,
  ``InvalidParameter.LBIdNotFound``/``.ListenerIdNotFound``/``.LocationNotFound``/``.FormatError``,
  ``InvalidParameterValue.Duplicate``/``.Length``/``.Range``, ``LimitExceeded``; BatchModifyTargetWeight
  lists ``InvalidParameterValue.Length`` but not ``LimitExceeded``, so every list-size cap here uses
  ``InvalidParameterValue.Length``; ``FailedOperation.ResourceInOperating`` (正在操作指定的资源) for a
  load balancer with a running task (#clb-error-codes).
"""
from __future__ import annotations

import time

import ipaddress
from typing import Any, Iterator

from ..errors import INVALID_PARAMETER, INVALID_PARAMETER_VALUE, UNSUPPORTED_OPERATION, ApiError, missing
from ..estate import Estate, Instance, Listener, LoadBalancer, Rule, Target
from ..faults import deny
from .common import ActionSpec, Ctx, ServiceSpec, check_count, filters, page, require

RESOURCE_IN_OPERATING = "FailedOperation.ResourceInOperating"
LB_ID_NOT_FOUND = "InvalidParameter.LBIdNotFound"
LISTENER_ID_NOT_FOUND = "InvalidParameter.ListenerIdNotFound"
LOCATION_NOT_FOUND = "InvalidParameter.LocationNotFound"
FORMAT_ERROR = "InvalidParameter.FormatError"
DUPLICATE = "InvalidParameterValue.Duplicate"
LENGTH = "InvalidParameterValue.Length"
RANGE = "InvalidParameterValue.Range"
INVALID_FILTER = "InvalidParameterValue.InvalidFilter"
UNAUTHORIZED = "UnauthorizedOperation"  # clb errorcodes.py


# --------------------------------------------------------------------------- lookups
def clb(ctx: Ctx, lb_id: str) -> LoadBalancer:
    """The CLB ``lb_id`` in the request's region; CLB is regional, so others are 'not found'."""
    lb = ctx.estate.load_balancers.get(lb_id)
    if lb is None or lb.kind != "clb" or lb.region != ctx.region:
        raise ApiError(LB_ID_NOT_FOUND, f"LoadBalancer {lb_id} not found.")
    return lb


def resolve_ip(estate: Estate, item: dict[str, Any], path: str, kind: str = "cvm") -> tuple[str | None, Instance | None, str]:
    """``(ip, instance, label)`` for a target given by exactly one of ``InstanceId`` / ``EniIp``.

    ``InstanceId`` means the instance's primary IP (docs/cloud-facts.md#clb-batchderegistertargets); an unknown instance yields
    ``ip=None`` (it cannot be bound). ``label`` names the target in messages.
    """
    iid, eni_ip = item.get("InstanceId") or None, item.get("EniIp") or None
    if iid and eni_ip:
        raise ApiError(INVALID_PARAMETER, f"Only one of `{path}InstanceId` and `{path}EniIp` may be given.")
    if not iid and not eni_ip:
        raise missing(f"{path}InstanceId")
    if eni_ip:
        try:
            ipaddress.ip_address(eni_ip)
        except ValueError:
            raise ApiError(FORMAT_ERROR, f"The parameter `{path}EniIp` is not a valid IP address: {eni_ip}.") from None
        return eni_ip, None, eni_ip
    inst = estate.instances.get(iid)
    if inst is None or inst.kind != kind:
        return None, None, iid
    return inst.primary_ip, inst, iid


def find_target(targets: list[Target], ip: str | None, port: int, inst: Instance | None) -> Target | None:
    if ip is None:
        return None
    for t in targets:
        if t.ip == ip and t.port == port and (inst is None or t.vpc_id == inst.vpc_id):
            return t
    return None


def check_weight(value: Any, path: str) -> None:
    if value is not None and not 0 <= value <= 100:
        raise ApiError(RANGE, f"The value of `{path}` must be within [0, 100], got {value}.")


def listener_or_error(lb: LoadBalancer, lid: str) -> Listener:
    """The load balancer's listener `lid`, or `InvalidParameter.ListenerIdNotFound` (CLB and ECM answer alike)."""
    listener = lb.listener(lid)
    if listener is None:
        raise ApiError(LISTENER_ID_NOT_FOUND, f"Listener {lid} not found in {lb.lb_id}.")
    return listener


def weighted_targets(rule: dict, path: str) -> Iterator[tuple[str, dict, int]]:
    """(path, target, weight) of each target of one ``ModifyList`` item of ``BatchModifyTargetWeight``
    (CLB and ECM share the shape): ``Port`` required, a target's ``Weight`` or else the item's, in [0, 100]."""
    check_weight(rule.get("Weight"), f"{path}Weight")
    for j, t in enumerate(require(rule, "Targets", path)):
        tpath = f"{path}Targets.{j}."
        if t.get("Port") is None:
            raise missing(f"{tpath}Port")
        weight = t.get("Weight") if t.get("Weight") is not None else rule.get("Weight")
        if weight is None:
            raise missing(f"{path}Weight")
        check_weight(weight, f"{tpath}Weight")
        yield tpath, t, weight


def pick_rule(listener: Listener, location_id: str | None, domain: str | None, url: str | None,
              path: str, *, allow_domain_url: bool = True) -> Rule | None:
    """The L7 rule addressed by ``LocationId`` (or ``Domain`` + ``Url``); ``None`` for L4 listeners.

    Absent ``LocationId`` on an L7 listener is ``MissingParameter``: the docs mark it required for L7
    ("七层规则 ID。7层负载均衡该参数必填", ``BatchTarget``; "当从七层转发规则解绑机器时，必须提供此参数或
    Domain+URL两者之一", ``DeregisterTargetsRequest``), and ``MissingParameter`` is in the action's
    documented error list. ``InvalidParameter.LocationNotFound`` ("查找不到符合条件的转发规则") is kept
    for a ``LocationId`` (or domain/url) that does not name a rule of that listener.
    """
    if not listener.is_l7:
        if location_id:
            raise ApiError(LOCATION_NOT_FOUND, f"Listener {listener.listener_id} ({listener.protocol}) has no rule {location_id}.")
        return None
    if location_id:
        rule = listener.rule(location_id)
    elif allow_domain_url and domain and url:
        rule = listener.rule_by_domain_url(domain, url)
    else:
        raise missing(f"{path}LocationId")
    if rule is None:
        raise ApiError(LOCATION_NOT_FOUND, f"Listener {listener.listener_id} has no rule {location_id or f'{domain}{url}'}.")
    return rule


# --------------------------------------------------------------------------- reads
def describe_lb_listeners(ctx: Ctx, params: dict) -> dict:
    deny(ctx.knobs, params, UNAUTHORIZED)
    backends = require(params, "Backends")
    wanted: set[tuple[str, str]] = set()
    for i, b in enumerate(backends):
        wanted.add((require(b, "VpcId", f"Backends.{i}."), require(b, "PrivateIp", f"Backends.{i}.")))
    estate = ctx.estate

    def rs(t: Target) -> dict:
        return {"Type": t.type, "PrivateIp": t.ip, "Port": t.port, "VpcId": estate.vpc_number(t.vpc_id), "Weight": t.weight}

    def hit(t: Target) -> bool:
        return (t.vpc_id, t.ip) in wanted

    # Knob listeners_show_target_groups: members of the groups a listener or rule forwards to, as its targets.
    via_groups: dict[tuple[str, str, str | None], list[Target]] = {}
    if ctx.knobs.listeners_show_target_groups:
        for tg in estate.extras.target_groups.values():
            for a in tg.associations:
                via_groups.setdefault((a.load_balancer_id, a.listener_id, a.location_id), []).extend(
                    Target("cvm", m.ip, m.port, m.weight, tg.vpc_id, m.instance_id) for m in tg.members)
    out = []
    for lb in estate.load_balancers.values():
        if lb.kind != "clb":
            continue
        listeners = []
        for listener in lb.listeners:
            item: dict[str, Any] = {"ListenerId": listener.listener_id, "Protocol": listener.protocol, "Port": listener.port}
            if listener.end_port:
                item["EndPort"] = listener.end_port
            if listener.is_l7:
                def rule_targets(r: Rule) -> list[Target]:
                    return r.targets + via_groups.get((lb.lb_id, listener.listener_id, r.location_id), [])

                rules = [
                    {"LocationId": r.location_id, "Domain": r.domain, "Url": r.url, "Targets": [rs(t) for t in rule_targets(r) if hit(t)]}
                    for r in listener.rules if any(hit(t) for t in rule_targets(r))
                ]
                if rules:
                    item["Rules"] = rules
                    listeners.append(item)
            else:
                targets = [rs(t) for t in listener.targets + via_groups.get((lb.lb_id, listener.listener_id, None), []) if hit(t)]
                if targets:
                    item["Targets"] = targets
                    listeners.append(item)
        if listeners:
            out.append({"LoadBalancerId": lb.lb_id, "Vip": lb.vip, "Region": lb.region, "Listeners": listeners})
    return {"LoadBalancers": out}


def describe_load_balancers(ctx: Ctx, params: dict) -> dict:
    ids = params.get("LoadBalancerIds")
    check_count(ids, 20, "LoadBalancerIds", LENGTH)
    if params.get("Filters"):
        filters(params, set(), invalid_code=INVALID_FILTER)  # no Filters names are emulated
    estate = ctx.estate
    found = [lb for lb in estate.load_balancers.values() if lb.kind == "clb" and lb.region == ctx.region]
    if ids is not None:
        found = [lb for lb in found if lb.lb_id in set(ids)]
    if params.get("Forward") is not None:
        found = [lb for lb in found if lb.forward == params["Forward"]]
    if params.get("VpcId"):
        found = [lb for lb in found if lb.vpc_id == params["VpcId"]]
    if params.get("LoadBalancerVips"):
        found = [lb for lb in found if lb.vip in set(params["LoadBalancerVips"])]
    if params.get("LoadBalancerType"):
        found = [lb for lb in found if lb.lb_type == params["LoadBalancerType"]]
    if params.get("BackendPrivateIps"):
        ips = set(params["BackendPrivateIps"])
        found = [lb for lb in found if any(t.type == "cvm" and t.ip in ips
                                           for l in lb.listeners for _, ts in l.target_lists() for t in ts)]
    if params.get("WithRs") in (0, 1):
        found = [lb for lb in found if (lb.target_count() > 0) == bool(params["WithRs"])]
    extra = set(params.get("AdditionalFields") or [])
    chosen = page(found, params, code=RANGE)

    def item(lb: LoadBalancer) -> dict:
        d = {
            "LoadBalancerId": lb.lb_id, "LoadBalancerName": lb.name, "LoadBalancerType": lb.lb_type,
            "Forward": lb.forward, "LoadBalancerVips": [lb.vip], "Status": 1, "CreateTime": lb.create_time,
            "StatusTime": lb.create_time, "ProjectId": 0, "VpcId": lb.vpc_id,
            "NumericalVpcId": estate.vpc_number(lb.vpc_id), "SubnetId": lb.subnet_id, "AddressIPVersion": "ipv4",
            "Isolation": 0, "Snat": False, "LoadBalancerDomain": "",
        }
        if "TargetCount" in extra:
            d["TargetCount"] = lb.target_count()
        return d

    return {"TotalCount": len(found), "LoadBalancerSet": [item(lb) for lb in chosen]}


def backend(estate: Estate, t: Target) -> dict:
    inst = estate.instances.get(t.instance_id) if t.instance_id else None
    return {
        "Type": t.type.upper(), "InstanceId": t.instance_id or "", "Port": t.port, "Weight": t.weight,
        "PublicIpAddresses": [], "PrivateIpAddresses": [t.ip], "InstanceName": inst.name if inst else "",
        "RegisteredTime": t.registered_time, "Tag": "",
    }


def describe_targets(ctx: Ctx, params: dict) -> dict:
    lb = clb(ctx, require(params, "LoadBalancerId"))
    ids = params.get("ListenerIds")
    check_count(ids, 20, "ListenerIds", LENGTH)
    for lid in ids or []:
        listener_or_error(lb, lid)
    wanted = filters(params, {"location-id", "private-ip-address", "tag"}, invalid_code=INVALID_FILTER)
    narrowing = bool(wanted)
    out = []
    for listener in lb.listeners:
        if ids is not None and listener.listener_id not in ids:
            continue
        if params.get("Protocol") and listener.protocol != str(params["Protocol"]).upper():
            continue
        if params.get("Port") is not None and listener.port != params["Port"]:
            continue

        def keep(t: Target, loc: str | None) -> bool:
            if "private-ip-address" in wanted and t.ip not in wanted["private-ip-address"]:
                return False
            if "location-id" in wanted and loc not in wanted["location-id"]:
                return False
            if "tag" in wanted:  # targets carry no tags in the estate
                return False
            return True

        item: dict[str, Any] = {"ListenerId": listener.listener_id, "Protocol": listener.protocol,
                                "Port": listener.port, "EndPort": listener.end_port or 0}
        if listener.is_l7:
            rules = []
            for r in listener.rules:
                targets = [backend(ctx.estate, t) for t in r.targets if keep(t, r.location_id)]
                if targets or not narrowing:
                    rules.append({"LocationId": r.location_id, "Domain": r.domain, "Url": r.url, "Targets": targets})
            if rules or not narrowing:
                item["Rules"] = rules
                out.append(item)
        else:
            targets = [backend(ctx.estate, t) for t in listener.targets if keep(t, None)]
            if targets or not narrowing:
                item["Targets"] = targets
                out.append(item)
    return {"Listeners": out}


# --------------------------------------------------------------------------- writes
def batch_deregister_targets(ctx: Ctx, params: dict) -> dict:
    lb_id = require(params, "LoadBalancerId")
    items = require(params, "Targets")
    check_count(items, 500, "Targets", LENGTH)
    lb = clb(ctx, lb_id)
    if lb.forward == 0:
        raise ApiError(UNSUPPORTED_OPERATION, "Batch target APIs do not support classic load balancers.")
    entries = parse_batch_targets(ctx.estate, items, with_location=True)
    failed, messages, ops = plan_batch_deregister(ctx, lb, entries)
    ctx.ensure_writable(lb, RESOURCE_IN_OPERATING)
    if ctx.knobs.clb_batch_deregister_async:
        ctx.start_task(lb.lb_id, ops)
    else:
        apply_now(ctx, lb.lb_id, ops, len(items))
    return {"FailListenerIdSet": failed, "Message": " ".join(messages)}


def apply_now(ctx: Ctx, lb_id: str, ops: list, targets: int) -> None:
    """A synchronous write: applied before the reply, recorded as a finished task (DescribeTaskStatus
    answers 0 for its RequestId), and the load balancer busy for a while after a large batch."""
    task = ctx.start_task(lb_id, ops)
    task.fail, task.message, task.ends_at = False, "", ctx.now
    ctx.emu._tasks.settle(ctx.now)
    ctx.emu._tasks.lock(lb_id, ctx.knobs.task_seconds * min(targets, 500) / 500, ctx.now)


def not_bound(label: str, port: int, lid: str) -> ApiError:
    """``not_bound_rejects_call``: the whole call is refused, as the terraform provider expects (docs/cloud-facts.md#clb-unbinding-a-target-that-is-not-bound)."""
    return ApiError(INVALID_PARAMETER, f"Target {label}:{port} is not bound to listener {lid}.")


def parse_batch_targets(estate: Estate, items: list[dict], *, with_location: bool, kind: str = "cvm") -> list[dict]:
    """Validate ``BatchTarget`` items (required fields, one of InstanceId/EniIp, weight, duplicates)."""
    entries, seen = [], set()
    for i, t in enumerate(items):
        path = f"Targets.{i}."
        lid = require(t, "ListenerId", path)
        port = t.get("Port")
        if port is None:
            raise missing(f"{path}Port")
        check_weight(t.get("Weight"), f"{path}Weight")
        ip, inst, label = resolve_ip(estate, t, path, kind)
        loc = (t.get("LocationId") or None) if with_location else None
        key = (lid, loc, label, port)
        if key in seen:
            raise ApiError(DUPLICATE, f"Target {label}:{port} of listener {lid} is given twice.")
        seen.add(key)
        entries.append({"path": path, "listener_id": lid, "location_id": loc, "port": port, "ip": ip,
                        "instance": inst, "label": label})
    return entries


def plan_batch_deregister(ctx: Ctx, lb: LoadBalancer, entries: list[dict]) -> tuple[list[str], list[str], list]:
    """Per-listener outcome: unknown listeners (and, with ``not_bound_as_failure``, listeners with an
    unbound target) go to ``FailListenerIdSet``; the other listeners' removals become task operations."""
    estate = ctx.estate
    failed: list[str] = []
    messages: list[str] = []
    ops_by_listener: dict[str, list] = {}
    for e in entries:
        lid = e["listener_id"]
        if lid in failed:
            continue
        listener = lb.listener(lid)
        if listener is None:
            failed.append(lid)
            messages.append(f"Listener {lid} not exists.")
            ops_by_listener.pop(lid, None)
            continue
        rule = pick_rule(listener, e["location_id"], None, None, e["path"], allow_domain_url=False)
        targets = rule.targets if rule else listener.targets
        target = find_target(targets, e["ip"], e["port"], e["instance"])
        if target is None:
            if ctx.knobs.not_bound_rejects_call:
                raise not_bound(e["label"], e["port"], lid)
            if ctx.knobs.not_bound_as_failure:
                failed.append(lid)
                messages.append(f"Target {e['label']}:{e['port']} is not bound to listener {lid}.")
                ops_by_listener.pop(lid, None)
            continue
        loc = rule.location_id if rule else None
        ops_by_listener.setdefault(lid, []).append(
            _remove_op(estate, lb.lb_id, lid, loc, target.ip, target.port))
    ops = [op for lid, lops in ops_by_listener.items() if lid not in failed for op in lops]
    return failed, messages, ops


def _remove_op(estate: Estate, lb_id: str, lid: str, loc: str | None, ip: str, port: int):
    def apply() -> None:
        if estate.remove_target(lb_id, lid, loc, ip, port):
            estate.connections.unbound(lb_id, lid, ip, port, time.time())
    return apply


def _weight_op(estate: Estate, lb_id: str, lid: str, loc: str | None, ip: str, port: int, weight: int):
    def apply() -> None:
        if estate.set_weight(lb_id, lid, loc, ip, port, weight):
            estate.connections.weight_changed(lb_id, lid, ip, port, weight, time.time())
    return apply


def deregister_targets(ctx: Ctx, params: dict) -> dict:
    lb_id = require(params, "LoadBalancerId")
    lid = require(params, "ListenerId")
    items = require(params, "Targets")
    check_count(items, 20, "Targets", LENGTH)
    lb = clb(ctx, lb_id)
    listener = listener_or_error(lb, lid)
    rule = pick_rule(listener, params.get("LocationId") or None, params.get("Domain"), params.get("Url"), "")
    targets = rule.targets if rule else listener.targets
    ops, seen = [], set()
    for i, t in enumerate(items):
        path = f"Targets.{i}."
        if t.get("Port") is None:
            raise missing(f"{path}Port")
        check_weight(t.get("Weight"), f"{path}Weight")
        ip, inst, label = resolve_ip(ctx.estate, t, path)
        if (label, t["Port"]) in seen:
            raise ApiError(DUPLICATE, f"Target {label}:{t['Port']} is given twice.")
        seen.add((label, t["Port"]))
        target = find_target(targets, ip, t["Port"], inst)
        if target is None:
            if ctx.knobs.not_bound_as_failure:
                raise ApiError(INVALID_PARAMETER, f"Target {label}:{t['Port']} is not bound to listener {lid}.")
            continue
        ops.append(_remove_op(ctx.estate, lb.lb_id, lid, rule.location_id if rule else None, target.ip, target.port))
    ctx.ensure_writable(lb, RESOURCE_IN_OPERATING)
    ctx.start_task(lb.lb_id, ops)
    return {}


def batch_modify_target_weight(ctx: Ctx, params: dict) -> dict:
    lb_id = require(params, "LoadBalancerId")
    rules = require(params, "ModifyList")
    check_count(rules, 100, "ModifyList", LENGTH)
    total = 0
    for i, r in enumerate(rules):
        check_count(r.get("Targets"), 50, f"ModifyList.{i}.Targets", LENGTH)
        total += len(r.get("Targets") or [])
    if total > 500:
        raise ApiError(LENGTH, f"The total number of targets is {total}, which exceeds the limit 500.")
    lb = clb(ctx, lb_id)
    ops = []
    for i, r in enumerate(rules):
        path = f"ModifyList.{i}."
        lid = require(r, "ListenerId", path)
        listener = listener_or_error(lb, lid)
        rule = pick_rule(listener, r.get("LocationId") or None, r.get("Domain"), r.get("Url"), path)
        targets = rule.targets if rule else listener.targets
        for tpath, t, weight in weighted_targets(r, path):
            ip, inst, label = resolve_ip(ctx.estate, t, tpath)
            target = find_target(targets, ip, t["Port"], inst)
            if target is None:
                if ctx.knobs.not_bound_as_failure:
                    raise ApiError(INVALID_PARAMETER, f"Target {label}:{t['Port']} is not bound to listener {lid}.")
                continue
            ops.append(_weight_op(ctx.estate, lb.lb_id, lid, rule.location_id if rule else None, target.ip, target.port, weight))
    ctx.ensure_writable(lb, RESOURCE_IN_OPERATING)
    ctx.start_task(lb.lb_id, ops)
    return {}


def describe_task_status(ctx: Ctx, params: dict) -> dict:
    """Unknown ids: the docs name no specific code; ``InvalidParameterValue`` (common code) is used."""
    task_id = params.get("TaskId")
    deal = params.get("DealName")
    if not task_id and not deal:
        raise missing("TaskId")
    task = ctx.emu._tasks.get(task_id) if task_id else None
    if task is None or task.service != "clb":
        what = f"TaskId {task_id}" if task_id else f"DealName {deal}"
        raise ApiError(INVALID_PARAMETER_VALUE, f"{what} not found.")
    # A target group's task (clb_bindings.py) is keyed by the group, which is not a load balancer.
    reply: dict[str, Any] = {"Status": task.status(), "LoadBalancerIds": [task.lb_id] if task.lb_id.startswith("lb-") else []}
    if task.status() == 1:
        reply["Message"] = task.message
    return reply


SERVICE = ServiceSpec(
    name="clb",
    version="2018-03-17",
    models="tencentcloud.clb.v20180317.models",
    actions={
        "DescribeLBListeners": ActionSpec(describe_lb_listeners),
        "DescribeLoadBalancers": ActionSpec(describe_load_balancers),
        "DescribeTargets": ActionSpec(describe_targets),
        "BatchDeregisterTargets": ActionSpec(batch_deregister_targets, write=True, lb_write=True),
        "DeregisterTargets": ActionSpec(deregister_targets, write=True, lb_write=True),
        "BatchModifyTargetWeight": ActionSpec(batch_modify_target_weight, write=True, lb_write=True),
        "DescribeTaskStatus": ActionSpec(describe_task_status),
    },
)
