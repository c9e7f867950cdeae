"""The world a chaos run happens in: the demo estate, or a seeded variant with more of everything.

A variant keeps every instance and binding of the demo estate (so `ins-other001`, which shares
`ins-web00001`'s IP 10.0.0.11 in another VPC, is always there) and adds, by seed:

* CVM instances `ins-gen000NN` in the main VPC, some with a secondary IP;
* "twins" `ins-twin00NN` in `vpc-other001` that share a generated instance's primary IP;
* CLB load balancers `lb-gen000NN` with TCP/UDP listeners and HTTP/HTTPS rules binding random
  instances by InstanceId, secondary IPs by ENI, and, cross-VPC, `ins-other001` and the twins;
* ECM instances `ein-gen000NN` on `lb-edge0001`, sometimes a second ECM load balancer;
* every other kind of binding (`_add_kinds`): target groups v1, v2 and full-listen (port 0) on listeners
  and rules of `lb-kinds001` (the v1 group sometimes also on `lb-kinds002`: one membership, two load
  balancers), a group in `vpc-other001` holding main-VPC IPs, classic load balancers, and secondary
  elastic network interfaces whose IPs are bound on a listener and in groups; instances bound only one
  of those ways (`KINDS_ONLY`), and beside them bystanders bound through the same listener, group or
  classic load balancer: `ins-keeper01`, which now holds `eni-moved001` (an interface, and its IP, that
  once was another instance's), and `eni-loose001`, detached, whose bound IP is nobody's;
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
KEEPER = "ins-keeper01"
"""Holds eni-moved001 (an interface that moved to it from a leaving instance) and is bound through it, through
target groups and a classic load balancer: a bystander, never named by a scenario."""
STAYING = (NEVER_LEAVES, KEEPER)
"""Instances no scenario makes leave."""
KINDS_ONLY = ("ins-ktg00001", "ins-ktg00002", "ins-kcl00001", "ins-keni0001")
"""Bound only through target groups, only through classic load balancers, only through a secondary interface's IP."""
MOVED_ENI = "eni-moved001"
LOOSE_ENI = "eni-loose001"


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

    _add_kinds(estate, rng, main, secondary, generated)

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


def _add_kinds(estate: Dict[str, Any], rng: random.Random, main: List[Tuple[str, str]], secondary: List[Tuple[str, str]],
               generated: List[str]) -> None:
    """Target groups, classic load balancers and secondary interfaces (module docstring), drawn from `rng`."""

    def instance(iid: str, ip: str, leaves: bool = True) -> Tuple[str, str]:
        estate["instances"].append({"instanceId": iid, "vpcId": MAIN_VPC, "privateIps": [ip], "state": "RUNNING"})
        if leaves:
            generated.append(iid)
        return iid, ip

    keeper = instance(KEEPER, "10.0.5.10", leaves=False)
    only_tg = [instance(iid, f"10.0.5.{20 + k}") for k, iid in enumerate(KINDS_ONLY[:rng.randint(1, 2)], start=1)]
    only_classic = instance("ins-kcl00001", "10.0.5.31")
    eni_owner = instance("ins-keni0001", "10.0.5.41")
    pool = main + [keeper]  # (instance, primary ip): bystanders, and leaving instances bound more than one way

    # Secondary interfaces: (eni, ips, attached to). eni-moved001 was ins-keni0001's and is ins-keeper01's now.
    enis: List[Tuple[str, List[str], Optional[str]]] = [("eni-keni0001", ["10.0.6.11", "10.0.6.12"], eni_owner[0])]
    for n, (iid, _) in enumerate(main[5:], start=1):
        if rng.random() < 0.25:
            enis.append((ident("eni", "gen", n), [f"10.0.7.{10 + n}"], iid))
    gen_ips = [ip for _, ips, _ in enis[1:] for ip in ips]
    enis += [(MOVED_ENI, ["10.0.6.21"], KEEPER), (LOOSE_ENI, ["10.0.6.31"], None)]
    estate["networkInterfaces"] = [{"networkInterfaceId": e, "vpcId": MAIN_VPC, "privateIps": ips,
                                    **({"instanceId": holder} if holder else {})} for e, ips, holder in enis]

    # A listener binding interface IPs (by IP, as an ENI bind), beside instances bound by InstanceId.
    ports = _Ports(rng)
    eni_targets = [_target("eni", ip, ports.pick(ip, 9300, 9399)) for ip in ["10.0.6.11", "10.0.6.21", "10.0.6.31"]]
    eni_targets += [_target("eni", ip, ports.pick(ip, 9300, 9399)) for ip in gen_ips if rng.random() < 0.6]
    eni_targets += [_target("eni", ip, ports.pick(ip, 9300, 9399), iid) for iid, ip in secondary if rng.random() < 0.3]
    eni_targets += [_target("cvm", ip, ports.pick(ip, 9300, 9399), iid) for iid, ip in rng.sample(pool, rng.randint(1, 3))]
    listeners: List[Dict[str, Any]] = [
        {"listenerId": "lbl-kind4l01", "protocol": "TCP", "port": 9100},
        {"listenerId": "lbl-kind7l01", "protocol": "HTTP", "port": 9180,
         "rules": [{"locationId": "loc-kind7r01", "domain": "kinds.example.com", "url": "/", "targets": []}]},
        {"listenerId": "lbl-kindfl01", "protocol": "TCP", "port": 1, "endPort": 65535},
        {"listenerId": "lbl-kindeni1", "protocol": "TCP", "port": 9300, "targets": eni_targets},
    ]
    estate["loadBalancers"].append({"loadBalancerId": "lb-kinds001", "vpcId": MAIN_VPC, "vip": "10.0.1.40",
                                    "region": "ap-guangzhou", "forward": 1, "listeners": listeners})
    v1_associations = [{"loadBalancerId": "lb-kinds001", "listenerId": "lbl-kind4l01"}]
    if rng.random() < 0.5:  # one group, two load balancers: one membership
        estate["loadBalancers"].append({"loadBalancerId": "lb-kinds002", "vpcId": MAIN_VPC, "vip": "10.0.1.41",
                                        "region": "ap-guangzhou", "forward": 1,
                                        "listeners": [{"listenerId": "lbl-kind4l02", "protocol": "TCP", "port": 9200}]})
        v1_associations.append({"loadBalancerId": "lb-kinds002", "listenerId": "lbl-kind4l02"})

    # Target groups: which exist, then their members (every only_tg instance in at least one).
    kinds = [k for k, p in (("v1", 0.85), ("v2", 0.7), ("full", 0.6)) if rng.random() < p] or ["v1"]
    members: Dict[str, List[Tuple[Optional[str], str]]] = {k: [] for k in kinds}  # (instance or None, ip)
    for iid, ip in only_tg:
        for k in rng.sample(kinds, rng.randint(1, len(kinds))):
            members[k].append((iid, ip))
    for k in kinds:
        members[k] += [(iid, ip) for iid, ip in rng.sample(pool, rng.randint(1, 3)) if (iid, ip) not in members[k]]
        members[k] += [(None, ip) for ip in ("10.0.6.12", "10.0.6.21", "10.0.6.31", *gen_ips)  # the first group always
                       if rng.random() < 0.4 or (k == kinds[0] and ip in ("10.0.6.21", "10.0.6.31"))]  # holds moved and loose
        members[k] += [(iid, ip) for iid, ip in secondary if rng.random() < 0.2]
        if (KEEPER, keeper[1]) not in members[k] and rng.random() < 0.5:
            members[k].append(keeper)

    def group(tg_id: str, kind: str, port: int, associations: List[Dict[str, str]], items: List[Tuple[Optional[str], str]],
              vpc: str = MAIN_VPC) -> Dict[str, Any]:
        full = kind == "full"
        doc: Dict[str, Any] = {"targetGroupId": tg_id, "vpcId": vpc, "type": "v1" if kind == "v1" else "v2",
                               "associations": associations, "members": []}
        if full:
            doc["fullListen"] = True
        else:
            doc["port"] = port
        taken: Set[Tuple[str, int]] = set()
        for _, ip in items:
            mport = 0 if full else rng.choice([port, port, port + 1])
            if (ip, mport) in taken:
                continue
            taken.add((ip, mport))
            m: Dict[str, Any] = {"privateIp": ip, "weight": rng.choice([10, 10, 30])}
            if not full:
                m["port"] = mport
            doc["members"].append(m)
        return doc

    groups = []
    if "v1" in kinds:
        groups.append(group("lbtg-kindv101", "v1", 80, v1_associations, members["v1"]))
    if "v2" in kinds:
        groups.append(group("lbtg-kindv201", "v2", 8080, [{"loadBalancerId": "lb-kinds001", "listenerId": "lbl-kind7l01",
                                                           "locationId": "loc-kind7r01"}], members["v2"]))
    if "full" in kinds:
        groups.append(group("lbtg-kindfl01", "full", 0, [{"loadBalancerId": "lb-kinds001", "listenerId": "lbl-kindfl01"}],
                            members["full"]))
    if rng.random() < 0.6:  # main-VPC IPs, reused in another VPC: ins-other001's 10.0.0.11 and any twin's
        reused: List[Tuple[Optional[str], str]] = [(NEVER_LEAVES, "10.0.0.11")]
        reused += [(i["instanceId"], i["privateIps"][0]) for i in estate["instances"] if i["instanceId"].startswith("ins-twin")]
        groups.append(group("lbtg-kother01", "v1", 80, [], reused, OTHER_VPC))
    estate["targetGroups"] = groups

    # Classic load balancers (Forward 0): whole instances, no listener of their own here.
    classic = [{"loadBalancerId": "lb-classic1", "instanceIds": [only_classic[0]] + [i for i, _ in rng.sample(pool, rng.randint(1, 3))]}]
    if rng.random() < 0.6 and KEEPER not in classic[0]["instanceIds"]:
        classic[0]["instanceIds"].append(KEEPER)
    if rng.random() < 0.4:
        classic.append({"loadBalancerId": "lb-classic2", "instanceIds": [i for i, _ in rng.sample(pool + [only_classic], rng.randint(1, 3))]})
    for n, backend in enumerate(classic, start=1):
        estate["loadBalancers"].append({"loadBalancerId": backend["loadBalancerId"], "vpcId": MAIN_VPC, "vip": f"10.0.1.{49 + n}",
                                        "region": "ap-guangzhou", "forward": 0, "listeners": []})
    estate["classicBackends"] = classic


def kinds_tags(estate: Dict[str, Any]) -> Set[str]:
    """What kinds of binding an estate holds, for a scenario's tags."""
    tags: Set[str] = set()
    for tg in estate.get("targetGroups", []):
        tags.add("full-listen-group" if tg.get("fullListen") else f"target-group-{tg['type']}")
        if tg["vpcId"] != MAIN_VPC:
            tags.add("group-ip-reused-in-other-vpc")
    if estate.get("classicBackends"):
        tags.add("classic")
    for eni in estate.get("networkInterfaces", []):
        tags.add("moved-eni-ip" if eni["networkInterfaceId"] == MOVED_ENI else "loose-eni-ip" if eni["networkInterfaceId"] == LOOSE_ENI
                 else "secondary-eni-ip")
    return tags


def instance_ids(estate: Dict[str, Any]) -> List[str]:
    return [i["instanceId"] for i in estate["instances"]] + [i["instanceId"] for i in estate.get("ecmInstances", [])]


def load_balancer_ids(estate: Dict[str, Any]) -> List[str]:
    """Every load balancer and target group: what someone else's task can hold busy."""
    return ([lb["loadBalancerId"] for lb in estate["loadBalancers"]] + [lb["loadBalancerId"] for lb in estate.get("ecmLoadBalancers", [])]
            + [tg["targetGroupId"] for tg in estate.get("targetGroups", [])])
