"""SCF's own dead-letter message (docs/cloud-facts.md#scf-dead-letter-message), redriven by an operator.

``{"RequestId", "ErrorCode", "ErrorMessage", "Body": {"ClientContext": "<original event as JSON>",
"RetryNum", "FunctionName", "RequestSource", ...}}``

The original event in ``Body.ClientContext`` is parsed again like any event, one level deep only:
a dead letter inside a dead letter is refused. Every notice (and activity) it yields gets source
``redrive``; record ids are the original event's. An original API Gateway request is authenticated
again and, its timestamp being old by now, refused: API Gateway calls are synchronous and never
dead-lettered by SCF, so such a message is not genuine.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, List, Optional

from pydantic import ValidationError

from ..config import Settings
from ..model import Record
from .common import MAX_EVENT_BYTES, Context, IntOrStr, Strict, describe, loads, refused, retag, safe_dumps, too_big, utf8_len

SOURCE = "redrive"


class ScfDeadLetterBody(Strict):
    ClientContext: str
    RetryNum: Optional[int] = None
    FunctionName: Optional[str] = None
    RequestSource: Optional[str] = None


class ScfDeadLetter(Strict):
    RequestId: Optional[str] = None
    ErrorCode: Optional[IntOrStr] = None
    ErrorMessage: Optional[str] = None
    Body: ScfDeadLetterBody


def looks_like(event: dict) -> bool:
    body = event.get("Body")
    return isinstance(body, dict) and (
        "ClientContext" in body or "RequestId" in event or "ErrorCode" in event
    )


def parse(
    event: dict,
    settings: Settings,
    now: float,
    depth: int,
    parse_inner: Callable[[object, int], Any],
) -> List[Record]:
    """`parse_inner(event, depth)` is the package's dispatcher; it returns a `ParsedEvent`."""
    raw = safe_dumps(event)
    rid = event.get("RequestId")
    ctx = Context(
        settings=settings,
        source=SOURCE,
        record_id=rid if isinstance(rid, str) and rid else "scf-dead-letter",
        path="",
        now=now,
        depth=depth,
    )
    if depth > 0:
        return [refused(ctx, "Body.ClientContext: an SCF dead letter inside an SCF dead letter is not replayed", raw)]
    try:
        msg = ScfDeadLetter.model_validate(event)
    except ValidationError as exc:
        return [refused(ctx, describe(exc), raw)]
    text = msg.Body.ClientContext
    size = utf8_len(text)
    if size > MAX_EVENT_BYTES:
        return [refused(ctx, too_big("Body.ClientContext", size, MAX_EVENT_BYTES), raw)]
    original, error = loads(text, "Body.ClientContext")
    if error:
        return [refused(ctx, error, raw)]
    inner = parse_inner(original, depth + 1)
    refusal = getattr(inner, "http_refusal", None)
    if refusal is not None:
        answer_rid = refusal.body.get("requestId") or ctx.record_id
        return [
            Record(
                record_id=str(answer_rid),
                source=SOURCE,
                refused=f"Body.ClientContext: the original API Gateway request is refused "
                f"({refusal.status}: {refusal.body.get('error')})",
                payload=text,
            )
        ]
    out = []
    for record in getattr(inner, "records", ()):
        record = retag(record, source=SOURCE, notice_source=SOURCE)
        if record.refused and not record.refused.startswith("Body.ClientContext"):
            record = replace(record, refused=f"Body.ClientContext: {record.refused}")
        out.append(record)
    return out
