"""What `check` reads about the watched groups' members and load balancers, with read-only calls, for
deploy/member_kinds.py (issue 18) and deploy/listener_deadline.py (issue 19): read once, judged twice.

* The groups (as ``DescribeAutoScalingGroups``, 100 ids a call): ``ForwardLoadBalancerSet`` (SDK autoscaling
  ``ForwardLoadBalancer`` {LoadBalancerId, ListenerId, LocationId, TargetAttributes, Region}) and
  ``LoadBalancerIdSet`` (classic load balancers).
* Their members and every binding of each: read by **the function's own code** (handler
  ``clb_unbind/cloud/autoscaling.py`` ``group_members``, the sweep's read, and ``clb_unbind/resolve.py``
  ``resolve``, the read the function plans and verifies with), on a handler ``CloudSession`` made from
  the live function's environment (its ``CLB_UNBIND_ALLOWED_LOAD_BALANCERS`` and tuning) with the
  operator's credentials and endpoint. So the report is what the function sees, kind by kind.
* The listeners of every load balancer of this region that the groups forward to or that a member is
  bound on (clb ``DescribeListeners``, one call a load balancer: with no filter it "返回该负载均衡实例下的
  所有监听器", no paging).

Reads, at most: ceil(G/100) DescribeAutoScalingGroups + the sweep's DescribeAutoScalingInstances
(ceil(G/5) filter chunks, 100 members a page) + the function's resolution of ceil(M/100) passes of 100
members (each: DescribeInstances and DescribeNetworkInterfaces, DescribeLBListeners per 100 IPs,
DescribeTargetGroupInstances per 100 IPs and page, DescribeTargetGroups per 20 groups,
DescribeClassicalLBByInstanceId per 100 ids) + one DescribeListeners per load balancer. ``Reading.reads``
counts them by action.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, List, Mapping, Sequence, Tuple

from .cloud import ApiFailure, Cloud
from .function_settings import handler_module

Json = Dict[str, Any]
PASS = 100
"""Instances a resolution reads at once: the function's own pass (``CLB_UNBIND_MAX_INSTANCES_PER_PASS`` ≤ 100)."""
READ_SECONDS = 120.0


@dataclass
class GroupView:
    group_id: str
    exists: bool
    forward: List[Json] = field(default_factory=list)
    classic: List[str] = field(default_factory=list)
    members: List[Tuple[str, str]] = field(default_factory=list)
    """(instance id, LifeCycleState)."""


@dataclass
class Reading:
    groups: List[GroupView]
    bindings: Dict[str, Tuple[Any, ...]]
    """Instance id → the function's `Binding`s of it (handler model.py)."""
    failed: Dict[str, str]
    """Instance id → why the function could not read its bindings (error code)."""
    missing: FrozenSet[str]
    allowed: FrozenSet[str]
    """The live function's CLB_UNBIND_ALLOWED_LOAD_BALANCERS (empty: every load balancer)."""
    listeners: Dict[str, List[Json]]
    """Load balancer id → its listeners (`Listener` of DescribeListeners)."""
    unread: Dict[str, str]
    """Load balancer id → why its listeners were not read (another region, not found)."""
    reads: Dict[str, int]
    settings: Any
    """The function's Settings the resolution ran with (handler config.py)."""
    settings_note: str = ""

    def split(self, instance_id: str) -> Tuple[List[Any], List[Any]]:
        """(bindings the function would remove, bindings it leaves alone): the function's own split."""
        return handler_module("plan").split_allowed(self.bindings.get(instance_id, ()), self.allowed)


def _session(cloud: Cloud, fn_env: Mapping[str, str]) -> Tuple[Any, str]:
    cred = cloud.credential
    base = {"TENCENTCLOUD_REGION": cloud.region, "TENCENTCLOUD_SECRETID": cred.secret_id,
            "TENCENTCLOUD_SECRETKEY": cred.secret_key, "TENCENTCLOUD_SESSIONTOKEN": getattr(cred, "token", None) or "",
            "CLB_UNBIND_ENDPOINT": cloud.endpoint or ""}
    config = handler_module("config")
    note = ""
    try:
        settings = config.Settings.from_env({**fn_env, **base})
    except ValueError as exc:
        settings = config.Settings.from_env(base)
        note = f"the function refuses its environment ({exc}): read with its defaults, no allow-list"
    session = handler_module("cloud.session").CloudSession(
        settings, handler_module("cloud.deadline").Deadline(time.monotonic() + READ_SECONDS))
    return session, note


def _groups(cloud: Cloud, ids: Sequence[str]) -> Dict[str, Json]:
    found: Dict[str, Json] = {}
    for i in range(0, len(ids), 100):
        reply = cloud.read("as", "DescribeAutoScalingGroups", {"AutoScalingGroupIds": list(ids[i:i + 100]), "Limit": 100})
        found.update({g["AutoScalingGroupId"]: g for g in reply.get("AutoScalingGroupSet") or []})
    return found


def _listeners(cloud: Cloud, lb_ids: Sequence[str]) -> Tuple[Dict[str, List[Json]], Dict[str, str]]:
    listeners: Dict[str, List[Json]] = {}
    unread: Dict[str, str] = {}
    for lb in lb_ids:
        try:
            listeners[lb] = cloud.read("clb", "DescribeListeners", {"LoadBalancerId": lb}).get("Listeners") or []
        except ApiFailure as exc:
            if exc.code.startswith("InvalidParameter.LBIdNotFound"):
                unread[lb] = "no such load balancer"
                continue
            raise
    return listeners, unread


def read(cloud: Cloud, fn_env: Mapping[str, str], group_ids: Sequence[str]) -> Reading:
    ids = sorted(set(group_ids))
    before = len(cloud.calls)
    found = _groups(cloud, ids) if ids else {}
    views = [GroupView(g, g in found, list(found.get(g, {}).get("ForwardLoadBalancerSet") or []),
                       list(found.get(g, {}).get("LoadBalancerIdSet") or [])) for g in ids]
    session, note = _session(cloud, fn_env)
    errors = handler_module("cloud.errors")
    try:
        members = handler_module("cloud.autoscaling").group_members(session, [v.group_id for v in views if v.exists])
    except errors.CloudError as exc:
        raise ApiFailure(exc.failure.action, exc.failure.code, exc.failure.message, exc.failure.request_id or "") from None
    by_group = {v.group_id: v for v in views}
    for m in members:
        if m.group_id in by_group:
            by_group[m.group_id].members.append((m.instance_id, m.state))
    instance_ids = sorted({iid for v in views for iid, _ in v.members})
    resolve = handler_module("resolve").resolve
    bindings: Dict[str, Tuple[Any, ...]] = {}
    failed: Dict[str, str] = {}
    missing: set = set()
    for i in range(0, len(instance_ids), PASS):
        r = resolve(session, instance_ids[i:i + PASS])
        bindings.update(r.bindings)
        failed.update({iid: f.code for iid, f in r.failed.items()})
        missing |= set(r.missing)
    wanted: Dict[str, None] = {}
    for v in views:
        for f in v.forward:
            if (f.get("Region") or cloud.region) == cloud.region:
                wanted[f["LoadBalancerId"]] = None
    unread: Dict[str, str] = {}
    kinds = handler_module("model").Kind
    for bs in bindings.values():
        for b in bs:
            if b.kind is kinds.CLASSIC:
                continue
            for lb in b.load_balancer_ids:
                if b.region == cloud.region:
                    wanted[lb] = None
                else:
                    unread[lb] = f"in region {b.region}"
    for v in views:
        for f in v.forward:
            region = f.get("Region") or cloud.region
            if region != cloud.region:
                unread[f["LoadBalancerId"]] = f"in region {region}"
    listeners, missing_lbs = _listeners(cloud, sorted(wanted))
    unread.update(missing_lbs)
    reads: Dict[str, int] = {}
    for c in cloud.calls[before:]:
        reads[f"{c.service}:{c.action}"] = reads.get(f"{c.service}:{c.action}", 0) + 1
    for key, n in session.calls.counts.items():
        reads[key] = reads.get(key, 0) + n
    return Reading(views, bindings, failed, frozenset(missing), session.settings.allowed_load_balancers, listeners,
                   unread, reads, session.settings, note)
