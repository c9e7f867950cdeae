"""The six CMQ data-plane actions: parameters, checks and answers.

Parameters (docs 1496/127321 send, 127322 delete, 127325 receive; 406/5837–5841, 406/5924; the SDKs
tencentyun/cmq-python-sdk ``cmq/queue.py`` and TencentCloud/tencentcloud-cmq-sdk-go ``queue.go``,
``validate.go``; docs/cloud-facts.md#cmq-data-plane-api):

| action | parameters |
|---|---|
| SendMessage | ``queueName``, ``msgBody``, ``delaySeconds`` (optional) |
| BatchSendMessage | ``queueName``, ``msgBody.n`` (1–16), ``delaySeconds`` |
| ReceiveMessage | ``queueName``, ``pollingWaitSeconds`` (0–30; unset: the queue's attribute) |
| BatchReceiveMessage | ``queueName``, ``numOfMsg`` (1–16), ``pollingWaitSeconds`` |
| DeleteMessage | ``queueName``, ``receiptHandle`` |
| BatchDeleteMessage | ``queueName``, ``receiptHandle.n`` (1–16) |

``.n`` indexes start at 0 or 1 and are contiguous ("n 从0开始或者从1开始都可以，但必须连续", doc 431/5841);
the Go SDK counts from 0, the Python SDK from 1. Anything else, a non-integer or an out-of-range value,
an empty or oversized ``msgBody`` (the queue's ``maxMsgSize``), or a ``delaySeconds`` beyond the
queue's ``msgRetentionSeconds`` answers 4000; an unknown queue 4440.

Answers: receive gives ``msgBody, msgId, receiptHandle, enqueueTime, nextVisibleTime, dequeueCount,
firstDequeueTime`` (Unix seconds), batch receive a ``msgInfoList`` of those; send ``msgId``, batch
send ``msgList[{msgId}]``; batch delete ``errorList[{code, message, receiptHandle}]`` with code 6010
(some failed) or 6020 (all failed). 7000 = no message after the long poll.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from ..estate import Queue
from ..faults import Knobs
from . import codes as C
from .broker import Broker, Delivery
from .codes import CmqError

BATCH_LIMIT = 16
MAX_POLLING_WAIT = 30
_INT_RE = re.compile(r"^-?\d+$")


@dataclass
class CmqCall:
    """One data-plane request as an action sees it; ``wall()`` is Unix time, ``faulty(rate)`` rolls
    the seeded generator for this action (respecting ``cmq_fault_actions``)."""

    action: str
    params: dict[str, str]
    broker: Broker
    knobs: Knobs
    wall: Callable[[], float]
    faulty: Callable[[float], bool]


Action = Callable[[CmqCall], dict[str, Any]]


# ----------------------------------------------------------------------------- parameters
def _int(params: dict[str, str], name: str, low: int, high: int, default: int | None = None) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        if default is None:
            raise CmqError(C.BAD_PARAMETER, f"parameter {name} is required")
        return default
    if not _INT_RE.match(raw):
        raise CmqError(C.BAD_PARAMETER, f"parameter {name} should be an integer, got {raw!r}")
    value = int(raw)
    if not low <= value <= high:
        raise CmqError(C.BAD_PARAMETER, f"parameter {name} should be within [{low}, {high}], got {value}")
    return value


def _indexed(params: dict[str, str], name: str) -> list[str]:
    """``name.n`` values in index order; n from 0 or 1, contiguous, 1 to 16 of them."""
    found: dict[int, str] = {}
    for key, value in params.items():
        head, dot, tail = key.partition(".")
        if head == name and dot:
            if not tail.isdigit():
                raise CmqError(C.BAD_PARAMETER, f"parameter {key} has no numeric index")
            found[int(tail)] = value
    if not found:
        raise CmqError(C.BAD_PARAMETER, f"parameter {name}.n is required")
    if len(found) > BATCH_LIMIT:
        raise CmqError(C.BAD_PARAMETER, f"at most {BATCH_LIMIT} {name}.n per request, got {len(found)}")
    start = min(found)
    if start not in (0, 1) or sorted(found) != list(range(start, start + len(found))):
        raise CmqError(C.BAD_PARAMETER, f"{name}.n must count from 0 or 1 without gaps")
    return [found[i] for i in sorted(found)]


def allowed_params(action: str) -> set[str]:
    """Action parameters that are not indexed (indexed ones are matched by prefix)."""
    return {"queueName", *SPECS[action][1]}


def indexed_param(action: str) -> str | None:
    return SPECS[action][2]


def queue_of(call: CmqCall) -> Queue:
    name = call.params.get("queueName") or ""
    if not name:
        raise CmqError(C.BAD_PARAMETER, "parameter queueName is required")
    queue = call.broker.queues.get(name)
    if queue is None:
        raise CmqError(C.NO_SUCH_QUEUE, f"queue {name} is not exist")
    return queue


def _body(queue: Queue, body: str | None, name: str) -> str:
    if not body:
        raise CmqError(C.BAD_PARAMETER, f"parameter {name} is required and must not be empty")
    size = len(body.encode("utf-8"))
    if size > queue.max_msg_size:
        raise CmqError(C.BAD_PARAMETER, f"{name} is {size} bytes, above the queue's maxMsgSize {queue.max_msg_size}")
    return body


# ----------------------------------------------------------------------------- actions
def send_message(call: CmqCall) -> dict[str, Any]:
    queue = queue_of(call)
    body = _body(queue, call.params.get("msgBody"), "msgBody")
    delay = _int(call.params, "delaySeconds", 0, queue.msg_retention_seconds, 0)
    msg = call.broker.send(queue.name, body, delay, call.wall(), "SendMessage")
    return {"msgId": msg.msg_id}


def batch_send_message(call: CmqCall) -> dict[str, Any]:
    queue = queue_of(call)
    bodies = [_body(queue, b, "msgBody.n") for b in _indexed(call.params, "msgBody")]
    delay = _int(call.params, "delaySeconds", 0, queue.msg_retention_seconds, 0)
    now = call.wall()
    return {"msgList": [{"msgId": call.broker.send(queue.name, b, delay, now, "BatchSendMessage").msg_id}
                        for b in bodies]}


def receive_message(call: CmqCall) -> dict[str, Any]:
    (delivery,) = _receive(call, 1)
    return _info(delivery)


def batch_receive_message(call: CmqCall) -> dict[str, Any]:
    limit = _int(call.params, "numOfMsg", 1, BATCH_LIMIT)
    return {"msgInfoList": [_info(d) for d in _receive(call, limit)]}


def _receive(call: CmqCall, limit: int) -> list[Delivery]:
    """Long poll: wait up to ``pollingWaitSeconds`` for a message, releasing the emulator lock while
    waiting (``broker.changed.wait``) and waking on every send, delete, move, or when the next hidden
    message becomes visible."""
    queue = queue_of(call)
    wait = _int(call.params, "pollingWaitSeconds", 0, MAX_POLLING_WAIT, queue.polling_wait_seconds)
    if call.faulty(call.knobs.cmq_empty_rate):
        raise CmqError(C.NO_MESSAGE, "no message (emulated cmq_empty_rate)")
    broker = call.broker
    deadline = call.wall() + wait
    while True:
        now = call.wall()
        got = broker.receive(queue.name, limit, now, lambda: call.faulty(call.knobs.cmq_duplicate_rate))
        if got:
            return got
        remaining = deadline - now
        if remaining <= 0:
            raise CmqError(C.NO_MESSAGE, "no message")
        nxt = broker.next_change(queue.name, now)
        broker.changed.wait(remaining if nxt is None else max(0.001, min(remaining, nxt - now)))


def _info(d: Delivery) -> dict[str, Any]:
    m = d.message
    return {"msgBody": m.body, "msgId": m.msg_id, "receiptHandle": d.receipt_handle,
            "enqueueTime": int(m.enqueue_time), "nextVisibleTime": int(m.handle_expires),
            "dequeueCount": m.dequeue_count, "firstDequeueTime": int(m.first_dequeue_time)}


def delete_message(call: CmqCall) -> dict[str, Any]:
    queue = queue_of(call)
    handle = call.params.get("receiptHandle") or ""
    if not handle:
        raise CmqError(C.BAD_PARAMETER, "parameter receiptHandle is required")
    if not call.broker.delete(queue.name, handle, call.wall()):
        raise CmqError(C.INVALID_RECEIPT_HANDLE, f"receiptHandle {handle} is invalid or expired")
    return {}


def batch_delete_message(call: CmqCall) -> dict[str, Any]:
    queue = queue_of(call)
    handles = _indexed(call.params, "receiptHandle")
    now = call.wall()
    errors = [{"code": C.INVALID_RECEIPT_HANDLE, "message": f"receiptHandle {h} is invalid or expired",
               "receiptHandle": h}
              for h in handles if not call.broker.delete(queue.name, h, now)]
    if not errors:
        return {}
    if len(errors) == len(handles):
        raise CmqError(C.BATCH_DELETE_ALL_FAILED, "all receipt handles failed to delete", {"errorList": errors})
    raise CmqError(C.BATCH_DELETE_PARTLY_FAILED, "some receipt handles failed to delete", {"errorList": errors})


# (handler, optional plain parameters, indexed parameter)
SPECS: dict[str, tuple[Action, set[str], str | None]] = {
    "SendMessage": (send_message, {"msgBody", "delaySeconds"}, None),
    "BatchSendMessage": (batch_send_message, {"delaySeconds"}, "msgBody"),
    "ReceiveMessage": (receive_message, {"pollingWaitSeconds"}, None),
    "BatchReceiveMessage": (batch_receive_message, {"numOfMsg", "pollingWaitSeconds"}, None),
    "DeleteMessage": (delete_message, {"receiptHandle"}, None),
    "BatchDeleteMessage": (batch_delete_message, set(), "receiptHandle"),
}
