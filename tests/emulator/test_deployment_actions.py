"""The management actions the operator tool uses: what each refuses, with the SDK's error codes."""
from __future__ import annotations

import base64
import io
import json
import zipfile
from typing import Any, Dict

import pytest

from deploy.cloud import ApiFailure, Cloud

TRUST = json.dumps({"version": "2.0", "statement": [{"action": "name/sts:AssumeRole", "effect": "allow",
                                                      "principal": {"service": ["scf.qcloud.com"]}}]})
POLICY = json.dumps({"version": "2.0", "statement": [{"effect": "allow", "action": ["clb:DescribeTargets"], "resource": ["*"]}]})


def _zip() -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("index.py", "def main_handler(e, c):\n    return {}\n")
    return base64.b64encode(buf.getvalue()).decode()


@pytest.fixture
def cloud(make_emulator: Any) -> Cloud:
    return _cloud(make_emulator)[0]


def _cloud(make_emulator: Any) -> Any:
    from tencentcloud.common.credential import Credential

    estate = __import__("tests.deploy.conftest", fromlist=["ops_estate"]).ops_estate()
    emu = make_emulator(estate)
    sid, key, token = emu.credentials
    c = Cloud("ap-guangzhou", Credential(sid, key, token), emu.endpoint)
    c.write("cam", "CreateRole", {"RoleName": "r1", "PolicyDocument": TRUST})
    c.write("scf", "CreateFunction", {"FunctionName": "fn1", "Code": {"ZipFile": _zip()}, "Runtime": "Python3.10",
                                      "Handler": "index.main_handler", "Role": "r1", "Timeout": 60})
    c.write("tdmq", "CreateCmqQueue", {"QueueName": "dlq1"})
    c.write("tdmq", "CreateCmqQueue", {"QueueName": "q1", "VisibilityTimeout": 90, "DeadLetterQueueName": "dlq1",
                                       "Policy": 0, "MaxReceiveCount": 3})
    return c, emu


def _code(cloud: Cloud, service: str, action: str, params: Dict[str, Any]) -> str:
    with pytest.raises(ApiFailure) as err:
        cloud.write(service, action, params)
    return err.value.code


@pytest.mark.parametrize("service, action, params, code", [
    ("scf", "CreateFunction", {"FunctionName": "fn1", "Code": {"ZipFile": _zip()}, "Runtime": "Python3.10"}, "ResourceInUse.Function"),
    ("scf", "CreateFunction", {"FunctionName": "1bad", "Code": {"ZipFile": _zip()}}, "InvalidParameterValue.FunctionName"),
    ("scf", "CreateFunction", {"FunctionName": "fn2", "Code": {"ZipFile": "bm90IGEgemlw"}}, "InvalidParameterValue.ZipFile"),
    ("scf", "CreateFunction", {"FunctionName": "fn2", "Code": {"ZipFile": "!!"}}, "InvalidParameterValue.ZipFileBase64BinasciiError"),
    ("scf", "CreateFunction", {"FunctionName": "fn2", "Code": {"ZipFile": _zip()}, "Role": "nobody"}, "ResourceNotFound.Role"),
    ("scf", "CreateFunction", {"FunctionName": "fn2", "Code": {"ZipFile": _zip()}, "Timeout": 901}, "LimitExceeded.Timeout"),
    ("scf", "CreateFunction", {"FunctionName": "fn2", "Code": {"ZipFile": _zip()}, "Description": "a: b"},
     "InvalidParameterValue.Description"),
    ("scf", "UpdateFunctionConfiguration", {"FunctionName": "fn1", "Runtime": "Python3.9"}, "InvalidParameterValue.Runtime"),
    ("scf", "UpdateFunctionConfiguration", {"FunctionName": "fn1", "MemorySize": 200}, "InvalidParameterValue.MemorySize"),
    ("scf", "UpdateFunctionConfiguration", {"FunctionName": "fn1", "Environment": {"Variables": [{"Key": "A", "Value": ""}]}},
     "InvalidParameterValue.Environment"),
    ("scf", "UpdateFunctionCode", {"FunctionName": "nope", "ZipFile": _zip()}, "ResourceNotFound.Function"),
    ("scf", "CreateTrigger", {"FunctionName": "fn1", "TriggerName": "t", "Type": "timer", "TriggerDesc": "*/5 * * * *"},
     "InvalidParameterValue.TriggerDesc"),
    ("scf", "CreateTrigger", {"FunctionName": "fn1", "TriggerName": "t", "Type": "cmq", "TriggerDesc": "q"}, "InvalidParameterValue.Type"),
    ("scf", "UpdateTrigger", {"FunctionName": "fn1", "TriggerName": "absent", "Type": "timer"}, "ResourceNotFound.Trigger"),
    ("scf", "UpdateFunctionEventInvokeConfig", {"FunctionName": "fn1", "AsyncTriggerConfig": {"RetryConfig": [{"RetryNum": 3}]}},
     "LimitExceeded.RetryNum"),
    ("cam", "CreateRole", {"RoleName": "r1", "PolicyDocument": TRUST}, "InvalidParameter.RoleNameInUse"),
    ("cam", "CreateRole", {"RoleName": "r2", "PolicyDocument": POLICY}, "InvalidParameter.PrincipalError"),
    ("cam", "CreatePolicy", {"PolicyName": "p1", "PolicyDocument": "{"}, "InvalidParameter.PolicyDocumentError"),
    ("cam", "AttachRolePolicy", {"PolicyId": 1, "AttachRoleName": "r1"}, "InvalidParameter.PolicyIdNotExist"),
    ("cam", "UpdateAssumeRolePolicy", {"RoleName": "nobody", "PolicyDocument": TRUST}, "InvalidParameter.RoleNotExist"),
    ("tdmq", "CreateCmqQueue", {"QueueName": "Q1"}, "ResourceInUse.Queue"),
    ("tdmq", "CreateCmqQueue", {"QueueName": "q2", "VisibilityTimeout": 43201}, "InvalidParameterValue"),
    ("tdmq", "CreateCmqQueue", {"QueueName": "q2", "DeadLetterQueueName": "absent", "MaxReceiveCount": 3}, "ResourceNotFound"),
    ("tdmq", "CreateCmqQueue", {"QueueName": "q2", "DeadLetterQueueName": "dlq1"}, "MissingParameter"),
    ("tdmq", "ModifyCmqQueueAttribute", {"QueueName": "absent", "VisibilityTimeout": 60}, "ResourceNotFound"),
    ("tdmq", "ModifyCmqQueueAttribute", {"QueueName": "q1", "MaxReceiveCount": 1001}, "InvalidParameterValue"),
    ("as", "CreateLifecycleHook", {"AutoScalingGroupId": "asg-absent00", "LifecycleHookName": "h",
                                   "LifecycleTransition": "INSTANCE_TERMINATING"}, "ResourceNotFound.AutoScalingGroupNotFound"),
    ("as", "CreateLifecycleHook", {"AutoScalingGroupId": "asg-ops00001", "LifecycleHookName": "h", "HeartbeatTimeout": 7201,
                                   "LifecycleTransition": "INSTANCE_TERMINATING"}, "InvalidParameterValue.Range"),
    ("as", "CreateLifecycleHook", {"AutoScalingGroupId": "asg-ops00001", "LifecycleHookName": "h",
                                   "LifecycleTransition": "INSTANCE_TERMINATING",
                                   "NotificationTarget": {"TargetType": "TDMQ_CMQ_QUEUE", "QueueName": "absent"}},
     "ResourceNotFound.TDMQCMQQueueNotFound"),
    ("as", "ModifyLifecycleHook", {"LifecycleHookId": "ash-absent00", "HeartbeatTimeout": 60}, "ResourceNotFound.LifecycleHookNotFound"),
])
def test_refusals(cloud: Cloud, service: str, action: str, params: Dict[str, Any], code: str) -> None:
    assert _code(cloud, service, action, params) == code


def test_a_timer_reads_back_as_the_console_stores_it(cloud: Cloud) -> None:
    cloud.write("scf", "CreateTrigger", {"FunctionName": "fn1", "TriggerName": "t", "Type": "timer",
                                         "TriggerDesc": "0 */1 * * * * *", "Enable": "CLOSE"})
    [t] = cloud.read("scf", "ListTriggers", {"FunctionName": "fn1"})["Triggers"]
    assert (json.loads(t["TriggerDesc"]), t["Enable"]) == ({"cron": "0 */1 * * * * *"}, 0)
    cloud.write("scf", "UpdateTrigger", {"FunctionName": "fn1", "TriggerName": "t", "Type": "timer", "Enable": "OPEN"})
    assert cloud.read("scf", "ListTriggers", {"FunctionName": "fn1"})["Triggers"][0]["Enable"] == 1


def test_a_hook_name_is_unique_in_its_group(cloud: Cloud) -> None:
    params = {"AutoScalingGroupId": "asg-ops00001", "LifecycleHookName": "h", "LifecycleTransition": "INSTANCE_TERMINATING"}
    hook_id = cloud.write("as", "CreateLifecycleHook", params)["LifecycleHookId"]
    assert _code(cloud, "as", "CreateLifecycleHook", params) == "InvalidParameterValue.LifecycleHookNameDuplicated"
    [hook] = cloud.read("as", "DescribeLifecycleHooks", {"LifecycleHookIds": [hook_id]})["LifecycleHookSet"]
    assert (hook["HeartbeatTimeout"], hook["DefaultResult"]) == (300, "CONTINUE")


def test_a_created_queue_is_served_by_the_data_plane_with_its_dead_letter_policy(make_emulator: Any) -> None:
    from tests.emulator.cmq_wire import CmqWire

    cloud, emu = _cloud(make_emulator)
    detail = cloud.read("tdmq", "DescribeCmqQueueDetail", {"QueueName": "q1"})["QueueDescribe"]
    assert (detail["VisibilityTimeout"], detail["DeadLetterPolicy"]["DeadLetterQueue"], detail["DeadLetterPolicy"]["MaxReceiveCount"]) \
        == (90, "dlq1", 3)
    cloud.write("tdmq", "SendCmqMsg", {"QueueName": "q1", "MsgContent": "hello"})
    detail = cloud.read("tdmq", "DescribeCmqQueueDetail", {"QueueName": "q1"})["QueueDescribe"]
    assert detail["ActiveMsgNum"] == 1 and detail["MinMsgTime"] > 1_000_000_000
    dlq = cloud.read("tdmq", "DescribeCmqQueueDetail", {"QueueName": "dlq1"})["QueueDescribe"]
    assert [s["QueueName"] for s in dlq["DeadLetterSource"]] == ["q1"]
    sid, key, token = emu.credentials
    got = CmqWire(emu.host_port, sid, key, token)("ReceiveMessage", queueName="q1", pollingWaitSeconds=0)
    assert got["code"] == 0 and got["msgBody"] == "hello"
    detail = cloud.read("tdmq", "DescribeCmqQueueDetail", {"QueueName": "q1"})["QueueDescribe"]
    assert (detail["ActiveMsgNum"], detail["InactiveMsgNum"]) == (0, 1)
