"""Turn any trigger event into `Record`s of `Notice`s: parse and validate, no I/O.

    from clb_unbind.triggers import parse_event, ParsedEvent, HttpAnswer, http_answer
    parsed = parse_event(event, settings)            # never raises
    parsed.kind          # "cmq" | "ckafka" | "eventbridge" | "apigw" | "direct" | "scf_dead_letter" | "unknown"
    parsed.records       # one Record per message / request / call; each carries notices or activities,
                         # or says why it was ignored or refused
    parsed.http_refusal  # API Gateway only: answer this at once (401/405/413/400), records is then empty

The event's shape decides the trigger (docs/design.md#triggers):
``Records`` with ``CMQ``/``Ckafka`` items → cmq.py / ckafka.py; ``specversion`` → eventbridge.py;
``requestContext`` + ``httpMethod``/``headers`` → apigw.py; ``Body.ClientContext`` → dead_letter.py;
``instanceIds`` (or any payload of payloads.py) at the top level → direct.py. Anything else is kind
``unknown`` with one refused record.

Guarantees: record ids are unique within the event; every notice's ``record_id`` is its record's id;
a notice names only an instance id that the input named; ``dry_run`` is the setting OR what the
payload asked for.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

from ..config import Settings
from ..model import Record
from . import apigw, ckafka, cmq, dead_letter, direct, eventbridge
from .apigw import HttpAnswer
from .common import json_type, make_unique, safe_dumps

KINDS = ("cmq", "ckafka", "eventbridge", "apigw", "direct", "scf_dead_letter", "unknown")

UNKNOWN_SHAPE = (
    "event: not a shape this function handles (expected a CMQ or CKafka \"Records\" event, a CloudEvent, "
    'an API Gateway request, {"instanceIds": [...]}, or an SCF dead-letter message)'
)


@dataclass(frozen=True)
class ParsedEvent:
    kind: str
    records: Tuple[Record, ...] = ()
    http_refusal: Optional[HttpAnswer] = None


def http_answer(status: int, body: Dict[str, Any]) -> Dict[str, Any]:
    """The SCF integration response for API Gateway (docs/cloud-facts.md#scf-triggers), secrets scrubbed."""
    from ..scrub import scrub

    return {
        "isBase64Encoded": False,
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(scrub(body)),
    }


def parse_event(event: object, settings: Settings, *, now: Optional[float] = None) -> ParsedEvent:
    """Parse any event; never raises. `now` (Unix seconds) is for the API Gateway timestamp check."""
    now = time.time() if now is None else now
    try:
        return _parse(event, settings, now, 0)
    except Exception as exc:  # noqa: BLE001 - last resort: a parser bug must not lose the event
        reason = f"event: could not be parsed ({type(exc).__name__})"
        if isinstance(event, dict) and apigw.looks_like(event):
            return ParsedEvent("apigw", (), HttpAnswer(400, {"error": reason, "requestId": apigw.request_id_of(event)}))
        return ParsedEvent("unknown", (_unknown(reason, event),))


def _unknown(reason: str, event: object) -> Record:
    return Record(record_id="event", source="unknown", refused=reason, payload=safe_dumps(event))


def _parse(event: object, settings: Settings, now: float, depth: int) -> ParsedEvent:
    if not isinstance(event, dict):
        return ParsedEvent("unknown", (_unknown(f"event: expected a JSON object, got {json_type(event)}", event),))
    if "Records" in event:
        return _records(event, settings, now)
    if eventbridge.looks_like(event):
        return ParsedEvent("eventbridge", (eventbridge.parse(event, settings, now),))
    if apigw.looks_like(event):
        record, refusal = apigw.parse(event, settings, now)
        return ParsedEvent("apigw", (record,) if record else (), refusal)
    if dead_letter.looks_like(event):
        inner = lambda original, d: _parse(original, settings, now, d)  # noqa: E731
        records = dead_letter.parse(event, settings, now, depth, inner)
        return ParsedEvent("scf_dead_letter", make_unique(records))
    if direct.looks_like(event):
        return ParsedEvent("direct", (direct.parse(event, settings, now),))
    return ParsedEvent("unknown", (_unknown(UNKNOWN_SHAPE, event),))


def _records(event: dict, settings: Settings, now: float) -> ParsedEvent:
    items = event.get("Records")
    if not isinstance(items, list) or not items:
        what = "is empty" if isinstance(items, list) else f"expected an array, got {json_type(items)}"
        return ParsedEvent("unknown", (_unknown(f"Records: {what}", event),))
    kind = None
    for item in items:
        if isinstance(item, dict):
            if cmq.KEY in item:
                kind = "cmq"
                break
            if ckafka.key_of(item):
                kind = "ckafka"
                break
    if kind is None:
        return ParsedEvent("unknown", (_unknown("Records: no CMQ or Ckafka record", event),))
    module = cmq if kind == "cmq" else ckafka
    records = [module.parse_record(item, index, settings, now) for index, item in enumerate(items)]
    return ParsedEvent(kind, make_unique(records))


__all__ = ["HttpAnswer", "ParsedEvent", "http_answer", "parse_event"]
