"""Issue 15: a queue message is a claim, leaving means leaving, and only our own hooks are completed.

Each test plays an attacker who can write to the lifecycle queue (or a CKafka topic, or the legacy CMQ
topic), against the demo estate: ins-web00001 and ins-web00002 wait on asg-group001's own hook
ash-hook0001 (it notifies clb-unbind-lifecycle); ins-web00003 and ins-web00004 serve in the same group;
ins-other001 is a standalone CVM (in no group) bound on lb-web00001.
"""
from __future__ import annotations

import copy
import json
from typing import Any, Callable, Dict, List

import pytest

from tests.conftest import load_event
from tests.estates import TOKEN_LEAVING_1, base_estate, cmq_event, lifecycle_message, send_to_queue

QUEUE = "clb-unbind-lifecycle"
DLQ = "clb-unbind-dead-letter"
TIMER = load_event("timer.json")
SECRET = "5f1c0e9a7b2d4c3e8f6a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e"


def ckafka_event(body: str) -> Dict[str, Any]:
    return {"Records": [{"Ckafka": {"topic": "t", "partition": 0, "offset": 1, "msgKey": "k", "msgBody": body}}]}


def timer(invoke: Any, **extra: str) -> Dict[str, Any]:
    env = {"CLB_UNBIND_QUEUE": QUEUE, "CLB_UNBIND_DEAD_LETTER_QUEUE": DLQ, "CLB_UNBIND_POLL_SECONDS": "0",
           "CLB_UNBIND_ENVELOPE_SECRET": SECRET, **extra}
    return invoke(TIMER, **env)


def dead_letters(emulator: Any) -> List[Dict[str, Any]]:
    return [json.loads(m["body"]) for m in emulator.messages(DLQ)]


def results(emulator: Any) -> Dict[str, Dict[str, Any]]:
    """(instance, hook) → result of its lifecycle action."""
    return {f"{r['instanceId']}/{r['lifecycleHookId']}": r["result"] for r in emulator.lifecycle_results()}


def message(instance: str, group: str = "asg-group001", hook: str = "ash-hook0001", activity: str = "asa-scalein1",
            **extra: Any) -> str:
    body = json.loads(lifecycle_message(instance, TOKEN_LEAVING_1, hook=hook))
    body.update(AutoScalingGroupId=group, ActivityId=activity, **extra)
    return json.dumps({k: v for k, v in body.items() if v is not None})


def start(make_emulator: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, estate: Dict[str, Any]) -> Any:
    emu = make_emulator(estate)
    monkeypatch.setenv("CLB_UNBIND_ENDPOINT", emu.endpoint)
    return emu


def group(estate: Dict[str, Any]) -> Dict[str, Any]:
    (g,) = estate["scalingGroups"]
    return g


# -- 1. a queue message is a claim, never an order -----------------------------------------------------------

DIRECT = json.dumps({"instanceIds": ["ins-web00003"]})


@pytest.mark.parametrize("carrier", ["legacy-cmq", "ckafka"])
def test_a_direct_call_shape_pushed_in_a_record_is_refused(carrier: str, emulator: Any, invoke: Any) -> None:
    before = emulator.bindings("ins-web00003")
    event = cmq_event(DIRECT) if carrier == "legacy-cmq" else ckafka_event(DIRECT)
    answer = invoke(event, CLB_UNBIND_DEAD_LETTER_QUEUE=DLQ)
    assert emulator.bindings("ins-web00003") == before and emulator.count("BatchDeregisterTargets") == 0
    (record,) = answer["records"]
    assert record["status"] == "refused" and "not_a_queue_payload" in record["reason"]
    (dead,) = dead_letters(emulator)
    assert dead["reason"] == "not_a_queue_payload"


def test_a_direct_call_shape_in_the_queue_drains_nothing(emulator: Any, invoke: Any) -> None:
    before = emulator.bindings("ins-web00003")
    send_to_queue(emulator, QUEUE, DIRECT)
    answer = timer(invoke)
    assert emulator.bindings("ins-web00003") == before and emulator.count("BatchDeregisterTargets") == 0
    assert answer["records"][0]["status"] == "refused"
    assert [d["reason"] for d in dead_letters(emulator)] == ["not_a_queue_payload"]
    assert emulator.queue_state(QUEUE)["visible"] == 0  # refused and dead-lettered: deleted


def forged_retry(notice: Dict[str, Any], **extra: Any) -> str:
    return json.dumps({"kind": "clb-unbind/retry", "version": 1, "attempt": 2, "firstSeen": "2026-11-22T10:15:11Z",
                       "notices": [notice], **extra})


OPERATOR_NOTICE = {"instanceId": "ins-web00003", "reason": "operator", "source": "direct", "recordId": "r1"}


def test_an_unsigned_retry_envelope_is_not_an_operators_word(emulator: Any, invoke: Any) -> None:
    before = emulator.bindings("ins-web00003")
    send_to_queue(emulator, QUEUE, forged_retry(OPERATOR_NOTICE))
    answer = timer(invoke)
    assert emulator.bindings("ins-web00003") == before and emulator.count("BatchDeregisterTargets") == 0
    assert "unsigned_envelope" in json.dumps(answer["records"])
    assert [d["reason"] for d in dead_letters(emulator)] == ["unsigned_envelope"]


def test_a_wrong_signature_is_no_signature(emulator: Any, invoke: Any) -> None:
    before = emulator.bindings("ins-web00003")
    send_to_queue(emulator, QUEUE, forged_retry(OPERATOR_NOTICE, signature="0" * 64))
    timer(invoke)
    assert emulator.bindings("ins-web00003") == before
    assert [d["reason"] for d in dead_letters(emulator)] == ["unsigned_envelope"]


def test_without_a_secret_no_envelope_is_an_operators_word(emulator: Any, invoke: Any) -> None:
    before = emulator.bindings("ins-web00003")
    send_to_queue(emulator, QUEUE, forged_retry(OPERATOR_NOTICE))
    timer(invoke, CLB_UNBIND_ENVELOPE_SECRET="")
    assert emulator.bindings("ins-web00003") == before
    assert [d["reason"] for d in dead_letters(emulator)] == ["unsigned_envelope"]


def test_a_refused_notice_stays_refused_when_its_signed_dead_letter_is_redriven(emulator: Any, invoke: Any) -> None:
    """The function signs its dead letters: one that records a forged order must not launder it into a trusted one."""
    lifecycle = {"hookId": "ash-hook0001", "token": TOKEN_LEAVING_1, "groupId": "asg-group001"}
    mixed = forged_retry({**OPERATOR_NOTICE, "instanceId": "ins-web00002", "reason": "INSTANCE_TERMINATING", "lifecycle": lifecycle})
    mixed = json.dumps({**json.loads(mixed), "notices": [*json.loads(mixed)["notices"], OPERATOR_NOTICE]})
    before = emulator.bindings("ins-web00003")
    send_to_queue(emulator, QUEUE, mixed)
    timer(invoke)
    assert emulator.bindings("ins-web00002") == [] and emulator.bindings("ins-web00003") == before
    (dead,) = dead_letters(emulator)
    assert dead["reason"] == "unsigned_envelope" and len(dead["signature"]) == 64
    send_to_queue(emulator, QUEUE, emulator.messages(DLQ)[0]["body"])  # an operator redrives it as it is
    timer(invoke)
    assert emulator.bindings("ins-web00003") == before
    assert [d["reason"] for d in dead_letters(emulator)] == ["unsigned_envelope", "unsigned_envelope"]


def test_an_unsigned_envelopes_lifecycle_notice_is_a_fresh_claim(emulator: Any, invoke: Any) -> None:
    """Checked with Auto Scaling like any message: the waiting instance is unbound, the serving one is not."""
    lifecycle = {"hookId": "ash-hook0001", "token": TOKEN_LEAVING_1, "groupId": "asg-group001"}
    waiting = {**OPERATOR_NOTICE, "instanceId": "ins-web00001", "reason": "INSTANCE_TERMINATING", "lifecycle": lifecycle}
    serving = {**waiting, "instanceId": "ins-web00003"}
    before = emulator.bindings("ins-web00003")
    send_to_queue(emulator, QUEUE, forged_retry(waiting))
    send_to_queue(emulator, QUEUE, forged_retry(serving))
    timer(invoke)
    assert emulator.bindings("ins-web00001") == [] and results(emulator)["ins-web00001/ash-hook0001"] == "CONTINUE"
    assert emulator.bindings("ins-web00003") == before
    assert [d["reason"] for d in dead_letters(emulator)] == ["not_leaving"]


def test_an_operators_retry_queued_by_the_function_still_works(emulator: Any, invoke: Any) -> None:
    """A direct call whose unbind failed is queued signed; the timer run trusts it and finishes it."""
    emulator.set_knobs(error_rate=1.0, fault_actions=["BatchDeregisterTargets"])
    answer = invoke({"instanceIds": ["ins-web00003"]}, timeout_ms=4000, CLB_UNBIND_RETRY_QUEUE=QUEUE,
                    CLB_UNBIND_RETRY_BASE_SECONDS="0", CLB_UNBIND_ENVELOPE_SECRET=SECRET, CLB_UNBIND_SAFETY_MARGIN_SECONDS="1")
    assert answer["records"][0]["status"] == "retry_queued"
    (queued,) = [json.loads(m["body"]) for m in emulator.messages(QUEUE)]
    assert len(queued["signature"]) == 64 and SECRET not in json.dumps(queued)
    emulator.set_knobs(error_rate=0.0, fault_actions=[])
    timer(invoke)
    assert emulator.bindings("ins-web00003") == []
    assert dead_letters(emulator) == []


# -- 2. leaving means leaving -------------------------------------------------------------------------------

@pytest.mark.parametrize("carrier", ["queue", "legacy-cmq", "ckafka"])
def test_a_standalone_cvm_is_not_leaving(carrier: str, emulator: Any, invoke: Any) -> None:
    before = emulator.bindings("ins-other001")
    assert before
    body = message("ins-other001")
    if carrier == "queue":
        send_to_queue(emulator, QUEUE, body)
        timer(invoke)
    else:
        invoke(cmq_event(body) if carrier == "legacy-cmq" else ckafka_event(body), CLB_UNBIND_DEAD_LETTER_QUEUE=DLQ)
    assert emulator.bindings("ins-other001") == before and emulator.count("BatchDeregisterTargets") == 0
    assert [d["reason"] for d in dead_letters(emulator)] == ["not_leaving"]


def estate_with(state: str, instance: str = "ins-web00003", activity: Dict[str, Any] | None = None) -> Dict[str, Any]:
    estate = copy.deepcopy(base_estate())
    for m in group(estate)["instances"]:
        if m["instanceId"] == instance:
            m["lifeCycleState"] = state
    if activity is not None:
        estate["activities"].append(activity)
    return estate


def removal(activity_type: str = "REMOVE_INSTANCES", instance: str = "ins-web00003", group_id: str = "asg-group001") -> Dict[str, Any]:
    return {"activityId": "asa-remove01", "autoScalingGroupId": group_id, "activityType": activity_type,
            "statusCode": "RUNNING", "relatedInstances": [{"instanceId": instance, "instanceStatus": "RUNNING"}]}


def test_a_member_detaching_its_load_balancers_is_serving(make_emulator: Any, function_env: Any, monkeypatch: Any, invoke: Any) -> None:
    """DETACHING_LB: Auto Scaling also uses it for serving instances while a group's load balancers change."""
    emu = start(make_emulator, monkeypatch, estate_with("DETACHING_LB", activity=removal()))
    before = emu.bindings("ins-web00003")
    send_to_queue(emu, QUEUE, message("ins-web00003", activity="asa-remove01"))
    timer(invoke)
    assert emu.bindings("ins-web00003") == before and emu.count("BatchDeregisterTargets") == 0
    assert [d["reason"] for d in dead_letters(emu)] == ["not_leaving"]


@pytest.mark.parametrize("state", ["TERMINATING", "DETACHING"])
def test_past_the_hook_counts_only_with_a_removal_activity_that_lists_it(state: str, make_emulator: Any, function_env: Any,
                                                                         monkeypatch: Any, invoke: Any) -> None:
    emu = start(make_emulator, monkeypatch, estate_with(state, activity=removal()))
    before = emu.bindings("ins-web00003")
    send_to_queue(emu, QUEUE, message("ins-web00003", activity="asa-scalein1"))  # a real activity, not listing it
    timer(invoke)
    assert emu.bindings("ins-web00003") == before
    assert [d["reason"] for d in dead_letters(emu)] == ["not_leaving"]
    send_to_queue(emu, QUEUE, message("ins-web00003", activity="asa-remove01"))
    answer = timer(invoke)
    assert emu.bindings("ins-web00003") == []
    (record,) = answer["records"]
    assert record["status"] == "done"


def test_an_activity_that_adds_instances_is_no_removal(make_emulator: Any, function_env: Any, monkeypatch: Any, invoke: Any) -> None:
    emu = start(make_emulator, monkeypatch, estate_with("TERMINATING", activity=removal("SCALE_OUT")))
    before = emu.bindings("ins-web00003")
    send_to_queue(emu, QUEUE, message("ins-web00003", activity="asa-remove01"))
    timer(invoke)
    assert emu.bindings("ins-web00003") == before
    assert [d["reason"] for d in dead_letters(emu)] == ["not_leaving"]


def test_a_removal_activity_of_another_group_does_not_count(make_emulator: Any, function_env: Any, monkeypatch: Any, invoke: Any) -> None:
    """An instance that left every group, named with another group's activity: not leaving the named one."""
    estate = estate_with("IN_SERVICE", activity=removal(instance="ins-other001", group_id="asg-other001"))
    emu = start(make_emulator, monkeypatch, estate)
    before = emu.bindings("ins-other001")
    send_to_queue(emu, QUEUE, message("ins-other001", activity="asa-remove01"))
    timer(invoke)
    assert emu.bindings("ins-other001") == before
    assert [d["reason"] for d in dead_letters(emu)] == ["not_leaving"]


def test_an_instance_that_left_with_a_removal_activity_is_unbound(make_emulator: Any, function_env: Any, monkeypatch: Any, invoke: Any) -> None:
    emu = start(make_emulator, monkeypatch, estate_with("IN_SERVICE", activity=removal(instance="ins-other001")))
    send_to_queue(emu, QUEUE, message("ins-other001", activity="asa-remove01"))
    answer = timer(invoke)
    assert emu.bindings("ins-other001") == []
    (record,) = answer["records"]
    assert record["status"] == "done" and record["instances"][0]["lifecycleCompleted"] is False


@pytest.mark.parametrize("missing", ["AutoScalingGroupId", "LifecycleHookId", "InstanceId"])
def test_a_lifecycle_message_must_name_group_hook_and_instance(missing: str, emulator: Any, invoke: Any) -> None:
    body = json.loads(message("ins-web00001"))
    del body[missing]
    answer = invoke(cmq_event(json.dumps(body)), CLB_UNBIND_DEAD_LETTER_QUEUE=DLQ)
    assert answer["records"][0]["status"] == "refused" and missing in answer["records"][0]["reason"]
    assert emulator.bindings("ins-web00001") and emulator.count("BatchDeregisterTargets") == 0


def test_one_activity_read_covers_a_pass(make_emulator: Any, function_env: Any, monkeypatch: Any, invoke: Any) -> None:
    estate = estate_with("TERMINATING", activity=removal())
    for m in group(estate)["instances"]:
        if m["instanceId"] == "ins-web00004":
            m["lifeCycleState"] = "DETACHING"
    estate["activities"].append({**removal(instance="ins-web00004"), "activityId": "asa-remove02"})
    emu = start(make_emulator, monkeypatch, estate)
    send_to_queue(emu, QUEUE, message("ins-web00003", activity="asa-remove01"))
    send_to_queue(emu, QUEUE, message("ins-web00004", activity="asa-remove02"))
    send_to_queue(emu, QUEUE, message("ins-other001", activity="asa-scalein1"))
    timer(invoke)
    assert emu.bindings("ins-web00003") == [] and emu.bindings("ins-web00004") == []
    assert emu.bindings("ins-other001")
    (call,) = [c.params for c in emu.calls if c.action == "DescribeAutoScalingActivities"]
    assert sorted(call["ActivityIds"]) == ["asa-remove01", "asa-remove02", "asa-scalein1"]


def test_a_scale_in_notification_and_the_claims_share_the_activity_read(make_emulator: Any, function_env: Any,
                                                                         monkeypatch: Any, invoke: Any) -> None:
    """The SCALE_IN notification's own read also covers the activity a lifecycle claim names."""
    emu = start(make_emulator, monkeypatch, estate_with("TERMINATING", activity=removal()))
    send_to_queue(emu, QUEUE, load_event("cmq-scaling-activity.json")["Records"][0]["CMQ"]["msgBody"])
    send_to_queue(emu, QUEUE, message("ins-web00003", activity="asa-remove01"))
    timer(invoke)
    assert all(emu.bindings(i) == [] for i in ("ins-web00001", "ins-web00002", "ins-web00003"))
    (call,) = [c.params for c in emu.calls if c.action == "DescribeAutoScalingActivities"]
    assert sorted(call["ActivityIds"]) == ["asa-remove01", "asa-scalein1"]


def test_waiting_members_need_no_activity_read(emulator: Any, invoke: Any) -> None:
    send_to_queue(emulator, QUEUE, message("ins-web00001"))
    send_to_queue(emulator, QUEUE, message("ins-web00002"))
    timer(invoke)
    assert emulator.bindings("ins-web00001") == [] and emulator.bindings("ins-web00002") == []
    assert emulator.count("DescribeAutoScalingActivities") == 0


def test_the_wrong_group_is_not_leaving(emulator: Any, invoke: Any) -> None:
    """A waiting instance named in another group: the claim is false, nothing is done on its word."""
    send_to_queue(emulator, QUEUE, message("ins-web00001", group="asg-other001"))
    timer(invoke)
    assert emulator.bindings("ins-web00001") and emulator.count("BatchDeregisterTargets") == 0
    assert [d["reason"] for d in dead_letters(emulator)] == ["not_leaving"]


# -- 3. only our own hooks ------------------------------------------------------------------------------------

def estate_with_backup_hook(target: Dict[str, Any]) -> Dict[str, Any]:
    """Another team's two-hour backup hook on the same group, waiting for ins-web00001 too."""
    estate = copy.deepcopy(base_estate())
    estate["queues"].append("backup-team-queue")
    group(estate)["lifecycleHooks"].append({
        "lifecycleHookId": "ash-backup01", "lifecycleHookName": "backup", "lifecycleTransition": "INSTANCE_TERMINATING",
        "defaultResult": "ABANDON", "heartbeatTimeout": 7200, "notificationTarget": target})
    estate["lifecycleActions"].append({"lifecycleHookId": "ash-backup01", "autoScalingGroupId": "asg-group001",
                                       "instanceId": "ins-web00001", "lifecycleActionToken": "b7e2c1d0-0000-4000-8000-000000000001",
                                       "result": None})
    return estate


BACKUP_QUEUE = {"targetType": "TDMQ_CMQ_QUEUE", "queueName": "backup-team-queue"}


@pytest.mark.parametrize("carrier", ["queue", "legacy-cmq", "ckafka"])
def test_another_teams_hook_is_never_completed(carrier: str, make_emulator: Any, function_env: Any, monkeypatch: Any, invoke: Any) -> None:
    emu = start(make_emulator, monkeypatch, estate_with_backup_hook(BACKUP_QUEUE))
    body = message("ins-web00001", hook="ash-backup01")
    if carrier == "queue":
        send_to_queue(emu, QUEUE, body)
        answer = timer(invoke)
    else:
        answer = invoke(cmq_event(body) if carrier == "legacy-cmq" else ckafka_event(body), CLB_UNBIND_QUEUE=QUEUE)
    assert emu.bindings("ins-web00001") == []  # leaving: unbound all the same
    assert results(emu)["ins-web00001/ash-backup01"] is None
    assert emu.count("CompleteLifecycleAction") == 0
    (record,) = answer["records"]
    assert record["status"] == "done" and record["instances"][0]["lifecycle"] == "not_our_hook"


def test_a_hook_notifying_one_of_our_topics_is_ours(make_emulator: Any, function_env: Any, monkeypatch: Any, invoke: Any) -> None:
    emu = start(make_emulator, monkeypatch, estate_with_backup_hook({"targetType": "TDMQ_CMQ_TOPIC", "topicName": "clb-unbind-topic"}))
    invoke(cmq_event(message("ins-web00001", hook="ash-backup01")), CLB_UNBIND_QUEUE=QUEUE, CLB_UNBIND_TOPICS="clb-unbind-topic")
    assert results(emu)["ins-web00001/ash-backup01"] == "CONTINUE"


def test_our_hook_is_the_one_that_notifies_our_queue(emulator: Any, invoke: Any) -> None:
    """The demo's hook notifies clb-unbind-lifecycle: a function consuming another queue leaves it alone."""
    invoke(cmq_event(message("ins-web00001")), CLB_UNBIND_QUEUE="another-teams-queue")
    assert emulator.bindings("ins-web00001") == [] and emulator.count("CompleteLifecycleAction") == 0


def test_nothing_waiting_is_not_a_completion(make_emulator: Any, function_env: Any, monkeypatch: Any, invoke: Any) -> None:
    emu = start(make_emulator, monkeypatch, estate_with("TERMINATING", activity=removal()))
    send_to_queue(emu, QUEUE, message("ins-web00003", activity="asa-remove01"))
    answer = timer(invoke)
    assert emu.count("CompleteLifecycleAction") == 1 and emu.bindings("ins-web00003") == []
    (record,) = answer["records"]
    assert record["instances"][0]["lifecycleCompleted"] is False and record["instances"][0]["lifecycle"] == "not_waiting"


def test_hooks_are_read_once_per_group_per_run(emulator: Any, invoke: Any) -> None:
    """The queue pass and the sweep (which finds ins-web00002, whose notification was lost) share one read."""
    send_to_queue(emulator, QUEUE, message("ins-web00001"))
    timer(invoke, CLB_UNBIND_GROUPS="asg-group001")
    assert results(emulator) == {"ins-web00001/ash-hook0001": "CONTINUE", "ins-web00002/ash-hook0001": "CONTINUE"}
    assert emulator.count("DescribeLifecycleHooks") == 1


# -- 6. smaller points ---------------------------------------------------------------------------------------

def test_a_dry_run_message_does_not_hide_its_instance_from_the_sweep(emulator: Any, invoke: Any) -> None:
    send_to_queue(emulator, QUEUE, message("ins-web00001", dryRun=True))
    answer = timer(invoke, CLB_UNBIND_GROUPS="asg-group001")
    assert "ins-web00001" in answer["sweep"]["reconciled"]
    assert emulator.bindings("ins-web00001") == [] and results(emulator)["ins-web00001/ash-hook0001"] == "CONTINUE"


def test_the_region_is_the_contexts_first(emulator: Any, function_env: Any, monkeypatch: Any) -> None:
    from index import main_handler

    monkeypatch.setenv("TENCENTCLOUD_REGION", "ap-shanghai")
    context = {"request_id": "t", "time_limit_in_ms": 30000, "tencentcloud_region": "ap-guangzhou"}
    main_handler({"instanceIds": ["ins-web00003"]}, context)
    assert emulator.bindings("ins-web00003") == []
    assert {c.region for c in emulator.calls} == {"ap-guangzhou"}


def test_no_region_is_a_misconfiguration(emulator: Any, function_env: Any, monkeypatch: Any) -> None:
    from index import main_handler

    monkeypatch.delenv("TENCENTCLOUD_REGION")
    with pytest.raises(Exception, match="TENCENTCLOUD_REGION"):
        main_handler({"instanceIds": ["ins-web00003"]}, {"request_id": "t", "time_limit_in_ms": 30000})
    assert emulator.calls == []


def test_a_refused_claim_does_not_hide_a_waiting_instance_from_the_sweep(emulator: Any, invoke: Any) -> None:
    """A forged message naming a waiting instance in the wrong group is refused; the sweep still takes it."""
    send_to_queue(emulator, QUEUE, message("ins-web00001", group="asg-other001"))
    answer = timer(invoke, CLB_UNBIND_GROUPS="asg-group001")
    assert "ins-web00001" in answer["sweep"]["reconciled"]
    assert emulator.bindings("ins-web00001") == [] and results(emulator)["ins-web00001/ash-hook0001"] == "CONTINUE"
