"""TDMQ 2020-02-17: SendCmqMsg.

Behaviour sources:
* docs/cloud-facts.md#tdmq-sendcmqmsg and ``SendCmqMsgRequest`` docstring: ``QueueName``, ``MsgContent``, ``DelaySeconds``
  (default 0, "最大不能超过队列配置的消息最长未确认时间" — at most the queue's MsgRetentionSeconds,
  30–43200, default 3600); queue MaxMsgSize ≤ 1 MiB; reply ``Result`` (bool) and ``MsgId``.
* Error list of SendCmqMsg in the Go SDK (``tencentcloud/tdmq/v20200217/client.go``):
  ``FailedOperation`` and ``ResourceNotFound`` only → an unknown queue is ``ResourceNotFound``;
  a delay or size beyond the queue's limits is reported as ``InvalidParameterValue`` (common code).
* The message goes into the same queue that the CMQ data plane (:mod:`emulator.cmq`) reads, hidden
  for ``DelaySeconds``.
"""
from __future__ import annotations

from ..errors import INVALID_PARAMETER_VALUE, RESOURCE_NOT_FOUND, ApiError, missing
from .common import ActionSpec, Ctx, ServiceSpec, require


def send_cmq_msg(ctx: Ctx, params: dict) -> dict:
    name = require(params, "QueueName")
    content = params.get("MsgContent")
    if content is None:
        raise missing("MsgContent")
    delay = params.get("DelaySeconds") or 0
    queue = ctx.estate.queues.get(name)
    if queue is None:
        raise ApiError(RESOURCE_NOT_FOUND, f"Queue {name} does not exist.")
    if not 0 <= delay <= queue.msg_retention_seconds:
        raise ApiError(INVALID_PARAMETER_VALUE,
                       f"DelaySeconds must be within [0, {queue.msg_retention_seconds}], got {delay}.")
    size = len(content.encode("utf-8"))
    if size > queue.max_msg_size:
        raise ApiError(INVALID_PARAMETER_VALUE, f"Message size {size} exceeds the queue limit {queue.max_msg_size}.")
    if ctx.knobs.send_result_false:
        return {"Result": False, "MsgId": ""}
    msg = ctx.queues.send(name, content, delay, ctx.wall, "SendCmqMsg")
    return {"Result": True, "MsgId": msg.msg_id}


SERVICE = ServiceSpec(
    name="tdmq",
    version="2020-02-17",
    models="tencentcloud.tdmq.v20200217.models",
    actions={"SendCmqMsg": ActionSpec(send_cmq_msg, write=True)},
)
