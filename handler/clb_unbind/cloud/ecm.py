"""ECM 2019-07-19: edge instances behind ECM load balancers (TCP/UDP only, no forwarding rules).

ECM has no reverse lookup like CLB's DescribeLBListeners: candidates come from DescribeLoadBalancers
with BackendPrivateIps, the exact listeners and ports from DescribeTargets (docs/cloud-facts.md#ecm-reads).
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from ..model import CloudFailure
from .clb_addresses import Address
from .cvm import NetworkPlace
from .monitor import ECM
from .asynchrony import is_asynchronous
from .errors import CloudError, null_in_reply
from .narrow import bisect
from .session import CloudSession, chunks

MAX_PAGE = 100  # DescribeLoadBalancers/DescribeInstances Limit maximum (SDK models.py)
MAX_FILTER_VALUES = 5  # DescribeInstancesRequest.Filters: "单次请求的Filter.Values的上限为5" (SDK ecm models.py)


def describe_instances(session: CloudSession, instance_ids: Iterable[str]) -> Tuple[Dict[str, NetworkPlace], Dict[str, CloudFailure]]:
    """ECM DescribeInstances has no InstanceIds parameter: ids go in an `instance-id` filter, 5 a call.
    Returns the places found and the failure of each id the API refused alone (narrow.py)."""
    found: Dict[str, NetworkPlace] = {}
    failed: Dict[str, CloudFailure] = {}

    def read(part: List[str]) -> Dict[str, Any]:
        return session.call("ecm", "DescribeInstances", {"Filters": [{"Name": "instance-id", "Values": part}], "Limit": len(part)})

    for chunk in chunks(sorted(set(instance_ids)), MAX_FILTER_VALUES):
        replies, refused = bisect(chunk, read)
        failed.update(refused)
        for reply in replies:
            # InstanceSet, Internet, its PrivateIPAddressSet and VirtualPrivateCloud may all be null
            # (api.json `value_allowed_null`): an instance whose addresses are null is unknown, not gone.
            if reply.get("InstanceSet") is None:
                raise CloudError(null_in_reply("ecm:DescribeInstances", "InstanceSet", reply.get("RequestId")))
            for item in reply["InstanceSet"]:
                vpc = item.get("VirtualPrivateCloud") or {}
                internet = item.get("Internet") or {}
                ips = [a.get("PrivateIPAddress") for a in internet.get("PrivateIPAddressSet") or []]
                ips = [ip for ip in ips if ip] or list(vpc.get("PrivateIpAddresses") or [])
                if item.get("InstanceId") in chunk and not ips:
                    failed[item["InstanceId"]] = null_in_reply("ecm:DescribeInstances", "the private addresses of "
                                                               f"{item['InstanceId']}", reply.get("RequestId"))
                elif item.get("InstanceId") in chunk:
                    found[item["InstanceId"]] = NetworkPlace(item["InstanceId"], vpc.get("VpcId") or "", tuple(ips))
    return found, failed


def load_balancers_with_backends(session: CloudSession, private_ips: Sequence[str]) -> Tuple[List[str], Dict[str, CloudFailure]]:
    """(ids of the ECM load balancers with one of these backend IPs, the failure of each IP refused alone)."""

    def read(ips: List[str]) -> List[str]:
        ids: List[str] = []
        offset = 0
        while True:
            reply = session.call("ecm", "DescribeLoadBalancers", {"BackendPrivateIps": ips, "Offset": offset, "Limit": MAX_PAGE})
            # LoadBalancerSet, its LoadBalancerId and TotalCount may be null (api.json): an unknown set
            # is not an empty one, and a short page, not TotalCount, ends the paging.
            page = reply.get("LoadBalancerSet")
            if page is None or any(lb.get("LoadBalancerId") is None for lb in page):
                raise CloudError(null_in_reply("ecm:DescribeLoadBalancers", "LoadBalancerSet", reply.get("RequestId")))
            ids.extend(lb["LoadBalancerId"] for lb in page)
            offset += len(page)
            total = reply.get("TotalCount")
            if len(page) < MAX_PAGE or (total is not None and offset >= int(total)):
                return ids

    found, failed = bisect(list(private_ips), read)
    return sorted({i for ids in found for i in ids}), failed


def describe_targets(session: CloudSession, load_balancer_id: str) -> List[Dict[str, Any]]:
    """The listeners of an ECM load balancer. Listeners, and each listener's ListenerId, Targets and each
    target's InstanceId and Port, may be null (api.json): a load balancer whose targets are unknown
    fails the read (retried later) rather than passing for one without this instance."""
    reply = session.call("ecm", "DescribeTargets", {"LoadBalancerId": load_balancer_id})
    listeners = reply.get("Listeners")
    for listener in listeners or []:
        targets = listener.get("Targets")
        if listener.get("ListenerId") is None or targets is None or any(
                t.get("InstanceId") is None or t.get("Port") is None for t in targets):
            listeners = None
            break
    if listeners is None:
        raise CloudError(null_in_reply("ecm:DescribeTargets", f"the listeners and targets of {load_balancer_id}",
                                       reply.get("RequestId")))
    return list(listeners)


DEREGISTER_IS_SYNCHRONOUS = not is_asynchronous("ecm", "BatchDeregisterTargets")
"""BatchDeregisterTargets is done when it answers (asynchrony.py: api.json and doc 1108/48469 do not call it
asynchronous); verification re-reads the bindings either way."""


def batch_deregister(
    session: CloudSession, region: str, load_balancer_id: str, targets: List[Dict[str, Any]]
) -> Tuple[List[str], str, str]:
    """Same shape as `clb.batch_deregister`; `region` is unused (ECM load-balancer APIs take none)."""
    reply = session.call("ecm", "BatchDeregisterTargets", {"LoadBalancerId": load_balancer_id, "Targets": targets})
    return list(reply.get("FailListenerIdSet") or []), "", str(reply.get("RequestId"))


def wait_for_task(session: CloudSession, task_id: str, region: Optional[str] = None) -> Tuple[int, str]:
    return session.wait_for_task("ecm", "DescribeLoadBalanceTaskStatus", task_id)


def addresses(session: CloudSession, lb_ids: Iterable[str]) -> Dict[str, Address]:
    """ECM load balancer id → its address for Cloud Monitor's `QCE/ECM_LB` (docs/drain.md#ecm): the first of
    `LoadBalancerVips` and `VpcId` (the monitor page's example is a `vpc-` id; ECM's `LoadBalancer` has no
    numeric one). DescribeLoadBalancers takes `LoadBalancerIds`, `Limit` at most 100 (SDK ecm 3.1.105
    `DescribeLoadBalancersRequest`). One missing from the answer, or with a null VIP or VPC (api.json:
    "可能返回 null"), has no entry: its bindings wait the fixed time."""
    out: Dict[str, Address] = {}
    for part in chunks(sorted(set(lb_ids)), MAX_PAGE):
        reply = session.call("ecm", "DescribeLoadBalancers", {"LoadBalancerIds": part, "Offset": 0, "Limit": MAX_PAGE})
        for lb in reply.get("LoadBalancerSet") or []:
            vips = lb.get("LoadBalancerVips") or []
            if lb.get("LoadBalancerId") in part and vips and lb.get("VpcId"):
                out[lb["LoadBalancerId"]] = Address(vips[0], lb["VpcId"], ECM)
    return out


def batch_modify_weight(session: CloudSession, load_balancer_id: str, modify_list: List[Dict[str, Any]]) -> str:
    """ECM BatchModifyTargetWeight (SDK ecm 3.1.105 `BatchModifyTargetWeightRequest`: `LoadBalancerId`,
    `ModifyList` of `TargetsWeightRule` {ListenerId, Targets, Weight}). Its response carries only a
    RequestId, no task id, and api.json does not call it asynchronous: done when it answers."""
    reply = session.call("ecm", "BatchModifyTargetWeight", {"LoadBalancerId": load_balancer_id, "ModifyList": modify_list})
    return str(reply.get("RequestId"))
