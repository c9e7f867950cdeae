"""Cross-check with a CMQ client the project did not write: Tencent's qcloud-cmq-sdk-py3 0.1 (API 2.0,
posts to /v2/index.php, numbers batch fields from 1, adds RequestClient and UserpollingWaitSeconds).

It has no ``Token`` support, so these tests use the estate's permanent credential (the first one, no
token); the token path is covered by test_cmq.py through raw signed posts. It writes
``CMQ_python_sdk.log`` into the working directory when an ``Account`` is made, hence the chdir.
It imports ``mailcap``, which Python 3.13 removed: there the module is skipped (the project runs 3.10/3.11).
"""
from __future__ import annotations

from pathlib import Path

import pytest

Account = pytest.importorskip("cmq.account", reason="qcloud-cmq-sdk-py3 imports mailcap (gone in Python 3.13)").Account
from cmq.cmq_exception import CMQServerException  # noqa: E402
from cmq.queue import Message  # noqa: E402

from emulator import Emulator  # noqa: E402

QUEUE = "cmq-work"


@pytest.fixture
def account(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Account:
    monkeypatch.chdir(tmp_path)
    sid, key, token = emu.credentials
    assert token is None
    return Account(emu.endpoint, sid, key)


@pytest.mark.parametrize("sign", ["sha1", "sha256"])
def test_send_receive_delete_through_tencents_sdk(emu: Emulator, account: Account, sign: str) -> None:
    account.set_sign(sign)
    queue = account.get_queue(QUEUE)
    sent = queue.send_message(Message("hello from the SDK"))
    got = queue.receive_message(polling_wait_seconds=0)
    assert got.msgId == sent.msgId and got.msgBody == "hello from the SDK" and got.dequeueCount == 1
    queue.delete_message(got.receiptHandle)
    assert emu.messages(QUEUE) == []
    with pytest.raises(CMQServerException) as info:
        queue.receive_message(polling_wait_seconds=0)
    assert info.value.code == 7000
    with pytest.raises(CMQServerException) as info:
        queue.delete_message(got.receiptHandle)
    assert info.value.code == 4430
    assert {c.params["RequestClient"] for c in emu.calls} == {"SDK_Python_1.3"}
    assert {c.params["SignatureMethod"] for c in emu.calls} == {"HmacSHA256" if sign == "sha256" else "HmacSHA1"}


def test_batches_through_tencents_sdk(emu: Emulator, account: Account) -> None:
    queue = account.get_queue(QUEUE)
    sent = queue.batch_send_message([Message(f"m{i}") for i in range(3)])
    got = queue.batch_receive_message(16, polling_wait_seconds=0)
    assert [m.msgId for m in got] == [m.msgId for m in sent] and [m.msgBody for m in got] == ["m0", "m1", "m2"]
    queue.batch_delete_message([m.receiptHandle for m in got])
    assert emu.queue_state(QUEUE) == {"visible": 0, "inFlight": 0, "delayed": 0}
    with pytest.raises(CMQServerException) as info:
        account.get_queue("no-such-queue").send_message(Message("x"))
    assert info.value.code == 4440


def test_a_wrong_key_is_refused(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    sid, _, _ = emu.credentials
    with pytest.raises(CMQServerException) as info:
        Account(emu.endpoint, sid, "wrong-key").get_queue(QUEUE).send_message(Message("x"))
    assert info.value.code == 4100
