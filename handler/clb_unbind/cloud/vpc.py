"""VPC 2017-03-12: every private IP of an instance, on every network interface attached to it.

CVM DescribeInstances' `PrivateIpAddresses` is "实例主网卡的内网IP列表" (the primary interface's only;
tccli cvm api.json, `Instance`). A bind on an IP of a secondary elastic network interface is found only
with VPC DescribeNetworkInterfaces, filter `attachment.instance-id` ("绑定的云服务器实例ID"), whose
`PrivateIpAddressSet` lists each interface's IPs. `Limit` "默认为20，最大值为100"; the action states no
`Filter.Values` limit, the VPC actions that do state "`Filter.Values`的上限为5", which is kept.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Tuple

from ..model import CloudFailure
from .narrow import bisect
from .session import CloudSession, chunks

MAX_FILTER_VALUES = 5
PAGE = 100


def attached_ips(session: CloudSession, instance_ids: Iterable[str]) -> Tuple[Dict[str, List[str]], Dict[str, CloudFailure]]:
    """(instance id → private IPs of every interface attached to it, primary interface first;
    the failure of each id the API refused alone)."""

    def read(part: List[str]) -> List[Dict[str, Any]]:
        found: List[Dict[str, Any]] = []
        while True:
            reply = session.call("vpc", "DescribeNetworkInterfaces", {
                "Filters": [{"Name": "attachment.instance-id", "Values": part}], "Offset": len(found), "Limit": PAGE})
            page = reply.get("NetworkInterfaceSet") or []
            found.extend(page)
            if not page or len(found) >= int(reply.get("TotalCount") or 0):
                return found

    ips: Dict[str, List[str]] = {}
    failed: Dict[str, CloudFailure] = {}
    for chunk in chunks(sorted(set(instance_ids)), MAX_FILTER_VALUES):
        replies, refused = bisect(chunk, read)
        failed.update(refused)
        for interfaces in replies:
            for eni in sorted(interfaces, key=lambda e: not e.get("Primary")):
                owner = (eni.get("Attachment") or {}).get("InstanceId")
                if owner in chunk:
                    mine = ips.setdefault(owner, [])
                    mine.extend(a["PrivateIpAddress"] for a in eni.get("PrivateIpAddressSet") or []
                                if a.get("PrivateIpAddress") and a["PrivateIpAddress"] not in mine)
    return ips, failed
