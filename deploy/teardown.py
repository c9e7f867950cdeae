"""`python -m deploy teardown [--yes] [--force]`: remove what setup created, and nothing else.

What setup created is told apart from what it did not by what setup writes:
* the timer trigger by its name (``clb-unbind-consumer``), on any qualifier;
* a lifecycle hook by its name (``clb-unbind-terminating``) *and* its notification target (the queue);
  a hook that notifies the queue under another name was another team's, adopted by setup, and is kept;
* the function by its name; it is kept when it has a trigger setup did not make (deleting the function
  would delete that trigger too);
* the run role and its policy by the descriptions setup gives them (``plan.ROLE_DESCRIPTION``,
  ``plan.POLICY_DESCRIPTION``); a role that also holds a policy setup did not attach is kept;
* the queues by name, deleted only when they hold no message (``ActiveMsgNum``, ``InactiveMsgNum``,
  ``DelayMsgNum`` of ``DescribeCmqQueueDetail``), or with ``--force``; the dead-letter queue is kept
  whenever the queue that names it is kept, and a queue that a kept hook notifies is kept.
The scaling groups and their instances are never touched.

Order: the trigger first (nothing consumes any more), then the hooks (nothing notifies any more), the
function, the queue, its dead-letter queue, the policy (detached first) and the role. Writes and their
SDK models: scf ``DeleteTrigger`` (``TriggerName``, ``Type``, ``Qualifier``), ``DeleteFunction``
(without ``Qualifier``: "不填默认删除函数下全部版本", so its versions and aliases go with it); as
``DeleteLifecycleHook`` (``LifecycleHookId``); tdmq ``DeleteCmqQueue`` (``QueueName``); cam
``DetachRolePolicy``, ``DeletePolicy`` (``PolicyId`` list), ``DeleteRole`` (``RoleName``).

Without ``--yes`` it is a dry run: it prints what it would delete and what it keeps, and calls no
write API.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, List, Optional

from . import current
from .apply import ApplyError, apply, pending
from .cloud import ApiFailure, Cloud
from .desired import Inputs
from .plan import POLICY_DESCRIPTION, ROLE_DESCRIPTION, Step, Write


@dataclass
class Teardown:
    steps: List[Step] = field(default_factory=list)
    kept: List[str] = field(default_factory=list)
    groups: List[str] = field(default_factory=list)


def _messages(q: dict) -> int:
    return sum(int(q.get(k) or 0) for k in ("ActiveMsgNum", "InactiveMsgNum", "DelayMsgNum"))


def plan_teardown(cloud: Cloud, inputs: Inputs, force: bool) -> Teardown:
    t = Teardown()
    fn = current.function(cloud, inputs.function, inputs.namespace)
    env = current.environment(fn)
    queue = env.get("CLB_UNBIND_QUEUE") or inputs.queue
    dlq = env.get("CLB_UNBIND_DEAD_LETTER_QUEUE") or inputs.dead_letter_queue
    t.groups = sorted(g for g in (env.get("CLB_UNBIND_GROUPS") or "").split(",") if g)
    base = {"FunctionName": inputs.function, "Namespace": inputs.namespace}

    other_triggers: List[str] = []
    if fn is not None:
        for trig in current.triggers(cloud, inputs.function, inputs.namespace):
            if trig.get("Type") == "timer" and trig.get("TriggerName") == inputs.trigger_name:
                t.steps.append(Step(f"timer trigger {inputs.trigger_name} (fires {trig.get('Qualifier')})", "delete", [],
                                    [Write("scf", "DeleteTrigger", {**base, "TriggerName": inputs.trigger_name, "Type": "timer",
                                                                    "Qualifier": trig.get("Qualifier") or "$LATEST"})]))
            else:
                other_triggers.append(f"{trig.get('Type')} trigger {trig.get('TriggerName')}")

    kept_hooks: List[dict] = []
    for hook in current.hooks(cloud):
        if not current.notifies(hook, queue):
            continue
        where = f"lifecycle hook {hook.get('LifecycleHookName')} ({hook.get('LifecycleHookId')}) of {hook.get('AutoScalingGroupId')}"
        if hook.get("LifecycleHookName") == inputs.hook_name:
            t.steps.append(Step(where, "delete", [],
                                [Write("as", "DeleteLifecycleHook", {"LifecycleHookId": hook["LifecycleHookId"]})]))
        else:
            kept_hooks.append(hook)
            t.kept.append(f"{where}: setup did not create it (another name); it notifies {queue}, so {queue} is kept too")

    function_kept = fn is not None and bool(other_triggers)
    if fn is None:
        t.kept.append(f"function {inputs.function}: there is none")
    elif function_kept:
        t.kept.append(f"function {inputs.function}: it has triggers setup did not create ({', '.join(other_triggers)}); "
                      f"delete them, or the function, yourself")
    else:
        t.steps.append(Step(f"function {inputs.function} with its versions and aliases", "delete", [],
                            [Write("scf", "DeleteFunction", dict(base))]))

    queue_kept = False
    for name, role in ((queue, "queue"), (dlq, "dead-letter queue")):
        q = current.queue(cloud, name)
        if q is None:
            continue
        held = _messages(q)
        if role == "queue" and kept_hooks:
            queue_kept = True
            continue
        if role == "dead-letter queue" and queue_kept:
            t.kept.append(f"{role} {name}: the queue that names it is kept")
            continue
        if held and not force:
            t.kept.append(f"{role} {name}: it holds {held} message(s) ("
                          + ("notifications not handled yet: let a timer run take them first" if role == "queue" else
                             "dead letters: `make deadletters` lists them")
                          + "); teardown FORCE=1 deletes them with it")
            queue_kept = queue_kept or role == "queue"
            continue
        t.steps.append(Step(f"{role} {name}" + (f" and its {held} message(s)" if held else " (empty)"), "delete", [],
                            [Write("tdmq", "DeleteCmqQueue", {"QueueName": name})]))

    if function_kept:
        t.kept.append(f"role {inputs.role} and policy {inputs.policy}: the function that runs as the role is kept")
        t.kept.append("the scaling groups and their instances: teardown never touches them")
        return t
    role_info = current.role(cloud, inputs.role)
    attached = current.attached_policies(cloud, inputs.role) if role_info else []
    policy = current.policy_by_name(cloud, inputs.policy)
    ours = policy is not None and (policy.get("Description") or "") == POLICY_DESCRIPTION
    if policy is not None and not ours:
        t.kept.append(f"policy {inputs.policy}: setup did not create it (its description is not setup's)")
    if ours:
        writes = [Write("cam", "DetachRolePolicy", {"PolicyId": int(policy["PolicyId"]), "DetachRoleName": inputs.role})
                  for p in attached if int(p.get("PolicyId", -1)) == int(policy["PolicyId"])]
        writes.append(Write("cam", "DeletePolicy", {"PolicyId": [int(policy["PolicyId"])]}))
        t.steps.append(Step(f"policy {inputs.policy}", "delete", [], writes))
    if role_info is not None:
        others = [p.get("PolicyName") or str(p.get("PolicyId")) for p in attached
                  if not (ours and int(p.get("PolicyId", -1)) == int(policy["PolicyId"]))]  # type: ignore[index]
        if (role_info.get("Description") or "") != ROLE_DESCRIPTION:
            t.kept.append(f"role {inputs.role}: setup did not create it (its description is not setup's)")
        elif others:
            t.kept.append(f"role {inputs.role}: it also holds {', '.join(others)}, which setup did not attach")
        else:
            t.steps.append(Step(f"role {inputs.role}", "delete", [], [Write("cam", "DeleteRole", {"RoleName": inputs.role})]))
    t.kept.append("the scaling groups and their instances: teardown never touches them")
    return t


def teardown(cloud: Cloud, inputs: Inputs, force: bool, say: Callable[[str], None]) -> int:
    """0 done (or planned); 1 a delete failed."""
    real = not cloud.dry_run
    say(f"clb-unbind teardown: function {inputs.function} in {cloud.region}"
        + ("" if real else " (dry run: no write call; `make teardown CONFIRM=1` deletes)"))
    t = plan_teardown(cloud, inputs, force)
    say("will delete:" if real else "would delete:")
    for step in t.steps:
        say(f"  {step.resource}")
    if not t.steps:
        say("  nothing")
    say("keeps:")
    for line in t.kept:
        say(f"  {line}")
    writes = pending(t.steps)
    undo = (f"Undo: `make setup GROUPS=\"{' '.join(t.groups) or 'asg-…'}\"` makes them again (new, empty queues: what the "
            f"deleted ones held is gone).")
    if not real:
        say(f"{len(writes)} write call(s) planned: " + (", ".join(f"{w.service}:{w.action}" for w in writes) or "none")
            + f"; none made (dry run). {undo}")
        return 0
    try:
        sent = apply(cloud, t.steps, say)
    except (ApiFailure, ApplyError) as exc:
        say(f"teardown: {exc}; run it again: it goes on with what is left")
        return 1
    say(f"{sent} write call(s) made. {undo}")
    return 0


def inputs_for(function: str, namespace: str, region: str, queue: Optional[str], dead_letter_queue: Optional[str]) -> Inputs:
    defaults = Inputs(groups=())
    return Inputs(groups=(), region=region, function=function, namespace=namespace, queue=queue or defaults.queue,
                  dead_letter_queue=dead_letter_queue or defaults.dead_letter_queue)
