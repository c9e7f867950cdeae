"""TDMQ for CMQ 2020-02-17: the retry and dead-letter queues."""
from __future__ import annotations

from .session import CloudSession


def send(session: CloudSession, queue: str, body: str, delay_seconds: int = 0) -> str:
    reply = session.call(
        "tdmq", "SendCmqMsg", {"QueueName": queue, "MsgContent": body, "DelaySeconds": int(delay_seconds)}, essential=True
    )
    return str(reply.get("MsgId") or "")
