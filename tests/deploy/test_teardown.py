"""`teardown` removes what setup created and nothing else, says what it keeps, and is a dry run first."""
from __future__ import annotations

from emulator import deployment
from tests.deploy.conftest import GROUPS, LEAVING, Ops

QUEUE, DLQ, FUNCTION = "clb-unbind-lifecycle", "clb-unbind-dead-letter", "clb-unbind"


def hooks_on(ops: Ops, queue: str) -> list:
    return [h for h in ops.emu._estate.hooks.values() if h.queue_name == queue]


def test_a_dry_run_first_then_everything_setup_made_goes(ops: Ops) -> None:
    assert ops.setup()[0] == 0
    ops.emu.clear_calls()
    code, out = ops.run("teardown")
    assert code == 0, out
    assert ops.writes() == [] and "none made (dry run)" in out and "make teardown CONFIRM=1" in out
    for thing in ("timer trigger clb-unbind-consumer (fires live)", "function clb-unbind with its versions and aliases",
                  f"queue {QUEUE} (empty)", f"dead-letter queue {DLQ} (empty)", "policy clb-unbind-policy",
                  "role clb-unbind-role"):
        assert thing in out, thing
    assert out.count("lifecycle hook clb-unbind-terminating") == 2
    assert "the scaling groups and their instances: teardown never touches them" in out

    code, out = ops.run("teardown", "--yes")
    assert code == 0, out
    dep = deployment.of_emulator(ops.emu)
    assert dep.functions == {} and dep.roles == {} and dep.policies == {}
    assert QUEUE not in ops.emu._estate.queues and DLQ not in ops.emu._estate.queues
    assert hooks_on(ops, QUEUE) == []
    assert sorted(ops.emu._estate.groups) == sorted(GROUPS)
    assert [m["instanceId"] for m in ops.emu.auto_scaling_instances(GROUPS[0])] == [LEAVING]
    assert f'Undo: `make setup GROUPS="{" ".join(GROUPS)}"`' in out
    assert sorted(c.action for c in ops.writes()) == sorted(
        ["DeleteTrigger", "DeleteLifecycleHook", "DeleteLifecycleHook", "DeleteFunction", "DeleteCmqQueue", "DeleteCmqQueue",
         "DetachRolePolicy", "DeletePolicy", "DeleteRole"] + ["DeleteAlarm"] * 6 + ["DeleteDashboard"])  # the watching's

    ops.emu.clear_calls()
    code, out = ops.run("teardown", "--yes")
    assert code == 0 and ops.writes() == [] and "nothing" in out
    assert ops.setup()[0] == 0 and ops.check()[0] == 0  # the undo works


def test_what_setup_did_not_make_or_what_still_holds_messages_is_kept(ops: Ops) -> None:
    assert ops.setup()[0] == 0
    hook = hooks_on(ops, QUEUE)[0]
    hook.name = "team-b-drain"  # a hook another team made, which setup adopted
    role = deployment.of_emulator(ops.emu).roles["clb-unbind-role"]
    role.description = "made by hand"
    from deploy.cloud import Cloud

    Cloud.from_env("ap-guangzhou").write("tdmq", "SendCmqMsg", {"QueueName": DLQ, "MsgContent": "{}", "DelaySeconds": 0})

    code, out = ops.run("teardown", "--yes")
    assert code == 0, out
    assert f"team-b-drain ({hook.hook_id}) of {hook.group_id}: setup did not create it" in out
    assert f"dead-letter queue {DLQ}: the queue that names it is kept" in out
    assert "role clb-unbind-role: setup did not create it" in out
    assert QUEUE in ops.emu._estate.queues and DLQ in ops.emu._estate.queues
    assert "clb-unbind-role" in deployment.of_emulator(ops.emu).roles
    assert deployment.of_emulator(ops.emu).policies == {}
    assert [h.name for h in hooks_on(ops, QUEUE)] == ["team-b-drain"]

    hook.queue_name = "team-b-queue"
    code, out = ops.run("teardown", "--yes")
    assert code == 0 and f"dead-letter queue {DLQ}: it holds 1 message(s)" in out and "FORCE=1" in out
    assert QUEUE not in ops.emu._estate.queues and DLQ in ops.emu._estate.queues
    code, out = ops.run("teardown", "--yes", "--force")
    assert code == 0 and f"dead-letter queue {DLQ} and its 1 message(s)" in out
    assert DLQ not in ops.emu._estate.queues


def test_a_function_with_a_trigger_setup_did_not_make_is_kept_with_its_role(ops: Ops) -> None:
    assert ops.setup()[0] == 0
    from deploy.cloud import Cloud

    Cloud.from_env("ap-guangzhou").write("scf", "CreateTrigger", {"FunctionName": FUNCTION, "Namespace": "default",
                                                                 "TriggerName": "nightly", "Type": "timer",
                                                                 "TriggerDesc": "0 0 3 * * * *", "Qualifier": "$DEFAULT"})
    code, out = ops.run("teardown", "--yes")
    assert code == 0, out
    assert "function clb-unbind: it has triggers setup did not create (timer trigger nightly)" in out
    assert "role clb-unbind-role and policy clb-unbind-policy: the function that runs as the role is kept" in out
    f = deployment.of_emulator(ops.emu).function("ap-guangzhou", "default", FUNCTION)
    assert f is not None and list(f.triggers) == ["nightly"]
    assert "clb-unbind-role" in deployment.of_emulator(ops.emu).roles
