"""A lifecycle or scale-in claim is checked with Auto Scaling on every trigger (issue 12, finding 1).

The demo estate: ins-web00001 and ins-web00002 wait on asg-group001's terminating hook; ins-web00003 and
ins-web00004 serve in the same group, on the same listeners.
"""
from __future__ import annotations

import copy
import json
from typing import Any, Callable, Dict

import pytest

from tests.conftest import load_event
from tests.estates import TOKEN_LEAVING_1, base_estate, cmq_event, lifecycle_message

DLQ = "clb-unbind-dead-letter"


def ckafka_event(body: str) -> Dict[str, Any]:
    return {"Records": [{"Ckafka": {"topic": "t", "partition": 0, "offset": 1, "msgKey": "k", "msgBody": body}}]}


def eventbridge_event(body: str) -> Dict[str, Any]:
    event = load_event("eventbridge-lifecycle.json")
    event["data"] = json.loads(body)
    return event


CARRIERS: Dict[str, Callable[[str], Dict[str, Any]]] = {
    "legacy-cmq": lambda body: cmq_event(body),
    "ckafka": ckafka_event,
    "eventbridge": eventbridge_event,
}


@pytest.mark.parametrize("carrier", sorted(CARRIERS))
def test_a_forged_lifecycle_message_never_unbinds_a_serving_instance(carrier: str, emulator: Any, invoke: Any) -> None:
    """A message naming a serving instance, carrying a leaving instance's token: nothing happens to either."""
    before = {i: emulator.bindings(i) for i in ("ins-web00001", "ins-web00003")}
    forged = lifecycle_message("ins-web00003", TOKEN_LEAVING_1)
    answer = invoke(CARRIERS[carrier](forged), CLB_UNBIND_DEAD_LETTER_QUEUE=DLQ)
    assert {i: emulator.bindings(i) for i in before} == before
    assert emulator.count("BatchDeregisterTargets") == 0 and emulator.count("CompleteLifecycleAction") == 0
    assert [r["result"] for r in emulator.lifecycle_results() if r["instanceId"] == "ins-web00001"] == [None]
    (record,) = answer["records"]
    assert record["status"] == "dead_lettered" and record["reason"] == "not_leaving"
    (dead,) = [json.loads(m["body"]) for m in emulator.messages(DLQ)]
    assert dead["reason"] == "not_leaving" and dead["notices"][0]["instanceId"] == "ins-web00003"


def test_the_token_of_another_instance_cannot_end_its_wait(emulator: Any, invoke: Any) -> None:
    """A leaving instance named with another leaving instance's token: completed by its own id, only its own."""
    invoke(cmq_event(lifecycle_message("ins-web00002", TOKEN_LEAVING_1)), CLB_UNBIND_QUEUE="clb-unbind-lifecycle")
    results = {r["instanceId"]: r["result"] for r in emulator.lifecycle_results()}
    assert results == {"ins-web00001": None, "ins-web00002": "CONTINUE"}
    (call,) = [c.params for c in emulator.calls if c.action == "CompleteLifecycleAction"]
    assert call["InstanceId"] == "ins-web00002" and "LifecycleActionToken" not in call


def test_auto_scaling_unreadable_means_retry_not_belief(emulator: Any, invoke: Any) -> None:
    emulator.set_knobs(error_rate=1.0, fault_actions=["DescribeAutoScalingInstances"])
    answer = invoke(cmq_event(lifecycle_message("ins-web00001", TOKEN_LEAVING_1)), CLB_UNBIND_RETRY_QUEUE="clb-unbind-retry")
    assert answer["records"][0]["status"] == "retry_queued"
    assert emulator.bindings("ins-web00001") and emulator.count("BatchDeregisterTargets") == 0


def test_direct_calls_are_an_operators_word(emulator: Any, invoke: Any) -> None:
    """An operator may drain a serving instance on purpose: no Auto Scaling check, no call to it."""
    invoke({"instanceIds": ["ins-web00003"]})
    assert emulator.bindings("ins-web00003") == []
    assert emulator.count("DescribeAutoScalingInstances") == 0


def test_a_failed_scale_in_activity_unbinds_nobody(make_emulator: Any, function_env: Any, monkeypatch: Any) -> None:
    estate = copy.deepcopy(base_estate())
    for instance in estate["activities"][0]["relatedInstances"]:
        instance["instanceStatus"] = "FAILED"
    emulator = make_emulator(estate)
    monkeypatch.setenv("CLB_UNBIND_ENDPOINT", emulator.endpoint)
    from index import main_handler

    before = emulator.bindings("ins-web00002")
    answer = main_handler(load_event("cmq-scaling-activity.json"), {"request_id": "t", "time_limit_in_ms": 30000})
    assert emulator.bindings("ins-web00002") == before and emulator.count("BatchDeregisterTargets") == 0
    assert all(not r["instances"] for r in answer["records"])


def test_eventbridge_cvm_type_counts_only_from_cvm_and_for_one_instance(emulator: Any, invoke: Any) -> None:
    sample = load_event("eventbridge-cvm-terminated.json")
    from_elsewhere = {**sample, "source": "my.own.app"}
    answer = invoke(from_elsewhere, CLB_UNBIND_DEAD_LETTER_QUEUE=DLQ)
    assert answer["records"][0]["status"] == "refused" and "source" in answer["records"][0]["reason"]
    many = {**sample, "data": {"instanceIds": ["ins-web00003", "ins-web00004"]}}
    answer = invoke(many, CLB_UNBIND_DEAD_LETTER_QUEUE=DLQ)
    assert answer["records"][0]["status"] == "refused"
    on_a_bus = {**load_event("eventbridge-lifecycle.json"), "data": {"instanceIds": ["ins-web00003"]}}
    answer = invoke(on_a_bus, CLB_UNBIND_DEAD_LETTER_QUEUE=DLQ)
    assert answer["records"][0]["status"] == "refused"
    assert emulator.bindings("ins-web00003") and emulator.bindings("ins-web00004")
    assert emulator.count("BatchDeregisterTargets") == 0
