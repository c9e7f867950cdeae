"""Workload (j): a mixed estate, every kind of binding at once, beside the lower bound of each kind.

Ten leaving instances, each bound five ways: directly on an L4 listener (primary IP), through a v1 target
group, through a v2 target group (a layer-7 rule), on a classic load balancer, and directly through an IP
of a secondary network interface. One staying instance is bound every way too. One direct invocation.

Lower bound of each kind (bench/README.md, "Mixed estate"):
- places: one CVM DescribeInstances (≤ 100 ids) and one VPC DescribeNetworkInterfaces per 5 instances
  (every private IP, secondary network interfaces included);
- direct binds (primary and secondary IPs together): DescribeLBListeners to find and to verify, one
  BatchDeregisterTargets per load balancer (≤ 500 targets, synchronous);
- target groups: DescribeTargetGroupInstances to find and to verify, one DescribeTargetGroups for what the
  groups serve, one DeregisterTargetGroupInstances per group per 20 members, each a task polled at least once;
- classic: DescribeClassicalLBByInstanceId to find and to verify, one DeregisterTargetsFromClassicalLB per
  load balancer, a task polled at least once.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Tuple

from .emulator_process import EmulatorKnobs, EmulatorProcess, count_calls
from .workloads import _read, _spawn

LEAVING = 10
VPC = "vpc-mixed001"
KIND_OF = {
    "cvm:DescribeInstances": "places", "vpc:DescribeNetworkInterfaces": "places",
    "clb:DescribeLBListeners": "direct + secondary IP", "clb:BatchDeregisterTargets": "direct + secondary IP",
    "clb:DescribeTargetGroupInstances": "target groups", "clb:DescribeTargetGroups": "target groups",
    "clb:DeregisterTargetGroupInstances": "target groups",
    "clb:DescribeClassicalLBByInstanceId": "classic", "clb:DeregisterTargetsFromClassicalLB": "classic",
    "clb:DescribeTaskStatus": "target groups + classic (tasks)",
}


def leaving_id(n: int) -> str:
    return f"ins-mx{n:06d}"


def estate() -> Dict[str, Any]:
    from emulator import DEMO_ESTATE

    credentials = json.loads(DEMO_ESTATE.read_text())["credentials"]
    ids = [leaving_id(n) for n in range(LEAVING)] + ["ins-mxstay01"]
    primary = {iid: f"10.8.0.{n + 10}" for n, iid in enumerate(ids)}
    secondary = {iid: f"10.8.1.{n + 10}" for n, iid in enumerate(ids)}
    return {
        "region": "ap-guangzhou", "credentials": credentials,
        "instances": [{"instanceId": i, "vpcId": VPC, "privateIps": [primary[i]]} for i in ids],
        "networkInterfaces": [{"networkInterfaceId": f"eni-mx{n:06d}", "vpcId": VPC, "privateIps": [secondary[i]], "instanceId": i}
                              for n, i in enumerate(ids)],
        "loadBalancers": [
            {"loadBalancerId": "lb-mxdirct1", "vpcId": VPC, "vip": "10.8.9.1", "listeners": [
                {"listenerId": "lbl-mxtcp080", "protocol": "TCP", "port": 80,
                 "targets": [{"type": "cvm", "instanceId": i, "port": 8080} for i in ids]},
                {"listenerId": "lbl-mxeni081", "protocol": "TCP", "port": 81,
                 "targets": [{"type": "eni", "privateIp": secondary[i], "port": 8081} for i in ids]}]},
            {"loadBalancerId": "lb-mxgroup1", "vpcId": VPC, "vip": "10.8.9.2", "listeners": [
                {"listenerId": "lbl-mxtcp090", "protocol": "TCP", "port": 90},
                {"listenerId": "lbl-mxhttp91", "protocol": "HTTP", "port": 91, "rules": [
                    {"locationId": "loc-mxrule01", "domain": "mixed.example.com", "url": "/"}]}]},
            {"loadBalancerId": "lb-mxclass1", "vpcId": VPC, "vip": "10.8.9.3", "forward": 0},
        ],
        "targetGroups": [
            {"targetGroupId": "lbtg-mxv10001", "vpcId": VPC, "type": "v1", "port": 80,
             "members": [{"privateIp": primary[i], "port": 8090} for i in ids],
             "associations": [{"loadBalancerId": "lb-mxgroup1", "listenerId": "lbl-mxtcp090"}]},
            {"targetGroupId": "lbtg-mxv20001", "vpcId": VPC, "type": "v2", "port": 80,
             "members": [{"privateIp": primary[i], "port": 8091} for i in ids],
             "associations": [{"loadBalancerId": "lb-mxgroup1", "listenerId": "lbl-mxhttp91", "locationId": "loc-mxrule01"}]},
        ],
        "classicBackends": [{"loadBalancerId": "lb-mxclass1", "instanceIds": ids}],
    }


def bound() -> Dict[str, int]:
    async_writes = 2 * math.ceil(LEAVING / 20) + 1
    return {
        "cvm:DescribeInstances": math.ceil(LEAVING / 100), "vpc:DescribeNetworkInterfaces": math.ceil(LEAVING / 5),
        "clb:DescribeLBListeners": 2, "clb:BatchDeregisterTargets": 1,
        "clb:DescribeTargetGroupInstances": 2, "clb:DescribeTargetGroups": 1,
        "clb:DeregisterTargetGroupInstances": 2 * math.ceil(LEAVING / 20),
        "clb:DescribeClassicalLBByInstanceId": 2, "clb:DeregisterTargetsFromClassicalLB": 1,
        "clb:DescribeTaskStatus": async_writes,
    }


def bindings_of(state: Dict[str, Any], ips: set, ids: set) -> int:
    n = 0
    for lb in state.get("loadBalancers") or []:
        for listener in lb.get("listeners") or []:
            for targets in [listener.get("targets") or []] + [r.get("targets") or [] for r in listener.get("rules") or []]:
                n += sum(1 for t in targets if t.get("privateIp") in ips)
    n += sum(1 for g in state.get("targetGroups") or [] for m in g["members"] if m["privateIp"] in ips)
    n += sum(1 for c in state.get("classicBackends") or [] for i in c["instanceIds"] if i in ids)
    return n


@dataclass
class MixedRun:
    calls: Dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    statuses: List[str] = field(default_factory=list)
    problems: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def run_mixed(knobs: EmulatorKnobs) -> MixedRun:
    doc = estate()
    leaving = [leaving_id(n) for n in range(LEAVING)]
    ips = lambda ids: {ip for i in doc["instances"] if i["instanceId"] in ids for ip in i["privateIps"]} | {  # noqa: E731
        ip for e in doc["networkInterfaces"] if e["instanceId"] in ids for ip in e["privateIps"]}
    result = MixedRun()
    with EmulatorProcess(doc, knobs) as emu:
        before = emu.state()
        proc = _spawn({"strategy": "handler", "env": emu.env(), "events": [{"instanceIds": leaving}], "barrier": True,
                       "name": "bench-j", "preimport": []})
        _read(proc)
        go_at = time.time()
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
        out = _read(proc)
        proc.wait(timeout=60)
        result.seconds = out["ended_at"] - go_at
        result.calls = count_calls(emu.calls())
        after = emu.state()
        if out["error"]:
            result.problems.append(out["error"])
        result.statuses = [s for a in out["answers"] for s in (a.get("instances") or [])] if out["answers"] else []
        left = bindings_of(after, ips(set(leaving)), set(leaving))
        if left:
            result.problems.append(f"{left} bindings of leaving instances remain")
        stay = {"ins-mxstay01"}
        if bindings_of(after, ips(stay), stay) != bindings_of(before, ips(stay), stay):
            result.problems.append("the staying instance lost a binding")
    return result


def lines(r: MixedRun) -> List[str]:
    want = bound()
    got = r.calls.get("by_action", {})
    out = [f"  {'action':<40} {'kind':<34} {'calls':>5} {'bound':>5}"]
    rows: List[Tuple[str, str]] = sorted(((KIND_OF.get(a, "other"), a) for a in set(want) | set(got)))
    for kind, action in rows:
        out.append(f"  {action:<40} {kind:<34} {got.get(action, 0):>5} {want.get(action, 0):>5}")
    total, total_bound = sum(got.values()), sum(want.values())
    out.append(f"  {'all':<40} {'':<34} {total:>5} {total_bound:>5}")
    out.append(f"  {LEAVING} instances x 5 kinds, one direct invocation: {r.seconds:.2f}s; outcomes {sorted(set(r.statuses)) or '-'}; "
               + ("end state ok" if r.ok else "PROBLEMS: " + "; ".join(r.problems)))
    return out
