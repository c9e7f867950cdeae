"""The emulated log service keeps its objects, refuses what CLS refuses, through the unmodified SDK."""
from __future__ import annotations

from typing import Any

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from tests.functional.test_cls_queries import call, cls_client


def refused(client: Any, action: str, params: dict) -> str:
    with pytest.raises(TencentCloudSDKException) as caught:
        call(client, action, params)
    return caught.value.get_code()


def alarm(topic: str, notice: str, name: str = "a") -> dict:
    return {"Name": name, "AlarmTargets": [{"TopicId": topic, "Number": 1, "StartTimeOffset": -5, "EndTimeOffset": 0,
                                            "Query": "* | SELECT count(*) AS n"}],
            "MonitorTime": {"Type": "Period", "Time": 1}, "Condition": "$1.n > 0", "TriggerCount": 1, "AlarmPeriod": 15,
            "AlarmNoticeIds": [notice]}


def test_objects_are_kept_found_and_deleted_in_order(emulator: Any) -> None:
    client = cls_client(emulator)
    logset = call(client, "CreateLogset", {"LogsetName": "watch"})["LogsetId"]
    assert refused(client, "CreateLogset", {"LogsetName": "watch"}) == "InvalidParameter.LogsetConflict"
    topic = call(client, "CreateTopic", {"LogsetId": logset, "TopicName": "fn"})["TopicId"]
    assert refused(client, "CreateTopic", {"LogsetId": "nope", "TopicName": "fn"}) == "ResourceNotFound.LogsetNotExist"
    found = call(client, "DescribeTopics", {"Filters": [{"Key": "topicName", "Values": ["fn"]}], "PreciseSearch": 1})
    assert [t["TopicId"] for t in found["Topics"]] == [topic]
    notice = call(client, "CreateAlarmNotice", {"Name": "n", "Type": "All", "NoticeReceivers": [
        {"ReceiverType": "Uin", "ReceiverIds": [100001], "ReceiverChannels": ["Email"]}]})["AlarmNoticeId"]
    alarm_id = call(client, "CreateAlarm", alarm(topic, notice))["AlarmId"]
    assert refused(client, "CreateAlarm", alarm(topic, notice)) == "InvalidParameter.AlarmConflict"
    bad = alarm(topic, notice, "b")
    bad["AlarmTargets"][0]["Query"] = "level:ERROR | SELECT count(*)"
    assert refused(client, "CreateAlarm", bad) == "FailedOperation.InvalidAlarm"
    assert call(client, "DescribeAlarms", {"Filters": [{"Key": "name", "Values": ["a"]}]})["Alarms"][0]["AlarmId"] == alarm_id
    dashboard = call(client, "CreateDashboard", {"DashboardName": "d", "Data": "{}"})["DashboardId"]
    assert call(client, "DescribeDashboards", {})["DashboardInfos"][0]["DashboardId"] == dashboard
    assert refused(client, "DeleteAlarmNotice", {"AlarmNoticeId": notice}) == "OperationDenied.NoticeHasAlarm"
    assert refused(client, "DeleteLogset", {"LogsetId": logset}) == "FailedOperation.LogsetNotEmpty"
    for action, key, value in (("DeleteAlarm", "AlarmId", alarm_id), ("DeleteAlarmNotice", "AlarmNoticeId", notice),
                               ("DeleteDashboard", "DashboardId", dashboard), ("DeleteTopic", "TopicId", topic),
                               ("DeleteLogset", "LogsetId", logset)):
        call(client, action, {key: value})
    assert call(client, "DescribeLogsets", {})["TotalCount"] == 0
    assert refused(client, "DeleteAlarm", {"AlarmId": alarm_id}) == "ResourceNotFound.AlarmNotExist"


def test_unknown_fields_are_refused_as_the_gateway_does(emulator: Any) -> None:
    client = cls_client(emulator)
    with pytest.raises(TencentCloudSDKException) as caught:
        client.call_json("CreateLogset", {"LogsetName": "y", "Colour": "red"})
    assert caught.value.get_code() == "UnknownParameter"
