"""CVM instances in CLB target groups (v1 and v2, full-listen included): memberships ──► bindings.

One DescribeTargetGroupInstances (filter `BindIP`: every private IP of every instance, paged) finds the
memberships of a whole batch, and one DescribeTargetGroups (`TargetGroupIds`) the listeners and rules
each group serves (`AssociatedRule`); a verification reuses the groups it already knows.

Whether DescribeLBListeners also reports target-group members is not documented: its answer
(`LBItem` → `ListenerItem` → `LbRsTargets` {Type, PrivateIp, Port, VpcId, Weight}) has no field naming a
target group, and its description ("查询后端云主机或弹性网卡绑定的负载均衡，支持弹性网卡和cvm查询", tccli
api.json) says nothing of groups. So memberships are read here explicitly, and a direct binding that
matches a membership seen through its listener is dropped in favour of the membership (`Resolution.add`).

A member belongs to an instance only when its IP is one of the instance's and the group's VPC is the
instance's: an IP reused in another VPC is someone else's.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from .cloud import clb_bindings
from .cloud.cvm import NetworkPlace
from .cloud.session import CloudSession
from .model import Binding, Cloud, CloudFailure, Kind, Serves
from .resolution import Found, Resolution


def _serves(info: Dict[str, Any]) -> tuple:
    return tuple(
        Serves(a["LoadBalancerId"], a.get("ListenerId") or "", a.get("LocationId") or None,
               str(a.get("Protocol") or ""), int(a.get("Port") or 0))
        for a in info.get("AssociatedRule") or [] if a.get("LoadBalancerId")
    )


def resolve_target_groups(session: CloudSession, places: Dict[str, NetworkPlace], earlier: Optional[Resolution] = None) -> Found:
    owners: Dict[str, List[NetworkPlace]] = {}
    for place in places.values():
        for ip in place.private_ips:
            owners.setdefault(ip, []).append(place)
    if not owners:
        return Found()
    members, refused = clb_bindings.target_group_members(session, sorted(owners))
    failed: Dict[str, CloudFailure] = {}
    for ip, failure in refused.items():
        for place in owners.get(ip, ()):
            failed.setdefault(place.instance_id, failure)
    known = dict(earlier.target_groups) if earlier is not None else {}
    wanted = sorted({m.get("TargetGroupId") for m in members if m.get("TargetGroupId")} - set(known))
    groups = {**known, **{g["TargetGroupId"]: g for g in clb_bindings.describe_target_groups(session, wanted) if g.get("TargetGroupId")}} if wanted else known
    found: List[Binding] = []
    for m in members:
        info = groups.get(m.get("TargetGroupId") or "")
        if info is None or m.get("Port") is None:
            continue  # the group is gone since the membership was read
        for ip in m.get("PrivateIpAddresses") or []:
            for place in owners.get(ip, ()):
                other = m.get("InstanceId") or ""
                if place.vpc_id != info.get("VpcId") or (other.startswith("ins-") and other != place.instance_id):
                    continue
                serves = _serves(info)
                found.append(Binding(
                    cloud=Cloud.CLB, region=session.settings.region,
                    load_balancer_id=serves[0].load_balancer_id if serves else "",
                    listener_id="", protocol=str(info.get("Protocol") or ""), listener_port=0, location_id=None,
                    instance_id=place.instance_id, private_ip=ip, target_port=int(m["Port"]), weight=m.get("Weight"),
                    kind=Kind.TARGET_GROUP, target_group_id=info["TargetGroupId"], serves=serves,
                    full_listen=bool(info.get("FullListenSwitch")),
                ))
    return Found(tuple(found), failed, groups)
