"""Duplicate deliveries and concurrent invocations for the same instance are safe."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.estates import TOKEN_LEAVING_1, cmq_event, lifecycle_message

OWN_QUEUE = "clb-unbind-lifecycle"
"""The queue the demo hook notifies: its lifecycle actions are the function's to complete."""


def test_duplicate_records_in_one_event_share_one_unbind(emulator: Any, invoke: Any) -> None:
    body = lifecycle_message("ins-web00001", TOKEN_LEAVING_1)
    answer = invoke(cmq_event(body, body), CLB_UNBIND_QUEUE=OWN_QUEUE)
    assert [r["status"] for r in answer["records"]] == ["done", "done"]
    assert emulator.count("BatchDeregisterTargets") == 2  # one per load balancer, not per record
    assert emulator.count("CompleteLifecycleAction") == 1
    assert emulator.bindings("ins-web00001") == []


def test_concurrent_invocations_for_the_same_instance(emulator: Any, invoke: Any) -> None:
    event = cmq_event(lifecycle_message("ins-web00001", TOKEN_LEAVING_1))
    staying = {i: emulator.bindings(i) for i in ("ins-web00002", "ins-web00003", "ins-web00004")}
    with ThreadPoolExecutor(max_workers=3) as pool:
        answers = list(pool.map(lambda _: invoke(event, CLB_UNBIND_QUEUE=OWN_QUEUE), range(3)))
    for answer in answers:
        instance = answer["records"][0]["instances"][0]
        assert instance["status"] in ("unbound", "not_bound") and instance["lifecycleCompleted"] is True
    assert emulator.bindings("ins-web00001") == []
    assert {i: emulator.bindings(i) for i in staying} == staying
    (action,) = [r for r in emulator.lifecycle_results() if r["instanceId"] == "ins-web00001"]
    assert action["result"] == "CONTINUE"
    accepted = [c for c in emulator.calls if c.action == "CompleteLifecycleAction" and c.error_code is None]
    assert len(accepted) == 1


def test_a_retry_never_names_more_than_the_original(emulator: Any, invoke: Any) -> None:
    emulator.lock_load_balancer("lb-web00002", 60)
    invoke({"instanceIds": ["ins-web00001", "ins-web00004"]}, timeout_ms=4000, CLB_UNBIND_ENVELOPE_SECRET="idempotency-envelope-key",
           CLB_UNBIND_SAFETY_MARGIN_SECONDS="0.5", CLB_UNBIND_RETRY_QUEUE="clb-unbind-retry")
    (message,) = emulator.messages("clb-unbind-retry")
    envelope = json.loads(message["body"])
    assert {n["instanceId"] for n in envelope["notices"]} <= {"ins-web00001", "ins-web00004"}
    emulator.release_load_balancer("lb-web00002")
    answer = invoke(cmq_event(message["body"]), CLB_UNBIND_RETRY_QUEUE="clb-unbind-retry")
    instances = answer["records"][0]["instances"]
    assert {i["instanceId"] for i in instances} == {n["instanceId"] for n in envelope["notices"]}
    assert all(i["attempt"] == 2 and i["status"] == "unbound" for i in instances)
    assert emulator.bindings("ins-web00001") == [] and emulator.bindings("ins-web00004") == []
