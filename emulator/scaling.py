"""Auto Scaling state changes: scale-in with lifecycle hooks, completion, and members leaving.

Sources:
* docs/cloud-facts.md#as-lifecycle-hook-notification and the ``CreateLifecycleHook`` docstring (doc 377/34454): the notification body
  ``{"Service", "Time", "AppId", "ActivityId", "AutoScalingGroupId", "LifecycleHookId",
  "LifecycleHookName", "LifecycleActionToken", "InstanceId", "LifecycleTransition",
  "NotificationMetadata"}``, one message per instance and hook, to the hook's ``NotificationTarget``.
* docs/cloud-facts.md#as-lifecycle-hooks: ``ABANDON`` on a scale-in hook still continues the scale-in; on a scale-out hook the
  instance is released.
* SDK ``Instance.LifeCycleState``: ``IN_TERMINATING_HOOK`` while a terminating hook waits,
  ``TERMINATING`` after it.

Chosen where no source says (UNCONFIRMED):
* a member moves on once its last pending action of that transition is complete: to ``TERMINATING``
  (terminating hooks, either result; abandoned launching hooks) or ``IN_SERVICE`` (launching,
  ``CONTINUE``); a ``TERMINATING`` member leaves its group ``as_terminate_seconds`` later (knob;
  ``None`` keeps it); whether AS detaches CLBs before or after the wait is unknown (docs/cloud-facts.md#as-detaches-its-own-load-balancers), so
  bindings are left alone;
* a scale-in of a group without an ``INSTANCE_TERMINATING`` hook sends its instances straight to
  ``TERMINATING``; a scale-in records a ``SCALE_IN`` activity (``RUNNING``) naming the instances;
* hooks whose target is a topic (``TDMQ_CMQ_TOPIC``/``CMQ_TOPIC``) publish nothing: topics are not
  emulated. Heartbeat timeouts and ``DefaultResult`` are not simulated.
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any

from .cmq.broker import Broker
from .estate import HOOK_STATE, Activity, Estate, LifecycleAction, Member


def iso(wall: float) -> str:
    return datetime.fromtimestamp(wall, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def after_completion(estate: Estate, action: LifecycleAction, wall: float) -> None:
    """Move the action's instance on once no action of that transition is pending for it."""
    member = estate.member(action.instance_id)
    if member is None or member.state != HOOK_STATE.get(action.transition):
        return
    if any(a.instance_id == action.instance_id and a.transition == action.transition and a.result is None
           for a in estate.lifecycle_actions):
        return
    if action.transition == "INSTANCE_LAUNCHING" and action.result == "CONTINUE":
        member.state = "IN_SERVICE"
    else:
        _terminate(member, wall)


def _terminate(member: Member, wall: float) -> None:
    member.state = "TERMINATING"
    member.terminating_since = wall


def leave(estate: Estate, wall: float, after: float | None) -> None:
    """Remove members that have been TERMINATING for ``after`` seconds (``None``: nobody leaves)."""
    if after is None:
        return
    for group in estate.groups.values():
        for iid in [i for i, m in group.members.items()
                    if m.state == "TERMINATING" and m.terminating_since is not None and wall - m.terminating_since >= after]:
            del group.members[iid]


def scale_in(estate: Estate, broker: Broker, group_id: str, instance_ids: list[str], wall: float,
             publish: bool = True) -> dict[str, Any]:
    """Start a scale-in of ``instance_ids`` (members of ``group_id``, IN_SERVICE): one pending lifecycle
    action per instance and INSTANCE_TERMINATING hook, sharing one ``ActivityId``; with ``publish`` the
    notification of each action whose hook targets a queue goes into that queue (``publish=False``
    models a lost notification). Raises ``KeyError``/``ValueError`` and changes nothing on bad input."""
    group = estate.groups.get(group_id)
    if group is None:
        raise KeyError(f"no scaling group {group_id!r} in the estate")
    if not instance_ids:
        raise ValueError("instance_ids must not be empty")
    for iid in instance_ids:
        member = group.members.get(iid)
        if member is None:
            raise ValueError(f"{iid} is not a member of {group_id}")
        if member.state != "IN_SERVICE":
            raise ValueError(f"{iid} is {member.state}, not IN_SERVICE")
    hooks = [h for h in estate.hooks.values() if h.group_id == group_id and h.transition == "INSTANCE_TERMINATING"]
    activity_id = _activity_id(estate)
    estate.activities[activity_id] = Activity(
        activity_id, group_id, "SCALE_IN", "RUNNING", [(iid, "RUNNING") for iid in instance_ids],
        cause="Emulated scale-in (emu.scale_in)", description=f"Remove {len(instance_ids)} instance(s)",
        start_time=iso(wall), end_time="", created_time=iso(wall))
    created: list[dict[str, Any]] = []
    for iid in instance_ids:
        member = group.members[iid]
        if not hooks:
            _terminate(member, wall)
            continue
        member.state = "IN_TERMINATING_HOOK"
        for hook in hooks:
            token = str(uuid.uuid4())
            estate.lifecycle_actions.append(LifecycleAction(hook.hook_id, group_id, iid, token))
            queue = hook.queue_name if hook.target_type in ("TDMQ_CMQ_QUEUE", "CMQ_QUEUE") else None
            msg_id = None
            if publish and queue:
                body = json.dumps({
                    "Service": "Tencent Cloud Auto Scaling", "Time": iso(wall), "AppId": estate.app_id,
                    "ActivityId": activity_id, "AutoScalingGroupId": group_id, "LifecycleHookId": hook.hook_id,
                    "LifecycleHookName": hook.name, "LifecycleActionToken": token, "InstanceId": iid,
                    "LifecycleTransition": "INSTANCE_TERMINATING", "NotificationMetadata": hook.metadata,
                })
                msg_id = broker.send(queue, body, 0, wall, "AutoScaling").msg_id
            created.append({"instanceId": iid, "lifecycleHookId": hook.hook_id, "lifecycleActionToken": token,
                            "queue": queue, "msgId": msg_id, "published": msg_id is not None})
    return {"activityId": activity_id, "groupId": group_id, "actions": created,
            "terminating": [iid for iid in instance_ids if group.members[iid].state == "TERMINATING"]}


def _activity_id(estate: Estate) -> str:
    n = len(estate.activities) + 1
    while f"asa-emu{n:05d}" in estate.activities:
        n += 1
    return f"asa-emu{n:05d}"
