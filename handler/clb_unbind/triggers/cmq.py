"""The legacy CMQ topic trigger's records (docs/cloud-facts.md#scf-triggers).

SCF no longer offers a CMQ trigger, and its old one pushed from topics only: a queue never pushes.
Accounts that still have a topic trigger get these records; lifecycle notifications sent to a queue
are pulled by the timer's consumer run instead (consumer.py). ``"type": "queue"`` is still parsed, as
the old trigger's documentation showed it.

``{"Records": [{"CMQ": {"type": "queue"|"topic", "topicOwner": int|str, "topicName", "subscriptionName",
"publishTime", "msgId", "requestId", "msgBody": "<string>", "msgTag": "a,b" | ["a", "b"]}}]}``

Each record is one message and one `Record` (id = `msgId`); its `msgBody` holds a payload
(payloads.py). A bad record is refused on its own and never stops the others.
"""
from __future__ import annotations

from typing import Any, List, Literal, Optional

from pydantic import ValidationError

from ..config import Settings
from ..model import Record
from . import payloads
from .common import Context, IntOrStr, Strict, StrOrStrList, describe, json_type, refused

KEY = "CMQ"


class CmqMessage(Strict):
    type: Optional[Literal["queue", "topic"]] = None
    topicOwner: Optional[IntOrStr] = None
    topicName: Optional[str] = None
    subscriptionName: Optional[str] = None
    publishTime: Optional[str] = None
    msgId: Optional[str] = None
    requestId: Optional[str] = None
    msgBody: str
    msgTag: Optional[StrOrStrList] = None

    @property
    def tags(self) -> List[str]:
        """`msgTag` as a list, whether it came as ``"a,b"`` or ``["a", "b"]``."""
        if self.msgTag is None:
            return []
        parts = self.msgTag.split(",") if isinstance(self.msgTag, str) else self.msgTag
        return [p.strip() for p in parts if p.strip()]


def parse_record(item: Any, index: int, settings: Settings, now: float) -> Record:
    path = f"Records[{index}].{KEY}"
    msg = item.get(KEY) if isinstance(item, dict) else None
    msg_id = msg.get("msgId") if isinstance(msg, dict) else None
    record_id = msg_id if isinstance(msg_id, str) and msg_id else f"Records[{index}]"
    body = msg.get("msgBody") if isinstance(msg, dict) else None
    raw = body if isinstance(body, str) else None
    ctx = Context(settings=settings, source="cmq", record_id=record_id, path=path, now=now)
    if not isinstance(msg, dict):
        return refused(ctx, f"{path}: expected an object, got {json_type(msg)}", raw)
    try:
        parsed = CmqMessage.model_validate(msg)
    except ValidationError as exc:
        return refused(ctx, describe(exc, path), raw)
    return payloads.parse_body(parsed.msgBody, ctx.at("msgBody"))
