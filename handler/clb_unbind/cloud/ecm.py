"""ECM 2019-07-19: edge instances behind ECM load balancers (TCP/UDP only, no forwarding rules).

ECM has no reverse lookup like CLB's DescribeLBListeners: candidates come from DescribeLoadBalancers
with BackendPrivateIps, the exact listeners and ports from DescribeTargets (tencent-facts §6).
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from .cvm import NetworkPlace
from .session import CloudSession, chunks

MAX_PAGE = 100  # DescribeLoadBalancers/DescribeInstances Limit maximum (SDK models.py)
MAX_FILTER_VALUES = 5  # DescribeInstancesRequest.Filters: "单次请求的Filter.Values的上限为5" (SDK ecm models.py)


def describe_instances(session: CloudSession, instance_ids: Iterable[str]) -> Dict[str, NetworkPlace]:
    """ECM DescribeInstances has no InstanceIds parameter: ids go in an `instance-id` filter, 5 a call."""
    found: Dict[str, NetworkPlace] = {}
    for part in chunks(sorted(set(instance_ids)), MAX_FILTER_VALUES):
        reply = session.call(
            "ecm", "DescribeInstances", {"Filters": [{"Name": "instance-id", "Values": part}], "Limit": len(part)}
        )
        for item in reply.get("InstanceSet") or []:
            vpc = item.get("VirtualPrivateCloud") or {}
            internet = item.get("Internet") or {}
            ips = [a.get("PrivateIPAddress") for a in internet.get("PrivateIPAddressSet") or []]
            ips = [ip for ip in ips if ip] or list(vpc.get("PrivateIpAddresses") or [])
            if item.get("InstanceId") in part and ips:
                found[item["InstanceId"]] = NetworkPlace(item["InstanceId"], vpc.get("VpcId") or "", tuple(ips))
    return found


def load_balancers_with_backends(session: CloudSession, private_ips: Sequence[str]) -> List[str]:
    ids: List[str] = []
    offset = 0
    while True:
        reply = session.call(
            "ecm",
            "DescribeLoadBalancers",
            {"BackendPrivateIps": list(private_ips), "Offset": offset, "Limit": MAX_PAGE},
        )
        page = reply.get("LoadBalancerSet") or []
        ids.extend(lb["LoadBalancerId"] for lb in page if lb.get("LoadBalancerId"))
        offset += len(page)
        if not page or offset >= int(reply.get("TotalCount") or 0):
            return sorted(set(ids))


def describe_targets(session: CloudSession, load_balancer_id: str) -> List[Dict[str, Any]]:
    reply = session.call("ecm", "DescribeTargets", {"LoadBalancerId": load_balancer_id})
    return list(reply.get("Listeners") or [])


DEREGISTER_IS_SYNCHRONOUS = False
"""Whether ECM BatchDeregisterTargets is a task is UNCONFIRMED (tencent-facts §6): its task is polled."""


def batch_deregister(
    session: CloudSession, region: str, load_balancer_id: str, targets: List[Dict[str, Any]]
) -> Tuple[List[str], str, str]:
    """Same shape as `clb.batch_deregister`; `region` is unused (ECM load-balancer APIs take none)."""
    reply = session.call("ecm", "BatchDeregisterTargets", {"LoadBalancerId": load_balancer_id, "Targets": targets})
    return list(reply.get("FailListenerIdSet") or []), "", str(reply.get("RequestId"))


def wait_for_task(session: CloudSession, task_id: str, region: Optional[str] = None) -> Tuple[int, str]:
    return session.wait_for_task("ecm", "DescribeLoadBalanceTaskStatus", task_id)
