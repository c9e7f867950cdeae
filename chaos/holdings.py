"""Every binding of every kind in an emulator state snapshot, each attributed to the instance that holds its IP now.

A binding is a key `(container, listener, location, ip, port, owner)`:

* a listener's or rule's own target (CLB or ECM): `(load balancer, listener, location or None, ip, port, owner)`;
* a target-group membership: `(target group, "target-group", None, ip, port, owner)` (port 0 in a full-listen group);
* a classic load balancer's backend: `(load balancer, "classic", None, primary ip, 0, instance)`.

The owner is the instance the target names, else the instance whose network interface holds the IP in
the target's VPC now (its primary interface, `privateIps`, or an attached secondary one, `networkInterfaces`),
else None: an IP of a detached interface is nobody's. An IP on an interface that moved to another instance
is that instance's, whoever held it before: binds to it are the new holder's, never the old one's.
"""
from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional, Tuple

Key = Tuple[str, str, Optional[str], str, int, Optional[str]]

TARGET_GROUP = "target-group"
CLASSIC = "classic"
KINDS = ("direct", "eni_ip", "target_group", "classic")


def owners(state: Dict[str, Any]) -> Dict[Tuple[str, str], str]:
    """(vpc, ip) → the instance that holds the IP now, on any of its interfaces."""
    out: Dict[Tuple[str, str], str] = {}
    for inst in state["instances"] + state.get("ecmInstances", []):
        for ip in inst["privateIps"]:
            out.setdefault((inst["vpcId"], ip), inst["instanceId"])
    for eni in state.get("networkInterfaces", []):
        if eni.get("instanceId"):
            for ip in eni["privateIps"]:
                out.setdefault((eni["vpcId"], ip), eni["instanceId"])
    return out


def secondary_interface_ips(state: Dict[str, Any]) -> set:
    """(vpc, ip) of every secondary elastic network interface, attached or not."""
    return {(eni["vpcId"], ip) for eni in state.get("networkInterfaces", []) for ip in eni["privateIps"]}


def _keys(state: Dict[str, Any]) -> Iterator[Tuple[Key, int, str]]:
    """(key, weight, kind) of every binding."""
    held = owners(state)
    eni_ips = secondary_interface_ips(state)
    primary = {i["instanceId"]: i["privateIps"][0] for i in state["instances"]}
    for lb in state["loadBalancers"] + state.get("ecmLoadBalancers", []):
        for listener in lb.get("listeners", []):
            lists = [(r["locationId"], r["targets"]) for r in listener.get("rules", [])] or [(None, listener.get("targets", []))]
            for location, items in lists:
                for t in items:
                    vpc = t.get("vpcId") or lb["vpcId"]
                    owner = t.get("instanceId") or held.get((vpc, t["privateIp"]))
                    kind = "eni_ip" if (vpc, t["privateIp"]) in eni_ips else "direct"
                    yield (lb["loadBalancerId"], listener["listenerId"], location, t["privateIp"], t["port"], owner), t["weight"], kind
    for tg in state.get("targetGroups", []):
        for m in tg["members"]:
            owner = m.get("instanceId") or held.get((tg["vpcId"], m["privateIp"]))
            yield (tg["targetGroupId"], TARGET_GROUP, None, m["privateIp"], m["port"], owner), m["weight"], "target_group"
    for backend in state.get("classicBackends", []):
        for iid in backend["instanceIds"]:
            yield (backend["loadBalancerId"], CLASSIC, None, primary.get(iid, ""), 0, iid), 10, "classic"


def targets(state: Dict[str, Any]) -> Dict[Key, int]:
    """Every binding of the snapshot → its weight (classic backends have none: 10)."""
    return {key: weight for key, weight, _ in _keys(state)}


def kinds(state: Dict[str, Any]) -> Dict[Key, str]:
    """Every binding of the snapshot → direct | eni_ip (an IP of a secondary interface) | target_group | classic."""
    return {key: kind for key, _, kind in _keys(state)}


def by_instance(state: Dict[str, Any], instance_ids: List[str]) -> Dict[str, List[Tuple]]:
    """Instance → its bindings of every kind, sorted: (container, listener, location or "", ip, port, weight)."""
    out: Dict[str, List[Tuple]] = {i: [] for i in instance_ids}
    for key, weight, _ in _keys(state):
        if key[5] in out:
            out[key[5]].append((key[0], key[1], key[2] or "", key[3], key[4], weight))
    return {i: sorted(items) for i, items in out.items()}
