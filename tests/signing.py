"""Sign API Gateway events at run time, as a caller would (the samples carry placeholders)."""
from __future__ import annotations

import time
from typing import Any, Dict, Optional

API_SECRET = "test-api-secret-do-not-use"


def signed(event: Dict[str, Any], secret: str = API_SECRET, timestamp: Optional[int] = None, body: Optional[str] = None) -> Dict[str, Any]:
    from clb_unbind.triggers.apigw import sign

    if body is None:
        body = event.get("body") or ""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    original = event.get("headers") if isinstance(event.get("headers"), dict) else {}
    headers = {k: v for k, v in original.items() if not str(k).lower().startswith("x-clb-unbind-")}
    headers.update({"X-Clb-Unbind-Timestamp": ts, "X-Clb-Unbind-Signature": sign(secret, ts, body.encode())})
    return {**event, "headers": headers, "body": body}
