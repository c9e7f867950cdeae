"""The timer-triggered consumer of the lifecycle queue, through `main_handler` against the emulator."""
from __future__ import annotations

import json
import time
from typing import Any, Callable, Dict, List

import pytest

from bench.estates import DEAD_LETTER_QUEUE, LIFECYCLE_QUEUE, Shape, fleet_estate, leaving_id, staying_id
from tests.conftest import load_event, point_function_at
from tests.estates import send_to_queue

TIMER = load_event("timer.json")
GROUP = "asg-bench001"


def queue_env(emulator: Any, **extra: str) -> Dict[str, str]:
    return {"CLB_UNBIND_QUEUE": LIFECYCLE_QUEUE, "CLB_UNBIND_DEAD_LETTER_QUEUE": DEAD_LETTER_QUEUE,
            "CLB_UNBIND_POLL_SECONDS": "0", **extra}


@pytest.fixture
def make_fleet(make_emulator: Callable[..., Any], function_env: Dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """40 serving instances, each bound on 4 load balancers (L4 + L7) of 5, with 2 stayers per target list."""

    def start(visibility_timeout: int = 2, groups: int = 1) -> Any:
        emu = make_emulator(fleet_estate(Shape(leaving=40, load_balancers=5, bound_on=4), visibility_timeout, groups))
        return point_function_at(emu, monkeypatch)

    return start


@pytest.fixture
def fleet(make_fleet: Callable[..., Any]) -> Any:
    """The fleet with a 2 s visibility timeout, so that redelivery tests wait little."""
    return make_fleet()


def timer(invoke: Any, emulator: Any, timeout_ms: int = 30000, **extra: str) -> Dict[str, Any]:
    return invoke(TIMER, timeout_ms=timeout_ms, **queue_env(emulator, **extra))


def queue_is_empty(emulator: Any, queue: str = LIFECYCLE_QUEUE) -> bool:
    return emulator.queue_state(queue) == {"visible": 0, "inFlight": 0, "delayed": 0}


def completions(emulator: Any) -> Dict[str, List[Any]]:
    out: Dict[str, List[Any]] = {}
    for r in emulator.lifecycle_results():
        out.setdefault(r["instanceId"], []).append(r["result"])
    return out


def stayer_bindings(emulator: Any) -> List[Any]:
    return [emulator.bindings(staying_id(i)) for i in range(8)]


def test_forty_notifications_cost_one_unbind_per_load_balancer(make_fleet: Any, invoke: Any) -> None:
    # As deployed, the visibility timeout outlasts the run: 40 completions alone take 2 s at 20 a second.
    fleet = make_fleet(visibility_timeout=30)
    leaving = [leaving_id(i) for i in range(40)]
    stayers = stayer_bindings(fleet)
    fleet.scale_in(GROUP, leaving)
    assert fleet.queue_state(LIFECYCLE_QUEUE)["visible"] == 40
    answer = timer(invoke, fleet)
    assert fleet.count("BatchDeregisterTargets") <= 2 * 4
    assert all(fleet.bindings(i) == [] for i in leaving)
    assert completions(fleet) == {i: ["CONTINUE"] for i in leaving}
    assert all(r["completions"] == 1 for r in fleet.lifecycle_results())
    assert queue_is_empty(fleet) and stayer_bindings(fleet) == stayers
    assert answer["queue"]["received"] == 40 and answer["queue"]["deleted"] == 40
    assert fleet.count("DescribeAutoScalingInstances") == 1  # one trust check for the whole pass


def test_an_empty_queue_costs_one_receive(fleet: Any, invoke: Any) -> None:
    answer = timer(invoke, fleet, CLB_UNBIND_POLL_SECONDS="1")
    assert fleet.count("BatchReceiveMessage", "cmq") == 1
    assert answer["queue"]["stopped"] == "queue_empty" and answer["apiCalls"] == {"cmq:BatchReceiveMessage": 1}


def test_a_duplicate_delivery_unbinds_and_completes_once(fleet: Any, invoke: Any) -> None:
    actions = fleet.scale_in(GROUP, [leaving_id(0)])["actions"]
    body = fleet.messages(LIFECYCLE_QUEUE)[0]["body"]
    send_to_queue(fleet, LIFECYCLE_QUEUE, body)  # Auto Scaling delivers at least once
    answer = timer(invoke, fleet)
    assert [r["status"] for r in answer["records"]] == ["done", "done"]
    assert fleet.count("BatchDeregisterTargets") == 4 and fleet.count("CompleteLifecycleAction") == 1
    assert completions(fleet) == {leaving_id(0): ["CONTINUE"]} and queue_is_empty(fleet)
    # ... and a redelivery after the work is done finds nothing bound and the result already set.
    send_to_queue(fleet, LIFECYCLE_QUEUE, body)
    again = timer(invoke, fleet)
    assert again["records"][0]["instances"][0]["status"] == "not_bound" and fleet.count("BatchDeregisterTargets") == 4
    assert actions[0]["lifecycleHookId"] == "ash-bench001" and queue_is_empty(fleet)


def test_the_knob_that_delivers_twice_loses_nothing(fleet: Any, invoke: Any) -> None:
    fleet.scale_in(GROUP, [leaving_id(0), leaving_id(1)])
    fleet.set_knobs(cmq_duplicate_rate=1.0)
    timer(invoke, fleet, CLB_UNBIND_CONSUME_SECONDS="1")
    fleet.set_knobs(cmq_duplicate_rate=0.0)
    timer(invoke, fleet)
    assert completions(fleet) == {leaving_id(0): ["CONTINUE"], leaving_id(1): ["CONTINUE"]}
    assert fleet.count("BatchDeregisterTargets") == 4 and queue_is_empty(fleet)


def test_poison_is_dead_lettered_once_and_deleted(fleet: Any, invoke: Any) -> None:
    for body in ("not json", json.dumps({"hello": "world"}), json.dumps({"instanceIds": ["x" * 70000]})):
        send_to_queue(fleet, LIFECYCLE_QUEUE, body)
    answer = timer(invoke, fleet)
    assert [r["status"] for r in answer["records"]] == ["refused"] * 3
    (dead,) = [json.loads(m["body"]) for m in fleet.messages(DEAD_LETTER_QUEUE)]
    assert dead["reason"] == "refused_input" and len(dead["refused"]) == 3
    assert queue_is_empty(fleet) and fleet.count("BatchDeregisterTargets") == 0


def test_a_forged_notification_for_a_serving_instance_is_not_believed(fleet: Any, invoke: Any) -> None:
    fleet.scale_in(GROUP, [leaving_id(0)])
    token = fleet.lifecycle_results()[0]["token"]
    forged = json.loads(fleet.messages(LIFECYCLE_QUEUE)[0]["body"])
    forged["InstanceId"] = leaving_id(1)  # serving, but the message carries leaving_id(0)'s token
    send_to_queue(fleet, LIFECYCLE_QUEUE, json.dumps(forged))
    answer = timer(invoke, fleet)
    by_instance = {i["instanceId"]: i["status"] for r in answer["records"] for i in r["instances"]}
    assert by_instance == {leaving_id(0): "unbound", leaving_id(1): "refused"}
    assert fleet.bindings(leaving_id(1)) and fleet.bindings(leaving_id(0)) == []
    assert completions(fleet) == {leaving_id(0): ["CONTINUE"]} and token
    (dead,) = [json.loads(m["body"]) for m in fleet.messages(DEAD_LETTER_QUEUE)]
    assert dead["reason"] == "not_leaving" and dead["notices"][0]["instanceId"] == leaving_id(1)
    assert queue_is_empty(fleet)


def test_a_run_that_dies_before_deleting_is_finished_by_the_next(fleet: Any, invoke: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from clb_unbind import consumer

    fleet.scale_in(GROUP, [leaving_id(i) for i in range(3)])

    def die(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug between the work and the delete")

    with monkeypatch.context() as patch:
        patch.setattr(consumer.cmq, "delete", die)
        answer = timer(invoke, fleet)  # the run does not raise: it goes on to the sweep
    assert answer["queue"]["stopped"] == "pass_failed" and answer["queue"]["kept"] == 3
    assert all(fleet.bindings(leaving_id(i)) == [] for i in range(3))  # the work was done ...
    assert fleet.queue_state(LIFECYCLE_QUEUE)["inFlight"] == 3  # ... and its messages are still there
    time.sleep(2.2)  # the queue's visibility timeout
    answer = timer(invoke, fleet)
    assert [i["status"] for r in answer["records"] for i in r["instances"]] == ["not_bound"] * 3
    assert completions(fleet) == {leaving_id(i): ["CONTINUE"] for i in range(3)} and queue_is_empty(fleet)


def test_a_failing_delete_after_the_unbind_is_harmless(fleet: Any, invoke: Any) -> None:
    fleet.scale_in(GROUP, [leaving_id(0)])
    fleet.set_knobs(cmq_error_rate=1.0, cmq_error_code=6000, cmq_fault_actions=["BatchDeleteMessage"])
    answer = timer(invoke, fleet, timeout_ms=5000, CLB_UNBIND_SAFETY_MARGIN_SECONDS="1")
    assert answer["queue"]["deleted"] == 0 and answer["queue"]["stopped"] == "delete_failed"
    assert fleet.bindings(leaving_id(0)) == []
    fleet.set_knobs(cmq_error_rate=0.0)
    time.sleep(2.2)
    timer(invoke, fleet)
    assert completions(fleet) == {leaving_id(0): ["CONTINUE"]} and queue_is_empty(fleet)
    assert fleet.count("BatchDeregisterTargets") == 4


def test_the_queue_failing_deletes_nothing_and_loses_nothing(fleet: Any, invoke: Any) -> None:
    fleet.scale_in(GROUP, [leaving_id(0)])
    fleet.set_knobs(cmq_error_rate=1.0, cmq_error_code=6000)
    answer = timer(invoke, fleet, timeout_ms=8000)
    assert answer["queue"]["stopped"] == "receive_failed" and answer["queue"]["received"] == 0
    assert fleet.queue_state(LIFECYCLE_QUEUE)["visible"] == 1 and fleet.bindings(leaving_id(0))
    fleet.set_knobs(cmq_error_rate=0.0)
    timer(invoke, fleet)
    assert fleet.bindings(leaving_id(0)) == [] and queue_is_empty(fleet)


def test_dry_run_receives_and_changes_nothing(fleet: Any, invoke: Any) -> None:
    fleet.scale_in(GROUP, [leaving_id(0), leaving_id(1)])
    before = [fleet.bindings(leaving_id(i)) for i in range(2)]
    answer = timer(invoke, fleet, CLB_UNBIND_DRY_RUN="true")
    assert answer["queue"]["received"] == 2 and answer["queue"]["deleted"] == 0
    for action in ("BatchDeleteMessage", "BatchDeregisterTargets", "CompleteLifecycleAction", "SendCmqMsg", "SendMessage"):
        assert fleet.count(action) == 0, action
    assert [fleet.bindings(leaving_id(i)) for i in range(2)] == before
    assert {i["status"] for r in answer["records"] for i in r["instances"]} == {"planned"}


def test_unfinished_work_is_requeued_with_a_delay_before_the_original_goes(make_fleet: Any, invoke: Any) -> None:
    fleet = make_fleet(visibility_timeout=30)  # as deployed: longer than the run
    fleet.scale_in(GROUP, [leaving_id(0)])
    for lb in ("lb-bn000000", "lb-bn000001", "lb-bn000002", "lb-bn000003"):
        fleet.lock_load_balancer(lb, 60)
    answer = timer(invoke, fleet, timeout_ms=6000, CLB_UNBIND_SAFETY_MARGIN_SECONDS="1", CLB_UNBIND_RETRY_BASE_SECONDS="30")
    assert answer["records"][0]["status"] == "retry_queued", answer["records"]
    (message,) = fleet.messages(LIFECYCLE_QUEUE)  # the original is deleted; the retry envelope waits
    assert message["state"] == "delayed" and json.loads(message["body"])["kind"] == "clb-unbind/retry"
    assert fleet.lifecycle_results()[0]["result"] is None


def test_the_deadline_cuts_a_run_short_and_the_next_finishes(fleet: Any, invoke: Any) -> None:
    leaving = [leaving_id(i) for i in range(40)]
    fleet.scale_in(GROUP, leaving)
    fleet.set_knobs(latency_seconds=0.05)
    first = timer(invoke, fleet, timeout_ms=2500, CLB_UNBIND_SAFETY_MARGIN_SECONDS="0.5",
                  CLB_UNBIND_MAX_INSTANCES_PER_PASS="16", CLB_UNBIND_RETRY_BASE_SECONDS="0")
    assert first["queue"]["stopped"] == "deadline"
    assert first["queue"]["received"] < 40
    fleet.set_knobs(latency_seconds=0.0)
    time.sleep(2.2)  # what the cut pass left in flight comes back; what it re-queued has no delay
    timer(invoke, fleet)
    assert all(fleet.bindings(i) == [] for i in leaving)
    assert completions(fleet) == {i: ["CONTINUE"] for i in leaving} and queue_is_empty(fleet)


def test_a_timer_without_a_queue_does_nothing_but_say_so(fleet: Any, invoke: Any) -> None:
    answer = invoke(TIMER)
    assert answer["error"] == "CLB_UNBIND_QUEUE is not set" and fleet.calls == []


def test_a_pass_gathers_at_most_its_cap_of_instances(fleet: Any, invoke: Any) -> None:
    fleet.scale_in(GROUP, [leaving_id(i) for i in range(40)])
    answer = timer(invoke, fleet, CLB_UNBIND_MAX_INSTANCES_PER_PASS="16")
    assert answer["queue"]["passes"] == 3 and answer["queue"]["deleted"] == 40  # 16 + 16 + 8
    assert fleet.count("BatchDeregisterTargets") == 3 * 4


# -- a pass is bounded, and nothing received is dropped (issue 15, point 4) ----------------------------------

def fill(emulator: Any, bodies: List[str]) -> None:
    emulator.set_knobs(rate_limit_per_second=0)
    for body in bodies:
        send_to_queue(emulator, LIFECYCLE_QUEUE, body)
    emulator.set_knobs(rate_limit_per_second=20)


def test_every_message_counts_toward_the_pass_cap(fleet: Any, invoke: Any) -> None:
    """Junk and INSTANCE_LAUNCHING name no instance to unbind; they used to never end a pass (3,001 in one)."""
    launching = json.loads(fleet.messages(LIFECYCLE_QUEUE)[0]["body"]) if fleet.scale_in(GROUP, [leaving_id(0)]) else {}
    launching["LifecycleTransition"] = "INSTANCE_LAUNCHING"
    fill(fleet, [json.dumps({"junk": n}) for n in range(30)] + [json.dumps(launching)] * 9)
    answer = timer(invoke, fleet, CLB_UNBIND_MAX_INSTANCES_PER_PASS="8")
    assert answer["queue"]["received"] == 40 and answer["queue"]["passes"] == 5  # 8 messages a pass, whatever they say
    assert all(call.params["numOfMsg"] == "8" for call in fleet.calls if call.action == "BatchReceiveMessage")
    assert fleet.bindings(leaving_id(0)) == [] and queue_is_empty(fleet)


@pytest.mark.parametrize("failure", ["exception", "cloud_error"])
def test_a_failure_mid_pass_still_handles_what_the_pass_holds_and_the_sweep_runs(
        fleet: Any, invoke: Any, monkeypatch: pytest.MonkeyPatch, failure: str) -> None:
    from clb_unbind import consumer
    from clb_unbind.cloud.errors import CloudError
    from clb_unbind.model import CloudFailure

    leaving = [leaving_id(i) for i in range(20)]
    fleet.scale_in(GROUP, leaving)
    real = consumer.cmq.receive
    receives: List[int] = []

    def second_fails(*args: Any, **kwargs: Any) -> Any:
        receives.append(1)
        if len(receives) == 2:
            if failure == "exception":
                raise RuntimeError("a bug in the middle of a pass")
            raise CloudError(CloudFailure("ServerNetworkError.CmqInvalidAnswer", "unreadable", "cmq:BatchReceiveMessage"))
        return real(*args, **kwargs)

    monkeypatch.setattr(consumer.cmq, "receive", second_fails)
    answer = timer(invoke, fleet, CLB_UNBIND_GROUPS=GROUP)
    first = [i for i in leaving if fleet.bindings(i) == []]
    assert answer["queue"]["received"] == 16 and answer["queue"]["deleted"] == 16
    assert answer["queue"]["stopped"] == ("receive_crashed" if failure == "exception" else "receive_failed")
    assert answer["sweep"]["error"] is None and answer["sweep"]["waiting"] == 4  # the sweep ran, after the pass
    assert len(first) == 20  # the 16 of the pass, and the sweep's 4 still waiting on their hook
    assert completions(fleet) == {i: ["CONTINUE"] for i in leaving}


def test_the_deadline_is_checked_before_every_receive(fleet: Any, invoke: Any) -> None:
    """A pass of junk, slow replies, little time: gathering stops for the deadline and what it holds is acknowledged."""
    fill(fleet, [json.dumps({"junk": n}) for n in range(96)])
    fleet.set_knobs(latency_seconds=0.4)
    answer = timer(invoke, fleet, timeout_ms=3000, CLB_UNBIND_SAFETY_MARGIN_SECONDS="0.5")
    fleet.set_knobs(latency_seconds=0.0)
    assert answer["queue"]["stopped"] == "deadline", answer["queue"]
    assert 0 < answer["queue"]["received"] < 96 and answer["queue"]["deleted"] == answer["queue"]["received"]


def test_a_malformed_queue_answer_ends_the_consumer_and_the_sweep_still_runs(fleet: Any, invoke: Any) -> None:
    """Issue 15 point 5: a code of "²" used to raise ValueError out of the timer run, before its sweep
    (the other malformed answers are in tests/unit/test_cmq_malformed.py)."""
    reply = '{"code": "\\u00b2", "message": "x"}'
    from tests.unit.test_cmq_client import Canned

    canned = Canned()
    canned.thread.start()
    try:
        canned.answers.extend([(200, reply)] * 50)
        scale_in_lost = [leaving_id(0), leaving_id(1)]
        fleet.scale_in(GROUP, scale_in_lost, publish=False)
        answer = timer(invoke, fleet, timeout_ms=10000, CLB_UNBIND_GROUPS=GROUP, CLB_UNBIND_CMQ_ENDPOINT=canned.url())
    finally:
        canned.server.shutdown()
        canned.server.server_close()
    assert answer["queue"]["stopped"] == "receive_failed" and answer["queue"]["received"] == 0
    assert answer["sweep"]["reconciled"] == scale_in_lost and completions(fleet) == {i: ["CONTINUE"] for i in scale_in_lost}
