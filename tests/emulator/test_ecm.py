"""The ECM path: instance → IP/VPC → load balancers by backend IP → targets → batch unbind (synchronous)."""
from __future__ import annotations

import pytest

from .conftest import Cloud, bound


def test_ecm_unbind_path(cloud: Cloud) -> None:
    inst = cloud.call("ecm", "DescribeInstances", {"Filters": [{"Name": "instance-id", "Values": ["ein-leave001"]}]})
    (i,) = inst.InstanceSet
    ips = [p.PrivateIPAddress for p in i.Internet.PrivateIPAddressSet]
    assert ips == ["10.8.0.4"] and i.VirtualPrivateCloud.VpcId == "vpc-ecm11111"

    lbs = cloud.call("ecm", "DescribeLoadBalancers", {"BackendPrivateIps": ips, "EcmRegion": "ap-xian-ecm"})
    assert [lb.LoadBalancerId for lb in lbs.LoadBalancerSet] == ["lb-ecm11111"] and lbs.TotalCount == 1

    targets = cloud.call("ecm", "DescribeTargets", {"LoadBalancerId": "lb-ecm11111"})
    mine = [(l.ListenerId, t.Port) for l in targets.Listeners for t in l.Targets if "10.8.0.4" in t.PrivateIpAddresses]
    assert sorted(mine) == [("lbl-ecm11111", 80), ("lbl-ecm22222", 5000)]

    cloud.emu.set_knobs(task_seconds=0.2)
    resp = cloud.call("ecm", "BatchDeregisterTargets", {"LoadBalancerId": "lb-ecm11111", "Targets": [
        {"ListenerId": "lbl-ecm11111", "Port": 80, "InstanceId": "ein-leave001"},
        {"ListenerId": "lbl-ecm22222", "Port": 5000, "EniIp": "10.8.0.4"},
        {"ListenerId": "lbl-zzzz9999", "Port": 80, "InstanceId": "ein-leave001"}]})
    assert resp.FailListenerIdSet == ["lbl-zzzz9999"]
    # Synchronous (tccli 3.1.189.1 ecm/v20190719/api.json has no "异步接口" for it): done when it answers,
    # its RequestId still answers the task status with 0, and the load balancer stays busy a moment after.
    assert bound(cloud.emu, "ein-leave001") == set()
    assert cloud.call("ecm", "DescribeLoadBalanceTaskStatus", {"TaskId": resp.RequestId}).Status == 0
    cloud.emu.lock_load_balancer("lb-ecm11111", 5)
    again = {"LoadBalancerId": "lb-ecm11111", "Targets": [{"ListenerId": "lbl-ecm11111", "Port": 80, "InstanceId": "ein-stay0001"}]}
    assert cloud.error("ecm", "BatchDeregisterTargets", again).code == "FailedOperation.OperationConflict"
    assert bound(cloud.emu, "ein-stay0001") == {("lb-ecm11111", "lbl-ecm11111", None, 80, "10.8.0.5"),
                                                ("lb-ecm22222", "lbl-ecm33333", None, 8080, "10.8.0.5")}
    assert cloud.call("ecm", "DescribeLoadBalancers", {"BackendPrivateIps": ips}).TotalCount == 0


def test_ecm_errors(cloud: Cloud) -> None:
    assert cloud.error("ecm", "DescribeLoadBalanceTaskStatus", {"TaskId": "nope"}).code == "InvalidParameterValue.TaskNotFound"
    assert cloud.error("ecm", "BatchDeregisterTargets", {"LoadBalancerId": "lb-aaaa1111", "Targets": [
        {"ListenerId": "lbl-aaaa1111", "Port": 8080, "EniIp": "10.0.0.4"}]}).code == "InvalidParameter.LBIdNotFound"
    many = [{"ListenerId": "lbl-ecm11111", "Port": 10000 + i, "EniIp": "10.8.0.4"} for i in range(501)]
    assert cloud.error("ecm", "BatchDeregisterTargets", {"LoadBalancerId": "lb-ecm11111", "Targets": many}).code \
        == "InvalidParameterValue.Length"
    # The ECM Protocol filter of DescribeTargets is an int (a string is a type error).
    assert cloud.error("ecm", "DescribeTargets", {"LoadBalancerId": "lb-ecm11111", "Protocol": "TCP"}, raw=True).code \
        == "InvalidParameter"
    assert cloud.error("ecm", "DescribeLoadBalancers", {"EcmRegion": "ap-guangzhou"}).code == "InvalidParameterValue.InvalidEcmRegion"


def test_ecm_batch_modify_target_weight_is_synchronous_and_checked(cloud: Cloud) -> None:
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

    resp = cloud.call("ecm", "BatchModifyTargetWeight", {"LoadBalancerId": "lb-ecm11111", "ModifyList": [
        {"ListenerId": "lbl-ecm11111", "Targets": [{"InstanceId": "ein-leave001", "Port": 80, "Weight": 0}]}]})
    assert resp.RequestId  # the response has nothing else (SDK ecm BatchModifyTargetWeightResponse)
    weights = {(b["listenerId"], b["port"]): b["weight"] for b in cloud.emu.bindings("ein-leave001")}
    assert weights[("lbl-ecm11111", 80)] == 0 and weights[("lbl-ecm22222", 5000)] != 0
    for modify, code in (([{"ListenerId": "lbl-zzzz9999", "Targets": [{"InstanceId": "ein-leave001", "Port": 80}], "Weight": 0}],
                          "InvalidParameter.ListenerIdNotFound"),
                         ([{"ListenerId": "lbl-ecm11111", "Targets": [{"InstanceId": "ein-leave001", "Port": 80}], "Weight": 101}],
                          "InvalidParameterValue.Range")):
        with pytest.raises(TencentCloudSDKException) as refused:
            cloud.call("ecm", "BatchModifyTargetWeight", {"LoadBalancerId": "lb-ecm11111", "ModifyList": modify})
        assert refused.value.code == code
