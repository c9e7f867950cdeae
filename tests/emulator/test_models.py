"""Every reply of a scripted run deserialises into the SDK response model with no unknown keys."""
from __future__ import annotations

import importlib
import warnings

from emulator.services import SERVICES
from emulator.strict import reply_problems

from .conftest import Cloud

SCRIPT = [
    ("cvm", "DescribeInstances", {"Filters": [{"Name": "private-ip-address", "Values": ["10.0.0.4"]}]}),
    ("cvm", "DescribeInstances", {"InstanceIds": ["ins-leave001", "ins-leave002"]}),
    ("clb", "DescribeLBListeners", {"Backends": [{"VpcId": "vpc-aaaa1111", "PrivateIp": ip}
                                                 for ip in ("10.0.0.4", "10.0.0.14", "10.0.0.5")]}),
    ("clb", "DescribeLoadBalancers", {"BackendPrivateIps": ["10.0.0.5"], "AdditionalFields": ["TargetCount"]}),
    ("clb", "DescribeTargets", {"LoadBalancerId": "lb-aaaa1111"}),
    ("clb", "DescribeTargets", {"LoadBalancerId": "lb-bbbb2222"}),
    ("clb", "BatchModifyTargetWeight", {"LoadBalancerId": "lb-bbbb2222", "ModifyList": [
        {"ListenerId": "lbl-bbbb1111", "LocationId": "loc-bbbb2222", "Weight": 0,
         "Targets": [{"InstanceId": "ins-leave002", "Port": 8443}]}]}),
    ("clb", "BatchDeregisterTargets", {"LoadBalancerId": "lb-aaaa1111", "Targets": [
        {"ListenerId": "lbl-aaaa2222", "LocationId": "loc-aaaa2222", "Port": 80, "InstanceId": "ins-leave002"},
        {"ListenerId": "lbl-aaaa3333", "Port": 53, "EniIp": "10.0.0.5"},
        {"ListenerId": "lbl-zzzz9999", "Port": 53, "EniIp": "10.0.0.5"}]}),
    ("clb", "DescribeTaskStatus", "last-clb-task"),
    ("ecm", "DescribeInstances", {"Filters": [{"Name": "instance-id", "Values": ["ein-leave001"]}]}),
    ("ecm", "DescribeLoadBalancers", {"BackendPrivateIps": ["10.8.0.4"]}),
    ("ecm", "DescribeTargets", {"LoadBalancerId": "lb-ecm11111", "ListenerIds": ["lbl-ecm11111"]}),
    ("ecm", "BatchDeregisterTargets", {"LoadBalancerId": "lb-ecm11111", "Targets": [
        {"ListenerId": "lbl-ecm11111", "Port": 80, "InstanceId": "ein-leave001"}]}),
    ("ecm", "DescribeLoadBalanceTaskStatus", "last-ecm-task"),
    ("as", "DescribeAutoScalingActivities", {"ActivityIds": ["asa-aaaa1111"]}),
    ("as", "CompleteLifecycleAction", {"LifecycleHookId": "ash-aaaa1111", "InstanceId": "ins-leave002"}),
    ("as", "DescribeAutoScalingActivities", {"Filters": [{"Name": "auto-scaling-group-id", "Values": ["asg-aaaa1111"]}]}),
    ("tdmq", "SendCmqMsg", {"QueueName": "clb-unbind-dead-letter", "MsgContent": "{}"}),
]


def test_every_reply_fits_the_sdk_model(cloud: Cloud) -> None:
    last = {}
    for service, action, params in SCRIPT:
        if isinstance(params, str):
            params = {"TaskId": last[params.split("-")[1]]}
        resp = cloud.call(service, action, params)
        if action.startswith("Batch"):
            last[service] = resp.RequestId
    calls = cloud.emu.calls
    assert len(calls) == len(SCRIPT) and all(c.error_code is None for c in calls)
    for c in calls:
        module = importlib.import_module(SERVICES[c.service].models)
        model = getattr(module, f"{c.action}Response")()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model._deserialize(c.response)
        assert not [str(w.message) for w in caught], (c.service, c.action)
        assert reply_problems(type(model), c.response) == []
        assert model.RequestId == c.request_id


def test_reply_checker_catches_unknown_and_mistyped_keys() -> None:
    from tencentcloud.clb.v20180317 import models

    problems = reply_problems(models.DescribeLBListenersResponse, {"LoadBalancers": [{"Listeners": [
        {"Targets": [{"VpcId": "vpc-aaaa1111", "Colour": 1}]}]}], "RequestId": "r"})
    assert any("VpcId" in p for p in problems) and any("Colour" in p for p in problems)
