"""TDMQ for CMQ 2020-02-17: the retry and dead-letter queues."""
from __future__ import annotations

from ..model import CloudFailure
from .errors import NOT_SENT, CloudError
from .session import CloudSession


def send(session: CloudSession, queue: str, body: str, delay_seconds: int = 0) -> str:
    """Send one message; a reply whose `Result` is not true is a failed send (retryable).

    `SendCmqMsgResponse.Result`: "true表示发送成功" (SDK tdmq models), so only true means kept.
    """
    reply = session.call(
        "tdmq", "SendCmqMsg", {"QueueName": queue, "MsgContent": body, "DelaySeconds": int(delay_seconds)}, essential=True
    )
    if reply.get("Result") is not True:
        message = f"SendCmqMsg to {queue} answered Result={reply.get('Result')!r}: the message was not sent"
        raise CloudError(CloudFailure(NOT_SENT, message, "tdmq:SendCmqMsg", reply.get("RequestId") or None))
    return str(reply.get("MsgId") or "")
