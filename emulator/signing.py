"""TC3-HMAC-SHA256 verification, computed exactly as the SDK signs.

Source: ``tencentcloud/common/abstract_client.py`` (``_build_req_with_tc3_signature``,
``_get_tc3_signature``) and ``tencentcloud/common/sign.py`` (``Sign.sign_tc3``):

* canonical request = ``METHOD\\n/\\nQUERY\\ncontent-type:<ct>\\nhost:<host>\\n\\ncontent-type;host\\n
  hex(sha256(payload))`` (for GET the query string is signed and the payload is empty; with
  ``X-TC-Content-SHA256: UNSIGNED-PAYLOAD`` the literal string is hashed instead of the body);
* string to sign = ``TC3-HMAC-SHA256\\n<X-TC-Timestamp>\\n<date>/<service>/tc3_request\\n
  hex(sha256(canonical request))``;
* key = HMAC chain ``"TC3"+secret`` → date → service → ``tc3_request``; signature = hex HMAC.

Header names and values in the canonical form are lower-cased and trimmed, per the public
"签名方法 v3" page (cloud.tencent.com/document/api/213/30654), which is a no-op for what the SDK sends.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timezone

ALGORITHM = "TC3-HMAC-SHA256"

_AUTH_RE = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<secret_id>[^/\s]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[\w-]+)/tc3_request,"
    r"\s*SignedHeaders=(?P<signed>[\w;-]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)


@dataclass(frozen=True)
class Authorization:
    """The parsed ``Authorization`` header."""

    secret_id: str
    date: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(header: str | None) -> Authorization | None:
    """Parse ``TC3-HMAC-SHA256 Credential=id/date/service/tc3_request, SignedHeaders=..., Signature=...``.

    Returns ``None`` when the header does not have that shape (→ ``AuthFailure.InvalidAuthorization``).
    """
    if not header:
        return None
    m = _AUTH_RE.match(header.strip())
    if not m:
        return None
    signed = tuple(h for h in m.group("signed").lower().split(";") if h)
    if "content-type" not in signed or "host" not in signed:
        return None
    return Authorization(m.group("secret_id"), m.group("date"), m.group("service"), signed, m.group("signature"))


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def signature(
    secret_key: str,
    *,
    method: str,
    uri: str,
    query: str,
    headers: dict[str, str],
    signed_headers: tuple[str, ...],
    payload: bytes,
    timestamp: str,
    date: str,
    service: str,
) -> str:
    """The hex signature the SDK would compute for this request (``headers`` keyed lower-case)."""
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip().lower()}\n" for name in signed_headers)
    if headers.get("x-tc-content-sha256") == "UNSIGNED-PAYLOAD":
        payload = b"UNSIGNED-PAYLOAD"
    canonical_request = "\n".join(
        [method, uri, query, canonical_headers, ";".join(signed_headers), hashlib.sha256(payload).hexdigest()]
    )
    scope = f"{date}/{service}/tc3_request"
    string_to_sign = "\n".join(
        [ALGORITHM, timestamp, scope, hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()]
    )
    key = _hmac(_hmac(_hmac(("TC3" + secret_key).encode("utf-8"), date), service), "tc3_request")
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def utc_date(timestamp: int) -> str:
    """The credential-scope date the SDK derives from ``X-TC-Timestamp`` (UTC)."""
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%d")


def matches(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected, given)
