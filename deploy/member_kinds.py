"""`check`'s ``member_bindings`` line (issue 18): for each watched group, how its members are bound,
kind by kind, as the function sees them: what it would unbind, what it leaves alone, and what it
cannot see.

What the function sees (handler ``clb_unbind/resolve*.py``): direct binds on CLB listeners and rules
(any private IP of the instance), target-group memberships (v1, v2, full-listen), classic load
balancers, ECM load balancers. What it leaves alone: bindings on no load balancer of
``CLB_UNBIND_ALLOWED_LOAD_BALANCERS`` (handler ``plan.split_allowed``; a target group is judged by the
load balancers its rules belong to, so one associated with none of them is left alone).

What it cannot see, from the sources:
* a listener whose ``TargetType`` is ``POLARIS`` (SDK clb ``Listener.TargetType``: "NODE、POLARIS、
  TARGETGROUP、TARGETGROUP-V2"): its backends come from a Polaris service registry, and no CLB read the
  function makes (``DescribeLBListeners``, ``DescribeTargetGroupInstances``,
  ``DescribeClassicalLBByInstanceId``) names them. ``check`` finds such listeners among those the
  group's ``ForwardLoadBalancers`` name (a POLARIS listener elsewhere is not tied to the group by any
  read) and counts every member of the group as possibly bound through it;
* a member Auto Scaling should have bound on a NODE listener of the group's ``ForwardLoadBalancers``
  (the group's own configuration: ``ForwardLoadBalancer`` {LoadBalancerId, ListenerId, LocationId,
  TargetAttributes[] {Port, Weight}}) that the function's reads do not find there: bound in a way the
  reverse lookup does not report, or not bound at all (a member still ``ATTACHING_LB``, or a failed
  attach); either way the function's view and the group's configuration disagree. Only ``IN_SERVICE``
  members are held to it. The same for the group's classic load balancers (``LoadBalancerIdSet``), read
  with the function's ``DescribeClassicalLBByInstanceId``.

A forward entry whose listener forwards to a target group (``TARGETGROUP``, ``TARGETGROUP-V2``):
``ForwardLoadBalancer`` has no target-group member (SDK autoscaling 3.1.169, docs/cloud-facts.md#clb-target-groups),
so Auto Scaling binds members to the listener directly, which a listener in target-group mode does
not take as its backends. What CLB answers to that bind (a refusal that fails the scaling activity,
or an accepted bind that carries no traffic) is UNCONFIRMED: no source states it. Reported as
violated: the group's configuration does not put its members behind that listener; members that are
in the target group by someone else's registration are seen (``target_group``).
"""
from __future__ import annotations

from typing import Any, Dict, List, Tuple

from .findings import Finding
from .group_reads import GroupView, Reading

NAME = "member_bindings"
SEEN_TYPES = ("NODE", "TARGETGROUP", "TARGETGROUP-V2")
GROUP_TYPES = ("TARGETGROUP", "TARGETGROUP-V2")


def _kind(b: Any) -> str:
    return "ecm" if getattr(b.cloud, "value", "") == "ecm" else b.kind.value


def _counts(counts: Dict[str, int]) -> str:
    return ", ".join(f"{k} {n}" for k, n in sorted(counts.items()) if n) or "none"


def _listener(reading: Reading, lb: str, listener_id: str) -> Tuple[str, Any]:
    """(how the listener was read, its `Listener`): 'read', or why not."""
    if lb in reading.unread:
        return reading.unread[lb], None
    found = next((x for x in reading.listeners.get(lb, []) if x.get("ListenerId") == listener_id), None)
    return ("read", found) if found is not None else ("no such listener", None)


def _on_forward(reading: Reading, iid: str, f: Dict[str, Any]) -> bool:
    ports = {int(a.get("Port") or 0) for a in f.get("TargetAttributes") or []}
    loc = f.get("LocationId") or None
    for b in reading.bindings.get(iid, ()):
        if b.load_balancer_id == f["LoadBalancerId"] and b.listener_id == f["ListenerId"] and \
                (b.location_id or None) == loc and (not ports or b.target_port in ports):
            return True
    return False


def group_line(reading: Reading, g: GroupView) -> Tuple[str, List[str]]:
    """(the group's report, its problems)."""
    if not g.exists:
        return f"{g.group_id}: does not exist", []
    unbind: Dict[str, int] = {}
    alone: Dict[str, int] = {}
    alone_lbs: set = set()
    not_bound = 0
    for iid, _ in g.members:
        if iid in reading.failed or iid in reading.missing:
            continue
        mine, others = reading.split(iid)
        for b in mine:
            unbind[_kind(b)] = unbind.get(_kind(b), 0) + 1
        for b in others:
            alone[_kind(b)] = alone.get(_kind(b), 0) + 1
            alone_lbs.update(b.load_balancer_ids or ("no load balancer",))
        not_bound += not mine and not others
    problems: List[str] = []
    notes: List[str] = []
    for f in g.forward:
        where = f"{f['LoadBalancerId']}/{f['ListenerId']}" + (f"/{f['LocationId']}" if f.get("LocationId") else "")
        how, listener = _listener(reading, f["LoadBalancerId"], f["ListenerId"])
        if listener is None:
            notes.append(f"forward {where}: not read ({how})")
            continue
        kind = str(listener.get("TargetType") or "NODE")
        if kind in GROUP_TYPES:
            tgs = ", ".join(t.get("TargetGroupId", "") for t in listener.get("TargetGroupList") or []) or "its target group"
            problems.append(f"forward {where} forwards to a target group ({kind}, {tgs}): Auto Scaling binds members to "
                            f"the listener directly and cannot name a target group; what CLB does with that bind is "
                            f"UNCONFIRMED")
        elif kind not in SEEN_TYPES:
            problems.append(f"cannot see: forward {where} is a {kind} listener, whose backends no read of the "
                            f"function names; {len(g.members)} member(s) may be bound through it")
        else:
            absent = [iid for iid, state in g.members if state == "IN_SERVICE" and iid not in reading.failed
                      and not _on_forward(reading, iid, f)]
            if absent:
                problems.append(f"cannot see: {len(absent)} IN_SERVICE member(s) ({', '.join(absent[:5])}"
                                f"{', …' if len(absent) > 5 else ''}) not found on forward {where}, where the group's "
                                f"configuration binds them")
    for lb in g.classic:
        absent = [iid for iid, state in g.members if state == "IN_SERVICE" and iid not in reading.failed
                  and not any(b.kind.value == "classic" and b.load_balancer_id == lb for b in reading.bindings.get(iid, ()))]
        if absent:
            problems.append(f"cannot see: {len(absent)} IN_SERVICE member(s) ({', '.join(absent[:5])}"
                            f"{', …' if len(absent) > 5 else ''}) not found on classic {lb}, where the group's "
                            f"configuration binds them")
    unread = [f"{iid} ({code})" for iid, code in sorted(reading.failed.items()) if iid in dict(g.members)]
    if unread:
        problems.append(f"unread: {', '.join(unread)}")
    text = (f"{g.group_id}: {len(g.members)} member(s); bindings by kind the function would unbind: {_counts(unbind)}; "
            f"left alone: {_counts(alone)}"
            + (f" (on {', '.join(sorted(alone_lbs))}, outside CLB_UNBIND_ALLOWED_LOAD_BALANCERS)" if alone else "")
            + f"; members not bound: {not_bound}")
    if g.classic:
        text += f"; classic load balancers of the group: {', '.join(g.classic)} (seen: classic)"
    return "; ".join([text, *notes, *problems]), problems


def finding(reading: Reading) -> Finding:
    lines, problems = [], []
    for g in reading.groups:
        line, mine = group_line(reading, g)
        lines.append(line)
        problems += mine
    if not reading.groups:
        return Finding(NAME, True, "no watched group")
    prefix = f"{reading.settings_note}; " if reading.settings_note else ""
    return Finding(NAME, not problems, prefix + " | ".join(lines),
                   "" if not problems else
                   "bind the members so the function can see them (directly on a NODE listener, or through a target "
                   "group), or point the group's ForwardLoadBalancers at a NODE listener (ModifyLoadBalancers); "
                   "an unread member: fix the operator's read permission and run check again")
