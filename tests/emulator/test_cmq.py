"""CMQ data plane (API 2.0) on the API 3.0 port: signature, visibility, long polling, delay, dead letters,
batch limits, fault knobs, and the bridge from API 3.0 SendCmqMsg."""
from __future__ import annotations

import threading
import time

import pytest
import requests

from emulator import Emulator

from .cmq_wire import CmqWire
from .conftest import Cloud

WORK = "cmq-work"  # visibilityTimeout 1, dead letters to cmq-work-dead after 2 receives


@pytest.fixture
def wire(emu: Emulator) -> CmqWire:
    sid, key, _ = emu.credentials
    return CmqWire(emu.host_port, sid, key)


def temp_wire(emu: Emulator, **kw) -> CmqWire:
    cred = emu._estate.credentials[1]  # the estate's temporary credential, with a session token
    return CmqWire(emu.host_port, cred.secret_id, cred.secret_key, **kw)


# ------------------------------------------------------------------------------------------ signature
@pytest.mark.parametrize("method", ["HmacSHA1", "HmacSHA256"])
@pytest.mark.parametrize("path", ["/", "/v2/index.php"])
def test_both_signature_methods_on_both_paths(emu: Emulator, method: str, path: str) -> None:
    sid, key, _ = emu.credentials
    wire = CmqWire(emu.host_port, sid, key, path=path, method=method)
    sent = wire("SendMessage", queueName=WORK, msgBody="hello world & more")
    assert sent["code"] == 0 and sent["message"] == "" and sent["requestId"] and sent["msgId"]
    got = wire("ReceiveMessage", queueName=WORK, pollingWaitSeconds=0)
    assert got["code"] == 0 and got["msgBody"] == "hello world & more" and got["msgId"] == sent["msgId"]


def test_bad_signature_unknown_secret_and_stale_timestamp_are_4100(emu: Emulator, wire: CmqWire) -> None:
    params = wire.params("SendMessage", queueName=WORK, msgBody="x")
    assert wire.post(dict(params, Signature="bm90IGEgc2lnbmF0dXJl"), sign=False)["code"] == 4100
    assert wire.post(wire.params("SendMessage", queueName=WORK, msgBody="x"), sign=False)["code"] == 4100
    other = CmqWire(emu.host_port, "AKIDNOBODY", "whatever")
    assert other("SendMessage", queueName=WORK, msgBody="x")["code"] == 4100
    stale = dict(params, Timestamp=str(int(time.time()) - 3600))
    assert wire.post(stale)["code"] == 4100
    wrong_key = CmqWire(emu.host_port, wire.secret_id, "not-the-key")
    assert wrong_key("SendMessage", queueName=WORK, msgBody="x")["code"] == 4100
    assert wire.post(dict(params, SignatureMethod="HmacMD5"))["code"] == 4000
    assert emu.messages(WORK) == []
    assert {c.error_code for c in emu.calls} == {"4100", "4000"} and all(c.service == "cmq" for c in emu.calls)
    assert all("Signature" not in c.params for c in emu.calls)


def test_a_temporary_credential_needs_its_token(emu: Emulator) -> None:
    token = emu._estate.credentials[1].token
    assert temp_wire(emu)("SendMessage", queueName=WORK, msgBody="x")["code"] == 4100
    assert temp_wire(emu, token="wrong")("SendMessage", queueName=WORK, msgBody="x")["code"] == 4100
    assert temp_wire(emu, token=token)("SendMessage", queueName=WORK, msgBody="x")["code"] == 0
    sid, key, _ = emu.credentials
    assert CmqWire(emu.host_port, sid, key, token=token)("SendMessage", queueName=WORK, msgBody="x")["code"] == 4100
    assert len(emu.messages(WORK)) == 1


def test_api3_json_on_the_same_port_is_unaffected(cloud: Cloud, wire: CmqWire) -> None:
    assert cloud.call("cvm", "DescribeInstances").TotalCount == 5
    assert wire("SendMessage", queueName=WORK, msgBody="x")["code"] == 0
    assert [c.service for c in cloud.emu.calls] == ["cvm", "cmq"]


# ------------------------------------------------------------------------------------------ semantics
def test_visibility_timeout_redelivers_with_a_fresh_handle_and_the_stale_one_is_4430(emu: Emulator, wire: CmqWire) -> None:
    wire("SendMessage", queueName=WORK, msgBody="job")
    first = wire("ReceiveMessage", queueName=WORK, pollingWaitSeconds=0)
    assert first["dequeueCount"] == 1 and first["nextVisibleTime"] >= first["enqueueTime"]
    assert emu.queue_state(WORK) == {"visible": 0, "inFlight": 1, "delayed": 0}
    assert wire("ReceiveMessage", queueName=WORK, pollingWaitSeconds=0)["code"] == 7000
    time.sleep(1.1)
    second = wire("ReceiveMessage", queueName=WORK, pollingWaitSeconds=0)
    assert second["msgId"] == first["msgId"] and second["receiptHandle"] != first["receiptHandle"]
    assert second["dequeueCount"] == 2
    assert wire("DeleteMessage", queueName=WORK, receiptHandle=first["receiptHandle"])["code"] == 4430
    assert wire("DeleteMessage", queueName=WORK, receiptHandle=second["receiptHandle"])["code"] == 0
    assert emu.messages(WORK) == [] and emu.queue_state(WORK) == {"visible": 0, "inFlight": 0, "delayed": 0}
    assert wire("DeleteMessage", queueName=WORK, receiptHandle=second["receiptHandle"])["code"] == 4430


def test_an_expired_handle_is_4430(wire: CmqWire) -> None:
    wire("SendMessage", queueName=WORK, msgBody="job")
    got = wire("ReceiveMessage", queueName=WORK, pollingWaitSeconds=0)
    time.sleep(1.1)
    assert wire("DeleteMessage", queueName=WORK, receiptHandle=got["receiptHandle"])["code"] == 4430


def test_long_poll_returns_as_soon_as_a_message_arrives_and_others_proceed(emu: Emulator, wire: CmqWire) -> None:
    result: dict = {}

    def poll() -> None:
        start = time.monotonic()
        result["answer"] = wire("BatchReceiveMessage", queueName=WORK, numOfMsg=16, pollingWaitSeconds=10)
        result["took"] = time.monotonic() - start

    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.4)
    start = time.monotonic()
    assert wire("SendMessage", queueName=WORK, msgBody="wake up")["code"] == 0  # not blocked by the poll
    assert time.monotonic() - start < 0.5
    t.join(5)
    assert result["answer"]["code"] == 0 and [m["msgBody"] for m in result["answer"]["msgInfoList"]] == ["wake up"]
    assert 0.3 < result["took"] < 2


def test_long_poll_waits_then_answers_7000(wire: CmqWire) -> None:
    start = time.monotonic()
    assert wire("ReceiveMessage", queueName=WORK, pollingWaitSeconds=1)["code"] == 7000
    assert 0.9 < time.monotonic() - start < 2.5
    start = time.monotonic()
    assert wire("ReceiveMessage", queueName="cmq-polled")["code"] == 7000  # the queue's own pollingWaitSeconds
    assert 0.9 < time.monotonic() - start < 2.5


def test_delay_seconds_hides_a_sent_message(emu: Emulator, wire: CmqWire) -> None:
    wire("SendMessage", queueName=WORK, msgBody="later", delaySeconds=1)
    assert emu.queue_state(WORK) == {"visible": 0, "inFlight": 0, "delayed": 1}
    assert wire("ReceiveMessage", queueName=WORK, pollingWaitSeconds=0)["code"] == 7000
    start = time.monotonic()
    got = wire("ReceiveMessage", queueName=WORK, pollingWaitSeconds=3)  # wakes when the delay ends
    assert got["msgBody"] == "later" and time.monotonic() - start < 2


def test_dead_letter_after_max_receive_count(emu: Emulator, wire: CmqWire) -> None:
    wire("SendMessage", queueName=WORK, msgBody="poison")
    for _ in range(2):
        assert wire("ReceiveMessage", queueName=WORK, pollingWaitSeconds=2)["msgBody"] == "poison"
    time.sleep(1.1)
    assert wire("ReceiveMessage", queueName=WORK, pollingWaitSeconds=0)["code"] == 7000
    assert emu.messages(WORK) == []
    (dead,) = emu.messages("cmq-work-dead")
    assert dead["body"] == "poison" and dead["state"] == "visible"
    assert wire("ReceiveMessage", queueName="cmq-work-dead", pollingWaitSeconds=0)["msgBody"] == "poison"


def test_batch_send_receive_delete(emu: Emulator, wire: CmqWire) -> None:
    sent = wire("BatchSendMessage", queueName=WORK, msgBody__1="a", msgBody__2="b", msgBody__3="c")
    assert sent["code"] == 0 and len(sent["msgList"]) == 3
    got = wire("BatchReceiveMessage", queueName=WORK, numOfMsg=2, pollingWaitSeconds=0)
    assert [m["msgBody"] for m in got["msgInfoList"]] == ["a", "b"]
    assert set(got["msgInfoList"][0]) == {"msgBody", "msgId", "receiptHandle", "enqueueTime", "nextVisibleTime",
                                          "dequeueCount", "firstDequeueTime"}
    handles = [m["receiptHandle"] for m in got["msgInfoList"]]
    partly = wire("BatchDeleteMessage", queueName=WORK, receiptHandle__0=handles[0], receiptHandle__1="nope")
    assert partly["code"] == 6010 and partly["errorList"] == [
        {"code": 4430, "message": partly["errorList"][0]["message"], "receiptHandle": "nope"}]
    assert wire("BatchDeleteMessage", queueName=WORK, receiptHandle__0=handles[0])["code"] == 6020
    assert wire("BatchDeleteMessage", queueName=WORK, receiptHandle__1=handles[1])["code"] == 0
    assert [m["body"] for m in emu.messages(WORK)] == ["c"]


def test_batch_limits_and_bad_parameters_are_4000(emu: Emulator, wire: CmqWire) -> None:
    def code(action: str, **kw) -> int:
        return wire(action, **kw)["code"]

    assert code("BatchSendMessage", queueName=WORK, **{f"msgBody__{i}": "x" for i in range(17)}) == 4000
    assert code("BatchDeleteMessage", queueName=WORK, **{f"receiptHandle__{i}": "h" for i in range(1, 18)}) == 4000
    assert code("BatchDeleteMessage", queueName=WORK, receiptHandle__0="h", receiptHandle__2="h") == 4000
    assert code("BatchDeleteMessage", queueName=WORK, receiptHandle__2="h") == 4000
    assert code("BatchReceiveMessage", queueName=WORK, numOfMsg=17) == 4000
    assert code("BatchReceiveMessage", queueName=WORK, numOfMsg=0) == 4000
    assert code("BatchReceiveMessage", queueName=WORK) == 4000
    assert code("ReceiveMessage", queueName=WORK, pollingWaitSeconds=31) == 4000
    assert code("ReceiveMessage", queueName=WORK, pollingWaitSeconds="soon") == 4000
    assert code("SendMessage", queueName=WORK, msgBody="") == 4000
    assert code("SendMessage", queueName=WORK, msgBody="x", delaySeconds=99999) == 4000
    assert code("SendMessage", queueName="cmq-polled", msgBody="x" * 1025) == 4000
    assert code("SendMessage", queueName=WORK, msgBody="x", colour="red") == 4000
    assert code("PeekMessage", queueName=WORK) == 4000
    assert code("SendMessage", queueName="no-such-queue", msgBody="x") == 4440
    assert code("ReceiveMessage", queueName="no-such-queue") == 4440
    assert emu.messages(WORK) == []


def test_send_cmq_msg_is_read_by_batch_receive_after_its_delay(cloud: Cloud, wire: CmqWire) -> None:
    cloud.call("tdmq", "SendCmqMsg", {"QueueName": WORK, "MsgContent": "now"})
    resp = cloud.call("tdmq", "SendCmqMsg", {"QueueName": WORK, "MsgContent": "later", "DelaySeconds": 1})
    got = wire("BatchReceiveMessage", queueName=WORK, numOfMsg=16, pollingWaitSeconds=0)
    assert [m["msgBody"] for m in got["msgInfoList"]] == ["now"]
    got = wire("BatchReceiveMessage", queueName=WORK, numOfMsg=16, pollingWaitSeconds=3)
    assert [(m["msgId"], m["msgBody"]) for m in got["msgInfoList"]] == [(resp.MsgId, "later")]


def test_admin_queues_endpoint(emu: Emulator, wire: CmqWire) -> None:
    wire("SendMessage", queueName=WORK, msgBody="x")
    wire("SendMessage", queueName=WORK, msgBody="y", delaySeconds=60)
    states = requests.get(emu.endpoint + "/_emulator/queues", timeout=5).json()
    assert states[WORK] == {"visible": 1, "inFlight": 0, "delayed": 1}
    assert states["cmq-work-dead"] == {"visible": 0, "inFlight": 0, "delayed": 0}
    assert emu.state()["queues"][2]["name"] == WORK and emu.state()["queues"][2]["messages"] == 2


# ------------------------------------------------------------------------------------------ knobs
def test_cmq_error_knob_limited_to_actions(emu: Emulator, wire: CmqWire) -> None:
    emu.set_knobs(cmq_error_rate=1.0, cmq_error_code=6000, cmq_fault_actions="BatchReceiveMessage")
    assert wire("SendMessage", queueName=WORK, msgBody="x")["code"] == 0
    assert wire("BatchReceiveMessage", queueName=WORK, numOfMsg=1, pollingWaitSeconds=0)["code"] == 6000
    emu.set_knobs(cmq_error_code=4420, cmq_fault_actions=[])
    assert wire("SendMessage", queueName=WORK, msgBody="y")["code"] == 4420
    assert [m["body"] for m in emu.messages(WORK)] == ["x"] and emu.queue_state(WORK)["visible"] == 1
    with pytest.raises(ValueError):
        emu.set_knobs(cmq_error_code=1234)


def test_cmq_empty_knob_answers_7000_while_messages_wait(emu: Emulator, wire: CmqWire) -> None:
    wire("SendMessage", queueName=WORK, msgBody="x")
    emu.set_knobs(cmq_empty_rate=1.0)
    start = time.monotonic()
    assert wire("BatchReceiveMessage", queueName=WORK, numOfMsg=16, pollingWaitSeconds=5)["code"] == 7000
    assert time.monotonic() - start < 1 and emu.queue_state(WORK)["visible"] == 1
    emu.set_knobs(cmq_empty_rate=0.0)
    assert wire("ReceiveMessage", queueName=WORK, pollingWaitSeconds=0)["msgBody"] == "x"


def test_cmq_duplicate_knob_delivers_again(emu: Emulator, wire: CmqWire) -> None:
    wire("SendMessage", queueName=WORK, msgBody="twice")
    emu.set_knobs(cmq_duplicate_rate=1.0)
    first = wire("ReceiveMessage", queueName=WORK, pollingWaitSeconds=0)
    emu.set_knobs(cmq_duplicate_rate=0.0)
    second = wire("ReceiveMessage", queueName=WORK, pollingWaitSeconds=0)
    assert first["msgId"] == second["msgId"] and first["receiptHandle"] != second["receiptHandle"]
    assert wire("DeleteMessage", queueName=WORK, receiptHandle=first["receiptHandle"])["code"] == 4430
    assert wire("DeleteMessage", queueName=WORK, receiptHandle=second["receiptHandle"])["code"] == 0


def test_cmq_rate_limit_is_4420(emu: Emulator, wire: CmqWire) -> None:
    emu.set_knobs(cmq_rate_limit_per_second=2)
    codes = [wire("SendMessage", queueName=WORK, msgBody="x")["code"] for _ in range(3)]
    assert codes == [0, 0, 4420]
