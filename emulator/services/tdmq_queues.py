"""TDMQ 2020-02-17 queue management: CreateCmqQueue, DescribeCmqQueueDetail, ModifyCmqQueueAttribute,
DeleteCmqQueue.

They work on the estate's own queues (:class:`emulator.estate.Queue`) and register a new queue with
the message broker, so a queue setup creates is the queue the function's consumer reads over the
CMQ data plane, with the visibility timeout and dead-letter policy set here.

Behaviour sources (SDK tdmq 3.1.130 ``models.py`` docstrings; docs/cloud-facts.md#cmq-queue-semantics):
* ``CreateCmqQueueRequest.QueueName``: "以字母起始，只能包含字母、数字、“-”及“_”，最大64字符，不区分大小写"
  → a bad name ``InvalidParameterValue``; a name taken in any case ``ResourceInUse.Queue`` (tdmq
  errorcodes).
* Ranges: VisibilityTimeout 1–43200 (default 30), MsgRetentionSeconds 30–43200 (default 3600),
  MaxMsgSize 1024–1048576, PollingWaitSeconds 0–30, Policy 0 (MaxReceiveCount 1–1000 required) or 1
  (MaxTimeToLive 300–43200, below MsgRetentionSeconds, required) → ``InvalidParameterValue`` (the
  code for a value out of range is chosen; the Go SDK lists InvalidParameterValue for these actions).
* A dead-letter queue that does not exist, and ``DescribeCmqQueueDetail`` / ``ModifyCmqQueueAttribute``
  of an unknown queue → ``ResourceNotFound`` (UNCONFIRMED which code the real API gives).
* ``ModifyCmqQueueAttributeRequest.MaxMsgSize``: "新版CMQ新建的队列默认1024KB，不支持修改" → a change is
  ``InvalidParameterValue``. Fields left out are left as they are.
* ``CmqQueue`` counts: ``ActiveMsgNum`` (visible), ``InactiveMsgNum`` (being consumed), ``DelayMsgNum``;
  ``MinMsgTime`` "消息最小未消费时间，单位为秒" is answered as the Unix time in seconds of the oldest
  message still in the queue (0 when empty): chosen, UNCONFIRMED.
"""
from __future__ import annotations

import hashlib
import re
from typing import Any

from ..errors import INVALID_PARAMETER_VALUE, RESOURCE_NOT_FOUND, ApiError, missing
from ..estate import Queue
from .common import ActionSpec, Ctx, require

QUEUE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
RANGES = {
    "VisibilityTimeout": ("visibility_timeout", 1, 43200),
    "MsgRetentionSeconds": ("msg_retention_seconds", 30, 43200),
    "MaxMsgSize": ("max_msg_size", 1024, 1048576),
    "PollingWaitSeconds": ("polling_wait_seconds", 0, 30),
}


def _queue(ctx: Ctx, name: str) -> Queue:
    queue = ctx.estate.queues.get(name)
    if queue is None:
        raise ApiError(RESOURCE_NOT_FOUND, f"Queue {name} does not exist.")
    return queue


def _ranged(params: dict, key: str, low: int, high: int) -> Any:
    value = params.get(key)
    if value is not None and not low <= value <= high:
        raise ApiError(INVALID_PARAMETER_VALUE, f"{key} must be within [{low}, {high}], got {value}.")
    return value


def _apply(ctx: Ctx, queue: Queue, params: dict, creating: bool) -> None:
    """Validate every attribute given, then set them all (nothing is set when one is refused)."""
    changes: dict = {}
    for key, (attr, low, high) in RANGES.items():
        value = _ranged(params, key, low, high)
        if value is not None:
            changes[attr] = value
    if not creating and "max_msg_size" in changes and changes["max_msg_size"] != queue.max_msg_size:
        raise ApiError(INVALID_PARAMETER_VALUE, "MaxMsgSize cannot be modified.")
    dlq = params.get("DeadLetterQueueName")
    if dlq is not None or any(params.get(k) is not None for k in ("Policy", "MaxReceiveCount", "MaxTimeToLive")):
        target = dlq if dlq is not None else queue.dead_letter_queue_name
        if not target:
            raise missing("DeadLetterQueueName")
        if target.lower() == queue.name.lower():
            raise ApiError(INVALID_PARAMETER_VALUE, "A queue cannot be its own dead-letter queue.")
        if target not in ctx.estate.queues:
            raise ApiError(RESOURCE_NOT_FOUND, f"Dead-letter queue {target} does not exist.")
        policy = params.get("Policy") if params.get("Policy") is not None else (queue.policy if not creating else 0)
        if policy not in (0, 1):
            raise ApiError(INVALID_PARAMETER_VALUE, f"Policy must be 0 or 1, got {policy}.")
        retention = changes.get("msg_retention_seconds", queue.msg_retention_seconds)
        if policy == 0:
            count = _ranged(params, "MaxReceiveCount", 1, 1000)
            count = count if count is not None else (queue.max_receive_count or None)
            if count is None:
                raise missing("MaxReceiveCount")
            changes.update(dead_letter_queue_name=target, policy=0, max_receive_count=count)
        else:
            ttl = _ranged(params, "MaxTimeToLive", 300, 43200)
            ttl = ttl if ttl is not None else (queue.max_time_to_live or None)
            if ttl is None:
                raise missing("MaxTimeToLive")
            if ttl >= retention:
                raise ApiError(INVALID_PARAMETER_VALUE, "MaxTimeToLive must be below MsgRetentionSeconds.")
            changes.update(dead_letter_queue_name=target, policy=1, max_time_to_live=ttl)
    for attr, value in changes.items():
        setattr(queue, attr, value)


def queue_id(name: str) -> str:
    return "queue-" + hashlib.sha1(name.lower().encode()).hexdigest()[:8]


def create_cmq_queue(ctx: Ctx, params: dict) -> dict:
    name = require(params, "QueueName")
    if not QUEUE_NAME.match(name):
        raise ApiError(INVALID_PARAMETER_VALUE, f"The queue name {name} is invalid: a letter first, then letters, "
                                                f"digits, - and _, at most 64.")
    if any(existing.lower() == name.lower() for existing in ctx.estate.queues):
        raise ApiError("ResourceInUse.Queue", f"Queue {name} already exists.")
    queue = Queue(name)
    _apply(ctx, queue, params, creating=True)
    ctx.estate.queues[name] = queue
    ctx.queues.add_queue(name)
    return {"QueueId": queue_id(name)}


def describe_cmq_queue_detail(ctx: Ctx, params: dict) -> dict:
    q = _queue(ctx, require(params, "QueueName"))
    counts = ctx.queues.counts(q.name, ctx.wall)
    oldest = min((m["at"] for m in ctx.queues.messages(q.name, ctx.wall)), default=0)
    policy = None
    if q.dead_letter_queue_name:
        policy = {"DeadLetterQueue": q.dead_letter_queue_name, "Policy": q.policy,
                  "MaxReceiveCount": q.max_receive_count if q.policy == 0 else None,
                  "MaxTimeToLive": q.max_time_to_live if q.policy == 1 else None}
    sources = [{"QueueId": queue_id(other.name), "QueueName": other.name} for other in ctx.estate.queues.values()
               if other.dead_letter_queue_name == q.name]
    return {"QueueDescribe": {
        "QueueId": queue_id(q.name), "QueueName": q.name, "Qps": 5000, "Bps": 52428800,
        "MaxDelaySeconds": q.msg_retention_seconds, "MaxMsgHeapNum": 10000000,
        "PollingWaitSeconds": q.polling_wait_seconds, "MsgRetentionSeconds": q.msg_retention_seconds,
        "VisibilityTimeout": q.visibility_timeout, "MaxMsgSize": q.max_msg_size, "RewindSeconds": 0,
        "ActiveMsgNum": counts.get("visible", 0), "InactiveMsgNum": counts.get("inFlight", 0),
        "DelayMsgNum": counts.get("delayed", 0), "RewindMsgNum": 0, "MinMsgTime": int(oldest),
        "Transaction": False, "DeadLetterSource": sources, "DeadLetterPolicy": policy, "Trace": False, "Tags": [],
        "Status": 1,
    }}


def modify_cmq_queue_attribute(ctx: Ctx, params: dict) -> dict:
    queue = _queue(ctx, require(params, "QueueName"))
    _apply(ctx, queue, params, creating=False)
    return {}


def delete_cmq_queue(ctx: Ctx, params: dict) -> dict:
    """``DeleteCmqQueueRequest.QueueName``; the queue's messages go with it. A queue that is another
    queue's dead-letter queue is refused with ``ResourceInUse.Queue`` (chosen: the docs say nothing;
    deleting the source first, or ``UnbindCmqDeadLetter``, avoids the question)."""
    queue = _queue(ctx, require(params, "QueueName"))
    sources = [q.name for q in ctx.estate.queues.values() if q.dead_letter_queue_name == queue.name]
    if sources:
        raise ApiError("ResourceInUse.Queue", f"Queue {queue.name} is the dead-letter queue of {', '.join(sources)}.")
    del ctx.estate.queues[queue.name]
    ctx.queues.remove_queue(queue.name)
    return {}


ACTIONS = {
    "CreateCmqQueue": ActionSpec(create_cmq_queue, write=True),
    "DescribeCmqQueueDetail": ActionSpec(describe_cmq_queue_detail),
    "ModifyCmqQueueAttribute": ActionSpec(modify_cmq_queue_attribute, write=True),
    "DeleteCmqQueue": ActionSpec(delete_cmq_queue, write=True),
}
