"""Limits and malformed input the emulator refuses as the real API does (issue 12)."""
from __future__ import annotations

import time

from .conftest import Cloud


def test_ids_are_matched_whole(cloud: Cloud) -> None:
    err = cloud.error("cvm", "DescribeInstances", {"InstanceIds": ["ins-leave001\n"]})
    assert err.code == "InvalidInstanceId.Malformed"
    err = cloud.error("cvm", "DescribeInstances", {"Filters": [{"Name": "instance-id", "Values": ["ins-leave001\n"]}]})
    assert err.code == "InvalidInstanceId.Malformed"
    err = cloud.error("ecm", "DescribeInstances", {"Filters": [{"Name": "instance-id", "Values": ["ein-edge0001\n"]}]})
    assert err.code == "InvalidParameterValue.InvalidInstanceID"


def test_ecm_describe_instances_takes_five_values_per_filter(cloud: Cloud) -> None:
    five = [f"ein-{i:08d}" for i in range(5)]
    assert cloud.call("ecm", "DescribeInstances", {"Filters": [{"Name": "instance-id", "Values": five}]}).TotalCount == 0
    err = cloud.error("ecm", "DescribeInstances", {"Filters": [{"Name": "instance-id", "Values": five + ["ein-00000005"]}]})
    assert err.code == "InvalidParameterValue.FilterLimitExceeded"


LEAVING_8080 = {"ListenerId": "lbl-aaaa1111", "Port": 8080, "InstanceId": "ins-leave001"}
LEAVING_8081 = {"ListenerId": "lbl-aaaa1111", "Port": 8081, "InstanceId": "ins-leave001"}


def test_clb_batch_deregister_is_synchronous_and_leaves_a_large_batch_busy(cloud: Cloud) -> None:
    cloud.emu.set_knobs(task_seconds=100.0)
    resp = cloud.call("clb", "BatchDeregisterTargets", {"LoadBalancerId": "lb-aaaa1111", "Targets": [LEAVING_8080]})
    keys = {(b["listenerId"], b["port"]) for b in cloud.emu.bindings("ins-leave001")}
    assert ("lbl-aaaa1111", 8080) not in keys and ("lbl-aaaa1111", 8081) in keys  # applied before the reply
    assert cloud.call("clb", "DescribeTaskStatus", {"TaskId": resp.RequestId}).Status == 0
    # One target of 500 keeps the load balancer busy 100 s x 1/500 = 0.2 s.
    time.sleep(0.3)
    cloud.call("clb", "BatchDeregisterTargets", {"LoadBalancerId": "lb-aaaa1111", "Targets": [LEAVING_8081]})
    err = cloud.error("clb", "BatchDeregisterTargets", {"LoadBalancerId": "lb-aaaa1111", "Targets": [LEAVING_8080]})
    assert err.code == "FailedOperation.ResourceInOperating"


def test_target_not_bound_rejects_the_whole_call_in_that_mode(cloud: Cloud) -> None:
    cloud.emu.set_knobs(not_bound_rejects_call=True)
    gone = {"ListenerId": "lbl-aaaa1111", "Port": 9999, "InstanceId": "ins-leave001"}
    err = cloud.error("clb", "BatchDeregisterTargets", {"LoadBalancerId": "lb-aaaa1111", "Targets": [LEAVING_8080, gone]})
    assert err.code == "InvalidParameter"
    assert ("lbl-aaaa1111", 8080) in {(b["listenerId"], b["port"]) for b in cloud.emu.bindings("ins-leave001")}


def test_refused_resources_are_denied_on_every_read_that_names_them(cloud: Cloud) -> None:
    cloud.emu.set_knobs(refuse_ids=["ins-leave002", "10.8.0.4", "lb-ecm22222"])
    assert cloud.error("cvm", "DescribeInstances", {"InstanceIds": ["ins-leave001", "ins-leave002"]}).code == "UnauthorizedOperation"
    assert cloud.call("cvm", "DescribeInstances", {"InstanceIds": ["ins-leave001"]}).TotalCount == 1
    err = cloud.error("ecm", "DescribeLoadBalancers", {"BackendPrivateIps": ["10.8.0.4", "10.8.0.5"]})
    assert err.code == "AuthFailure.UnauthorizedOperation"
    assert cloud.error("ecm", "DescribeTargets", {"LoadBalancerId": "lb-ecm22222"}).code == "AuthFailure.UnauthorizedOperation"
    assert cloud.call("ecm", "DescribeTargets", {"LoadBalancerId": "lb-ecm11111"}).Listeners
    assert cloud.emu.knobs.to_dict()["refuse_ids"] == ["10.8.0.4", "ins-leave002", "lb-ecm22222"]


def test_ecm_target_not_bound_rejects_the_whole_call_in_that_mode(cloud: Cloud) -> None:
    cloud.emu.set_knobs(not_bound_rejects_call=True)
    err = cloud.error("ecm", "BatchDeregisterTargets", {"LoadBalancerId": "lb-ecm11111", "Targets": [
        {"ListenerId": "lbl-ecm11111", "Port": 80, "InstanceId": "ein-leave001"},
        {"ListenerId": "lbl-ecm11111", "Port": 81, "InstanceId": "ein-leave001"}]})
    assert err.code == "InvalidParameter" and not cloud.emu.tasks()


def test_null_task_status_and_unsent_message(cloud: Cloud) -> None:
    resp = cloud.call("ecm", "BatchDeregisterTargets", {"LoadBalancerId": "lb-ecm11111", "Targets": [
        {"ListenerId": "lbl-ecm11111", "Port": 80, "InstanceId": "ein-leave001"}]})
    cloud.emu.set_knobs(spec_nulls=True, send_result_false=True)
    assert cloud.raw("ecm", "DescribeLoadBalanceTaskStatus", {"TaskId": resp.RequestId})["Status"] is None
    sent = cloud.call("tdmq", "SendCmqMsg", {"QueueName": "clb-unbind-retry", "MsgContent": "x"})
    assert sent.Result is False and cloud.emu.messages("clb-unbind-retry") == []
