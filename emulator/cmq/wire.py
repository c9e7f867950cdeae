"""The CMQ data plane's wire format (API 2.0): how a request is recognised, parsed and signed.

Sources: doc 406/5906 (signature), docs 1496/127321, 127322, 127325 and 406/5924 (actions); Tencent's
SDKs tencentyun/cmq-python-sdk (``cmq/sign.py``, ``cmq/cmq_client.py``) and
TencentCloud/tencentcloud-cmq-sdk-go (``sign.go``, ``client.go``); docs/cloud-facts.md#cmq-signature.

* A request is a POST to ``/`` (the Go SDK's default path) or ``/v2/index.php`` (the docs and the
  Python SDK) whose body is ``application/x-www-form-urlencoded`` and holds an ``Action`` field.
  ``qcloud-cmq-sdk-py3`` sends no ``Content-Type`` at all, so a POST without one whose body is such a
  form counts too. API 3.0 requests are JSON with a TC3 ``Authorization`` header and never match.
* ``Signature`` = base64(HMAC-SHA1 or -SHA256 (``SignatureMethod`` ``HmacSHA1``, the default, or
  ``HmacSHA256``) keyed by the SecretKey, over ``"POST" + host[:port] + path + "?" + "&".join(k=v)``,
  every parameter but ``Signature`` sorted by name, raw (not URL-encoded) values, ``_`` in names
  written ``.``). Both SDKs sign the ``Host`` they connect to, port included.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl

CMQ_PATHS = frozenset({"/", "/v2/index.php"})
FORM = "application/x-www-form-urlencoded"
SIGNATURE_METHODS = {"HmacSHA1": hashlib.sha1, "HmacSHA256": hashlib.sha256}


def parse_form(body: bytes) -> dict[str, str] | None:
    """The form fields, or ``None`` when the body is not a form (or repeats a field)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
    except ValueError:
        return None
    fields = dict(pairs)
    return fields if len(fields) == len(pairs) else None


def is_cmq_request(method: str, path: str, headers: dict[str, str], body: bytes) -> bool:
    """Whether this request is for the CMQ data plane (``headers`` keyed lower-case)."""
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if method != "POST" or path not in CMQ_PATHS or content_type not in (FORM, ""):
        return False
    if headers.get("authorization", "").startswith("TC3-"):
        return False
    fields = parse_form(body)
    return bool(fields) and "Action" in fields


def string_to_sign(method: str, host: str, path: str, params: dict[str, str]) -> str:
    signed = {k: v for k, v in params.items() if k != "Signature"}
    return method.upper() + host + path + "?" + "&".join(
        f"{k.replace('_', '.')}={signed[k]}" for k in sorted(signed))


def sign(secret_key: str, method: str, host: str, path: str, params: dict[str, str],
         signature_method: str = "HmacSHA1") -> str:
    digest = SIGNATURE_METHODS[signature_method]
    mac = hmac.new(secret_key.encode("utf-8"), string_to_sign(method, host, path, params).encode("utf-8"), digest)
    return base64.b64encode(mac.digest()).decode("ascii")


def matches(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))
