"""The world the functional tests run in, and event builders for it."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional

DEMO_ESTATE = Path(__file__).resolve().parent.parent / "emulator" / "estates" / "demo.json"
TOKEN_LEAVING_1 = "3080e1c9-0efe-4dd7-ad3b-90cd6618298f"


def base_estate() -> Dict[str, Any]:
    """The demo estate (emulator/estates/demo.json), which the tests and `make demo` share.

    Two CVMs leave: ins-web00001 (5 bindings on lb-web00001 and lb-web00002: TCP on two ports, two HTTP
    rules one of them through the secondary IP 10.0.0.111 as an ENI bind, UDP) and ins-web00002; two stay
    on the same listeners (ins-web00003, ins-web00004); ins-lonely01 has no binding; ins-other001 has
    ins-web00001's IP 10.0.0.11 in another VPC. Edge: ein-edge0001 leaves, ein-edge0002 stays.

    Auto Scaling: group asg-group001 holds ins-web00001..4; the two leaving ones are IN_TERMINATING_HOOK
    (their lifecycle actions on ash-hook0001 are pending), ins-web00003/4 IN_SERVICE. ash-hook0001 is the
    group's INSTANCE_TERMINATING hook and notifies the TDMQ_CMQ_QUEUE clb-unbind-lifecycle, whose
    dead-letter queue is clb-unbind-lifecycle-dead (after 5 receives).
    """
    return json.loads(DEMO_ESTATE.read_text())


def lifecycle_message(instance: str, token: str, transition: str = "INSTANCE_TERMINATING", hook: str = "ash-hook0001") -> str:
    return json.dumps({
        "Service": "Tencent Cloud Auto Scaling", "Time": "2026-11-22T10:15:11Z", "AppId": "1251783334",
        "ActivityId": "asa-scalein1", "AutoScalingGroupId": "asg-group001", "LifecycleHookId": hook,
        "LifecycleHookName": "unbind-before-terminate", "LifecycleActionToken": token, "InstanceId": instance,
        "LifecycleTransition": transition, "NotificationMetadata": "",
    })


def cmq_event(*bodies: str, msg_ids: Optional[List[str]] = None) -> Dict[str, Any]:
    ids = msg_ids or [f"msg-{i}" for i in range(len(bodies))]
    return {"Records": [{"CMQ": {"type": "queue", "topicOwner": 1251783334, "topicName": "clb-unbind-lifecycle",
                                 "subscriptionName": "", "publishTime": "2026-11-22T10:15:12.000Z", "msgId": mid,
                                 "requestId": mid, "msgBody": body, "msgTag": ""}} for mid, body in zip(ids, bodies)]}


def send_to_queue(emulator: Any, queue: str, body: str, delay_seconds: int = 0) -> str:
    """Put a message in an emulator queue as any producer would: TDMQ `SendCmqMsg` through the SDK."""
    from tencentcloud.common.credential import Credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.tdmq.v20200217 import models, tdmq_client

    secret_id, secret_key, token = emulator.credentials
    http = HttpProfile(endpoint=emulator.host_port)
    http.scheme = "http"
    client = tdmq_client.TdmqClient(Credential(secret_id, secret_key, token), "ap-guangzhou", ClientProfile(httpProfile=http))
    request = models.SendCmqMsgRequest()
    request.QueueName, request.MsgContent, request.DelaySeconds = queue, body, delay_seconds
    return client.SendCmqMsg(request).MsgId
