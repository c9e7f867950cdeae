"""API Gateway trigger (integration request, docs/cloud-facts.md#scf-triggers), authenticated.

Contract (docs/design.md#api-gateway-authentication):

* headers ``X-Clb-Unbind-Timestamp`` (Unix seconds) and ``X-Clb-Unbind-Signature`` = lowercase hex
  HMAC-SHA256 keyed by ``CLB_UNBIND_API_SECRET`` over ``timestamp + "." + raw_body``; header names
  are matched case-insensitively;
* ``raw_body`` is the ``body`` string exactly as received (``""`` when absent). When the request
  says ``"isBase64Encoded": true`` the body is base64-decoded first and the decoded *bytes* are
  signed (and parsed), so a client always signs the bytes it sent;
* the timestamp is the header value with surrounding whitespace removed, as an integer; more than
  ``CLB_UNBIND_API_CLOCK_SKEW`` (default 300 s, 1–900) from now, either way, is refused;
* with ``CLB_UNBIND_API_SECRET`` unset every request is refused (fail closed).

Order: authenticate (401) → method (405, only POST) → size (413) → body (400). Nothing is parsed
and no cloud call is made before authentication. A 401 says only "missing" or "invalid or expired"
and never which check failed. A request replayed unchanged within the skew window is accepted
again (the operation is idempotent); one replayed with any change to its body fails the signature.

Body: ``{"instanceIds": [...1..CLB_UNBIND_MAX_INSTANCES ids], "dryRun": bool, "reason": str}``;
duplicate ids are dropped; a key given twice in any object is 400 (the signed bytes must have one meaning). Answers: `HttpAnswer(status, {"error": reason, "requestId": id})`.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

from pydantic import ValidationError

from ..config import Settings
from ..model import Record
from . import payloads
from .common import Context, describe, json_type, loads

TIMESTAMP_HEADER = "x-clb-unbind-timestamp"
SIGNATURE_HEADER = "x-clb-unbind-signature"

MISSING = "missing X-Clb-Unbind-Timestamp or X-Clb-Unbind-Signature header"
INVALID = "invalid or expired signature"
NOT_CONFIGURED = "this function is not configured for API Gateway requests"


@dataclass(frozen=True)
class HttpAnswer:
    """An answer to give API Gateway at once, before any cloud call."""

    status: int
    body: Dict[str, Any]


def looks_like(event: dict) -> bool:
    return isinstance(event.get("requestContext"), dict) and ("httpMethod" in event or "headers" in event)


def request_id_of(event: dict) -> str:
    ctx = event.get("requestContext")
    rid = ctx.get("requestId") if isinstance(ctx, dict) else None
    return rid if isinstance(rid, str) and rid else "apigw"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature a client sends: hex HMAC-SHA256 of ``timestamp + "." + body``."""
    return hmac.new(secret.encode("utf-8"), timestamp.encode("utf-8") + b"." + body, hashlib.sha256).hexdigest()


def _headers(event: dict) -> Dict[str, str]:
    raw = event.get("headers")
    if not isinstance(raw, dict):
        return {}
    return {str(k).lower(): v for k, v in raw.items() if isinstance(v, str)}


def _body_bytes(event: dict) -> Optional[bytes]:
    """The bytes the client sent, or None when they cannot be known (then nothing can be verified)."""
    body = event.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        return None
    if event.get("isBase64Encoded") is True:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return None
    return body.encode("utf-8", "surrogatepass")


def authenticate(event: dict, settings: Settings, now: float) -> Tuple[Optional[str], Optional[bytes]]:
    """(refusal reason or None, verified body bytes)."""
    if not settings.api_secret:
        return NOT_CONFIGURED, None
    headers = _headers(event)
    timestamp = headers.get(TIMESTAMP_HEADER, "").strip()
    signature = headers.get(SIGNATURE_HEADER, "").strip()
    if not timestamp or not signature:
        return MISSING, None
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return INVALID, None
    if abs(now - int(timestamp)) > settings.api_clock_skew_seconds:
        return INVALID, None
    body = _body_bytes(event)
    if body is None:
        return INVALID, None
    expected = sign(settings.api_secret, timestamp, body)
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace")):
        return INVALID, None
    return None, body


def parse(event: dict, settings: Settings, now: float) -> Tuple[Optional[Record], Optional[HttpAnswer]]:
    request_id = request_id_of(event)

    def answer(status: int, reason: str) -> Tuple[None, HttpAnswer]:
        return None, HttpAnswer(status, {"error": reason, "requestId": request_id})

    reason, body = authenticate(event, settings, now)
    if reason is not None or body is None:
        return answer(401, reason or INVALID)
    context = event.get("requestContext")
    method = event.get("httpMethod")
    if not isinstance(method, str) and isinstance(context, dict):
        method = context.get("httpMethod")
    if not isinstance(method, str) or method.upper() != "POST":
        return answer(405, f"method {str(method)[:16]!r} is not allowed; use POST")
    limit = settings.max_payload_bytes
    if len(body) > limit:
        return answer(413, f"body: {len(body)} bytes is over the {limit}-byte limit")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return answer(400, "body: not UTF-8 text")
    data, error = loads(text, "body", unique_keys=True)
    if error:
        return answer(400, error)
    if not isinstance(data, dict):
        return answer(400, f'body: expected a JSON object {{"instanceIds": [...]}}, got {json_type(data)}')
    ctx = Context(settings=settings, source="apigw", record_id=request_id, path="body", now=now)
    try:
        req = payloads.validate_direct(data, ctx)
    except ValidationError as exc:
        return answer(400, describe(exc, "body"))
    record = Record(record_id=request_id, source="apigw", notices=payloads.direct_notices(req, ctx), payload=text)
    return record, None
