"""Our own hooks: the only lifecycle actions the function ever completes, whatever trigger named them.

A hook is ours when it is an `INSTANCE_TERMINATING` hook whose `NotificationTarget` is the queue the timer
consumes (`CLB_UNBIND_QUEUE`), or a topic in `CLB_UNBIND_TOPICS` (the legacy topic trigger). Any other hook,
and its result, belong to another team: a message naming one still gets its instance unbound when the
instance is leaving, and the hook is left alone (`not_our_hook`). The sweep picks the hook it completes by
the same rule.

Hooks are read with `DescribeLifecycleHooks` (the `auto-scaling-group-id` filter, 5 groups a call) at most
once per group per run: the answer is kept on the run's session, so the queue passes and the sweep share it.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional

from .cloud.autoscaling import Hook, lifecycle_hooks
from .cloud.session import CloudSession
from .config import Settings

TERMINATING = "INSTANCE_TERMINATING"
# SDK autoscaling `NotificationTarget.TargetType`: TDMQ_CMQ_* today, CMQ_* on older hooks
# (docs/cloud-facts.md#as-lifecycle-hooks).
QUEUE_TARGETS = ("TDMQ_CMQ_QUEUE", "CMQ_QUEUE")
TOPIC_TARGETS = ("TDMQ_CMQ_TOPIC", "CMQ_TOPIC")
MEMO_KEY = "lifecycle_hooks"


def is_ours(hook: Hook, settings: Settings) -> bool:
    if hook.transition != TERMINATING:
        return False
    if hook.target_type in QUEUE_TARGETS:
        return bool(settings.queue) and hook.queue_name == settings.queue
    if hook.target_type in TOPIC_TARGETS:
        return bool(hook.topic_name) and hook.topic_name in settings.topics
    return False


def own_hooks(hooks: Iterable[Hook], settings: Settings) -> Dict[str, Hook]:
    """Per group, its own hook (the lowest id if, oddly, there are several)."""
    own: Dict[str, Hook] = {}
    for hook in sorted(hooks, key=lambda h: h.hook_id):
        if is_ours(hook, settings):
            own.setdefault(hook.group_id, hook)
    return own


def hooks_of(session: CloudSession, group_ids: Iterable[str]) -> Dict[str, List[Hook]]:
    """The hooks of these groups, each group read at most once per run; raises `CloudError`."""
    known: Dict[str, List[Hook]] = session.memo.setdefault(MEMO_KEY, {})
    unread = sorted({g for g in group_ids if g and g not in known})
    if unread:
        read = lifecycle_hooks(session, unread)
        for group_id in unread:
            known[group_id] = [h for h in read if h.group_id == group_id]
    return {g: known.get(g, []) for g in group_ids if g}


def hook_named(session: CloudSession, group_id: Optional[str], hook_id: str) -> Optional[Hook]:
    """The hook a message names, if it is a hook of the group the message names; raises `CloudError`."""
    if not group_id:
        return None
    return next((h for h in hooks_of(session, [group_id]).get(group_id, []) if h.hook_id == hook_id), None)
