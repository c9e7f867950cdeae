"""CVM DescribeInstances, Auto Scaling lifecycle/activities, TDMQ SendCmqMsg."""
from __future__ import annotations

from .conftest import Cloud

TOKEN1 = "3080e1c9-0efe-4dd7-ad3b-90cd6618298f"


def test_describe_instances_filters(cloud: Cloud) -> None:
    resp = cloud.call("cvm", "DescribeInstances", {"Filters": [{"Name": "private-ip-address", "Values": ["10.0.0.5"]}]})
    assert {i.InstanceId for i in resp.InstanceSet} == {"ins-leave002", "ins-other001"}
    resp = cloud.call("cvm", "DescribeInstances", {"Filters": [
        {"Name": "private-ip-address", "Values": ["10.0.0.5"]}, {"Name": "vpc-id", "Values": ["vpc-bbbb2222"]}]})
    assert [i.InstanceId for i in resp.InstanceSet] == ["ins-other001"]
    resp = cloud.call("cvm", "DescribeInstances", {"Filters": [{"Name": "instance-id", "Values": ["ins-stay0002"]}]})
    assert resp.InstanceSet[0].PrivateIpAddresses == ["10.0.0.7", "10.0.0.17"]
    page = cloud.call("cvm", "DescribeInstances", {"Limit": 2, "Offset": 4})
    assert page.TotalCount == 5 and len(page.InstanceSet) == 1


def test_describe_instances_missing_and_malformed_ids(cloud: Cloud) -> None:
    resp = cloud.call("cvm", "DescribeInstances", {"InstanceIds": ["ins-gone0001"]})
    assert resp.TotalCount == 0 and resp.InstanceSet == []
    assert cloud.error("cvm", "DescribeInstances", {"InstanceIds": ["ins-12"]}).code == "InvalidInstanceId.Malformed"
    assert cloud.error("cvm", "DescribeInstances", {"InstanceIds": ["ins-leave001"], "Filters": [
        {"Name": "vpc-id", "Values": ["vpc-aaaa1111"]}]}).code == "InvalidParameter"
    assert cloud.error("cvm", "DescribeInstances", {"Filters": [{"Name": "colour", "Values": ["red"]}]}).code == "InvalidFilter"
    assert cloud.error("cvm", "DescribeInstances", {"Filters": [
        {"Name": "instance-id", "Values": [f"ins-{i:08d}" for i in range(6)]}]}).code == "InvalidFilterValue.LimitExceeded"
    assert cloud.error("cvm", "DescribeInstances", {"InstanceIds": [f"ins-{i:08d}" for i in range(101)]}).code \
        == "InvalidParameterValue.LimitExceeded"
    assert cloud.call("cvm", "DescribeInstances", region="ap-shanghai").TotalCount == 0


def test_complete_lifecycle_action_twice(cloud: Cloud) -> None:
    cloud.call("as", "CompleteLifecycleAction", {"LifecycleHookId": "ash-aaaa1111", "LifecycleActionResult": "CONTINUE",
                                                 "LifecycleActionToken": TOKEN1})
    err = cloud.error("as", "CompleteLifecycleAction", {"LifecycleHookId": "ash-aaaa1111",
                                                        "LifecycleActionResult": "CONTINUE", "InstanceId": "ins-leave001"})
    assert err.code == "ResourceUnavailable.LifecycleActionResultHasSet"
    results = {r["instanceId"]: r for r in cloud.emu.lifecycle_results()}
    assert results["ins-leave001"]["result"] == "CONTINUE" and results["ins-leave001"]["completions"] == 2
    assert results["ins-leave002"]["result"] is None and results["ins-leave002"]["completions"] == 0


def test_complete_lifecycle_action_errors(cloud: Cloud) -> None:
    def code(params):
        return cloud.error("as", "CompleteLifecycleAction", params).code

    assert code({"LifecycleHookId": "ash-zzzz9999", "InstanceId": "ins-leave001"}) == "ResourceNotFound.LifecycleHookNotFound"
    assert code({"LifecycleHookId": "ash-aaaa1111", "LifecycleActionToken": "nope"}) == "ResourceNotFound.LifecycleHookTokenNotFound"
    assert code({"LifecycleHookId": "ash-aaaa1111", "InstanceId": "ins-stay0001"}) == "ResourceNotFound.LifecycleHookInstanceNotFound"
    assert code({"LifecycleHookId": "ash-aaaa1111"}) == "InvalidParameter.MustOneParameter"
    assert code({"LifecycleHookId": "bad"}) == "InvalidParameterValue.InvalidLifecycleHookId"
    assert code({"LifecycleHookId": "ash-aaaa1111", "InstanceId": "ins-leave002", "LifecycleActionResult": "MAYBE"}) \
        == "InvalidParameterValue"
    assert all(r["result"] is None for r in cloud.emu.lifecycle_results())


def test_describe_auto_scaling_activities(cloud: Cloud) -> None:
    resp = cloud.call("as", "DescribeAutoScalingActivities", {"ActivityIds": ["asa-aaaa1111", "asa-gone0000"]})
    assert resp.TotalCount == 1
    (act,) = resp.ActivitySet
    assert act.ActivityType == "SCALE_IN" and act.StatusCode == "SUCCESSFUL" and act.AutoScalingGroupId == "asg-aaaa1111"
    assert [(r.InstanceId, r.InstanceStatus) for r in act.RelatedInstanceSet] == [
        ("ins-leave001", "SUCCESSFUL"), ("ins-leave002", "SUCCESSFUL")]
    assert cloud.error("as", "DescribeAutoScalingActivities", {"ActivityIds": ["act-1"]}).code \
        == "InvalidParameterValue.InvalidActivityId"


def test_send_cmq_msg_keeps_the_message(cloud: Cloud) -> None:
    resp = cloud.call("tdmq", "SendCmqMsg", {"QueueName": "clb-unbind-retry", "MsgContent": '{"attempt": 2}', "DelaySeconds": 60})
    assert resp.Result is True and resp.MsgId
    (msg,) = cloud.emu.messages("clb-unbind-retry")
    assert msg["msgId"] == resp.MsgId and msg["body"] == '{"attempt": 2}' and msg["delaySeconds"] == 60 and msg["at"] > 0
    assert cloud.emu.messages("clb-unbind-dead-letter") == []
    assert cloud.error("tdmq", "SendCmqMsg", {"QueueName": "nope", "MsgContent": "x"}).code == "ResourceNotFound"
    assert cloud.error("tdmq", "SendCmqMsg", {"QueueName": "clb-unbind-retry", "MsgContent": "x", "DelaySeconds": 99999}).code \
        == "InvalidParameterValue"
    assert cloud.error("tdmq", "SendCmqMsg", {"QueueName": "clb-unbind-retry"}).code == "MissingParameter"
