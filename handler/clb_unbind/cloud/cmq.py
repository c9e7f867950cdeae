"""The TDMQ-for-CMQ data plane (API 2.0 wire format): receive, delete and send queue messages.

The API 3.0 SDK has no receive or delete for CMQ queues (docs/cloud-facts.md#cmq-data-plane-api), so the function speaks the
data plane's own protocol with `requests` (already installed as a dependency of the SDK's common package).

Wire format, as verified from these sources:

- Requests are form-encoded POSTs (`application/x-www-form-urlencoded`) to the endpoint's path, `/` when
  the base URL has none: TencentCloud/tencentcloud-cmq-sdk-go `client.go` (`NewClient` sets `Url.Path = "/"`,
  `call` posts the form); tencentyun/cmq-python-sdk `cmq/cmq_client.py` posts to `/v2/index.php`, the path
  of the docs' examples (docs 1496/127321, 127322, 127325; intl 1111/46418, 1111/46420).
- Common parameters `Action, Timestamp, Nonce, SecretId, SignatureMethod` and, for temporary credentials,
  `Token`, signed like the others (`client.go` sets `Token` before signing). `Signature` =
  base64(HMAC(SecretKey, METHOD + host[:port] + path + "?" + "&".join(k=v for the parameters sorted by
  key, raw values, "_" in a key written ".")); `HmacSHA256` when `SignatureMethod` says so (doc 406/5906;
  `cmq/sign.py` `Sign.make`; `sign.go` `Client.sign`, which signs `Url.Host`, i.e. with the port).
- `BatchReceiveMessage`: `queueName`, `numOfMsg` 1-16, `pollingWaitSeconds` 0-30; answer `msgInfoList[]` of
  `msgBody, msgId, receiptHandle, enqueueTime, nextVisibleTime` (`firstDequeueTime`, `dequeueCount`
  documented as reserved) (doc 1496/127321; `queue.go`, `types.go`). Both SDKs give the socket the long
  poll plus a margin (`cmq_http.py`: `connection_timeout + UserpollingWaitSeconds`; `queue.go`: at least
  the poll + 1 s).
- `BatchDeleteMessage`: `queueName`, `receiptHandle.n`, at most 16; "n can start from either 0 or 1, but the
  values must be consecutive" (doc 1496/127322, intl 1111/46420). The Python SDK counts from 1
  (`cmq/queue.py` `batch_delete_message`), the Go SDK from 0 (`queue.go` `BatchDeleteMessage`); this client
  counts from 1, as the doc's own example (`receiptHandle.1=...`) does. Answer `errorList[{code, message,
  receiptHandle}]` with code 6010 (some failed) or 6020 (all failed).
- `SendMessage`: `queueName`, `msgBody`, `delaySeconds`; answer `msgId` (doc 1496/127325; `queue.go`).
- Answers are JSON `{code, message, requestId, ...}`. Codes (`cmq/cmq_exception.py` `CMQServerException`):
  0 ok, 4000 bad parameter, 4100 authentication failed, 4300 account in arrears, 4400 message too large,
  4410 queue full, 4420 QPS limit, 4430 receipt handle invalid or expired, 4440 no such queue, 6000
  internal error, 6010 batch delete partly failed, 7000 no message. The Go SDK decodes `message` into a
  field tagged `Message` (Go matches keys case-insensitively), so both spellings are read here.

Every HTTP attempt is counted in `session.calls` as service `cmq`. Calls are not put through the session's
rate limiter: that keeps API 3.0 actions under 20 a second, while CMQ allows 5000 (docs/cloud-facts.md#cmq-queue-semantics).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import math
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import AbstractSet, Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import quote, quote_plus, urlsplit

import requests

from ..config import SettingsError
from ..log import decision
from ..model import CloudFailure
from .errors import CloudError, is_permanent
from .session import CloudSession, chunks

SERVICE = "cmq"
MAX_BATCH = 16
MAX_POLL_SECONDS = 30
RECEIPT_INDEX_BASE = 1
MARGIN_SECONDS = 2.0
"""Socket time beyond the long poll: the round trip and the server's own work."""
CONNECT_SECONDS = 1.0
MESSAGE_CHARS = 200
"""Server and transport messages are cut to this length before they reach a failure or a log line."""
MIN_CALL_SECONDS = 0.05

OK = 0
NO_MESSAGE = 7000
STALE_HANDLE = 4430
DELETE_PARTLY_FAILED = 6010
DELETE_ALL_FAILED = 6020

# CMQ codes as failure codes whose prefixes `errors.py` already classifies: AuthFailure, InvalidParameter,
# ResourceNotFound are permanent; RequestLimitExceeded, InternalError are retried; FailedOperation.Cmq* and
# LimitExceeded.* are neither (the pipeline retries the work later).
FAILURE_CODES: Dict[int, str] = {
    4000: "InvalidParameter.CmqInvalidParameter",
    4100: "AuthFailure.CmqAuthentication",
    4300: "FailedOperation.CmqAccountArrears",
    4400: "InvalidParameter.CmqMessageTooLarge",
    4410: "LimitExceeded.CmqQueueFull",
    4420: "RequestLimitExceeded.CmqQps",
    4430: "InvalidParameter.CmqReceiptHandle",
    4440: "ResourceNotFound.CmqQueue",
    6000: "InternalError.Cmq",
    6010: "FailedOperation.CmqDeletePartlyFailed",
    6020: "FailedOperation.CmqDeleteFailed",
}


def failure_code(code: int) -> str:
    return FAILURE_CODES.get(code, f"FailedOperation.Cmq{code}")


@dataclass(frozen=True)
class QueueMessage:
    msg_id: str
    receipt_handle: str
    """Only the latest handle of a message deletes it, and only until `next_visible_time`."""
    body: str
    enqueue_time: Optional[int]
    next_visible_time: Optional[int]
    dequeue_count: Optional[int]
    """Documented as reserved: may be absent or 0."""


@dataclass(frozen=True)
class DeleteResult:
    """Every distinct handle given to `delete` is in exactly one of these."""

    deleted: Tuple[str, ...]
    stale: Tuple[str, ...]
    """Handles the queue no longer accepts (4430): the message comes back and is handled again."""
    failed: Dict[str, CloudFailure]
    """Keyed by receipt handle."""


def signature(secret_key: str, host: str, path: str, params: Mapping[str, str], method: str = "POST") -> str:
    """The API 2.0 `Signature` (HmacSHA256) of `params`, which must not include `Signature` itself."""
    query = "&".join(f"{key.replace('_', '.')}={params[key]}" for key in sorted(params))
    plain = f"{method.upper()}{host}{path}?{query}"
    digest = hmac.new(secret_key.encode("utf-8"), plain.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def receive(session: CloudSession, queue: str, max_messages: int = 16, poll_seconds: float = 3) -> List[QueueMessage]:
    """`BatchReceiveMessage` with a long poll: [] when the queue has nothing (code 7000).

    The poll is shortened to fit the session's work budget, so a receive never eats the time kept for
    finishing. A receive retried after a timeout may have handed out messages that were never seen:
    they come back after the queue's visibility timeout.
    """
    if not 1 <= max_messages <= MAX_BATCH:
        raise ValueError(f"max_messages must be 1-{MAX_BATCH}, not {max_messages}")
    if not 0 <= poll_seconds <= MAX_POLL_SECONDS:
        raise ValueError(f"poll_seconds must be 0-{MAX_POLL_SECONDS}, not {poll_seconds}")
    answer = _call(
        session,
        "BatchReceiveMessage",
        {"queueName": queue, "numOfMsg": int(max_messages)},
        budget=session.work_budget,
        accept={OK, NO_MESSAGE},
        poll=int(poll_seconds),
    )
    if answer["code"] == NO_MESSAGE:
        return []
    items = answer.get("msgInfoList")
    if not isinstance(items, list):
        # Messages may have been handed out with it: they come back after the visibility timeout.
        raise CloudError(CloudFailure("ServerNetworkError.CmqInvalidAnswer",
                                      f"BatchReceiveMessage answered code 0 with msgInfoList {_shape(items)}, not a list",
                                      f"{SERVICE}:BatchReceiveMessage", _request_id(answer)))
    return _messages(queue, items)


def delete(session: CloudSession, queue: str, receipt_handles: Sequence[str]) -> DeleteResult:
    """`BatchDeleteMessage`, 16 handles a call; reports each handle instead of raising.

    A call that fails as a whole puts its handles in `failed`; after a permanent failure (no such queue,
    authentication) the remaining handles are put there too without further calls. Deleting is part of
    finishing work (after a re-queue's send), so it may use the time kept back for that, like `send`,
    and what the sends left it (`CloudSession.acks_kept`).
    """
    handles = list(dict.fromkeys(receipt_handles))
    action = f"{SERVICE}:BatchDeleteMessage"
    deleted: List[str] = []
    stale: List[str] = []
    failed: Dict[str, CloudFailure] = {}
    stopped: Optional[CloudFailure] = None
    for chunk in chunks(handles, MAX_BATCH):
        if stopped is not None:
            failed.update((handle, stopped) for handle in chunk)
            continue
        fields: Dict[str, Any] = {"queueName": queue}
        fields.update((f"receiptHandle.{n}", h) for n, h in enumerate(chunk, start=RECEIPT_INDEX_BASE))
        try:
            answer = _call(
                session,
                "BatchDeleteMessage",
                fields,
                budget=session.ack_budget,
                accept={OK, STALE_HANDLE, DELETE_PARTLY_FAILED, DELETE_ALL_FAILED},
            )
        except CloudError as exc:
            failed.update((handle, exc.failure) for handle in chunk)
            if is_permanent(exc.code):
                stopped = exc.failure
            continue
        _sort_deletes(action, chunk, answer, deleted, stale, failed)
    if stale:
        decision(
            "cmq_receipt_handle_stale",
            level=logging.WARNING,
            queue=queue,
            receipt_handles=list(stale),
            count=len(stale),
            reason="handle expired or superseded (4430): the message will be received again",
        )
    return DeleteResult(deleted=tuple(deleted), stale=tuple(stale), failed=failed)


def send(session: CloudSession, queue: str, body: str, delay_seconds: int = 0) -> str:
    """`SendMessage`; returns the message id. It carries unfinished work, so it may use the time kept back
    for finishing. A send retried after a timeout may deliver twice: consumers deduplicate (docs/cloud-facts.md#cmq-queue-semantics)."""
    answer = _call(
        session,
        "SendMessage",
        {"queueName": queue, "msgBody": body, "delaySeconds": int(delay_seconds)},
        budget=session.final_budget,
        accept={OK},
    )
    return str(answer.get("msgId") or "")


# -- the wire ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Endpoint:
    url: str
    host: str
    """As sent in the Host header and signed: host, and the port unless it is the scheme's default."""
    path: str


def _endpoint(base_url: str) -> _Endpoint:
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"the CMQ endpoint must be an http(s) URL, not {base_url[:100]!r}")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    if parts.port is not None and parts.port != (443 if parts.scheme == "https" else 80):
        host = f"{host}:{parts.port}"
    path = parts.path or "/"
    return _Endpoint(url=f"{parts.scheme}://{host}{path}", host=host, path=path)


_local = threading.local()


def _http() -> requests.Session:
    """One HTTP session per thread (requests does not document a Session as thread-safe), kept across
    warm invocations so connections are reused."""
    http: Optional[requests.Session] = getattr(_local, "http", None)
    if http is None:
        http = _local.http = requests.Session()
    return http


def _call(
    session: CloudSession,
    action: str,
    fields: Mapping[str, Any],
    budget: Callable[[], float],
    accept: AbstractSet[int],
    poll: Optional[int] = None,
) -> Dict[str, Any]:
    """POST one action, retrying what is retryable within `budget`; returns the answer (with an int
    `code`) when its code is in `accept`, else raises `CloudError`."""
    endpoint = _endpoint(session.settings.cmq_base_url)
    attempt = 0
    last: Optional[CloudFailure] = None
    while True:
        attempt += 1
        left = budget()
        if left < max(session.latency, MIN_CALL_SECONDS):
            raise CloudError(last or _out_of_time(action))
        connect = min(CONNECT_SECONDS, left / 4)
        params = {key: str(value) for key, value in fields.items()}
        wait = 0
        if poll is not None:
            wait = max(0, min(poll, MAX_POLL_SECONDS, math.floor(left - connect - MARGIN_SECONDS)))
            params["pollingWaitSeconds"] = str(wait)
        read = min(wait + MARGIN_SECONDS, left - connect)
        session.calls.add(SERVICE, action)
        outcome = _attempt(session, endpoint, action, params, (connect, read), accept)
        if not isinstance(outcome, CloudFailure):
            return outcome
        session.back_off(SERVICE, outcome, attempt, budget)
        last = outcome


def _attempt(
    session: CloudSession,
    endpoint: _Endpoint,
    action: str,
    params: Dict[str, str],
    timeout: Tuple[float, float],
    accept: AbstractSet[int],
) -> Union[CloudFailure, Dict[str, Any]]:
    """One signed POST: the answer, or what went wrong. Never raises for the server or the network,
    so no transport exception (whose request holds the signed form) is chained to a `CloudError`."""
    settings = session.settings
    form = dict(params)
    form.update(
        Action=action,
        Timestamp=str(int(time.time())),
        Nonce=str(secrets.randbelow(2**31 - 1) + 1),
        SecretId=settings.secret_id or "",
        SignatureMethod="HmacSHA256",
    )
    if settings.session_token:
        form["Token"] = settings.session_token
    sig = signature(settings.secret_key or "", endpoint.host, endpoint.path, form)
    form["Signature"] = sig
    hidden = tuple(settings.secrets) + (sig,)
    qualified = f"{SERVICE}:{action}"
    try:
        reply = _http().post(
            endpoint.url,
            data=form,
            headers={"Host": endpoint.host, "Content-Type": "application/x-www-form-urlencoded"},
            timeout=timeout,
            allow_redirects=False,
        )
        status, content = reply.status_code, reply.content
    except requests.Timeout as exc:
        return CloudFailure("ClientNetworkError.CmqTimeout", _clean(_describe(exc), hidden), qualified)
    except requests.ConnectionError as exc:
        return CloudFailure("ClientNetworkError.CmqConnection", _clean(_describe(exc), hidden), qualified)
    except requests.RequestException as exc:
        return CloudFailure("ClientNetworkError.Cmq", _clean(_describe(exc), hidden), qualified)
    return _read_answer(status, content, hidden, qualified, accept)


def _read_answer(
    status: int, content: bytes, hidden: Sequence[str], qualified: str, accept: AbstractSet[int]
) -> Union[CloudFailure, Dict[str, Any]]:
    """The answer as a dict with an int `code` and a str `message`, or a failure that says what was wrong.

    Total: whatever the bytes (not JSON, nested deeper than the parser's recursion limit, a `code` that is
    not an ASCII integer, fields of the wrong type), the outcome is a `CloudFailure`, never an exception,
    so one unreadable answer cannot end a timer run before its sweep."""
    try:
        answer = json.loads(content)
    except RecursionError:
        return _unreadable(status, "nested deeper than the JSON parser's recursion limit", qualified)
    except ValueError:
        return _unreadable(status, "not JSON: " + _clean(content[:MESSAGE_CHARS].decode("utf-8", "replace"), hidden), qualified)
    if not isinstance(answer, dict):
        return _unreadable(status, f"a JSON {type(answer).__name__}, not an object", qualified)
    code = _int(answer.get("code"))
    if code is None:
        return _unreadable(status, f"no integer code (code is {_shape(answer.get('code'))})", qualified)
    answer["code"] = code
    answer["message"] = _clean(_message(answer), hidden) or f"code {code}, no message"
    errors = answer.get("errorList")
    if isinstance(errors, list):
        for entry in errors:
            if isinstance(entry, dict):
                entry["message"] = _clean(_message(entry), hidden) or f"code {entry.get('code')!r:.20}, no message"
    if code in accept:
        return answer
    return CloudFailure(failure_code(code), answer["message"], qualified, _request_id(answer))


def _unreadable(status: int, what: str, qualified: str) -> CloudFailure:
    """An answer that is not `{code, message, ...}`: a gateway's page, a truncated body, or garbage.

    Its HTTP status decides whether another try may help, as for any transport error."""
    message = f"HTTP {status}, unreadable answer: {what}"[:MESSAGE_CHARS]
    if status >= 500 or status == 429:
        return CloudFailure(f"ServerNetworkError.CmqHttp{status}", message, qualified)
    if status == 200:
        return CloudFailure("ServerNetworkError.CmqInvalidAnswer", message, qualified)
    return CloudFailure(f"FailedOperation.CmqHttp{status}", message, qualified)


def _shape(value: Any) -> str:
    """A value named for an error message without printing it (it may be huge or hostile)."""
    if value is None:
        return "missing"
    if isinstance(value, str):
        return f"the string {value[:20]!r}"
    return f"a {type(value).__name__}"


def _sort_deletes(
    action: str,
    chunk: List[str],
    answer: Dict[str, Any],
    deleted: List[str],
    stale: List[str],
    failed: Dict[str, CloudFailure],
) -> None:
    code = answer["code"]
    if code == OK:
        deleted.extend(chunk)
        return
    if code == STALE_HANDLE:
        stale.extend(chunk)
        return
    request_id = _request_id(answer)
    entries = answer.get("errorList")
    if not isinstance(entries, list):
        # Which handles failed is unknown: none is counted deleted (a failed delete is harmless, a lost one is not).
        unknown = CloudFailure(failure_code(code), f"errorList is {_shape(entries)}, not a list: "
                               "which messages were deleted is unknown", action, request_id)
        failed.update((handle, unknown) for handle in chunk)
        return
    reported: Dict[str, Tuple[int, str]] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        handle = entry.get("receiptHandle")
        entry_code = _int(entry.get("code"))
        if isinstance(handle, str) and entry_code is not None:
            reported[handle] = (entry_code, _message(entry))
    whole = CloudFailure(failure_code(code), _message(answer), action, request_id)
    for handle in chunk:
        if handle in reported:
            entry_code, message = reported[handle]
            if entry_code == STALE_HANDLE:
                stale.append(handle)
            elif entry_code == OK:
                deleted.append(handle)
            else:
                failed[handle] = CloudFailure(failure_code(entry_code), message, action, request_id)
        elif code == DELETE_PARTLY_FAILED:
            deleted.append(handle)
        else:
            failed[handle] = whole


def _messages(queue: str, items: Any) -> List[QueueMessage]:
    messages: List[QueueMessage] = []
    for item in items if isinstance(items, list) else []:
        msg_id = item.get("msgId") if isinstance(item, dict) else None
        handle = item.get("receiptHandle") if isinstance(item, dict) else None
        if not (isinstance(msg_id, str) and msg_id and isinstance(handle, str) and handle):
            decision(
                "cmq_message_unusable",
                level=logging.WARNING,
                queue=queue,
                msg_id=msg_id if isinstance(msg_id, str) else None,
                reason="received without a message id or receipt handle: it comes back after the visibility timeout",
            )
            continue
        body = item.get("msgBody")
        messages.append(
            QueueMessage(
                msg_id=msg_id,
                receipt_handle=handle,
                body=body if isinstance(body, str) else "",
                enqueue_time=_int(item.get("enqueueTime")),
                next_visible_time=_int(item.get("nextVisibleTime")),
                dequeue_count=_int(item.get("dequeueCount")),
            )
        )
    return messages


_INTEGER = re.compile(r"-?[0-9]{1,18}")
"""ASCII digits only: `str.isdigit` accepts "²" and "٣", which `int` then refuses or reads as another number."""


def _int(value: Any) -> Optional[int]:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    return None


def _message(answer: Mapping[str, Any]) -> str:
    for key in ("message", "Message"):
        value = answer.get(key)
        if isinstance(value, str) and value:
            return value
        if value is not None and not isinstance(value, str):
            return f"({key} is {_shape(value)})"
    return ""


def _request_id(answer: Mapping[str, Any]) -> Optional[str]:
    value = answer.get("requestId")
    return value[:MESSAGE_CHARS] if isinstance(value, str) and value else None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _clean(text: str, hidden: Sequence[str]) -> str:
    """Remove every secret (raw, and as a form or URL encoder would write it), then truncate."""
    for secret in hidden:
        if not secret:
            continue
        for form in {secret, quote_plus(secret), quote(secret, safe="")}:
            text = text.replace(form, "***")
    return text[:MESSAGE_CHARS]


def _out_of_time(action: str) -> CloudFailure:
    return CloudFailure(
        "ClientDeadlineExceeded", "not enough of the invocation's time left for this call", f"{SERVICE}:{action}"
    )
