"""The world a chaos run happens in: the demo estate, or a seeded variant with more of everything.

A variant keeps every instance and binding of the demo estate (so `ins-other001`, which shares
`ins-web00001`'s IP 10.0.0.11 in another VPC, is always there) and adds, by seed:

* CVM instances `ins-gen000NN` in the main VPC, some with a secondary IP;
* "twins" `ins-twin00NN` in `vpc-other001` that share a generated instance's primary IP;
* CLB load balancers `lb-gen000NN` with TCP/UDP listeners and HTTP/HTTPS rules binding random
  instances by InstanceId, secondary IPs by ENI, and, cross-VPC, `ins-other001` and the twins;
* ECM instances `ein-gen000NN` on `lb-edge0001`, sometimes a second ECM load balancer;
* a lifecycle action (with a seeded token) for most generated CVM instances.
"""
from __future__ import annotations

import random
import uuid
from typing import Any, Dict, List, Optional, Set, Tuple

from tests.estates import base_estate

MAIN_VPC = "vpc-main0001"
OTHER_VPC = "vpc-other001"
EDGE_VPC = "vpc-edge0001"
HOOKS = ("ash-hook0001", "ash-hook0002")
NEVER_LEAVES = "ins-other001"
"""Shares 10.0.0.11 with ins-web00001 in another VPC: must never be touched."""


def ident(prefix: str, tag: str, n: int) -> str:
    """`ident("lb", "gen", 3)` → `lb-gen00003` (8 lower-case letters/digits after the prefix)."""
    return f"{prefix}-{tag}{n:0{8 - len(tag)}d}"


def token(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _target(kind: str, ip: str, port: int, instance: Optional[str] = None, vpc: Optional[str] = None) -> Dict[str, Any]:
    t: Dict[str, Any] = {"type": kind, "privateIp": ip, "port": port, "weight": 10}
    if instance:
        t["instanceId"] = instance
    if vpc:
        t["vpcId"] = vpc
    return t


class _Ports:
    """Ports unique per (target list, ip), so a list never binds one ip:port twice."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: Set[Tuple[str, int]] = set()

    def pick(self, ip: str, low: int, high: int) -> int:
        while True:
            port = self.rng.randint(low, high)
            if (ip, port) not in self.used:
                self.used.add((ip, port))
                return port


def build_estate(rng: random.Random, variant: Optional[bool] = None) -> Tuple[Dict[str, Any], str]:
    """(estate document, label); `variant` None lets the seed decide between the demo estate and a variant."""
    estate = base_estate()
    if variant is None:
        variant = rng.random() < 0.6
    if not variant:
        return estate, "demo"

    main: List[Tuple[str, str]] = [  # (instance id, primary ip) in the main VPC, bindable by InstanceId
        ("ins-web00001", "10.0.0.11"), ("ins-web00002", "10.0.0.12"), ("ins-web00003", "10.0.0.13"),
        ("ins-web00004", "10.0.0.14"), ("ins-lonely01", "10.0.0.20"),
    ]
    secondary: List[Tuple[str, str]] = [("ins-web00001", "10.0.0.111")]  # (instance id, secondary ip): ENI binds
    generated: List[str] = []
    for i in range(1, rng.randint(2, 8) + 1):
        iid, ip = ident("ins", "gen", i), f"10.0.2.{10 + i}"
        ips = [ip]
        if rng.random() < 0.35:
            ips.append(f"10.0.3.{10 + i}")
            secondary.append((iid, ips[1]))
        estate["instances"].append({"instanceId": iid, "vpcId": MAIN_VPC, "privateIps": ips, "state": "RUNNING"})
        main.append((iid, ip))
        generated.append(iid)

    twins: List[Tuple[str, str]] = []
    if rng.random() < 0.5:
        for k, (_, ip) in enumerate(rng.sample(main[5:], min(len(main) - 5, rng.randint(1, 2))), start=1):
            iid = ident("ins", "twin", k)
            estate["instances"].append({"instanceId": iid, "vpcId": OTHER_VPC, "privateIps": [ip], "state": "RUNNING"})
            twins.append((iid, ip))
            generated.append(iid)
        other_lb = next(lb for lb in estate["loadBalancers"] if lb["loadBalancerId"] == "lb-other001")
        for iid, ip in twins:
            other_lb["listeners"][0]["targets"].append(_target("cvm", ip, 9000 + int(iid[-2:]), iid))

    counters = {"lbl": 0, "loc": 0}

    def next_id(kind: str) -> str:
        counters[kind] += 1
        return ident(kind, "gen", counters[kind])

    def targets(ports: _Ports, l7: bool) -> List[Dict[str, Any]]:
        out = []
        for iid, ip in rng.sample(main, rng.randint(1, min(len(main), 5))):
            out.append(_target("cvm", ip, ports.pick(ip, 8000, 8999), iid))
        for iid, ip in secondary:
            if rng.random() < 0.3:
                out.append(_target("eni", ip, ports.pick(ip, 8000, 8999), iid))
        if rng.random() < 0.3:  # cross-VPC: ins-other001's 10.0.0.11 on a main-VPC load balancer
            out.append(_target("cvm", "10.0.0.11", ports.pick("10.0.0.11", 7000, 7099), NEVER_LEAVES, OTHER_VPC))
        for iid, ip in twins:
            if rng.random() < 0.3:
                out.append(_target("cvm", ip, ports.pick(ip, 7100, 7199), iid, OTHER_VPC))
        return out

    for j in range(1, rng.randint(1, 3) + 1):
        listeners = []
        for port in rng.sample([80, 443, 8080, 9090, 53, 5000], rng.randint(1, 3)):
            protocol = rng.choice(["TCP", "UDP", "HTTP", "HTTPS"])
            listener: Dict[str, Any] = {"listenerId": next_id("lbl"), "protocol": protocol, "port": port}
            if protocol in ("HTTP", "HTTPS"):
                listener["rules"] = [
                    {"locationId": next_id("loc"), "domain": f"d{j}{k}.example.com", "url": f"/p{k}",
                     "targets": targets(_Ports(rng), True)}
                    for k in range(rng.randint(1, 2))
                ]
            else:
                listener["targets"] = targets(_Ports(rng), False)
            listeners.append(listener)
        estate["loadBalancers"].append({
            "loadBalancerId": ident("lb", "gen", j), "vpcId": MAIN_VPC, "vip": f"10.0.1.{20 + j}",
            "region": "ap-guangzhou", "forward": 1, "listeners": listeners,
        })

    if rng.random() < 0.5:
        edge = estate["ecmLoadBalancers"][0]
        extra_ecm = []
        for i in range(1, rng.randint(1, 2) + 1):
            iid, ip = ident("ein", "gen", i), f"10.8.0.{30 + i}"
            estate["ecmInstances"].append({"instanceId": iid, "vpcId": EDGE_VPC, "privateIps": [ip], "ecmRegion": "ap-xian-ecm"})
            extra_ecm.append((iid, ip))
            generated.append(iid)
            for listener in edge["listeners"]:
                if rng.random() < 0.7:
                    listener["targets"].append({"instanceId": iid, "privateIp": ip, "port": listener["port"], "weight": 10})
        if rng.random() < 0.5:
            pool = [("ein-edge0001", "10.8.0.11"), ("ein-edge0002", "10.8.0.12")] + extra_ecm
            estate["ecmLoadBalancers"].append({
                "loadBalancerId": "lb-edge0002", "vpcId": EDGE_VPC, "ecmRegion": "ap-xian-ecm", "vip": "10.8.1.2",
                "listeners": [{"listenerId": "lbl-edge8080", "protocol": "TCP", "port": 8080,
                               "targets": [{"instanceId": iid, "privateIp": ip, "port": 8080, "weight": 10}
                                           for iid, ip in rng.sample(pool, rng.randint(1, len(pool)))]}],
            })

    (group,) = estate["scalingGroups"]
    group["lifecycleHooks"].append({**group["lifecycleHooks"][0], "lifecycleHookId": HOOKS[1], "lifecycleHookName": "second"})
    for iid in generated:
        if iid.startswith("ins-") and rng.random() < 0.7:
            estate["lifecycleActions"].append({
                "lifecycleHookId": rng.choice(HOOKS), "autoScalingGroupId": "asg-group001",
                "instanceId": iid, "lifecycleActionToken": token(rng), "result": None,
            })
            # The scale-in the notifications name (ActivityId asa-scalein1) lists every instance it removes.
            estate["activities"][0]["relatedInstances"].append({"instanceId": iid, "instanceStatus": "RUNNING"})
    return estate, "variant"


def instance_ids(estate: Dict[str, Any]) -> List[str]:
    return [i["instanceId"] for i in estate["instances"]] + [i["instanceId"] for i in estate.get("ecmInstances", [])]


def load_balancer_ids(estate: Dict[str, Any]) -> List[str]:
    return [lb["loadBalancerId"] for lb in estate["loadBalancers"]] + [lb["loadBalancerId"] for lb in estate.get("ecmLoadBalancers", [])]
