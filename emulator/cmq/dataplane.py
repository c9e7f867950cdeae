"""The CMQ data-plane request pipeline (API 2.0), served on the API 3.0 port.

Steps (each can end the request with a CMQ code, HTTP 200, JSON ``{"code","message","requestId"}``):

1. form fields parsed; ``Action`` known → else 4000;
2. authentication (doc 406/5906; docs/cloud-facts.md#cmq-signature): ``SecretId`` known, ``Signature`` present, else 4100;
   ``Timestamp`` an integer and ``Nonce`` present, else 4000; ``Timestamp`` within
   ``max_clock_skew_seconds`` of now, else 4100 (UNCONFIRMED: the code for a stale timestamp is not
   documented); ``SignatureMethod`` ``HmacSHA1`` (default) or ``HmacSHA256``, else 4000; signature
   recomputed over the ``Host`` header and the request path, else 4100; ``Token`` equal to the
   credential's session token (required when the estate gives one, refused when it gives none), else 4100;
3. parameters: only the action's own, the common ones (``Action, Region, Timestamp, Nonce, SecretId,
   Signature, SignatureMethod, Token``) and three that Tencent's SDKs add (``RequestClient`` and
   ``UserpollingWaitSeconds`` from cmq-python-sdk, ``clientRequestId`` from the Go SDK) → else 4000
   (UNCONFIRMED: whether the real service refuses unknown parameters);
4. rate limit per action (``cmq_rate_limit_per_second``, 5000 by default: "QPS 5000" each way, docs/cloud-facts.md#cmq-queue-semantics) → 4420;
5. ``cmq_error_rate``: the code ``cmq_error_code`` before anything is applied;
6. the action (:mod:`emulator.cmq.actions`) under the emulator lock, which a long poll releases while
   it waits.

``latency_seconds`` delays the answer as for API 3.0; ``error_rate``, ``drop_reply_rate``, ``busy_rate``
and ``fault_actions`` are API 3.0 knobs and do not touch the data plane (``cmq_fault_actions`` limits
the CMQ knobs instead).
"""
from __future__ import annotations

import json
import random
import sys
import threading
import time
import uuid
from typing import Any, Callable, Protocol

from ..estate import Estate
from ..faults import Knobs, RateLimiter
from ..reply import Reply
from . import codes as C
from .actions import SPECS, CmqCall, allowed_params, indexed_param
from .broker import Broker
from .codes import CmqError
from .wire import SIGNATURE_METHODS, matches, parse_form, sign

SERVICE = "cmq"
VERSION = "2.0"
COMMON = frozenset({"Action", "Region", "Timestamp", "Nonce", "SecretId", "Signature", "SignatureMethod", "Token"})
SDK_EXTRAS = frozenset({"RequestClient", "UserpollingWaitSeconds", "clientRequestId"})
HIDDEN = frozenset({"Signature", "Token"})


class Recorder(Protocol):
    def __call__(self, service: str, action: str, version: str, params: dict, response: dict, code: str | None,
                 request_id: str, region: str) -> None: ...


class CmqDataPlane:
    """Answers CMQ data-plane requests over the estate's credentials and the broker's queues."""

    def __init__(self, estate: Estate, broker: Broker, limiter: RateLimiter, lock: threading.RLock,
                 knobs: Callable[[], Knobs], rng: Callable[[], random.Random], record: Recorder) -> None:
        self._estate = estate
        self._broker = broker
        self._limiter = limiter
        self._lock = lock
        self._knobs = knobs
        self._rng = rng
        self._record = record

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        request_id = str(uuid.uuid4())
        params = parse_form(body) or {}
        action = params.get("Action", "")
        with self._lock:
            knobs = self._knobs()
            answer: dict[str, Any]
            try:
                spec = self._admit(method, path, headers, params, action, knobs)
                call = CmqCall(action, params, self._broker, knobs, time.time, lambda rate: self._faulty(knobs, action, rate))
                answer = {"code": C.OK, "message": "", "requestId": request_id, **spec(call)}
                code = None
            except CmqError as err:
                answer = {"code": err.code, "message": err.message, "requestId": request_id, **err.extra}
                code = str(err.code)
            except Exception as exc:  # noqa: BLE001 - an emulator bug must reach the test as an answer, not a hang
                print(f"emulator: CMQ {action} failed: {exc!r}", file=sys.stderr)
                answer = {"code": C.INTERNAL_ERROR, "message": f"emulator bug: {exc!r}", "requestId": request_id}
                code = str(C.INTERNAL_ERROR)
            shown = {k: v for k, v in params.items() if k not in HIDDEN}
            self._record(SERVICE, action, VERSION, shown, answer, code, request_id, params.get("Region", ""))
        return Reply(200, json.dumps(answer, ensure_ascii=False).encode("utf-8"), delay=knobs.latency_seconds)

    def _faulty(self, knobs: Knobs, action: str, rate: float) -> bool:
        if knobs.cmq_fault_actions and action not in knobs.cmq_fault_actions:
            return False
        return rate > 0 and self._rng().random() < rate

    def _admit(self, method: str, path: str, headers: dict[str, str], params: dict[str, str], action: str,
               knobs: Knobs) -> Callable[[CmqCall], dict[str, Any]]:
        if action not in SPECS:
            raise CmqError(C.BAD_PARAMETER, f"unknown or not emulated Action {action!r}")
        self._authenticate(method, path, headers, params, knobs)
        indexed = indexed_param(action)
        allowed = COMMON | SDK_EXTRAS | allowed_params(action)
        unknown = sorted(k for k in params if k not in allowed and not (indexed and k.startswith(indexed + ".")))
        if unknown:
            raise CmqError(C.BAD_PARAMETER, f"unknown parameter(s) for {action}: {', '.join(unknown)}")
        limit = knobs.cmq_rate_limit_per_second
        admitted, seen = self._limiter.admit((SERVICE, action), time.monotonic(), limit)
        if not admitted:
            raise CmqError(C.QPS_LIMIT, f"{seen} requests of {action} in a second exceed the limit {limit}")
        if self._faulty(knobs, action, knobs.cmq_error_rate):
            raise CmqError(knobs.cmq_error_code, "emulated cmq_error_rate")
        return SPECS[action][0]

    def _authenticate(self, method: str, path: str, headers: dict[str, str], params: dict[str, str],
                      knobs: Knobs) -> None:
        cred = self._estate.credential(params.get("SecretId", ""))
        if cred is None:
            raise CmqError(C.AUTH_FAILURE, "SecretId is missing or unknown")
        given = params.get("Signature")
        if not given:
            raise CmqError(C.AUTH_FAILURE, "Signature is missing")
        raw_ts = params.get("Timestamp", "")
        if not raw_ts.isdigit():
            raise CmqError(C.BAD_PARAMETER, "Timestamp must be Unix seconds")
        if not params.get("Nonce"):
            raise CmqError(C.BAD_PARAMETER, "Nonce is required")
        skew = abs(int(time.time()) - int(raw_ts))
        if skew > knobs.max_clock_skew_seconds:
            raise CmqError(C.AUTH_FAILURE, f"Timestamp is {skew} s away from the server's time")
        method_name = params.get("SignatureMethod") or "HmacSHA1"
        if method_name not in SIGNATURE_METHODS:
            raise CmqError(C.BAD_PARAMETER, f"SignatureMethod must be HmacSHA1 or HmacSHA256, got {method_name!r}")
        expected = sign(cred.secret_key, method, headers.get("host", ""), path, params, method_name)
        if not matches(expected, given):
            raise CmqError(C.AUTH_FAILURE, "signature mismatch")
        if (params.get("Token") or None) != cred.token:
            raise CmqError(C.AUTH_FAILURE, "Token is missing or does not match the credential")
