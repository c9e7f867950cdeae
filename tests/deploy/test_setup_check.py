"""setup and check against the emulator, through the unmodified SDK, as an operator runs them."""
from __future__ import annotations

import json
from typing import Any, Dict

import pytest

from emulator import deployment
from deploy.invariants import INVARIANTS
from tests.deploy.conftest import GROUPS, Ops, package_zip

QUEUE, DLQ, FUNCTION = "clb-unbind-lifecycle", "clb-unbind-dead-letter", "clb-unbind"


def findings(ops: Ops, *extra: str) -> Dict[str, Dict[str, Any]]:
    code, out = ops.check("--json", *extra)
    rows = json.loads(out)
    assert code == (0 if all(r["ok"] for r in rows) else 1)
    for row in rows:
        assert set(row) == {"invariant", "ok", "detail", "fix"}
    by_name = {row["invariant"]: row for row in rows}
    assert len(by_name) == len(rows) == len(INVARIANTS)
    return by_name


def test_setup_from_nothing_then_check_passes(ops: Ops) -> None:
    code, out = ops.setup()
    assert code == 0, out
    assert "VisibilityTimeout = 330" in out and "because function timeout 300 s + 30 s" in out
    fn = deployment.of_emulator(ops.emu).function("ap-guangzhou", "default", FUNCTION)
    assert fn is not None and fn.runtime == "Python3.10" and fn.handler == "index.main_handler" and fn.timeout == 300
    assert fn.environment["CLB_UNBIND_QUEUE"] == QUEUE
    assert fn.environment["CLB_UNBIND_GROUPS"] == ",".join(GROUPS)
    assert fn.environment["CLB_UNBIND_DEAD_LETTER_QUEUE"] == DLQ
    assert fn.code == ops.package.read_bytes()
    assert [(t.type, json.loads(t.desc)["cron"], t.enable) for t in fn.triggers.values()] == [("timer", "0 */1 * * * * *", True)]
    assert (fn.async_retry_num, fn.async_msg_ttl) == (2, 21600)
    queue = ops.emu._estate.queues[QUEUE]
    assert (queue.visibility_timeout, queue.msg_retention_seconds, queue.dead_letter_queue_name, queue.policy,
            queue.max_receive_count) == (330, 43200, DLQ, 0, 5)
    hooks = [h for h in ops.emu._estate.hooks.values() if h.queue_name == QUEUE]
    assert sorted(h.group_id for h in hooks) == sorted(GROUPS)
    assert all((h.transition, h.default_result, h.heartbeat_timeout, h.target_type)
               == ("INSTANCE_TERMINATING", "CONTINUE", 790, "TDMQ_CMQ_QUEUE") for h in hooks)
    role = deployment.of_emulator(ops.emu).roles["clb-unbind-role"]
    policies = deployment.of_emulator(ops.emu).policies
    assert [policies[i].name for i in role.attached] == ["clb-unbind-policy"]

    code, out = ops.check("--group", GROUPS[0])
    assert code == 0, out
    assert out.count("\nok ") + out.startswith("ok ") == len(INVARIANTS) and "VIOLATED" not in out


def test_a_second_setup_makes_no_write(ops: Ops) -> None:
    assert ops.setup()[0] == 0
    ops.emu.clear_calls()
    code, out = ops.setup()
    assert code == 0 and "nothing to change" in out
    assert ops.writes() == []
    assert "create" not in out.split("plan:")[1] and "update" not in out.split("plan:")[1]


def test_dry_run_makes_no_write_and_prints_the_plan(ops: Ops) -> None:
    code, out = ops.setup("--dry-run")
    assert code == 0, out
    assert ops.writes() == []
    assert "create    queue clb-unbind-lifecycle" in out and "create    function clb-unbind" in out
    assert "none made (dry run)" in out
    assert deployment.of_emulator(ops.emu).functions == {}


def test_a_changed_input_updates_only_what_differs(ops: Ops) -> None:
    assert ops.setup()[0] == 0
    ops.emu.clear_calls()
    code, out = ops.setup("--timeout", "600", "--dry-run")
    assert code == 0 and ops.writes() == []
    code, out = ops.setup("--timeout", "600")
    assert code == 0, out
    written = sorted(c.action for c in ops.writes())
    assert written == ["ModifyCmqQueueAttribute", "ModifyLifecycleHook", "ModifyLifecycleHook", "PublishVersion", "UpdateAlias",
                       "UpdateFunctionConfiguration"]
    modify = next(c for c in ops.writes() if c.action == "ModifyCmqQueueAttribute")
    assert modify.params == {"QueueName": QUEUE, "VisibilityTimeout": 630}
    config = next(c for c in ops.writes() if c.action == "UpdateFunctionConfiguration")
    assert set(config.params) == {"FunctionName", "Namespace", "Timeout"}
    assert ops.check()[0] == 0


def test_new_code_is_uploaded_and_other_variables_are_kept(ops: Ops) -> None:
    assert ops.setup()[0] == 0
    fn = deployment.of_emulator(ops.emu).function("ap-guangzhou", "default", FUNCTION)
    fn.environment["CLB_UNBIND_API_SECRET"] = "set-in-the-console-0123456789"
    package_zip(ops.package, "v2")
    ops.emu.clear_calls()
    assert ops.setup()[0] == 0
    assert sorted(c.action for c in ops.writes()) == ["PublishVersion", "UpdateAlias", "UpdateFunctionCode",
                                                      "UpdateFunctionConfiguration"]
    assert fn.code == ops.package.read_bytes()
    assert fn.environment["CLB_UNBIND_API_SECRET"] == "set-in-the-console-0123456789"


def test_a_group_that_does_not_exist_stops_setup_before_any_write(ops: Ops) -> None:
    code, out = ops.setup(groups=(GROUPS[0], "asg-missing1"))
    assert code == 1 and "no such scaling group" in out and "asg-missing1" in out
    assert ops.writes() == []


def test_groups_are_looked_up_in_the_region_given(ops: Ops) -> None:
    code, out = ops.setup("--region", "ap-shanghai", "--dry-run")
    assert code == 1 and "no such scaling group in ap-shanghai" in out and ops.writes() == []


def test_a_function_with_another_runtime_is_not_touched(ops: Ops) -> None:
    assert ops.setup()[0] == 0
    deployment.of_emulator(ops.emu).function("ap-guangzhou", "default", FUNCTION).runtime = "Python3.7"
    ops.emu.clear_calls()
    code, out = ops.setup()
    assert code == 1 and "cannot change a runtime" in out and ops.writes() == []


def test_usage_and_credential_errors_exit_2(ops: Ops, monkeypatch: pytest.MonkeyPatch) -> None:
    assert ops.setup(groups=("not-a-group",))[0] == 2
    assert ops.setup("--timeout", "20")[0] == 2
    assert ops.setup("--package", "/nonexistent.zip")[0] == 2
    assert ops.run("check", "--no-such-flag")[0] == 2
    code, out = ops.setup("--region", "ap-hangzhou-ec")
    assert code == 2 and "--cmq-endpoint" in out  # no CMQ endpoint known there
    monkeypatch.delenv("TENCENTCLOUD_SECRET_ID")
    from deploy import cloud

    def no_chain() -> None:
        raise cloud.CredentialError("none")

    monkeypatch.setattr(cloud, "credentials", lambda env=None, default_chain=None: no_chain())
    assert ops.check()[0] == 2


# ------------------------------------------------------------------ each invariant broken on purpose
def _fn(ops: Ops) -> Any:
    return deployment.of_emulator(ops.emu).function("ap-guangzhou", "default", FUNCTION)


def _hook(ops: Ops, group: str) -> Any:
    return next(h for h in ops.emu._estate.hooks.values() if h.group_id == group and h.queue_name == QUEUE)


def _send_dead_letter(ops: Ops) -> None:
    from deploy.cloud import Cloud

    Cloud.from_env("ap-guangzhou").write("tdmq", "SendCmqMsg", {"QueueName": DLQ, "MsgContent": '{"reason": "test"}', "DelaySeconds": 0})


def _edit_policy(ops: Ops, edit: Any) -> None:
    policy = deployment.of_emulator(ops.emu).policy_by_name("clb-unbind-policy")
    doc = json.loads(policy.document)
    for statement in doc["statement"]:
        edit(statement)
    policy.document = json.dumps(doc)


def _drop_policy_action(ops: Ops) -> None:
    _edit_policy(ops, lambda s: s.update(action=[a for a in s["action"] if a != "clb:BatchDeregisterTargets"]))


def _widen_queue_resource(ops: Ops) -> None:
    _edit_policy(ops, lambda s: s.update(resource=["*"]) if "tdmq:BatchReceiveMessage" in s["action"] else None)


def _also_everything(ops: Ops) -> None:
    """A second policy on the run role: * on *."""
    dep = deployment.of_emulator(ops.emu)
    everything = deployment.Policy(policy_id=max(dep.policies) + 1, name="admin",
                                   document='{"version":"2.0","statement":[{"effect":"allow","action":["*"],"resource":["*"]}]}')
    dep.policies[everything.policy_id] = everything
    dep.roles["clb-unbind-role"].attached.append(everything.policy_id)


BREAKERS: Dict[str, tuple] = {
    "wrong handler": ("function", lambda ops: setattr(_fn(ops), "handler", "app.main"), "make setup"),
    "queue named wrong": ("function", lambda ops: _fn(ops).environment.update(CLB_UNBIND_QUEUE="nope"), "make setup"),
    "timer disabled": ("timer", lambda ops: setattr(next(iter(_fn(ops).triggers.values())), "enable", False), "enabled timer"),
    "timer every 5 minutes": ("timer", lambda ops: setattr(next(iter(_fn(ops).triggers.values())), "desc",
                                                          json.dumps({"cron": "0 */5 * * * * *"})), "cron"),
    "short visibility": ("visibility_timeout", lambda ops: setattr(ops.emu._estate.queues[QUEUE], "visibility_timeout", 60),
                         "VisibilityTimeout to at least 330"),
    "no dead-letter policy": ("dead_letter_policy", lambda ops: setattr(ops.emu._estate.queues[QUEUE],
                                                                        "dead_letter_queue_name", None), "DeadLetterQueueName"),
    "receive count too high": ("dead_letter_policy", lambda ops: setattr(ops.emu._estate.queues[QUEUE],
                                                                         "max_receive_count", 1000), "MaxReceiveCount"),
    "short retention": ("retention", lambda ops: setattr(ops.emu._estate.queues[QUEUE], "msg_retention_seconds", 600),
                        "MsgRetentionSeconds to at least 790"),
    "short heartbeat": ("hooks", lambda ops: setattr(_hook(ops, GROUPS[1]), "heartbeat_timeout", 300),
                        "HeartbeatTimeout=790"),
    "launching hook on the queue": ("hooks", lambda ops: setattr(_hook(ops, GROUPS[1]), "transition", "INSTANCE_LAUNCHING"),
                                    "another queue"),
    "hook notifies another queue": ("groups", lambda ops: setattr(_hook(ops, GROUPS[0]), "queue_name", "elsewhere"),
                                    "make setup GROUPS"),
    "group missing from the function": ("groups", lambda ops: _fn(ops).environment.update(CLB_UNBIND_GROUPS=GROUPS[1]),
                                        "make setup GROUPS"),
    "policy detached": ("run_role", lambda ops: deployment.of_emulator(ops.emu).roles["clb-unbind-role"].attached.clear(),
                        "docs/permissions.md"),
    "policy lacks an action": ("run_role", _drop_policy_action, "docs/permissions.md"),
    "role also holds * on *": ("run_role", _also_everything, "detach any other policy"),
    "queue actions on every queue": ("run_role", _widen_queue_resource, "docs/permissions.md"),
    "role not trusted by SCF": ("run_role", lambda ops: setattr(
        deployment.of_emulator(ops.emu).roles["clb-unbind-role"], "document",
        '{"version":"2.0","statement":[{"action":"name/sts:AssumeRole","effect":"allow","principal":{"service":["cvm.qcloud.com"]}}]}'),
        "make setup"),
    "a dead letter waits": ("dead_letters", _send_dead_letter, "redrive"),
    "dry run on the live function": ("live_mode", lambda ops: _fn(ops).environment.update(CLB_UNBIND_DRY_RUN="true"),
                                     "remove CLB_UNBIND_DRY_RUN"),
    "retry queue no timer consumes": ("retry_queue", lambda ops: _fn(ops).environment.update(CLB_UNBIND_RETRY_QUEUE=DLQ),
                                      "remove CLB_UNBIND_RETRY_QUEUE"),
    "queue too small for an envelope": ("message_size", lambda ops: setattr(ops.emu._estate.queues[QUEUE], "max_msg_size", 65536),
                                        "MaxMsgSize 1048576"),
    "dead-letter queue too small": ("message_size", lambda ops: setattr(ops.emu._estate.queues[DLQ], "max_msg_size", 1024),
                                    "MaxMsgSize 1048576"),
    "no envelope secret": ("envelope_secret", lambda ops: _fn(ops).environment.pop("CLB_UNBIND_ENVELOPE_SECRET"),
                           "CLB_UNBIND_ENVELOPE_SECRET"),
    "short envelope secret": ("envelope_secret", lambda ops: _fn(ops).environment.update(CLB_UNBIND_ENVELOPE_SECRET="short"),
                              "64-character"),
}


@pytest.mark.parametrize("name", sorted(BREAKERS))
def test_each_broken_invariant_fails_check_and_names_the_fix(ops: Ops, name: str) -> None:
    invariant, breaker, fix_words = BREAKERS[name]
    assert ops.setup()[0] == 0
    assert all(r["ok"] for r in findings(ops, "--group", GROUPS[0]).values())
    breaker(ops)
    result = findings(ops, "--group", GROUPS[0])
    row = result[invariant]
    assert not row["ok"], row
    assert fix_words in row["fix"], row
    code, text = ops.check("--group", GROUPS[0])
    line = next(x for x in text.splitlines() if x.startswith(f"VIOLATED  {invariant}:"))
    assert code == 1 and f" -- fix: {row['fix']}" in line
    assert len(text.splitlines()) == len(result) == len(INVARIANTS)


def test_a_group_given_to_check_that_does_not_exist(ops: Ops) -> None:
    assert ops.setup()[0] == 0
    row = findings(ops, "--group", "asg-missing1")["groups"]
    assert not row["ok"] and "asg-missing1 does not exist" in row["detail"]


def test_dead_letters_report_how_many_and_the_oldest_age(ops: Ops) -> None:
    assert ops.setup()[0] == 0
    _send_dead_letter(ops)
    _send_dead_letter(ops)
    row = findings(ops)["dead_letters"]
    assert not row["ok"] and row["detail"].startswith(f"2 message(s) wait in {DLQ}; the oldest waits ")


def test_check_of_a_missing_function_fails_every_invariant_it_cannot_prove(ops: Ops) -> None:
    result = findings(ops, "--group", GROUPS[0])
    assert not result["function"]["ok"] and "make setup" in result["function"]["fix"]
    assert not any(r["ok"] for r in result.values())


def test_check_makes_no_write(ops: Ops) -> None:
    assert ops.setup()[0] == 0
    ops.emu.clear_calls()
    findings(ops, "--group", GROUPS[0])
    assert ops.writes() == [] and len(ops.emu.calls) > 10


def test_make_targets_pass_the_flags(tmp_path: Any) -> None:
    import subprocess

    out = subprocess.run(["make", "-n", "setup", "GROUPS=asg-aaaaaaaa asg-bbbbbbbb", "DRY_RUN=1", "REGION=ap-shanghai",
                          "TRANSITION=EXTENSION"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(out.replace("\\\n", " ").split())
    assert "-m deploy setup --group 'asg-aaaaaaaa' --group 'asg-bbbbbbbb' --region 'ap-shanghai'" in flat
    assert "--transition 'EXTENSION'" in flat and "--dry-run" in flat
    out = subprocess.run(["make", "-n", "check", "FUNCTION=f1", "JSON=1", "GROUPS=asg-aaaaaaaa"],
                         capture_output=True, text=True, check=True).stdout
    assert "-m deploy check --group 'asg-aaaaaaaa' --function 'f1' --json" in " ".join(out.split())
    out = subprocess.run(["make", "-n", "setup", "GROUPS=asg-aaaaaaaa", "DRY_RUN=0"], capture_output=True, text=True,
                         check=True).stdout
    assert "--dry-run" not in out


# ------------------------------------------------------------------ end to end
CONSUMER = __import__("pathlib").Path(__file__).resolve().parents[2] / "handler" / "clb_unbind" / "consumer.py"


@pytest.mark.skipif(not CONSUMER.exists(), reason="the queue consumer (handler/clb_unbind/consumer.py) is not on main yet")
def test_a_scale_in_is_consumed_end_to_end_by_the_deployed_configuration(ops: Ops, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.deploy.conftest import LEAVING

    assert ops.setup()[0] == 0
    fn = _fn(ops)
    assert ops.emu.bindings(LEAVING)
    ops.emu.scale_in(GROUPS[0], [LEAVING])
    hook = _hook(ops, GROUPS[0])
    assert [a["lifecycleHookId"] for a in ops.emu.lifecycle_results() if a["instanceId"] == LEAVING] == [hook.hook_id]

    # What SCF gives a run of the deployed function: the environment setup stored, the run role's
    # credentials under SCF's names, the region; and every call sent to the emulator.
    secret_id, secret_key, _ = ops.emu.credentials
    for name, value in {**fn.environment, "TENCENTCLOUD_SECRETID": secret_id, "TENCENTCLOUD_SECRETKEY": secret_key,
                        "TENCENTCLOUD_REGION": "ap-guangzhou", "CLB_UNBIND_ENDPOINT": ops.emu.endpoint,
                        "CLB_UNBIND_TASK_POLL_SECONDS": "0.02"}.items():
        monkeypatch.setenv(name, value)
    from index import main_handler

    context = {"request_id": "timer-run-1", "function_name": fn.name, "time_limit_in_ms": fn.timeout * 1000,
               "memory_limit_in_mb": fn.memory}
    trigger = next(iter(fn.triggers))
    answer = main_handler({"Type": "Timer", "TriggerName": trigger, "Time": "2026-12-01T10:00:00Z", "Message": ""}, context)

    assert (answer["queue"]["name"], answer["queue"]["received"], answer["queue"]["deleted"]) == (QUEUE, 1, 1)
    assert [(r["source"], r["status"]) for r in answer["records"]] == [("queue", "done")]
    assert ops.emu.bindings(LEAVING) == []
    done = [a for a in ops.emu.lifecycle_results() if a["instanceId"] == LEAVING]
    assert [(a["lifecycleHookId"], a["result"]) for a in done] == [(hook.hook_id, "CONTINUE")]
    assert ops.emu.messages(QUEUE) == [] and ops.emu.messages(DLQ) == []


def test_setup_makes_the_envelope_secret_once_keeps_it_and_never_prints_it(ops: Ops) -> None:
    import re

    code, out = ops.setup()
    secret = _fn(ops).environment["CLB_UNBIND_ENVELOPE_SECRET"]
    assert code == 0 and re.fullmatch(r"[0-9a-f]{64}", secret) and secret not in out
    assert "CLB_UNBIND_ENVELOPE_SECRET = (secret, 64 characters)" in out
    assert ops.setup()[0] == 0 and _fn(ops).environment["CLB_UNBIND_ENVELOPE_SECRET"] == secret
    _fn(ops).environment["CLB_UNBIND_ENVELOPE_SECRET"] = "tiny-secret"
    code, out = ops.setup()
    renewed = _fn(ops).environment["CLB_UNBIND_ENVELOPE_SECRET"]
    assert code == 0 and renewed != secret and len(renewed) == 64
    assert "tiny-secret" not in out and renewed not in out
    assert "CLB_UNBIND_ENVELOPE_SECRET: (secret, 11 characters) -> (secret, 64 characters)" in out


def test_transition_extension_is_set_on_the_hooks_and_check_says_what_reaches_the_function(ops: Ops) -> None:
    assert ops.setup()[0] == 0
    assert {h.transition_type for h in ops.emu._estate.hooks.values() if h.queue_name == QUEUE} == {"NORMAL"}
    assert "(NORMAL): scale-in by the group only" in findings(ops)["hooks"]["detail"]
    ops.emu.clear_calls()
    code, out = ops.setup("--transition", "EXTENSION")
    assert code == 0, out
    modified = [c.params for c in ops.writes() if c.action == "ModifyLifecycleHook"]
    assert len(modified) == 2 and all(p["LifecycleTransitionType"] == "EXTENSION" and len(p) == 2 for p in modified)
    assert {h.transition_type for h in ops.emu._estate.hooks.values() if h.queue_name == QUEUE} == {"EXTENSION"}
    detail = findings(ops)["hooks"]["detail"]
    assert f"{GROUPS[0]} (EXTENSION): scale-in, RemoveInstances, DetachInstances" in detail
    ops.emu.clear_calls()
    assert ops.setup("--transition", "EXTENSION")[0] == 0 and ops.writes() == []
    assert ops.setup("--transition", "SOMETIMES")[0] == 2


def test_new_hooks_are_created_with_the_transition_type(ops: Ops) -> None:
    assert ops.setup("--transition", "EXTENSION")[0] == 0
    created = [c.params for c in ops.emu.calls if c.action == "CreateLifecycleHook"]
    assert len(created) == 2 and {p["LifecycleTransitionType"] for p in created} == {"EXTENSION"}


def test_a_timer_firing_an_old_published_version_is_violated(ops: Ops) -> None:
    """setup uploads new code and publishes it, but the timer's alias is left on the old version (or a
    trigger is bound to a version directly): check must say the new code never runs."""
    assert ops.setup()[0] == 0
    package_zip(ops.package, "v2")
    assert ops.setup()[0] == 0
    fn = _fn(ops)
    assert findings(ops)["timer_code"]["ok"]
    alias = next(iter(a for name, a in fn.aliases.items() if name != "$DEFAULT"))
    newest = alias.version
    alias.version = str(int(newest) - 1)
    row = findings(ops)["timer_code"]
    assert not row["ok"] and f"runs version {alias.version}" in row["detail"] and "make setup" in row["fix"]
    alias.version = newest
    timer = next(iter(fn.triggers.values()))
    timer.qualifier = str(int(newest) - 1)
    row = findings(ops)["timer_code"]
    assert not row["ok"] and f"runs version {timer.qualifier} (via {timer.qualifier})" in row["detail"]
