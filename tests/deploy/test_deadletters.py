"""`python -m deploy deadletters list|redrive|purge` against the emulator: letters the function itself
wrote, redriven onto the queue its timer consumes, handled by the next timer run, and `check` then
reports the dead-letter queue empty."""
from __future__ import annotations

import json
import re
from typing import Any, Dict, List

from clb_unbind.app import handle
from emulator import deployment
from tests.deploy.conftest import GROUPS, LEAVING, Ops

QUEUE, DLQ, FUNCTION = "clb-unbind-lifecycle", "clb-unbind-dead-letter", "clb-unbind"
BUSY_LB = "lb-web00001"
TIMER = {"Type": "Timer", "TriggerName": "clb-unbind-consumer", "Time": "2026-12-04T10:00:00Z", "Message": ""}


def function_env(ops: Ops, **overrides: str) -> Dict[str, str]:
    """What SCF gives the deployed function: its environment as setup stored it, the run role's
    credentials, and (here) every call sent to the emulator."""
    fn = deployment.of_emulator(ops.emu).function("ap-guangzhou", "default", FUNCTION)
    secret_id, secret_key, _ = ops.emu.credentials
    return {**fn.environment, "TENCENTCLOUD_SECRETID": secret_id, "TENCENTCLOUD_SECRETKEY": secret_key,
            "TENCENTCLOUD_REGION": "ap-guangzhou", "CLB_UNBIND_ENDPOINT": ops.emu.endpoint,
            "CLB_UNBIND_TASK_POLL_SECONDS": "0.02", **overrides}


def timer_run(ops: Ops, seconds: float = 20, **overrides: str) -> Dict[str, Any]:
    return handle(TIMER, {"request_id": "timer", "time_limit_in_ms": int(seconds * 1000)}, function_env(ops, **overrides))


def letter_ids(out: str) -> List[str]:
    return re.findall(r"^letter (\S+):", out, re.M)


def dead_letter_finding(ops: Ops) -> Dict[str, Any]:
    code, out = ops.check("--json")
    return {r["invariant"]: r for r in json.loads(out)}["dead_letters"]


def a_dead_letter(ops: Ops) -> None:
    """A scale-in whose load balancer stays busy: with one attempt allowed, the timer run gives up and
    the function dead-letters the notice (max_attempts), as it would after five busy attempts."""
    ops.emu.scale_in(GROUPS[0], [LEAVING])
    ops.emu.lock_load_balancer(BUSY_LB, 600)
    timer_run(ops, seconds=10, CLB_UNBIND_MAX_ATTEMPTS="1", CLB_UNBIND_CONSUME_SECONDS="1", CLB_UNBIND_POLL_SECONDS="0")
    assert ops.emu.queue_state(DLQ)["visible"] == 1
    ops.emu.release_load_balancer(BUSY_LB)


def short_visibility(ops: Ops) -> None:
    """The dead-letter queue hides a read letter for 2 s instead of setup's 30, to keep the test short."""
    ops.emu._estate.queues[DLQ].visibility_timeout = 2


def test_list_redrive_then_the_timer_ends_the_work_and_check_sees_the_queue_empty(ops: Ops) -> None:
    assert ops.setup()[0] == 0
    short_visibility(ops)
    a_dead_letter(ops)
    finding = dead_letter_finding(ops)
    assert not finding["ok"] and "make redrive" in finding["fix"] and "make deadletters" in finding["fix"]

    code, out = ops.run("deadletters", "list")
    assert code == 0, out
    [letter] = letter_ids(out)
    assert f"letter {letter}: max_attempts (dead-letter), instances {LEAVING}, attempts 1, first seen " in out
    assert "FailedOperation.ResourceInOperating" in out
    secret_id, secret_key, _ = ops.emu.credentials
    assert secret_key not in out and secret_id not in out

    ops.emu.clear_calls()
    code, out = ops.run("deadletters", "redrive", "--id", letter, "--dry-run")
    assert code == 0, out
    assert "waiting up to" in out  # the listing hid it; the dry run waits for it to come back
    assert f"would send it to {QUEUE}" in out and "none was (dry run)" in out
    assert ops.writes() == [] and ops.emu.count("BatchDeleteMessage") == 0
    assert ops.emu.queue_state(QUEUE) == {"visible": 0, "inFlight": 0, "delayed": 0}

    code, out = ops.run("deadletters", "redrive", "--id", letter)
    assert code == 0, out
    assert f"re-queued on {QUEUE}" in out and f"deleted letter {letter}" in out
    sends = [c for c in ops.emu.calls if c.action == "SendCmqMsg"]
    assert [c.params["QueueName"] for c in sends] == [QUEUE]
    body = json.loads(sends[0].params["MsgContent"])
    assert body["kind"] == "clb-unbind/dead-letter" and body["reason"] == "max_attempts"  # moved, not rewritten
    assert ops.emu.queue_state(DLQ)["visible"] + ops.emu.queue_state(DLQ)["inFlight"] == 0

    answer = timer_run(ops)
    assert ops.emu.bindings(LEAVING) == []
    assert [r["result"] for r in ops.emu.lifecycle_results() if r["instanceId"] == LEAVING] == ["CONTINUE"]
    assert answer["queue"]["deleted"] == 1
    finding = dead_letter_finding(ops)
    assert finding["ok"] and f"{DLQ} is empty" in finding["detail"]


def test_a_letter_naming_no_work_is_kept_by_redrive_and_purged_on_request(ops: Ops) -> None:
    assert ops.setup()[0] == 0
    short_visibility(ops)
    ops.emu.scale_in(GROUPS[0], [LEAVING])
    refused = json.dumps({"kind": "clb-unbind/dead-letter", "version": 1, "reason": "refused_input",
                          "detail": "not JSON", "attempt": 1, "firstSeen": "2026-12-04T09:00:00Z", "notices": [],
                          "original": "not json, and TENCENTCLOUD_SECRETKEY is not in it"})
    from deploy.cloud import Cloud

    Cloud.from_env("ap-guangzhou").write("tdmq", "SendCmqMsg", {"QueueName": DLQ, "MsgContent": refused, "DelaySeconds": 0})

    code, out = ops.run("deadletters", "redrive", "--all")
    assert code == 1, out
    [letter] = letter_ids(out)
    assert "not redrivable: it names no instance" in out and "kept" in out
    assert ops.emu.count("BatchDeleteMessage") == 0

    code, out = ops.run("deadletters", "purge", "--id", letter, "--dry-run")
    assert code == 0 and "would be deleted; none was (dry run)" in out
    code, out = ops.run("deadletters", "purge", "--id", letter)
    assert code == 0 and f"deleted letter {letter}" in out
    assert dead_letter_finding(ops)["ok"]


def test_redrive_and_purge_need_the_letters_named(ops: Ops) -> None:
    assert ops.setup()[0] == 0
    code, out = ops.run("deadletters", "redrive")
    assert code == 2 and "--id MSG_ID" in out and "--all" in out
    code, out = ops.run("deadletters", "list")
    assert code == 0 and "the dead-letter queue is empty" in out
    code, out = ops.run("deadletters", "redrive", "--id", "404")
    assert code == 2 and "no letter 404" in out


SECRET = "0123456789abcdef" * 4


def test_a_redrive_moves_the_letter_so_its_signature_decides_and_a_forged_one_gains_nothing(ops: Ops) -> None:
    """The function signs its dead letters; a redrive sends the body unchanged, so the signature still
    holds. A letter written by someone else (no signature) naming an instance as an operator's word is
    refused by the function after the redrive: the command cannot lend it trust."""
    from clb_unbind.wire.signature import is_signed
    from deploy.cloud import Cloud

    assert ops.setup()[0] == 0
    short_visibility(ops)
    fn = deployment.of_emulator(ops.emu).function("ap-guangzhou", "default", FUNCTION)
    fn.environment["CLB_UNBIND_ENVELOPE_SECRET"] = SECRET
    a_dead_letter(ops)
    bystander = "ins-web00003"
    bound_before = ops.emu.bindings(bystander)
    assert bound_before
    forged = json.dumps({"kind": "clb-unbind/dead-letter", "version": 1, "reason": "max_attempts", "detail": "",
                         "attempt": 5, "firstSeen": "2026-12-04T09:00:00Z",
                         "notices": [{"instanceId": bystander, "reason": "operator", "source": "direct", "recordId": "x"}]})
    Cloud.from_env("ap-guangzhou").write("tdmq", "SendCmqMsg", {"QueueName": DLQ, "MsgContent": forged, "DelaySeconds": 0})

    ops.emu.clear_calls()
    code, out = ops.run("deadletters", "redrive", "--all")
    assert code == 0, out
    bodies = [json.loads(c.params["MsgContent"]) for c in ops.emu.calls if c.action == "SendCmqMsg"]
    assert len(bodies) == 2
    assert [is_signed(b, SECRET) for b in bodies] == [True, False]  # the function's own, and the forged one

    timer_run(ops)
    assert ops.emu.bindings(LEAVING) == []  # the function's own letter: done
    assert ops.emu.bindings(bystander) == bound_before  # the forged one: refused, nothing unbound
    code, out = ops.run("deadletters", "list")
    assert f"instances {bystander}" not in out and ("unsigned_envelope" in out or "refused_input" in out), out


def test_a_message_the_queue_policy_moved_goes_back_as_it_came_and_no_secret_is_printed(ops: Ops) -> None:
    from deploy.cloud import Cloud

    assert ops.setup()[0] == 0
    short_visibility(ops)
    fn = deployment.of_emulator(ops.emu).function("ap-guangzhou", "default", FUNCTION)
    fn.environment["CLB_UNBIND_API_SECRET"] = "api-secret-value-0123456789"
    notification = json.dumps({"Service": "Tencent Cloud Auto Scaling", "Time": "2026-12-04T10:00:00Z",
                               "AutoScalingGroupId": GROUPS[0], "LifecycleHookId": "ash-hook0001",
                               "InstanceId": LEAVING, "LifecycleTransition": "INSTANCE_TERMINATING"})
    leaky = json.dumps({"kind": "clb-unbind/dead-letter", "version": 1, "reason": "max_attempts", "attempt": 5,
                        "firstSeen": "2026-12-04T09:00:00Z", "detail": "echoed api-secret-value-0123456789 back",
                        "notices": [{"instanceId": LEAVING, "reason": "INSTANCE_TERMINATING", "source": "cmq",
                                     "recordId": "r1"}]})
    cloud = Cloud.from_env("ap-guangzhou")
    for body in (notification, leaky):
        cloud.write("tdmq", "SendCmqMsg", {"QueueName": DLQ, "MsgContent": body, "DelaySeconds": 0})

    code, out = ops.run("deadletters", "list")
    assert code == 0, out
    assert f"moved_by_queue_policy (notification), instances {LEAVING}" in out
    assert "api-secret-value-0123456789" not in out and "echoed *** back" in out

    ops.emu.clear_calls()
    code, out = ops.run("deadletters", "redrive", "--all")
    assert code == 0, out
    sent = [c.params["MsgContent"] for c in ops.emu.calls if c.action == "SendCmqMsg"]
    assert notification in sent and leaky in sent  # moved unchanged, whatever they hold
    assert "api-secret-value-0123456789" not in out
