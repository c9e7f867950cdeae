"""CKafka trigger (docs/cloud-facts.md#scf-triggers).

``{"Records": [{"Ckafka": {"topic", "partition": int, "offset": int, "msgKey", "msgBody": "<string>"}}]}``

Each record is one Kafka message and one `Record`, id ``topic/partition/offset``; its `msgBody`
holds a payload (payloads.py). SCF calls the function synchronously for CKafka and retries failed
invocations itself, so a refused record must not fail the invocation.
"""
from __future__ import annotations

from typing import Any, Optional

from pydantic import Field, ValidationError

from ..config import Settings
from ..model import Record
from . import payloads
from .common import Context, Strict, describe, json_type, refused

KEYS = ("Ckafka", "CKafka")


class CkafkaMessage(Strict):
    topic: str = Field(min_length=1)
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)
    msgKey: Optional[str] = None
    msgBody: str


def key_of(item: Any) -> Optional[str]:
    if isinstance(item, dict):
        for key in KEYS:
            if key in item:
                return key
    return None


def parse_record(item: Any, index: int, settings: Settings, now: float) -> Record:
    key = key_of(item) or KEYS[0]
    path = f"Records[{index}].{key}"
    msg = item.get(key) if isinstance(item, dict) else None
    record_id = f"Records[{index}]"
    raw = None
    if isinstance(msg, dict):
        topic, partition, offset = msg.get("topic"), msg.get("partition"), msg.get("offset")
        if isinstance(topic, str) and all(type(v) is int for v in (partition, offset)):
            record_id = f"{topic}/{partition}/{offset}"
        if isinstance(msg.get("msgBody"), str):
            raw = msg["msgBody"]
    ctx = Context(settings=settings, source="ckafka", record_id=record_id, path=path, now=now)
    if not isinstance(msg, dict):
        return refused(ctx, f"{path}: expected an object, got {json_type(msg)}", raw)
    try:
        parsed = CkafkaMessage.model_validate(msg)
    except ValidationError as exc:
        return refused(ctx, describe(exc, path), raw)
    return payloads.parse_body(parsed.msgBody, ctx.at("msgBody"))
