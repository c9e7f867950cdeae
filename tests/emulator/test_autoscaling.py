"""Auto Scaling state: DescribeAutoScalingInstances, DescribeLifecycleHooks, LifeCycleState moved by
CompleteLifecycleAction, and the scale-in helper (publishing and not)."""
from __future__ import annotations

import copy
import json

import pytest
import requests

from emulator import DEMO_ESTATE, Emulator, EstateError, Knobs

from .cmq_wire import CmqWire
from .conftest import Cloud

GROUP = "asg-group001"
HOOK = "ash-hook0001"
LIFECYCLE_QUEUE = "clb-unbind-lifecycle"


@pytest.fixture
def demo():
    with Emulator.from_file(DEMO_ESTATE, knobs=Knobs(task_seconds=0.02)) as e:
        yield e


@pytest.fixture
def as_cloud(demo: Emulator) -> Cloud:
    return Cloud(demo)


def states(resp) -> dict[str, str]:
    return {i.InstanceId: i.LifeCycleState for i in resp.AutoScalingInstanceSet}


# ------------------------------------------------------------------------------ DescribeAutoScalingInstances
def test_describe_auto_scaling_instances_by_ids_and_filters(as_cloud: Cloud) -> None:
    resp = as_cloud.call("as", "DescribeAutoScalingInstances", {"InstanceIds": ["ins-web00001", "ins-web00003", "ins-lonely01"]})
    assert resp.TotalCount == 2 and states(resp) == {"ins-web00001": "IN_TERMINATING_HOOK", "ins-web00003": "IN_SERVICE"}
    (one,) = [i for i in resp.AutoScalingInstanceSet if i.InstanceId == "ins-web00003"]
    assert one.AutoScalingGroupId == GROUP and one.AutoScalingGroupName == "web" and one.HealthStatus == "HEALTHY"
    assert one.ProtectedFromScaleIn is False and one.Zone and one.AddTime
    by_group = as_cloud.call("as", "DescribeAutoScalingInstances", {"Filters": [
        {"Name": "auto-scaling-group-id", "Values": [GROUP]}]})
    assert by_group.TotalCount == 4
    by_ip = as_cloud.call("as", "DescribeAutoScalingInstances", {"Filters": [
        {"Name": "private-ip-address", "Values": ["10.0.0.111"]}]})
    assert states(by_ip) == {"ins-web00001": "IN_TERMINATING_HOOK"}
    both = as_cloud.call("as", "DescribeAutoScalingInstances", {"Filters": [
        {"Name": "auto-scaling-group-id", "Values": [GROUP]}, {"Name": "instance-id", "Values": ["ins-web00004"]}]})
    assert list(states(both)) == ["ins-web00004"]
    assert as_cloud.call("as", "DescribeAutoScalingInstances", region="ap-shanghai").TotalCount == 0


def test_describe_auto_scaling_instances_paging(as_cloud: Cloud) -> None:
    first = as_cloud.call("as", "DescribeAutoScalingInstances", {"Limit": 3})
    rest = as_cloud.call("as", "DescribeAutoScalingInstances", {"Limit": 3, "Offset": 3})
    assert first.TotalCount == rest.TotalCount == 4
    assert len(first.AutoScalingInstanceSet) == 3 and len(rest.AutoScalingInstanceSet) == 1
    assert set(states(first)) | set(states(rest)) == {"ins-web00001", "ins-web00002", "ins-web00003", "ins-web00004"}


def test_describe_auto_scaling_instances_limits(as_cloud: Cloud) -> None:
    def code(params):
        return as_cloud.error("as", "DescribeAutoScalingInstances", params).code

    assert code({"InstanceIds": ["ins-web00001"], "Filters": [{"Name": "instance-id", "Values": ["ins-web00001"]}]}) \
        == "InvalidParameter.Conflict"
    assert code({"InstanceIds": [f"ins-{i:08d}" for i in range(101)]}) == "InvalidParameterValue.LimitExceeded"
    assert code({"Filters": [{"Name": "instance-id", "Values": ["ins-web00001"]}] * 11}) == "InvalidParameterValue.LimitExceeded"
    assert code({"Filters": [{"Name": "instance-id", "Values": [f"ins-{i:08d}" for i in range(6)]}]}) \
        == "LimitExceeded.FilterValuesTooLong"
    assert code({"Limit": 101}) == "InvalidParameterValue.LimitExceeded"
    assert code({"InstanceIds": ["i-123"]}) == "InvalidParameterValue.InvalidInstanceId"
    assert code({"Filters": [{"Name": "instance-id", "Values": ["web1"]}]}) == "InvalidParameterValue.InvalidInstanceId"
    assert code({"Filters": [{"Name": "auto-scaling-group-id", "Values": ["group1"]}]}) \
        == "InvalidParameterValue.InvalidAutoScalingGroupId"
    assert code({"Filters": [{"Name": "zone", "Values": ["x"]}]}) == "InvalidParameterValue.Filter"
    assert as_cloud.call("as", "DescribeAutoScalingInstances", {"InstanceIds": [f"ins-{i:08d}" for i in range(100)]}).TotalCount == 0


# ------------------------------------------------------------------------------ DescribeLifecycleHooks
def test_describe_lifecycle_hooks(as_cloud: Cloud) -> None:
    resp = as_cloud.call("as", "DescribeLifecycleHooks", {"Filters": [{"Name": "auto-scaling-group-id", "Values": [GROUP]}]})
    assert resp.TotalCount == 1
    (hook,) = resp.LifecycleHookSet
    assert (hook.LifecycleHookId, hook.LifecycleHookName, hook.AutoScalingGroupId) == (HOOK, "unbind-before-terminate", GROUP)
    assert (hook.LifecycleTransition, hook.DefaultResult, hook.HeartbeatTimeout) == ("INSTANCE_TERMINATING", "CONTINUE", 300)
    assert (hook.NotificationTarget.TargetType, hook.NotificationTarget.QueueName) == ("TDMQ_CMQ_QUEUE", LIFECYCLE_QUEUE)
    assert hook.LifecycleTransitionType == "NORMAL"
    assert as_cloud.call("as", "DescribeLifecycleHooks", {"LifecycleHookIds": [HOOK, "ash-gone0000"]}).TotalCount == 1
    assert as_cloud.call("as", "DescribeLifecycleHooks", {"Filters": [
        {"Name": "lifecycle-hook-name", "Values": ["unbind-before-terminate"]}]}).TotalCount == 1
    assert as_cloud.call("as", "DescribeLifecycleHooks", {"Offset": 1}).LifecycleHookSet == []


def test_describe_lifecycle_hooks_errors(as_cloud: Cloud) -> None:
    def code(params):
        return as_cloud.error("as", "DescribeLifecycleHooks", params).code

    assert code({"LifecycleHookIds": [HOOK], "Filters": [{"Name": "lifecycle-hook-id", "Values": [HOOK]}]}) \
        == "InvalidParameter.Conflict"
    assert code({"LifecycleHookIds": ["hook-1"]}) == "InvalidParameterValue.InvalidLifecycleHookId"
    assert code({"LifecycleHookIds": [f"ash-{i:08d}" for i in range(101)]}) == "InvalidParameter"
    assert code({"Filters": [{"Name": "lifecycle-hook-id", "Values": [f"ash-{i:08d}" for i in range(6)]}]}) == "InvalidParameter"
    assert code({"Limit": 101}) == "InvalidParameter"
    assert code({"Filters": [{"Name": "colour", "Values": ["x"]}]}) == "InvalidParameterValue.InvalidFilter"
    assert code({"Filters": [{"Name": "auto-scaling-group-id", "Values": ["g"]}]}) \
        == "InvalidParameterValue.InvalidAutoScalingGroupId"


def test_derived_groups_and_hooks_of_an_estate_without_them(cloud: Cloud) -> None:
    """tests/emulator/estate.json declares no group: lifecycleActions imply asg-aaaa1111 and its hook."""
    resp = cloud.call("as", "DescribeAutoScalingInstances", {"Filters": [{"Name": "auto-scaling-group-id", "Values": ["asg-aaaa1111"]}]})
    assert states(resp) == {"ins-leave001": "IN_TERMINATING_HOOK", "ins-leave002": "IN_TERMINATING_HOOK"}
    (hook,) = cloud.call("as", "DescribeLifecycleHooks").LifecycleHookSet
    # No target: api.json (tccli 3.1.189.1) lets NotificationTarget be neither null nor absent, so it is empty.
    assert hook.LifecycleHookId == "ash-aaaa1111" and not hook.NotificationTarget.TargetType


# ------------------------------------------------------------------------------ CompleteLifecycleAction
def test_complete_lifecycle_action_moves_the_instance_on(as_cloud: Cloud) -> None:
    as_cloud.call("as", "CompleteLifecycleAction", {"LifecycleHookId": HOOK, "InstanceId": "ins-web00001",
                                                    "LifecycleActionResult": "CONTINUE"})
    resp = as_cloud.call("as", "DescribeAutoScalingInstances", {"InstanceIds": ["ins-web00001", "ins-web00002"]})
    assert states(resp) == {"ins-web00001": "TERMINATING", "ins-web00002": "IN_TERMINATING_HOOK"}
    as_cloud.call("as", "CompleteLifecycleAction", {"LifecycleHookId": HOOK, "InstanceId": "ins-web00002",
                                                    "LifecycleActionResult": "ABANDON"})
    assert as_cloud.error("as", "CompleteLifecycleAction", {"LifecycleHookId": HOOK, "InstanceId": "ins-web00002"}).code \
        == "ResourceUnavailable.LifecycleActionResultHasSet"
    resp = as_cloud.call("as", "DescribeAutoScalingInstances", {"InstanceIds": ["ins-web00002"]})
    assert states(resp) == {"ins-web00002": "TERMINATING"}  # ABANDON on a scale-in hook still continues it
    as_cloud.emu.set_knobs(as_terminate_seconds=0)
    resp = as_cloud.call("as", "DescribeAutoScalingInstances", {"Filters": [{"Name": "auto-scaling-group-id", "Values": [GROUP]}]})
    assert states(resp) == {"ins-web00003": "IN_SERVICE", "ins-web00004": "IN_SERVICE"}


# ------------------------------------------------------------------------------ scale_in
def test_scale_in_publishes_the_documented_notification(demo: Emulator, as_cloud: Cloud) -> None:
    created = demo.scale_in(GROUP, ["ins-web00003", "ins-web00004"])
    assert created["activityId"].startswith("asa-") and created["terminating"] == []
    actions = created["actions"]
    assert [(a["instanceId"], a["lifecycleHookId"], a["published"]) for a in actions] == [
        ("ins-web00003", HOOK, True), ("ins-web00004", HOOK, True)]
    assert len({a["lifecycleActionToken"] for a in actions}) == 2
    resp = as_cloud.call("as", "DescribeAutoScalingInstances", {"InstanceIds": ["ins-web00003", "ins-web00004"]})
    assert set(states(resp).values()) == {"IN_TERMINATING_HOOK"}

    sid, key, _ = demo.credentials
    got = CmqWire(demo.host_port, sid, key)("BatchReceiveMessage", queueName=LIFECYCLE_QUEUE, numOfMsg=16, pollingWaitSeconds=0)
    bodies = [json.loads(m["msgBody"]) for m in got["msgInfoList"]]
    assert [set(b) for b in bodies] == [{"Service", "Time", "AppId", "ActivityId", "AutoScalingGroupId", "LifecycleHookId",
                                         "LifecycleHookName", "LifecycleActionToken", "InstanceId", "LifecycleTransition",
                                         "NotificationMetadata"}] * 2
    first = bodies[0]
    assert first["Service"] == "Tencent Cloud Auto Scaling" and first["AppId"] == "1251783334"
    assert first["ActivityId"] == created["activityId"] and first["AutoScalingGroupId"] == GROUP
    assert (first["LifecycleHookId"], first["LifecycleHookName"]) == (HOOK, "unbind-before-terminate")
    assert first["LifecycleTransition"] == "INSTANCE_TERMINATING" and first["Time"].endswith("Z")
    assert [(b["InstanceId"], b["LifecycleActionToken"]) for b in bodies] == [
        (a["instanceId"], a["lifecycleActionToken"]) for a in actions]

    as_cloud.call("as", "CompleteLifecycleAction", {"LifecycleHookId": HOOK, "LifecycleActionToken": actions[0]["lifecycleActionToken"]})
    assert states(as_cloud.call("as", "DescribeAutoScalingInstances", {"InstanceIds": ["ins-web00003"]})) == {"ins-web00003": "TERMINATING"}
    (act,) = as_cloud.call("as", "DescribeAutoScalingActivities", {"ActivityIds": [created["activityId"]]}).ActivitySet
    assert act.ActivityType == "SCALE_IN" and {r.InstanceId for r in act.RelatedInstanceSet} == {"ins-web00003", "ins-web00004"}


def test_scale_in_without_publishing_is_a_lost_notification(demo: Emulator, as_cloud: Cloud) -> None:
    created = demo.scale_in(GROUP, ["ins-web00003"], publish=False)
    assert created["actions"][0]["published"] is False and demo.messages(LIFECYCLE_QUEUE) == []
    resp = as_cloud.call("as", "DescribeAutoScalingInstances", {"Filters": [{"Name": "auto-scaling-group-id", "Values": [GROUP]}]})
    assert [i for i, s in states(resp).items() if s == "IN_TERMINATING_HOOK"] == ["ins-web00001", "ins-web00002", "ins-web00003"]
    as_cloud.call("as", "CompleteLifecycleAction", {"LifecycleHookId": HOOK, "InstanceId": "ins-web00003"})
    assert [r["result"] for r in demo.lifecycle_results() if r["instanceId"] == "ins-web00003"] == ["CONTINUE"]


def test_scale_in_refuses_bad_input_and_changes_nothing(demo: Emulator) -> None:
    with pytest.raises(KeyError):
        demo.scale_in("asg-nothere1", ["ins-web00003"])
    with pytest.raises(ValueError, match="not IN_SERVICE"):
        demo.scale_in(GROUP, ["ins-web00003", "ins-web00001"])
    with pytest.raises(ValueError, match="not a member"):
        demo.scale_in(GROUP, ["ins-lonely01"])
    assert demo.messages(LIFECYCLE_QUEUE) == [] and len(demo.lifecycle_results()) == 2


def test_admin_scale_in_endpoint(demo: Emulator) -> None:
    url = demo.endpoint + "/_emulator/scale-in"
    created = requests.post(url, data=json.dumps({"groupId": GROUP, "instanceIds": ["ins-web00004"], "publish": True}),
                            timeout=5).json()
    assert created["actions"][0]["instanceId"] == "ins-web00004" and len(demo.messages(LIFECYCLE_QUEUE)) == 1
    assert requests.post(url, data=json.dumps({"groupId": GROUP, "instanceIds": ["ins-web00004"]}), timeout=5).status_code == 400
    assert requests.post(url, data=json.dumps({"groupId": GROUP}), timeout=5).status_code == 400


# ------------------------------------------------------------------------------ estate checks
@pytest.mark.parametrize("mutate, needle", [
    (lambda d: d["scalingGroups"][0]["instances"].append({"instanceId": "ins-nobody01"}), "not a CVM instance"),
    (lambda d: d["scalingGroups"][0]["instances"][0].update(lifeCycleState="IN_SERVICE"), "pending lifecycle action"),
    (lambda d: d["scalingGroups"][0]["lifecycleHooks"][0]["notificationTarget"].update(queueName="nope"), "no queue"),
    (lambda d: d["scalingGroups"][0]["lifecycleHooks"][0].update(heartbeatTimeout=10), "heartbeatTimeout"),
    (lambda d: d["queues"][2].update(maxReceiveCount=0), "maxReceiveCount"),
    (lambda d: d["queues"][2].update(deadLetterQueueName="nope"), "no queue"),
])
def test_bad_scaling_estates_fail_loudly(mutate, needle) -> None:
    doc = copy.deepcopy(json.loads(DEMO_ESTATE.read_text()))
    mutate(doc)
    with pytest.raises(EstateError, match=needle):
        Emulator(doc)


# ------------------------------------------------------------------------------ DescribeAutoScalingActivities
def test_describe_activities_by_ids_is_regional_limited_and_paged(demo: Emulator, as_cloud: Cloud) -> None:
    """SDK DescribeAutoScalingActivitiesRequest: ActivityIds at most 100 a request, Limit default 20, max 100."""
    created = [demo.scale_in(GROUP, [iid])["activityId"] for iid in ("ins-web00003", "ins-web00004")]
    ids = created + [f"asa-none{n:04d}" for n in range(98)]
    got = as_cloud.call("as", "DescribeAutoScalingActivities", {"ActivityIds": ids, "Limit": 100})
    assert sorted(a.ActivityId for a in got.ActivitySet) == sorted(created)
    (one,) = [a for a in got.ActivitySet if a.ActivityId == created[0]]
    assert one.ActivityType == "SCALE_IN" and [(r.InstanceId, r.InstanceStatus) for r in one.RelatedInstanceSet] == [
        ("ins-web00003", "RUNNING")]
    too_many = as_cloud.error("as", "DescribeAutoScalingActivities", {"ActivityIds": ids + ["asa-none0999"]})
    assert too_many.code == "InvalidParameterValue.TooLong"
    assert as_cloud.error("as", "DescribeAutoScalingActivities", {"ActivityIds": created, "Limit": 101}).code
    assert as_cloud.call("as", "DescribeAutoScalingActivities", {"ActivityIds": created}, region="ap-shanghai").ActivitySet == []
    assert len(as_cloud.call("as", "DescribeAutoScalingActivities", {"Limit": 1}).ActivitySet) == 1
