"""VPC 2017-03-12: ``DescribeNetworkInterfaces``, the elastic network interfaces of instances.

Sources: tencentcloud-sdk-python-vpc 3.1.193 ``models.py`` and tccli 3.1.189.1 ``services/vpc/v20170312/api.json``:
``NetworkInterfaceIds`` ("每次请求的实例的上限为100", not with ``Filters``); ``Filters`` vpc-id, subnet-id,
network-interface-id, attachment.instance-id, is-primary, address-ip, ...; ``Limit`` "默认为20，最大值为100".
The action does not state a ``Filter.Values`` limit; the VPC actions that do state one say "每次请求的
`Filters`的上限为10，`Filter.Values`的上限为5" (e.g. ``DescribeVpcsRequest``), which is kept here.
An instance's primary interface is its ``privateIps`` (CVM ``PrivateIpAddresses``: "实例主网卡的内网IP列表");
secondary ones are the estate's ``networkInterfaces`` (``emulator/bindings.py``).
"""
from __future__ import annotations

from typing import Any

from ..bindings import Eni
from ..errors import INVALID_PARAMETER, INVALID_PARAMETER_VALUE, ApiError
from ..faults import deny
from .common import ActionSpec, Ctx, ServiceSpec, check_count, filters, page

LIMIT_EXCEEDED = "InvalidParameterValue.LimitExceeded"  # vpc errorcodes.py
FILTERS = {"vpc-id", "subnet-id", "network-interface-id", "attachment.instance-id", "is-primary", "address-ip"}


def _interfaces(ctx: Ctx) -> list[tuple[Eni, bool]]:
    """Every interface: each CVM's primary one (``eni-`` + the instance id's suffix), then the secondary ones."""
    primary = [(Eni("eni-" + i.instance_id[-8:], i.vpc_id, list(i.private_ips), i.instance_id), True)
               for i in ctx.estate.instances.values() if i.kind == "cvm" and i.region == ctx.region]
    return primary + [(e, False) for e in ctx.estate.extras.enis.values()]


def _item(ctx: Ctx, eni: Eni, primary: bool, index: int) -> dict:
    inst = ctx.estate.instances.get(eni.instance_id or "")
    item: dict[str, Any] = {
        "NetworkInterfaceId": eni.eni_id, "NetworkInterfaceName": eni.eni_id, "NetworkInterfaceDescription": "",
        "SubnetId": inst.subnet_id if inst else "", "VpcId": eni.vpc_id, "GroupSet": [], "Primary": primary,
        "MacAddress": "20:90:6F:00:00:%02X" % (index % 256), "State": "AVAILABLE",
        "PrivateIpAddressSet": [{"PrivateIpAddress": ip, "Primary": n == 0, "PublicIpAddress": "", "AddressId": "",
                                 "Description": "", "IsWanIpBlocked": False, "State": "AVAILABLE"} for n, ip in enumerate(eni.ips)],
        "Zone": inst.zone if inst else "", "CreatedTime": "2024-01-01 00:00:00", "Ipv6AddressSet": [], "TagSet": [],
        "EniType": 1 if primary else 0, "Business": "cvm", "AttachType": 0,
    }
    if eni.instance_id:
        item["Attachment"] = {"DeviceIndex": 0 if primary else 1, "InstanceAccountId": ctx.estate.app_id,
                              "AttachTime": "2024-01-01 00:00:00", "InstanceId": eni.instance_id}
    return item


def describe_network_interfaces(ctx: Ctx, params: dict) -> dict:
    deny(ctx.knobs, params, "UnauthorizedOperation")
    ids = params.get("NetworkInterfaceIds")
    if ids is not None and params.get("Filters") is not None:
        raise ApiError(INVALID_PARAMETER, "The parameters `NetworkInterfaceIds` and `Filters` cannot be specified at the same time.")
    check_count(ids, 100, "NetworkInterfaceIds", LIMIT_EXCEEDED)
    check_count(params.get("Filters"), 10, "Filters", LIMIT_EXCEEDED)
    wanted = filters(params, FILTERS, invalid_code=INVALID_PARAMETER_VALUE, values_limit=5, values_code=LIMIT_EXCEEDED)
    found = [(n, e, p) for n, (e, p) in enumerate(_interfaces(ctx))]
    if ids is not None:
        found = [x for x in found if x[1].eni_id in set(ids)]
    checks = {
        "vpc-id": lambda e, p, v: e.vpc_id in v,
        "subnet-id": lambda e, p, v: bool(e.instance_id) and ctx.estate.instances[e.instance_id].subnet_id in v,
        "network-interface-id": lambda e, p, v: e.eni_id in v,
        "attachment.instance-id": lambda e, p, v: (e.instance_id or "") in v,
        "is-primary": lambda e, p, v: str(p).upper() in {x.upper() for x in v},
        "address-ip": lambda e, p, v: any(ip in v for ip in e.ips),
    }
    for name, values in wanted.items():
        found = [x for x in found if checks[name](x[1], x[2], set(values))]
    return {"TotalCount": len(found), "NetworkInterfaceSet": [_item(ctx, e, p, n) for n, e, p in page(found, params)]}


SERVICE = ServiceSpec(
    name="vpc",
    version="2017-03-12",
    models="tencentcloud.vpc.v20170312.models",
    actions={"DescribeNetworkInterfaces": ActionSpec(describe_network_interfaces)},
)
