"""CVM 2017-03-12: where an instance lives on the network."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Tuple

from ..model import CloudFailure
from .narrow import bisect
from .session import CloudSession, chunks

MAX_IDS_PER_CALL = 100  # DescribeInstancesRequest.InstanceIds: "每次请求的实例的上限为100" (SDK models.py)


@dataclass(frozen=True)
class NetworkPlace:
    instance_id: str
    vpc_id: str
    private_ips: Tuple[str, ...]
    """Primary NIC's addresses; the first is the one a bind by InstanceId uses."""


def describe_instances(session: CloudSession, instance_ids: Iterable[str]) -> Tuple[Dict[str, NetworkPlace], Dict[str, CloudFailure]]:
    """(the network place of each instance that exists, the failure of each id the API refused alone).

    Ids the API does not know are simply absent; a permanent error is narrowed to its ids (narrow.py).
    """
    found: Dict[str, NetworkPlace] = {}
    failed: Dict[str, CloudFailure] = {}

    def read(part: List[str]) -> Dict[str, Any]:
        # Limit defaults to 20 even when InstanceIds is given, so ask for the whole chunk.
        return session.call("cvm", "DescribeInstances", {"InstanceIds": part, "Limit": len(part)})

    for chunk in chunks(sorted(set(instance_ids)), MAX_IDS_PER_CALL):
        replies, refused = bisect(chunk, read)
        failed.update(refused)
        for reply in replies:
            for item in reply.get("InstanceSet") or []:
                vpc = (item.get("VirtualPrivateCloud") or {}).get("VpcId") or ""
                ips = tuple(item.get("PrivateIpAddresses") or ())
                if item.get("InstanceId") in chunk and vpc and ips:
                    found[item["InstanceId"]] = NetworkPlace(item["InstanceId"], vpc, ips)
    return found, failed
