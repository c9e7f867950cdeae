"""CLB 2018-03-17 `DescribeLoadBalancers`: each load balancer's VIP and VPC, the first two dimensions of
Cloud Monitor's per-backend metrics (docs/drain.md). `LoadBalancerIds` at most 20 a call (the emulator's
limit, from the clb SDK's `DescribeLoadBalancersRequest`)."""
from __future__ import annotations

from typing import Dict, Iterable, Optional, Tuple

from .session import CloudSession, chunks

IDS_PER_CALL = 20


def addresses(session: CloudSession, region: Optional[str], lb_ids: Iterable[str]) -> Dict[str, Tuple[str, str]]:
    """load balancer id → (VIP, VPC id); one missing from the answer has no entry."""
    out: Dict[str, Tuple[str, str]] = {}
    for part in chunks(sorted(set(lb_ids)), IDS_PER_CALL):
        reply = session.call("clb", "DescribeLoadBalancers", {"LoadBalancerIds": part, "Limit": 100}, region=region)
        for lb in reply.get("LoadBalancerSet") or []:
            vips = lb.get("LoadBalancerVips") or []
            if lb.get("LoadBalancerId") in part and vips and lb.get("VpcId"):
                out[lb["LoadBalancerId"]] = (vips[0], lb["VpcId"])
    return out
