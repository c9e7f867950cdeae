"""Direct invocation (operators, pipelines): the payload is the event itself.

``{"instanceIds": ["ins-…" | "ein-…"], "dryRun": false, "reason": "optional text"}``; the other
payloads of payloads.py (an AS notification, a clb-unbind envelope being redriven) are accepted at
the top level too. Record id ``direct``; `Record.payload` is ``json.dumps(event)``.
"""
from __future__ import annotations

from ..config import Settings
from ..model import Record
from . import payloads
from .common import Context, refused, safe_dumps, too_big, utf8_len

MARKERS = ("instanceIds", "LifecycleTransition", "LifecycleHookId", "ActivityType")


def looks_like(event: dict) -> bool:
    kind = event.get("kind")
    return any(m in event for m in MARKERS) or (isinstance(kind, str) and kind.startswith("clb-unbind/"))


def parse(event: dict, settings: Settings, now: float) -> Record:
    raw = safe_dumps(event)
    ctx = Context(settings=settings, source="direct", record_id="direct", path="", now=now)
    size = utf8_len(raw)
    if size > settings.max_payload_bytes:
        return refused(ctx, too_big("event", size, settings.max_payload_bytes), raw)
    return payloads.parse_payload(event, ctx, raw=raw)
