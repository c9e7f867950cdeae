"""Bindings that are not a listener's own targets: CLB target groups and classic load balancers' backends.

Shapes follow the CLB 2018-03-17 SDK models (tencentcloud-sdk-python-clb 3.1.194, models.py) and
tccli 3.1.189.1 ``services/clb/v20180317/api.json``:

* ``TargetGroupInfo``: ``TargetGroupId``, ``VpcId``, ``Port`` ("全监听目标组此字段返回0"),
  ``TargetGroupType`` v1 | v2, ``FullListenSwitch``, ``AssociatedRule`` (``AssociationItem``:
  ``LoadBalancerId``, ``ListenerId``, ``LocationId``, ...).
* ``TargetGroupBackend``: a member, ``Port`` 0 in a full-listen group ("全端口段监听器此字段返回0").
* ``ClassicalLoadBalancerInfo``: ``InstanceId`` → ``LoadBalancerIds``; classic backends are whole
  instances (``DeregisterTargetsFromClassicalLB`` takes ``InstanceIds``, no port).

Estate format (``emulator/README.md``)::

    "targetGroups": [{"targetGroupId": "lbtg-xxxxxxxx", "vpcId": "vpc-…", "type": "v1"|"v2",
                      "port": 80, "fullListen": false, "name": "…",
                      "members": [{"privateIp": "10.0.0.11", "port": 80, "weight": 10, "instanceId": "ins-…"}],
                      "associations": [{"loadBalancerId": "lb-…", "listenerId": "lbl-…", "locationId": "loc-…"}]}],
    "classicBackends": [{"loadBalancerId": "lb-…", "instanceIds": ["ins-…"]}],
    "networkInterfaces": [{"networkInterfaceId": "eni-xxxxxxxx", "vpcId": "vpc-…", "privateIps": ["…"],
                           "instanceId": "ins-…"}]

A classic backend's load balancer must be in ``loadBalancers`` with ``"forward": 0``. ``networkInterfaces``
are secondary elastic network interfaces (an instance's primary one is its ``privateIps``); ``instanceId``
is the instance it is attached to, absent when it is detached (VPC ``NetworkInterface.Attachment``).
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any, Protocol


class EstateView(Protocol):
    """What the loader reads of ``estate.Estate`` (which imports this module, so it is not imported here)."""

    instances: dict[str, Any]
    load_balancers: dict[str, Any]

    def instance_by_ip(self, ip: str, vpc_id: str, kind: str) -> Any: ...

ENI_ID = re.compile(r"^eni-[a-z0-9]{8}$")
TARGET_GROUP_ID = re.compile(r"^lbtg-[a-z0-9]{8}$")  # "lbtg- 后接 8 位字母数字" (Tencent doc 1822/133693)
DEFAULT_TIME = "2024-01-01 00:00:00"


class BindingsError(ValueError):
    pass


@dataclass
class Member:
    ip: str
    port: int
    weight: int
    instance_id: str | None
    registered_time: str = DEFAULT_TIME


@dataclass
class Association:
    load_balancer_id: str
    listener_id: str
    location_id: str | None = None


@dataclass
class TargetGroup:
    target_group_id: str
    vpc_id: str
    name: str
    group_type: str = "v1"
    port: int = 0
    full_listen: bool = False
    members: list[Member] = field(default_factory=list)
    associations: list[Association] = field(default_factory=list)

    def member(self, ip: str, port: int | None) -> Member | None:
        return next((m for m in self.members if m.ip == ip and (port is None or m.port == port)), None)


@dataclass
class Eni:
    """A secondary elastic network interface (``NetworkInterface``), attached to ``instance_id`` or to none."""

    eni_id: str
    vpc_id: str
    ips: list[str]
    instance_id: str | None = None


@dataclass
class Extras:
    target_groups: dict[str, TargetGroup] = field(default_factory=dict)
    classic: dict[str, list[str]] = field(default_factory=dict)
    """Classic load balancer id → ids of the instances bound to it."""
    enis: dict[str, Eni] = field(default_factory=dict)


def load(doc: dict[str, Any], estate: EstateView) -> Extras:
    extras = Extras()
    for i, raw in enumerate(doc.get("targetGroups") or []):
        tg = _target_group(raw, f"targetGroups[{i}]", estate)
        if tg.target_group_id in extras.target_groups:
            raise BindingsError(f"targetGroups[{i}]: duplicate targetGroupId {tg.target_group_id}")
        extras.target_groups[tg.target_group_id] = tg
    for i, raw in enumerate(doc.get("classicBackends") or []):
        path = f"classicBackends[{i}]"
        _keys(raw, {"loadBalancerId", "instanceIds"}, path)
        lb_id = raw.get("loadBalancerId")
        lb = estate.load_balancers.get(lb_id or "")
        if lb is None or lb.kind != "clb" or lb.forward != 0:
            raise BindingsError(f"{path}.loadBalancerId: {lb_id} is not a classic (forward 0) CLB of this estate")
        ids = raw.get("instanceIds") or []
        for iid in ids:
            inst = estate.instances.get(iid)
            if inst is None or inst.kind != "cvm":
                raise BindingsError(f"{path}.instanceIds: {iid} is not a CVM instance of this estate")
        extras.classic.setdefault(lb_id, [])
        extras.classic[lb_id].extend(i for i in ids if i not in extras.classic[lb_id])
    for i, raw in enumerate(doc.get("networkInterfaces") or []):
        path = f"networkInterfaces[{i}]"
        _keys(raw, {"networkInterfaceId", "vpcId", "privateIps", "instanceId"}, path)
        eni_id = str(raw.get("networkInterfaceId") or "")
        if not ENI_ID.match(eni_id) or eni_id in extras.enis:
            raise BindingsError(f"{path}.networkInterfaceId: {eni_id!r} is not a new eni- and 8 lower-case letters or digits")
        ips = raw.get("privateIps") or []
        for ip in ips:
            try:
                ipaddress.ip_address(ip)
            except ValueError:
                raise BindingsError(f"{path}.privateIps: {ip!r} is not an IP") from None
        iid = raw.get("instanceId") or None
        if iid is not None and (iid not in estate.instances or estate.instances[iid].kind != "cvm"):
            raise BindingsError(f"{path}.instanceId: {iid} is not a CVM instance of this estate")
        if not ips:
            raise BindingsError(f"{path}.privateIps: at least one IP")
        extras.enis[eni_id] = Eni(eni_id, str(raw.get("vpcId") or ""), list(ips), iid)
    return extras


def _target_group(raw: Any, path: str, estate: EstateView) -> TargetGroup:
    if not isinstance(raw, dict):
        raise BindingsError(f"{path}: must be an object")
    _keys(raw, {"targetGroupId", "vpcId", "name", "type", "port", "fullListen", "members", "associations"}, path)
    tg_id = str(raw.get("targetGroupId") or "")
    if not TARGET_GROUP_ID.match(tg_id):
        raise BindingsError(f"{path}.targetGroupId: {tg_id!r} is not lbtg- and 8 lower-case letters or digits")
    group_type = raw.get("type", "v1")
    if group_type not in ("v1", "v2"):
        raise BindingsError(f"{path}.type: must be v1 or v2")
    full = bool(raw.get("fullListen", False))
    port = 0 if full else int(raw.get("port", 0))
    tg = TargetGroup(tg_id, str(raw.get("vpcId") or ""), str(raw.get("name") or tg_id), group_type, port, full)
    for j, m in enumerate(raw.get("members") or []):
        mpath = f"{path}.members[{j}]"
        _keys(m, {"privateIp", "port", "weight", "instanceId"}, mpath)
        iid = m.get("instanceId")
        inst = estate.instances.get(iid) if iid else None
        ip = m.get("privateIp") or (inst.primary_ip if inst else None)
        try:
            ipaddress.ip_address(ip or "")
        except ValueError:
            raise BindingsError(f"{mpath}.privateIp: needs a valid IP (or an instanceId)") from None
        if inst is None:
            inst = estate.instance_by_ip(ip, tg.vpc_id, "cvm")
        mport = 0 if full else m.get("port")
        if not isinstance(mport, int) or (not full and not 1 <= mport <= 65535):
            raise BindingsError(f"{mpath}.port: required in [1, 65535] (absent in a full-listen group)")
        weight = m.get("weight", 10)
        if not isinstance(weight, int) or not 0 <= weight <= 100:
            raise BindingsError(f"{mpath}.weight: must be an integer in [0, 100]")
        if tg.member(ip, mport) is not None:
            raise BindingsError(f"{mpath}: {ip}:{mport} is a member twice")
        tg.members.append(Member(ip, mport, weight, inst.instance_id if inst else None))
    for j, a in enumerate(raw.get("associations") or []):
        apath = f"{path}.associations[{j}]"
        _keys(a, {"loadBalancerId", "listenerId", "locationId"}, apath)
        lb = estate.load_balancers.get(a.get("loadBalancerId") or "")
        listener = lb.listener(a.get("listenerId") or "") if lb else None
        if lb is None or lb.kind != "clb" or listener is None:
            raise BindingsError(f"{apath}: no CLB listener {a.get('loadBalancerId')}/{a.get('listenerId')} in this estate")
        loc = a.get("locationId") or None
        if listener.is_l7 and (loc is None or listener.rule(loc) is None):
            raise BindingsError(f"{apath}.locationId: a layer-7 association names a rule of {listener.listener_id}")
        tg.associations.append(Association(lb.lb_id, listener.listener_id, loc))
    return tg


def to_dict(extras: Extras) -> dict[str, Any]:
    """The estate-format view of the extras (reloadable by :func:`load`)."""
    return {
        "targetGroups": [
            {"targetGroupId": tg.target_group_id, "vpcId": tg.vpc_id, "name": tg.name, "type": tg.group_type,
             "port": tg.port, "fullListen": tg.full_listen,
             "members": [{"privateIp": m.ip, "port": m.port, "weight": m.weight,
                          **({"instanceId": m.instance_id} if m.instance_id else {})} for m in tg.members],
             "associations": [{"loadBalancerId": a.load_balancer_id, "listenerId": a.listener_id,
                               **({"locationId": a.location_id} if a.location_id else {})} for a in tg.associations]}
            for tg in extras.target_groups.values()
        ],
        "classicBackends": [{"loadBalancerId": lb, "instanceIds": list(ids)} for lb, ids in extras.classic.items()],
        "networkInterfaces": [{"networkInterfaceId": e.eni_id, "vpcId": e.vpc_id, "privateIps": list(e.ips),
                               **({"instanceId": e.instance_id} if e.instance_id else {})} for e in extras.enis.values()],
    }


def _keys(raw: Any, allowed: set[str], path: str) -> None:
    if not isinstance(raw, dict):
        raise BindingsError(f"{path}: must be an object")
    unknown = set(raw) - allowed
    if unknown:
        raise BindingsError(f"{path}: unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
