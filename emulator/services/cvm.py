"""CVM 2017-03-12: ``DescribeInstances``.

Behaviour sources:
* ``DescribeInstancesRequest`` docstring (cvm models.py): ``InstanceIds`` ≤ 100 per request;
  ``Filters`` ≤ 10, ``Filter.Values`` ≤ 5; "参数不支持同时指定`InstanceIds`和`Filters`" (the two
  cannot be given together); ``Limit`` default 20, max 100; ``private-ip-address`` filters on the
  primary NIC's private IPs.
* Error list of DescribeInstances in the Go SDK (TencentCloud/tencentcloud-sdk-go
  ``tencentcloud/cvm/v20170312/client.go``): ``InvalidInstanceId.Malformed``, ``InvalidFilter``,
  ``InvalidFilterValue.LimitExceeded``, ``InvalidParameter``, ``InvalidParameterValue.LimitExceeded``,
  ... and notably **no** ``InvalidInstanceId.NotFound`` (which the neighbouring actions such as
  DescribeInstancesModification do list). So a well-formed id that does not exist is simply absent
  from ``InstanceSet`` (TotalCount 0), while a malformed one is ``InvalidInstanceId.Malformed``
  (cvm errorcodes.py: "指定的实例`ID`格式错误"). Ids are checked with ``fullmatch``: ``ID_RE``'s ``$``
  would let ``"ins-xxxxxxxx\n"`` through.
"""
from __future__ import annotations

from ..errors import INVALID_PARAMETER, ApiError
from ..estate import ID_RE, Instance
from ..faults import deny
from .common import ActionSpec, Ctx, ServiceSpec, check_count, filters, page

INVALID_FILTER = "InvalidFilter"  # cvm errorcodes.py: 无效的过滤器
INVALID_FILTER_VALUE_LIMIT = "InvalidFilterValue.LimitExceeded"  # cvm errorcodes.py
INVALID_INSTANCE_ID_MALFORMED = "InvalidInstanceId.Malformed"  # cvm errorcodes.py
INVALID_PARAMETER_VALUE_LIMIT = "InvalidParameterValue.LimitExceeded"  # cvm errorcodes.py: 参数值数量超过限制

SUPPORTED_FILTERS = {"instance-id", "private-ip-address", "vpc-id", "instance-state", "subnet-id", "instance-name", "zone"}
UNAUTHORIZED = "UnauthorizedOperation"  # cvm errorcodes.py


def describe_instances(ctx: Ctx, params: dict) -> dict:
    deny(ctx.knobs, params, UNAUTHORIZED)
    ids = params.get("InstanceIds")
    if ids is not None and params.get("Filters") is not None:
        raise ApiError(INVALID_PARAMETER, "The parameters `InstanceIds` and `Filters` cannot be specified at the same time.")
    check_count(ids, 100, "InstanceIds", INVALID_PARAMETER_VALUE_LIMIT)
    for iid in ids or []:
        if not ID_RE["ins"].fullmatch(iid):
            raise ApiError(INVALID_INSTANCE_ID_MALFORMED, f"The instance ID `{iid}` is malformed.")
    check_count(params.get("Filters"), 10, "Filters", INVALID_FILTER_VALUE_LIMIT)
    wanted = filters(params, SUPPORTED_FILTERS, invalid_code=INVALID_FILTER, values_limit=5,
                     values_code=INVALID_FILTER_VALUE_LIMIT)
    for iid in wanted.get("instance-id", []):
        if not ID_RE["ins"].fullmatch(iid):
            raise ApiError(INVALID_INSTANCE_ID_MALFORMED, f"The instance ID `{iid}` is malformed.")

    found = [i for i in ctx.estate.instances.values() if i.kind == "cvm" and i.region == ctx.region]
    if ids is not None:
        found = [i for i in found if i.instance_id in set(ids)]
        found.sort(key=lambda i: ids.index(i.instance_id))
    checks = {
        "instance-id": lambda i, v: i.instance_id in v,
        "private-ip-address": lambda i, v: any(ip in v for ip in i.private_ips),
        "vpc-id": lambda i, v: i.vpc_id in v,
        "instance-state": lambda i, v: i.state in v,
        "subnet-id": lambda i, v: i.subnet_id in v,
        "instance-name": lambda i, v: any(x in i.name for x in v),
        "zone": lambda i, v: i.zone in v,
    }
    for name, values in wanted.items():
        found = [i for i in found if checks[name](i, set(values))]
    return {"TotalCount": len(found), "InstanceSet": [_instance(i) for i in page(found, params)]}


def _instance(i: Instance) -> dict:
    return {
        "InstanceId": i.instance_id,
        "InstanceName": i.name,
        "InstanceState": i.state,
        "PrivateIpAddresses": list(i.private_ips),
        "VirtualPrivateCloud": {"VpcId": i.vpc_id, "SubnetId": i.subnet_id, "AsVpcGateway": False},
        "Placement": {"Zone": i.zone, "ProjectId": 0},
        "CreatedTime": "2024-01-01T00:00:00Z",
        "RestrictState": "NORMAL",
    }


SERVICE = ServiceSpec(
    name="cvm",
    version="2017-03-12",
    models="tencentcloud.cvm.v20170312.models",
    actions={"DescribeInstances": ActionSpec(describe_instances)},
)
