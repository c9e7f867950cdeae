"""Target groups, classic load balancers and network interfaces in the emulator, through the unmodified SDK:
filters, paging, limits, required ports, asynchronous tasks and their locks, errors for non-members."""
from __future__ import annotations

import json
from typing import Any, Iterator

import pytest
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.vpc.v20170312 import models as vpc_models
from tencentcloud.vpc.v20170312 import vpc_client

from emulator import Emulator, EstateError, Knobs
from tests.functional.test_binding_kinds import kinds_estate

from .conftest import Cloud


@pytest.fixture
def kinds() -> Iterator[Cloud]:
    with Emulator(kinds_estate(), knobs=Knobs(task_seconds=0.05)) as e:
        yield Cloud(e)


def members(cloud: Cloud, **filters: list) -> list:
    resp = cloud.call("clb", "DescribeTargetGroupInstances", {"Filters": [{"Name": k, "Values": v} for k, v in filters.items()], "Limit": 100})
    return [(m.TargetGroupId, m.PrivateIpAddresses[0], m.Port) for m in resp.TargetGroupInstanceSet]


def test_members_are_found_by_ip_instance_and_group(kinds: Cloud) -> None:
    assert set(members(kinds, BindIP=["10.0.1.30"])) == {
        ("lbtg-v1grp001", "10.0.1.30", 80), ("lbtg-v2grp001", "10.0.1.30", 8080), ("lbtg-fullgrp1", "10.0.1.30", 0)}
    assert set(members(kinds, BindIP=["10.0.1.21"])) == {("lbtg-v1grp001", "10.0.1.21", 80), ("lbtg-else0001", "10.0.1.21", 80)}
    assert members(kinds, InstanceId=["ins-tgv20001"]) == [("lbtg-v2grp001", "10.0.1.22", 8080)]
    assert members(kinds, TargetGroupId=["lbtg-v1grp001"], BindIP=["10.0.1.30"]) == [("lbtg-v1grp001", "10.0.1.30", 80)]
    assert kinds.error("clb", "DescribeTargetGroupInstances", {"Filters": [{"Name": "Vip", "Values": ["x"]}]}).code.startswith("InvalidParameterValue")
    assert kinds.error("clb", "DescribeTargetGroupInstances", {}).code == "MissingParameter"


def test_member_reads_are_paged_twenty_by_default(kinds: Cloud) -> None:
    ips = ["10.0.1.21", "10.0.1.22", "10.0.1.23", "10.0.1.30"]
    first = kinds.call("clb", "DescribeTargetGroupInstances", {"Filters": [{"Name": "BindIP", "Values": ips}], "Limit": 2})
    rest = kinds.call("clb", "DescribeTargetGroupInstances", {"Filters": [{"Name": "BindIP", "Values": ips}], "Offset": 2})
    assert first.TotalCount == 7 and len(first.TargetGroupInstanceSet) == 2 and len(rest.TargetGroupInstanceSet) == 5


def test_groups_report_what_they_serve(kinds: Cloud) -> None:
    resp = kinds.call("clb", "DescribeTargetGroups", {"TargetGroupIds": ["lbtg-v1grp001", "lbtg-v2grp001", "lbtg-fullgrp1"]})
    by_id = {g.TargetGroupId: g for g in resp.TargetGroupSet}
    assert [(a.LoadBalancerId, a.ListenerId) for a in by_id["lbtg-v1grp001"].AssociatedRule] == [
        ("lb-tgroup01", "lbl-tg4l0001"), ("lb-tgroup02", "lbl-tg4l0002")]
    (rule,) = by_id["lbtg-v2grp001"].AssociatedRule
    assert rule.LocationId == "loc-tg7r0001" and by_id["lbtg-v2grp001"].TargetGroupType == "v2"
    assert by_id["lbtg-fullgrp1"].FullListenSwitch is True and by_id["lbtg-fullgrp1"].Port == 0
    assert kinds.error("clb", "DescribeTargetGroups", {"TargetGroupIds": ["lbtg-v1grp001"],
                                                      "Filters": [{"Name": "TargetGroupName", "Values": ["x"]}]}).code == "InvalidParameter"


def test_deregister_is_a_task_that_locks_the_group(kinds: Cloud) -> None:
    resp = kinds.call("clb", "DeregisterTargetGroupInstances", {"TargetGroupId": "lbtg-v1grp001",
                                                               "TargetGroupInstances": [{"BindIP": "10.0.1.21", "Port": 80}]})
    busy = kinds.error("clb", "DeregisterTargetGroupInstances", {"TargetGroupId": "lbtg-v1grp001",
                                                                "TargetGroupInstances": [{"BindIP": "10.0.1.30", "Port": 80}]})
    assert busy.code == "FailedOperation.ResourceInOperating"
    assert ("lbtg-v1grp001", "10.0.1.21", 80) in members(kinds, BindIP=["10.0.1.21"])  # not before the task ends
    assert kinds.wait_task(resp.RequestId) == 0
    assert members(kinds, BindIP=["10.0.1.21"]) == [("lbtg-else0001", "10.0.1.21", 80)]


def test_deregister_limits_ports_and_non_members(kinds: Cloud) -> None:
    def refused(group: str, items: list) -> str:
        return kinds.error("clb", "DeregisterTargetGroupInstances", {"TargetGroupId": group, "TargetGroupInstances": items}).code

    many = [{"BindIP": f"10.9.0.{i}", "Port": 80} for i in range(21)]
    assert refused("lbtg-v1grp001", many) == "InvalidParameterValue.Length"
    assert refused("lbtg-v1grp001", [{"BindIP": "10.0.1.21"}]) == "MissingParameter"
    assert refused("lbtg-fullgrp1", [{"BindIP": "10.0.1.23", "Port": 80}]) == "InvalidParameterValue"
    assert refused("lbtg-v1grp001", [{"BindIP": "10.0.1.22", "Port": 80}]) == "InvalidParameter"
    assert refused("lbtg-nosuch01", [{"BindIP": "10.0.1.21", "Port": 80}]) == "InvalidParameterValue"
    assert refused("lbtg-v1grp001", [{"BindIP": "10.0.1.21", "Port": 80}, {"BindIP": "10.0.1.21", "Port": 80}]) == "InvalidParameterValue.Duplicate"
    resp = kinds.call("clb", "DeregisterTargetGroupInstances", {"TargetGroupId": "lbtg-fullgrp1", "TargetGroupInstances": [{"BindIP": "10.0.1.23"}]})
    assert kinds.wait_task(resp.RequestId) == 0 and members(kinds, BindIP=["10.0.1.23"]) == []


def test_weights_need_port_and_weight(kinds: Cloud) -> None:
    assert kinds.error("clb", "ModifyTargetGroupInstancesWeight", {"TargetGroupId": "lbtg-v2grp001",
                       "TargetGroupInstances": [{"BindIP": "10.0.1.22", "Weight": 0}]}).code == "MissingParameter"
    resp = kinds.call("clb", "ModifyTargetGroupInstancesWeight", {"TargetGroupId": "lbtg-v2grp001",
                      "TargetGroupInstances": [{"BindIP": "10.0.1.22", "Port": 8080, "Weight": 0}]})
    assert kinds.wait_task(resp.RequestId) == 0
    (member,) = kinds.call("clb", "DescribeTargetGroupInstances", {"Filters": [{"Name": "BindIP", "Values": ["10.0.1.22"]}]}).TargetGroupInstanceSet
    assert member.Weight == 0


def test_classic_load_balancers(kinds: Cloud) -> None:
    resp = kinds.call("clb", "DescribeClassicalLBByInstanceId", {"InstanceIds": ["ins-classic1", "ins-tgstay01", "ins-web00001"]})
    assert {i.InstanceId: i.LoadBalancerIds for i in resp.LoadBalancerInfoList} == {"ins-classic1": ["lb-classic1"], "ins-tgstay01": ["lb-classic1"]}
    assert kinds.error("clb", "DeregisterTargetsFromClassicalLB", {"LoadBalancerId": "lb-tgroup01", "InstanceIds": ["ins-classic1"]}).code == "UnsupportedOperation"
    assert kinds.error("clb", "DeregisterTargetsFromClassicalLB", {"LoadBalancerId": "lb-classic1", "InstanceIds": ["ins-web00001"]}).code == "InvalidParameter"
    task = kinds.call("clb", "DeregisterTargetsFromClassicalLB", {"LoadBalancerId": "lb-classic1", "InstanceIds": ["ins-classic1"]}).RequestId
    assert kinds.error("clb", "DeregisterTargetsFromClassicalLB", {"LoadBalancerId": "lb-classic1", "InstanceIds": ["ins-tgstay01"]}).code == "FailedOperation.ResourceInOperating"
    assert kinds.wait_task(task) == 0
    resp = kinds.call("clb", "DescribeClassicalLBByInstanceId", {"InstanceIds": ["ins-classic1", "ins-tgstay01"]})
    assert [i.InstanceId for i in resp.LoadBalancerInfoList] == ["ins-tgstay01"]


def test_network_interfaces_of_an_instance(kinds: Cloud) -> None:
    sid, key, token = kinds.emu.credentials
    client = vpc_client.VpcClient(credential.Credential(sid, key, token), "ap-guangzhou",
                                  ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=kinds.emu.host_port)))

    def interfaces(params: dict) -> Any:
        req = vpc_models.DescribeNetworkInterfacesRequest()
        req.from_json_string(json.dumps(params))
        return client.DescribeNetworkInterfaces(req)

    resp = interfaces({"Filters": [{"Name": "attachment.instance-id", "Values": ["ins-eni00001", "ins-eni00002"]}]})
    found = {(e.Attachment.InstanceId, e.Primary): [a.PrivateIpAddress for a in e.PrivateIpAddressSet] for e in resp.NetworkInterfaceSet}
    assert found == {("ins-eni00001", True): ["10.0.2.10"], ("ins-eni00001", False): ["10.0.2.11", "10.0.2.12"],
                     ("ins-eni00002", True): ["10.0.2.19"], ("ins-eni00002", False): ["10.0.2.20"]}
    with pytest.raises(Exception) as info:
        interfaces({"Filters": [{"Name": "attachment.instance-id", "Values": [f"ins-eni0000{i}" for i in range(6)]}]})
    assert "LimitExceeded" in str(info.value)


def test_estate_refuses_a_group_serving_a_listener_that_does_not_exist() -> None:
    doc = kinds_estate()
    doc["targetGroups"][0]["associations"].append({"loadBalancerId": "lb-tgroup01", "listenerId": "lbl-nosuch01"})
    with pytest.raises(EstateError, match="associations"):
        Emulator(doc)
