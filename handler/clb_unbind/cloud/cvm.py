"""CVM 2017-03-12: where an instance lives on the network."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterable, Tuple

from .session import CloudSession, chunks

MAX_IDS_PER_CALL = 100  # DescribeInstancesRequest.InstanceIds: "每次请求的实例的上限为100" (SDK models.py)


@dataclass(frozen=True)
class NetworkPlace:
    instance_id: str
    vpc_id: str
    private_ips: Tuple[str, ...]
    """Primary NIC's addresses; the first is the one a bind by InstanceId uses."""


def describe_instances(session: CloudSession, instance_ids: Iterable[str]) -> Dict[str, NetworkPlace]:
    """The network place of each instance that exists; ids the API does not know are simply absent."""
    found: Dict[str, NetworkPlace] = {}
    for part in chunks(sorted(set(instance_ids)), MAX_IDS_PER_CALL):
        # Limit defaults to 20 even when InstanceIds is given, so ask for the whole chunk.
        reply = session.call("cvm", "DescribeInstances", {"InstanceIds": part, "Limit": len(part)})
        for item in reply.get("InstanceSet") or []:
            vpc = (item.get("VirtualPrivateCloud") or {}).get("VpcId") or ""
            ips = tuple(item.get("PrivateIpAddresses") or ())
            if item.get("InstanceId") in part and vpc and ips:
                found[item["InstanceId"]] = NetworkPlace(item["InstanceId"], vpc, ips)
    return found
