"""The CMQ data-plane client against a small canned HTTP server on 127.0.0.1.

A stand-in only until the project's CMQ emulator exists (being built separately); the integration test
against it comes later. The server checks every request's signature with the derivation below, written
from doc 406/5906 and the SDKs' `sign.py` / `sign.go`, not with the module's helper.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple, Union
from urllib.parse import parse_qs, quote_plus

import pytest

from clb_unbind.cloud import cmq
from clb_unbind.cloud.deadline import Deadline
from clb_unbind.model import CloudFailure
from clb_unbind.cloud.errors import CloudError, is_permanent, is_retryable
from clb_unbind.cloud.session import CloudSession
from clb_unbind.config import Settings

SECRET_ID = "AKIDcmqUnitTestId"
SECRET_KEY = "cmq-unit-secret-key-do-not-use"
TOKEN = "cmq-unit-session+token/with=chars"


def derive(key: str, host: str, path: str, params: Mapping[str, str]) -> str:
    plain = "POST" + host + path + "?" + "&".join(k.replace("_", ".") + "=" + params[k] for k in sorted(params))
    return base64.b64encode(hmac.new(key.encode(), plain.encode(), hashlib.sha256).digest()).decode()


Answer = Union[Dict[str, Any], Tuple[int, str], Callable[[Dict[str, str]], Any], Tuple[str, float]]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up on a hung answer leaves a broken pipe: expected here, not worth a trace."""


class Canned:
    """Answers POSTs from a list, in order (then `{"code": 0}`), and records what it was sent."""

    def __init__(self) -> None:
        self.answers: List[Answer] = []
        self.requests: List[Dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                unsigned = {k: v for k, v in form.items() if k != "Signature"}
                host = self.headers.get("Host") or ""
                outer.requests.append(
                    {
                        "path": self.path,
                        "host": host,
                        "content_type": self.headers.get("Content-Type"),
                        "form": form,
                        "signed": form.get("Signature") == derive(SECRET_KEY, host, self.path, unsigned),
                    }
                )
                answer: Any = outer.answers.pop(0) if outer.answers else {"code": 0}
                if callable(answer):
                    answer = answer(form)
                if isinstance(answer, tuple) and answer[0] == "sleep":
                    time.sleep(answer[1])
                    answer = {"code": 0}
                status, body = answer if isinstance(answer, tuple) else (200, json.dumps(answer))
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def server() -> Iterator[Canned]:
    canned = Canned()
    canned.thread.start()
    yield canned
    canned.server.shutdown()
    canned.server.server_close()


class Clock:
    """A deadline clock that moves only when the client sleeps between retries."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: List[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def make_session(url: str, token: Optional[str] = None, seconds: float = 30.0, clock: Optional[Clock] = None) -> Tuple[CloudSession, Clock]:
    clock = clock or Clock()
    settings = Settings(secret_id=SECRET_ID, secret_key=SECRET_KEY, session_token=token, cmq_endpoint=url)
    session = CloudSession(settings, Deadline(clock.now + seconds, 0.0, clock), sleep=clock.sleep, rng=random.Random(3))
    return session, clock


@pytest.fixture
def decisions(monkeypatch: pytest.MonkeyPatch) -> List[Tuple[str, Dict[str, Any]]]:
    seen: List[Tuple[str, Dict[str, Any]]] = []
    from clb_unbind.cloud import session

    for module in (cmq, session):  # the client's own decisions, and the shared back-off's `retrying`
        monkeypatch.setattr(module, "decision", lambda name, **fields: seen.append((name, fields)))
    return seen


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in (SECRET_KEY, TOKEN, "cmq-unit-session%2Btoken"):
            assert secret not in text


# -- signature ---------------------------------------------------------------------------------------

COMMON = {"Nonce": "11886", "SecretId": "AKIDexample", "SignatureMethod": "HmacSHA256", "Timestamp": "1465185768"}
SEND = {**COMMON, "Action": "SendMessage", "queueName": "test-queue-123", "msgBody": "hello world", "delaySeconds": "0"}
DELETE = {
    **COMMON,
    "Action": "BatchDeleteMessage",
    "queueName": "q1",
    "receiptHandle.1": "h-1",
    "receiptHandle.2": "h-2",
    "Token": "tok+en/with=chars",
}


@pytest.mark.parametrize(
    "host, path, params, vector",
    [
        # Vectors computed outside Python: printf '%s' "$plain" | openssl dgst -sha256 -hmac "$key" -binary | base64
        ("cmq-gz.public.tencenttdmq.com", "/", SEND, "7Ul3MB57US/Pa1CyrxCYnhJhqWnTCxqIKdXPXcvpK8k="),
        ("cmq-gz.public.tencenttdmq.com", "/v2/index.php", SEND, "Xmj3uysrS1pe1hyZ0t9PhyyCVdZwX88t0ak50b7AplU="),
        ("127.0.0.1:9000", "/", DELETE, "2Za/gqTUCeZMsKep+OdReQBgfKTkCZQ6Dm4tMrMHR2k="),
    ],
)
def test_signature_matches_vectors(host: str, path: str, params: Dict[str, str], vector: str) -> None:
    assert derive("test-secret-key", host, path, params) == vector
    assert cmq.signature("test-secret-key", host, path, params) == vector


def test_signature_covers_token_host_port_and_path() -> None:
    without = {k: v for k, v in DELETE.items() if k != "Token"}
    signatures = {
        cmq.signature("k", "127.0.0.1:9000", "/", DELETE),
        cmq.signature("k", "127.0.0.1:9000", "/", without),
        cmq.signature("k", "127.0.0.1:9001", "/", DELETE),
        cmq.signature("k", "127.0.0.1:9000", "/v2/index.php", DELETE),
    }
    assert len(signatures) == 4
    assert cmq.signature("k", "127.0.0.1:9000", "/", without) == derive("k", "127.0.0.1:9000", "/", without)


def test_underscores_in_keys_are_signed_as_dots() -> None:
    plain = "POSTh/?Action=X&receipt.Handle=1"
    expected = base64.b64encode(hmac.new(b"k", plain.encode(), hashlib.sha256).digest()).decode()
    assert cmq.signature("k", "h", "/", {"Action": "X", "receipt_Handle": "1"}) == expected
    assert cmq.signature("k", "h", "/", {"Action": "X", "receipt_Handle": "1"}) == cmq.signature(
        "k", "h", "/", {"Action": "X", "receipt.Handle": "1"}
    )


# -- wire ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["", "/v2/index.php"])
@pytest.mark.parametrize("token", [None, TOKEN])
def test_requests_are_signed_form_posts_to_the_endpoint_path(server: Canned, path: str, token: Optional[str]) -> None:
    server.answers.append({"code": 0, "message": "", "requestId": "r-1", "msgId": "msg-1"})
    session, _ = make_session(server.url(path), token=token)
    assert cmq.send(session, "q1", '{"a": "b c&d=e"}', delay_seconds=5) == "msg-1"
    [req] = server.requests
    assert req["path"] == (path or "/")
    assert req["host"] == f"127.0.0.1:{server.port}"
    assert req["content_type"] == "application/x-www-form-urlencoded"
    assert req["signed"]
    form = req["form"]
    assert form["Action"] == "SendMessage" and form["SignatureMethod"] == "HmacSHA256"
    assert form["SecretId"] == SECRET_ID and form["Nonce"].isdigit()
    assert abs(int(form["Timestamp"]) - time.time()) < 60
    assert (form["queueName"], form["msgBody"], form["delaySeconds"]) == ("q1", '{"a": "b c&d=e"}', "5")
    assert form.get("Token") == token
    assert session.calls.counts == {"cmq:SendMessage": 1}


def test_receipt_handles_numbered_from_one_in_chunks_of_16(server: Canned) -> None:
    handles = [f"h#{i}:x%2F-{i}" for i in range(20)]
    session, _ = make_session(server.url())
    result = cmq.delete(session, "q1", handles + handles[:2])
    assert result.deleted == tuple(handles) and result.stale == () and result.failed == {}
    assert [len([k for k in r["form"] if k.startswith("receiptHandle")]) for r in server.requests] == [16, 4]
    first, second = (r["form"] for r in server.requests)
    assert [first[f"receiptHandle.{n}"] for n in range(1, 17)] == handles[:16]
    assert [second[f"receiptHandle.{n}"] for n in range(1, 5)] == handles[16:]
    assert "receiptHandle.0" not in first and "receiptHandle.0" not in second
    assert all(r["signed"] and r["form"]["Action"] == "BatchDeleteMessage" for r in server.requests)
    assert session.calls.counts == {"cmq:BatchDeleteMessage": 2}


def test_delete_of_nothing_makes_no_call(server: Canned) -> None:
    session, _ = make_session(server.url())
    assert cmq.delete(session, "q1", []) == cmq.DeleteResult((), (), {})
    assert server.requests == []


# -- codes ---------------------------------------------------------------------------------------------


def test_receive_empty_queue_is_not_an_error(server: Canned) -> None:
    server.answers.append({"code": 7000, "message": "no message", "requestId": "r"})
    session, _ = make_session(server.url())
    assert cmq.receive(session, "q1", poll_seconds=3) == []
    form = server.requests[0]["form"]
    assert (form["Action"], form["queueName"], form["numOfMsg"], form["pollingWaitSeconds"]) == ("BatchReceiveMessage", "q1", "16", "3")


def test_receive_reads_messages_and_skips_unusable_ones(server: Canned, decisions: List[Any]) -> None:
    server.answers.append(
        {
            "code": 0,
            "message": "",
            "requestId": "r",
            "msgInfoList": [
                {"msgId": "m1", "receiptHandle": "rh1", "msgBody": '{"x": 1}', "enqueueTime": 1700000000,
                 "nextVisibleTime": 1700000030, "dequeueCount": 2, "firstDequeueTime": 0},
                {"msgId": "m2", "msgBody": "no handle"},
                {"msgId": "m3", "receiptHandle": "rh3", "msgBody": "b"},
            ],
        }
    )
    session, _ = make_session(server.url())
    got = cmq.receive(session, "q1", max_messages=3, poll_seconds=0)
    assert got == [
        cmq.QueueMessage("m1", "rh1", '{"x": 1}', 1700000000, 1700000030, 2),
        cmq.QueueMessage("m3", "rh3", "b", None, None, None),
    ]
    assert [name for name, _ in decisions] == ["cmq_message_unusable"]


def test_stale_handles_are_reported_and_logged_as_warnings(server: Canned, decisions: List[Any]) -> None:
    server.answers.append({"code": 4430, "message": "invalid receiptHandle", "requestId": "r"})
    session, _ = make_session(server.url())
    result = cmq.delete(session, "q1", ["h1", "h2"])
    assert result == cmq.DeleteResult((), ("h1", "h2"), {})
    [(name, fields)] = decisions
    assert name == "cmq_receipt_handle_stale" and fields["level"] == 30 and fields["receipt_handles"] == ["h1", "h2"]


def test_partly_failed_delete_sorts_each_handle(server: Canned, decisions: List[Any]) -> None:
    server.answers.append(
        {
            "code": 6010,
            "message": "batch delete partly failed",
            "requestId": "r-6010",
            "errorList": [
                {"code": 4430, "message": "receipt handle expired", "receiptHandle": "h2"},
                {"code": 6000, "message": "internal error", "receiptHandle": "h3"},
                {"code": 6000, "message": "not ours", "receiptHandle": "other"},
            ],
        }
    )
    session, _ = make_session(server.url())
    result = cmq.delete(session, "q1", ["h1", "h2", "h3"])
    assert result.deleted == ("h1",) and result.stale == ("h2",) and set(result.failed) == {"h3"}
    failure = result.failed["h3"]
    assert (failure.code, failure.action, failure.request_id) == ("InternalError.Cmq", "cmq:BatchDeleteMessage", "r-6010")
    assert [name for name, _ in decisions] == ["cmq_receipt_handle_stale"]


def test_all_failed_delete_sorts_each_handle(server: Canned) -> None:
    server.answers.append(
        {
            "code": 6020,
            "message": "batch delete all failed",
            "requestId": "r-6020",
            "errorList": [
                {"code": 4430, "Message": "expired", "receiptHandle": "h1"},
                {"code": 4000, "Message": "bad handle", "receiptHandle": "h2"},
            ],
        }
    )
    session, _ = make_session(server.url())
    result = cmq.delete(session, "q1", ["h1", "h2", "h3"])
    assert result.deleted == () and result.stale == ("h1",) and set(result.failed) == {"h2", "h3"}
    assert result.failed["h2"].code == "InvalidParameter.CmqInvalidParameter" and result.failed["h2"].message == "bad handle"
    assert is_permanent(result.failed["h2"].code)
    assert result.failed["h3"].code == "FailedOperation.CmqDeleteFailed"
    assert session.calls.total == 1


@pytest.mark.parametrize(
    "refusal", [{"code": 4420, "message": "qps limit"}, {"code": 6000, "message": "internal"}, (502, "<html>bad gateway</html>")]
)
def test_throttling_and_internal_errors_are_retried(server: Canned, decisions: List[Any], refusal: Answer) -> None:
    server.answers.extend([refusal, {"code": 0, "msgInfoList": [{"msgId": "m1", "receiptHandle": "rh1", "msgBody": "b"}]}])
    session, clock = make_session(server.url())
    assert [m.msg_id for m in cmq.receive(session, "q1")] == ["m1"]
    assert session.calls.counts == {"cmq:BatchReceiveMessage": 2}
    assert len(clock.slept) == 1 and clock.slept[0] >= 0
    assert server.requests[0]["form"]["Nonce"] != server.requests[1]["form"]["Nonce"] or (
        server.requests[0]["form"]["Signature"] != server.requests[1]["form"]["Signature"]
    )
    assert [name for name, _ in decisions] == ["retrying"]


def test_authentication_failure_raises_a_permanent_error_without_secrets(server: Canned, decisions: List[Any]) -> None:
    def refuse(form: Dict[str, str]) -> Dict[str, Any]:
        token = form.get("Token") or ""
        echoed = f"bad signature {form['Signature']} key {SECRET_KEY} token {token} {quote_plus(token)} " + "x" * 500
        return {"code": 4100, "message": echoed, "requestId": "r-4100"}

    server.answers.append(refuse)
    session, clock = make_session(server.url("/v2/index.php"), token=TOKEN)
    with pytest.raises(CloudError) as caught:
        cmq.receive(session, "q1")
    exc = caught.value
    assert exc.code == "AuthFailure.CmqAuthentication" and is_permanent(exc.code) and not is_retryable(exc.code)
    assert exc.failure.action == "cmq:BatchReceiveMessage" and exc.failure.request_id == "r-4100"
    assert len(exc.failure.message) <= cmq.MESSAGE_CHARS
    assert exc.__cause__ is None and exc.__context__ is None
    signature = server.requests[0]["form"]["Signature"]
    for text in (str(exc), repr(exc), repr(exc.failure), repr(decisions)):
        assert_no_secret(text)
        assert signature not in text
    assert session.calls.total == 1 and clock.slept == []


def test_permanent_delete_failure_stops_the_remaining_chunks(server: Canned) -> None:
    server.answers.append({"code": 4440, "message": "queue does not exist", "requestId": "r"})
    session, _ = make_session(server.url())
    handles = [f"h{i}" for i in range(20)]
    result = cmq.delete(session, "q1", handles)
    assert result.deleted == () and set(result.failed) == set(handles)
    assert {f.code for f in result.failed.values()} == {"ResourceNotFound.CmqQueue"}
    assert session.calls.total == 1


def test_send_refused_raises(server: Canned) -> None:
    server.answers.append({"code": 4400, "message": "message too large"})
    session, _ = make_session(server.url())
    with pytest.raises(CloudError) as caught:
        cmq.send(session, "q1", "x")
    assert caught.value.code == "InvalidParameter.CmqMessageTooLarge" and is_permanent(caught.value.code)


def test_unknown_codes_are_neither_retried_nor_permanent(server: Canned) -> None:
    server.answers.append({"code": 4410, "message": "queue full"})
    session, _ = make_session(server.url())
    with pytest.raises(CloudError) as caught:
        cmq.send(session, "q1", "x")
    assert caught.value.code == "LimitExceeded.CmqQueueFull"
    assert not is_retryable(caught.value.code) and not is_permanent(caught.value.code)
    assert session.calls.total == 1


# -- time ----------------------------------------------------------------------------------------------


def test_network_errors_are_retried_inside_the_deadline() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    session, clock = make_session(f"http://127.0.0.1:{port}", seconds=3.0)
    with pytest.raises(CloudError) as caught:
        cmq.send(session, "q1", "x")
    assert caught.value.code == "ClientNetworkError.CmqConnection"
    assert session.calls.total > 1 and sum(clock.slept) < 3.0
    assert caught.value.__context__ is None
    assert_no_secret(str(caught.value))


class Spy:
    """Records the timeouts the client gives `requests` and answers like an empty queue."""

    def __init__(self, clock: Clock, deadline: Deadline) -> None:
        self.clock, self.deadline = clock, deadline
        self.seen: List[Tuple[float, Tuple[float, float], Dict[str, str]]] = []

    def post(self, url: str, data: Dict[str, str], timeout: Tuple[float, float], **_: Any) -> Any:
        self.seen.append((self.deadline.remaining(), timeout, data))

        class Reply:
            status_code = 200
            content = b'{"code": 7000, "message": "no message"}'

        return Reply()


@pytest.mark.parametrize("seconds, poll, sent_poll", [(60, 30, 30), (30, 3, 3), (4.5, 3, 1), (2.2, 3, 0), (0.3, 3, 0)])
def test_socket_timeout_is_the_poll_plus_a_margin_within_the_budget(
    monkeypatch: pytest.MonkeyPatch, seconds: float, poll: int, sent_poll: int
) -> None:
    session, clock = make_session("http://127.0.0.1:1", seconds=seconds)
    session.reserved_calls = 0  # no queue sends kept back: the receive's budget is what the deadline leaves
    spy = Spy(clock, session.deadline)
    monkeypatch.setattr(cmq, "_http", lambda: spy)
    assert cmq.receive(session, "q1", poll_seconds=poll) == []
    [(left, (connect, read), form)] = spy.seen
    assert connect + read <= left
    assert int(form["pollingWaitSeconds"]) == sent_poll
    assert read == pytest.approx(min(sent_poll + cmq.MARGIN_SECONDS, left - connect))
    assert read > sent_poll


def test_no_call_is_started_without_time_for_it(server: Canned) -> None:
    session, _ = make_session(server.url(), seconds=0.01)
    with pytest.raises(CloudError) as caught:
        cmq.receive(session, "q1")
    assert caught.value.code == "ClientDeadlineExceeded"
    assert session.calls.total == 0 and server.requests == []


def test_a_hung_server_costs_no_more_than_the_budget(server: Canned) -> None:
    server.answers.extend([("sleep", 3.0)] * 4)
    settings = Settings(secret_id=SECRET_ID, secret_key=SECRET_KEY, cmq_endpoint=server.url())
    session = CloudSession(settings, Deadline(time.monotonic() + 1.0, 0.0), rng=random.Random(5))
    started = time.monotonic()
    with pytest.raises(CloudError) as caught:
        cmq.receive(session, "q1", poll_seconds=3)
    assert time.monotonic() - started < 1.4
    assert caught.value.code in ("ClientNetworkError.CmqTimeout", "ClientDeadlineExceeded")


def test_session_budget_accessors_match_the_private_ones() -> None:
    session, clock = make_session("http://127.0.0.1:1", seconds=10.0)
    session.deadline.margin = 2.0
    assert session.work_budget() == pytest.approx(8.0)
    assert session.final_budget() == pytest.approx(10.0 - session.ANSWER_SECONDS)
    waits: List[float] = []
    session.sleep = waits.append
    session.back_off("cmq", CloudFailure("RequestLimitExceeded.CmqQps", "", "cmq:X"), 1, session.work_budget)
    assert len(waits) == 1 and waits[0] > 0
    with pytest.raises(CloudError):  # not worth another try
        session.back_off("cmq", CloudFailure("AuthFailure.CmqAuthentication", "", "cmq:X"), 1, session.work_budget)
