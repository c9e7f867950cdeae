"""Nothing lost at the door (issue 12, findings 4, 6 and 7): refusals cost one send after the real work,
every queued message fits, and an HTTP caller hears 503 whenever its unfinished work was not queued."""
from __future__ import annotations

import hashlib
import json
from typing import Any, Dict

from tests.conftest import load_event
from tests.estates import TOKEN_LEAVING_1, lifecycle_message
from tests.signing import signed

DEAD = "clb-unbind-dead-letter"
RETRY = "clb-unbind-retry"
MAX_MESSAGE = 1024 * 1024


def ckafka(*bodies: str) -> Dict[str, Any]:
    return {"Records": [{"Ckafka": {"topic": "t", "partition": 0, "offset": i, "msgKey": "k", "msgBody": b}}
                        for i, b in enumerate(bodies)]}


def drain(emulator: Any, invoke: Any, **env: str) -> Dict[str, Any]:
    """An API Gateway drain of ins-web00001 while lb-web00002 stays busy: the work cannot finish."""
    emulator.lock_load_balancer("lb-web00002", 60)
    event = load_event("apigw-drain.json")
    event["body"] = json.dumps({"instanceIds": ["ins-web00001"]})
    return invoke(signed(event), timeout_ms=4000, CLB_UNBIND_SAFETY_MARGIN_SECONDS="0.5", **env)


def test_unfinished_http_work_with_no_retry_queue_is_503(emulator: Any, invoke: Any) -> None:
    answer = drain(emulator, invoke)
    assert answer["statusCode"] == 503
    assert json.loads(answer["body"])["records"][0]["status"] == "failed"


def test_unfinished_http_work_whose_send_fails_is_503(emulator: Any, invoke: Any) -> None:
    emulator.set_knobs(send_result_false=True)
    answer = drain(emulator, invoke, CLB_UNBIND_RETRY_QUEUE=RETRY)
    record = json.loads(answer["body"])["records"][0]
    assert answer["statusCode"] == 503 and "retry_queued" not in record["status"]
    assert emulator.messages(RETRY) == []


def test_unfinished_http_work_that_was_queued_is_202(emulator: Any, invoke: Any) -> None:
    answer = drain(emulator, invoke, CLB_UNBIND_RETRY_QUEUE=RETRY)
    assert answer["statusCode"] == 202 and len(emulator.messages(RETRY)) == 1


def test_junk_ahead_of_real_work_costs_one_send_after_it(emulator: Any, invoke: Any) -> None:
    emulator.set_knobs(latency_seconds=0.01)
    junk = [f"junk {i}" for i in range(300)]
    answer = invoke(ckafka(*junk, lifecycle_message("ins-web00001", TOKEN_LEAVING_1)), timeout_ms=10000,
                    CLB_UNBIND_DEAD_LETTER_QUEUE=DEAD, CLB_UNBIND_QUEUE="clb-unbind-lifecycle")
    assert emulator.bindings("ins-web00001") == []
    assert [r["result"] for r in emulator.lifecycle_results() if r["instanceId"] == "ins-web00001"] == ["CONTINUE"]
    actions = [c.action for c in emulator.calls]
    assert actions.count("SendCmqMsg") == 1 and actions[-1] == "SendCmqMsg"  # after the real work, once
    (dead,) = [json.loads(m["body"]) for m in emulator.messages(DEAD)]
    assert len(dead["refused"]) == 300 and [r["status"] for r in answer["records"]].count("refused") == 300


def test_a_dead_letter_always_fits_in_one_message(emulator: Any, invoke: Any) -> None:
    quotes = '"' * 600_000  # JSON-escaped into an envelope, it doubles past 1 MiB
    answer = invoke(ckafka(quotes, "x" * 1000), CLB_UNBIND_DEAD_LETTER_QUEUE=DEAD)
    assert [r["status"] for r in answer["records"]] == ["refused", "refused"]
    (message,) = emulator.messages(DEAD)
    assert len(message["body"].encode()) <= MAX_MESSAGE
    first, second = json.loads(message["body"])["refused"]
    assert first["original"] is None and second["original"] == "x" * 1000
    digest = first["originalDigest"]
    assert digest["bytes"] == 600_000 and digest["sha256"] == hashlib.sha256(quotes.encode()).hexdigest()
    assert digest["prefix"] == quotes[:1024]


def test_a_retry_envelope_of_a_huge_original_fits_too(emulator: Any, invoke: Any) -> None:
    from clb_unbind.wire.envelopes import MAX_MESSAGE_BYTES, RetryEnvelope
    from clb_unbind.model import Notice

    notice = Notice("ins-web00001", "ckafka", "INSTANCE_TERMINATING", "r-1")
    envelope = RetryEnvelope.from_notices([notice], attempt=2, original='"' * 600_000).fitted()
    assert envelope.json_bytes() <= MAX_MESSAGE_BYTES and envelope.original is None
    assert envelope.original_digest is not None and envelope.original_digest.bytes == 600_000
