"""HMAC-SHA256 signatures of the envelopes, keyed by `CLB_UNBIND_ENVELOPE_SECRET`.

The signature covers the envelope's canonical JSON without its `signature` field: keys sorted, no
whitespace (`","` and `":"`), non-ASCII characters as themselves, UTF-8 bytes (a lone surrogate, legal
in JSON, kept as it came). It is carried in the envelope as `"signature": "<64 lowercase hex digits>"`.
An envelope read back is trusted only when its signature is that of its own content under the
function's secret: anyone who can write to the queue can write JSON, nobody without the secret can sign it.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, Mapping, Optional

FIELD = "signature"


def canonical(envelope: Mapping[str, Any]) -> bytes:
    body = {k: v for k, v in envelope.items() if k != FIELD}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass")


def sign(envelope: Mapping[str, Any], secret: str) -> str:
    return hmac.new(secret.encode("utf-8"), canonical(envelope), hashlib.sha256).hexdigest()


def is_signed(envelope: Mapping[str, Any], secret: Optional[str]) -> bool:
    """True only with a secret and a signature that matches this envelope's content under it."""
    claimed = envelope.get(FIELD)
    if not secret or not isinstance(claimed, str):
        return False
    try:
        expected = sign(envelope, secret)
    except (TypeError, ValueError, RecursionError):
        return False
    return hmac.compare_digest(expected, claimed)
