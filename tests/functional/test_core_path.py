"""The core path end to end: trigger event in, real SDK calls over HTTP to the emulator, state checked there."""
from __future__ import annotations

import json
from typing import Any, Dict, List

import pytest

from tests.estates import TOKEN_LEAVING_1, cmq_event, lifecycle_message

WRITE_ACTIONS = ("BatchDeregisterTargets", "DeregisterTargets", "BatchModifyTargetWeight", "CompleteLifecycleAction", "SendCmqMsg")

OWN_QUEUE = "clb-unbind-lifecycle"
"""The queue the demo hook notifies: its lifecycle actions are the function's to complete."""


def keys(bindings: List[Dict[str, Any]]) -> set:
    return {(b["loadBalancerId"], b["listenerId"], b.get("locationId"), b["privateIp"], b["port"]) for b in bindings}


def writes(emu: Any) -> int:
    return sum(emu.count(a) for a in WRITE_ACTIONS)


def test_lifecycle_message_unbinds_every_listener_and_rule(emulator: Any, invoke: Any) -> None:
    before = emulator.bindings("ins-web00001")
    others_before = {i: keys(emulator.bindings(i)) for i in ("ins-web00002", "ins-web00003", "ins-web00004")}
    load_balancers = {b["loadBalancerId"] for b in before}
    assert len(before) == 5 and load_balancers == {"lb-web00001", "lb-web00002"}

    answer = invoke(cmq_event(lifecycle_message("ins-web00001", TOKEN_LEAVING_1)), CLB_UNBIND_QUEUE=OWN_QUEUE)

    assert emulator.bindings("ins-web00001") == []
    assert {i: keys(emulator.bindings(i)) for i in others_before} == others_before
    assert emulator.count("BatchDeregisterTargets", "clb") == len(load_balancers)
    assert emulator.count("DescribeLBListeners", "clb") == 2  # one to plan, one to verify
    completed = [r for r in emulator.lifecycle_results() if r["instanceId"] == "ins-web00001"]
    assert completed[0]["result"] == "CONTINUE" and completed[0]["completions"] == 1
    instance = answer["records"][0]["instances"][0]
    assert instance["status"] == "unbound" and instance["lifecycleCompleted"] is True
    assert len(instance["removed"]) == 5 and instance["remaining"] == []


def test_launching_is_acknowledged_and_ignored(emulator: Any, invoke: Any) -> None:
    answer = invoke(cmq_event(lifecycle_message("ins-web00002", "5a1b2c3d-0efe-4dd7-ad3b-90cd66182990", "INSTANCE_LAUNCHING")))
    assert answer["records"][0]["status"] == "ignored"
    assert emulator.calls == []


def test_instances_sharing_load_balancers_share_one_call_per_load_balancer(emulator: Any, invoke: Any) -> None:
    invoke({"instanceIds": ["ins-web00001", "ins-web00002"]})
    assert emulator.bindings("ins-web00001") == [] and emulator.bindings("ins-web00002") == []
    assert emulator.count("BatchDeregisterTargets", "clb") == 2
    assert emulator.count("DescribeInstances", "cvm") == 1  # the verification reuses where the instances are
    assert emulator.bindings("ins-web00003") and emulator.bindings("ins-web00004")


def test_dry_run_makes_no_mutating_call(emulator: Any, invoke: Any) -> None:
    before = keys(emulator.bindings("ins-web00001"))
    answer = invoke(cmq_event(lifecycle_message("ins-web00001", TOKEN_LEAVING_1)), CLB_UNBIND_DRY_RUN="true",
                    CLB_UNBIND_RETRY_QUEUE="clb-unbind-retry", CLB_UNBIND_DEAD_LETTER_QUEUE="clb-unbind-dead-letter")
    assert writes(emulator) == 0
    assert keys(emulator.bindings("ins-web00001")) == before
    instance = answer["records"][0]["instances"][0]
    assert instance["status"] == "planned" and len(instance["remaining"]) == 5


def test_dry_run_asked_for_in_the_payload(emulator: Any, invoke: Any) -> None:
    answer = invoke({"instanceIds": ["ins-web00001"], "dryRun": True})
    assert writes(emulator) == 0
    assert answer["records"][0]["instances"][0]["status"] == "planned"


def test_instance_with_no_binding_needs_no_write(emulator: Any, invoke: Any) -> None:
    answer = invoke({"instanceIds": ["ins-lonely01"]})
    assert answer["records"][0]["instances"][0]["status"] == "not_bound"
    assert writes(emulator) == 0


def test_not_bound_instance_with_lifecycle(emulator: Any, invoke: Any) -> None:
    invoke({"instanceIds": ["ins-web00001"]})
    emulator_calls = len(emulator.calls)
    answer = invoke(cmq_event(lifecycle_message("ins-web00001", TOKEN_LEAVING_1)), CLB_UNBIND_QUEUE=OWN_QUEUE)
    instance = answer["records"][0]["instances"][0]
    assert instance["status"] == "not_bound" and instance["lifecycleCompleted"] is True
    assert emulator.count("BatchDeregisterTargets", "clb") == 2  # none more than the first run's
    assert len(emulator.calls) > emulator_calls


def test_lifecycle_already_completed_counts_as_done(emulator: Any, invoke: Any) -> None:
    event = cmq_event(lifecycle_message("ins-web00001", TOKEN_LEAVING_1))
    invoke(event, CLB_UNBIND_QUEUE=OWN_QUEUE)
    answer = invoke(event)  # a duplicate delivery: the instance is past the hook now, the activity lists it
    assert answer["records"][0]["instances"][0]["lifecycleCompleted"] is True
    result = [r for r in emulator.lifecycle_results() if r["instanceId"] == "ins-web00001"][0]
    assert result["result"] == "CONTINUE"
    codes = [c.error_code for c in emulator.calls if c.action == "CompleteLifecycleAction"]
    assert codes == [None, "ResourceUnavailable.LifecycleActionResultHasSet"]


def test_malformed_records_cost_no_call_and_do_not_stop_the_others(emulator: Any, invoke: Any) -> None:
    event = cmq_event("not json at all", lifecycle_message("ins-WEB00001", TOKEN_LEAVING_1), lifecycle_message("ins-web00002", "5a1b2c3d-0efe-4dd7-ad3b-90cd66182990"))
    answer = invoke(event, CLB_UNBIND_DEAD_LETTER_QUEUE="clb-unbind-dead-letter")
    statuses = [r["status"] for r in answer["records"]]
    assert statuses[:2] == ["refused", "refused"] and statuses[2] == "done"
    assert emulator.bindings("ins-web00002") == []
    assert keys(emulator.bindings("ins-web00001"))  # the invalid id named no instance: nothing touched
    described = [c.params for c in emulator.calls if c.action == "DescribeInstances"]
    assert all(p.get("InstanceIds") == ["ins-web00002"] for p in described)
    (dead,) = [json.loads(m["body"]) for m in emulator.messages("clb-unbind-dead-letter")]
    assert dead["reason"] == "refused_input"  # one dead letter for the event's refused records, not one each
    assert [r["original"] for r in dead["refused"]][0] == "not json at all" and len(dead["refused"]) == 2


def test_refused_input_without_a_dead_letter_queue_fails_loudly(emulator: Any, invoke: Any) -> None:
    from clb_unbind.finish import UnfinishedWork

    with pytest.raises(UnfinishedWork, match="msg-0"):
        invoke(cmq_event("{}", lifecycle_message("ins-web00002", "5a1b2c3d-0efe-4dd7-ad3b-90cd66182990")))
    assert emulator.bindings("ins-web00002") == []  # the good record was still done first


def test_unknown_instance_is_dead_lettered_not_retried(emulator: Any, invoke: Any) -> None:
    answer = invoke({"instanceIds": ["ins-gone0000"]}, CLB_UNBIND_DEAD_LETTER_QUEUE="clb-unbind-dead-letter", CLB_UNBIND_RETRY_QUEUE="clb-unbind-retry")
    assert answer["records"][0]["status"] == "dead_lettered"
    assert emulator.messages("clb-unbind-retry") == []
    dead = json.loads(emulator.messages("clb-unbind-dead-letter")[0]["body"])
    assert dead["reason"] == "instance_not_found" and dead["notices"][0]["instanceId"] == "ins-gone0000"
    assert writes(emulator) == 1  # the dead letter itself


def test_busy_load_balancer_is_waited_for(emulator: Any, invoke: Any) -> None:
    emulator.lock_load_balancer("lb-web00001", 0.6)
    answer = invoke({"instanceIds": ["ins-web00001"]})
    assert emulator.bindings("ins-web00001") == []
    assert answer["records"][0]["instances"][0]["status"] == "unbound"
    assert any(c.error_code == "FailedOperation.ResourceInOperating" for c in emulator.calls)


def test_unfinished_work_fails_loudly_without_a_retry_queue(emulator: Any, invoke: Any) -> None:
    from clb_unbind.finish import UnfinishedWork

    emulator.lock_load_balancer("lb-web00002", 60)
    with pytest.raises(UnfinishedWork):
        invoke({"instanceIds": ["ins-web00001"]}, timeout_ms=4000, CLB_UNBIND_SAFETY_MARGIN_SECONDS="0.5")
    still = {b["loadBalancerId"] for b in emulator.bindings("ins-web00001")}
    assert still == {"lb-web00002"}


def test_unfinished_work_goes_to_the_retry_queue_with_only_what_is_left(emulator: Any, invoke: Any) -> None:
    emulator.lock_load_balancer("lb-web00002", 60)
    answer = invoke(
        {"instanceIds": ["ins-web00001", "ins-web00002"]}, timeout_ms=4000,
        CLB_UNBIND_SAFETY_MARGIN_SECONDS="0.5", CLB_UNBIND_RETRY_QUEUE="clb-unbind-retry",
    )
    assert answer["records"][0]["status"] == "retry_queued"
    message = emulator.messages("clb-unbind-retry")[0]
    envelope = json.loads(message["body"])
    assert envelope["kind"] == "clb-unbind/retry" and envelope["attempt"] == 2
    assert {n["instanceId"] for n in envelope["notices"]} == {"ins-web00001", "ins-web00002"}
    assert message["delaySeconds"] >= 5
    assert envelope["lastErrors"]


def test_allow_list_leaves_other_load_balancers_alone(emulator: Any, invoke: Any) -> None:
    answer = invoke({"instanceIds": ["ins-web00001"]}, CLB_UNBIND_ALLOWED_LOAD_BALANCERS="lb-web00002")
    assert {b["loadBalancerId"] for b in emulator.bindings("ins-web00001")} == {"lb-web00001"}
    instance = answer["records"][0]["instances"][0]
    assert instance["status"] == "unbound"
    assert {b["loadBalancerId"] for b in instance["leftAlone"]} == {"lb-web00001"}


def test_bad_setting_is_named_and_nothing_is_called(emulator: Any, invoke: Any, capsys: Any) -> None:
    from clb_unbind.config import SettingsError

    with pytest.raises(SettingsError, match="CLB_UNBIND_MAX_ATTEMPTS"):
        invoke({"instanceIds": ["ins-web00001"]}, CLB_UNBIND_MAX_ATTEMPTS="many")
    assert emulator.calls == []
    assert '"decision": "misconfigured"' in capsys.readouterr().out


def test_missing_credentials_fail_loudly_without_a_call(emulator: Any, invoke: Any, monkeypatch: Any) -> None:
    from clb_unbind.finish import UnfinishedWork

    monkeypatch.delenv("TENCENTCLOUD_SECRETKEY")
    with pytest.raises(UnfinishedWork, match="MissingCredentials"):
        invoke({"instanceIds": ["ins-web00001"]})
    assert emulator.calls == []
