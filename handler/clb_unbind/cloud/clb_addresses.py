"""CLB 2018-03-17 `DescribeLoadBalancers`: what Cloud Monitor's per-backend metrics need of each load
balancer (docs/drain.md): its VIP and VPC (the first dimensions) and whether it is public
(`LoadBalancerType` OPEN: read in `QCE/LB_PUBLIC`) or private (INTERNAL: `QCE/LB_RS_PRIVATE`).
`LoadBalancerIds` at most 20 a call (the emulator's limit, from the clb SDK's `DescribeLoadBalancersRequest`).

The VPC is sent as `NumericalVpcId` when the answer has one: the monitor docs' example values are
numeric and the private real-server page recommends the numeric id ("We recommend that you enter a
numeric vpcId", Tencent Cloud Monitor, private CLB real-server metrics); else the `vpc-` id.
"""
from __future__ import annotations

from typing import Dict, Iterable, NamedTuple, Optional

from .monitor import PRIVATE, PUBLIC
from .session import CloudSession, chunks

IDS_PER_CALL = 20


class Address(NamedTuple):
    vip: str
    vpc: str
    namespace: str


def addresses(session: CloudSession, region: Optional[str], lb_ids: Iterable[str]) -> Dict[str, Address]:
    """load balancer id → its address for Cloud Monitor; one missing from the answer, or with no VIP
    or VPC, has no entry (its bindings cannot be read: they wait the fixed time)."""
    out: Dict[str, Address] = {}
    for part in chunks(sorted(set(lb_ids)), IDS_PER_CALL):
        reply = session.call("clb", "DescribeLoadBalancers", {"LoadBalancerIds": part, "Limit": 100}, region=region)
        for lb in reply.get("LoadBalancerSet") or []:
            vips = lb.get("LoadBalancerVips") or []
            vpc = str(lb["NumericalVpcId"]) if lb.get("NumericalVpcId") else lb.get("VpcId")
            if lb.get("LoadBalancerId") in part and vips and vpc:
                namespace = PUBLIC if lb.get("LoadBalancerType") == "OPEN" else PRIVATE
                out[lb["LoadBalancerId"]] = Address(vips[0], vpc, namespace)
    return out
