"""What ``check`` proves about a live deployment: each invariant read with read-only calls, reported
as ok or violated with the fix.

The numbers it holds the deployment to are :mod:`deploy.numbers`' floors, computed from the live
values (the function's timeout and environment, the queue's visibility timeout, the timer's cron), so a
deployment that was changed by hand is judged by what it is, not by what setup would have made.

The function's settings are read from its environment by the function's own parser
(handler ``clb_unbind/config.py``), so defaults and bounds are the ones the running function applies.
``DescribeCmqQueueDetail`` answers message counts (``ActiveMsgNum`` waiting, ``InactiveMsgNum`` being
consumed, ``DelayMsgNum``) and ``MinMsgTime``, "消息最小未消费时间，单位为秒": taken as the Unix time in
seconds of the oldest unconsumed message when it is that large, else as an age in seconds (which of
the two the API means is UNCONFIRMED).
"""
from __future__ import annotations

import fnmatch
import time
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set

from . import current, dangers, group_reads, listener_deadline, member_kinds, permissions, watching
from .cloud import Cloud
from .findings import Finding
from .function_settings import function_settings
from .desired import HANDLER, RUNTIME, SCF_PRINCIPAL
from .numbers import VISIBILITY_MARGIN, heartbeat_floor, receive_cycle, visibility_floor
from .plan import cron_of, normalise_policy

Json = Dict[str, Any]




def required_actions() -> List[str]:
    """Every action the function calls: deploy/permissions.py's sourced list, which the contract tests
    hold equal to the calls the function makes over every sample event."""
    return permissions.actions()


# ------------------------------------------------------------------ cron
def _seconds_field(text: str) -> Optional[Set[int]]:
    out: Set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, raw_step = part.split("/", 1)
            if not raw_step.isdigit() or int(raw_step) == 0:
                return None
            step = int(raw_step)
        if part in ("*", ""):
            lo, hi = 0, 59
        elif "-" in part:
            a, b = part.split("-", 1)
            if not (a.isdigit() and b.isdigit()):
                return None
            lo, hi = int(a), int(b)
        elif part.isdigit():
            lo = int(part)
            hi = 59 if step > 1 else lo
        else:
            return None
        if not 0 <= lo <= hi <= 59:
            return None
        out.update(range(lo, hi + 1, step))
    return out


def cron_interval(cron: str) -> Optional[int]:
    """The longest gap in seconds between two firings of a seven-field cron (seconds first), when it
    fires every minute of every hour of every day; else None."""
    fields = cron.split()
    if len(fields) != 7:
        return None
    seconds, minute, hour, day, month, weekday, year = fields
    every = {"minute": ("*", "*/1", "0-59"), "hour": ("*", "*/1", "0-23"), "day": ("*", "?", "*/1"),
             "month": ("*", "*/1"), "weekday": ("*", "?"), "year": ("*",)}
    for name, value in zip(every, (minute, hour, day, month, weekday, year)):
        if value not in every[name]:
            return None
    fires = sorted(_seconds_field(seconds) or ())
    if not fires:
        return None
    gaps = [b - a for a, b in zip(fires, fires[1:])] + [fires[0] + 60 - fires[-1]]
    return max(gaps)


# ------------------------------------------------------------------ role coverage
def _statements(document: Any) -> List[Json]:
    norm = normalise_policy(document)
    return [s for s in norm.get("statement") or [] if isinstance(s, dict)] if isinstance(norm, dict) else []


def _allowed(documents: Iterable[Any]) -> List[tuple]:
    """(effect, action patterns) of every statement of every policy document."""
    return [(str(s.get("effect", "")).lower(), [str(a) for a in s.get("action") or []])
            for doc in documents for s in _statements(doc)]


def uncovered(required: Sequence[str], documents: Iterable[Any]) -> List[str]:
    """Actions no allow statement grants, or a deny statement takes away (CAM patterns such as
    ``clb:Describe*`` and ``*``; matched case-insensitively)."""
    rules = _allowed(documents)

    def matches(patterns: List[str], action: str) -> bool:
        return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)

    return [a for a in required
            if not any(e == "allow" and matches(p, a) for e, p in rules) or any(e == "deny" and matches(p, a) for e, p in rules)]


def trusts_scf(document: Any) -> bool:
    for statement in _statements(document):
        actions = [str(a).lower() for a in statement.get("action") or []]
        services = ((statement.get("principal") or {}).get("service")) or []
        if (str(statement.get("effect", "")).lower() == "allow" and any(a.endswith("sts:assumerole") for a in actions)
                and SCF_PRINCIPAL in services):
            return True
    return False


# ------------------------------------------------------------------ which removals reach the function
REACHES = {
    "NORMAL": "scale-in by the group only (desired capacity, scaling policies, schedules)",
    "EXTENSION": "scale-in, RemoveInstances, DetachInstances, StopAutoScalingInstances, StartInstanceRefresh",
}
"""autoscaling CreateLifecycleHookRequest.LifecycleTransitionType: EXTENSION also fires the hook on
AttachInstances, DetachInstances, RemoveInstances, StopAutoScalingInstances, StartAutoScalingInstances
and StartInstanceRefresh; NORMAL does not (docs/lifecycle-hooks.md)."""


def removals(hooks: Sequence[Json]) -> str:
    """Per group: its hook's LifecycleTransitionType (unset is NORMAL, the documented default) and what reaches us."""
    parts = []
    for h in sorted(hooks, key=lambda h: str(h.get("AutoScalingGroupId"))):
        kind = h.get("LifecycleTransitionType") or "NORMAL"
        parts.append(f"{h.get('AutoScalingGroupId')} ({kind}): {REACHES.get(kind, 'unknown type ' + str(kind))}")
    return "; ".join(parts) or "none"


# ------------------------------------------------------------------ the check
def _message_age(q: Json, now: float) -> str:
    raw = q.get("MinMsgTime")
    if not raw:
        return "age unknown"
    age = now - raw if raw > 1_000_000_000 else raw
    return f"the oldest waits {int(age)} s"


CORE = ("function", "timer", "visibility_timeout", "dead_letter_policy", "retention", "hooks", "groups", "run_role",
        "dead_letters")
GROUP_NAMES = (member_kinds.NAME, listener_deadline.NAME)
INVARIANTS = CORE + dangers.NAMES + watching.NAMES + GROUP_NAMES
"""Every finding check reports, in its order."""


def check(cloud: Cloud, function: str, namespace: str = "default", groups: Sequence[str] = (),
          now: Optional[float] = None, watch: Optional[watching.Watch] = None) -> List[Finding]:
    now = time.time() if now is None else now
    setup_hint = "run `make setup GROUPS=\"asg-…\"` (python -m deploy setup --group asg-…)"
    out: List[Finding] = []
    fn = current.function(cloud, function, namespace)
    env = current.environment(fn)
    settings, settings_error = None, ""
    try:
        settings = function_settings(env)
    except ValueError as exc:
        settings_error = str(exc)
    queue_name = env.get("CLB_UNBIND_QUEUE", "")
    q = current.queue(cloud, queue_name) if queue_name else None

    # 1. the function
    if fn is None:
        out.append(Finding("function", False, f"no function {function} in namespace {namespace} of {cloud.region}", setup_hint))
    else:
        problems = []
        if fn.get("Runtime") != RUNTIME:
            problems.append(f"runtime {fn.get('Runtime')} (expected {RUNTIME})")
        if fn.get("Handler") != HANDLER:
            problems.append(f"handler {fn.get('Handler')} (expected {HANDLER})")
        if settings_error:
            problems.append(f"environment refused by the function: {settings_error}")
        if not queue_name:
            problems.append("CLB_UNBIND_QUEUE is not set: timer runs consume nothing")
        elif q is None:
            problems.append(f"CLB_UNBIND_QUEUE={queue_name} names no queue")
        dlq_name = env.get("CLB_UNBIND_DEAD_LETTER_QUEUE", "")
        if not dlq_name:
            problems.append("CLB_UNBIND_DEAD_LETTER_QUEUE is not set: work that cannot succeed has nowhere to go")
        elif current.queue(cloud, dlq_name) is None:
            problems.append(f"CLB_UNBIND_DEAD_LETTER_QUEUE={dlq_name} names no queue")
        if problems:
            fix = setup_hint if fn.get("Runtime") == RUNTIME else "delete the function (SCF cannot change a runtime), then " + setup_hint
            out.append(Finding("function", False, "; ".join(problems), fix))
        else:
            out.append(Finding("function", True, f"{RUNTIME}, {HANDLER}, timeout {fn.get('Timeout')} s, "
                                                 f"CLB_UNBIND_QUEUE={queue_name} exists"))

    # 2. the timer
    interval: Optional[int] = None
    enabled_timers: List[Json] = []
    if fn is None:
        out.append(Finding("timer", False, "no function, so no timer trigger", setup_hint))
    else:
        timers = [t for t in current.triggers(cloud, function, namespace) if t.get("Type") == "timer"]
        good = [(t, cron_interval(cron_of(t))) for t in timers if int(t.get("Enable") or 0) == 1]
        good = [(t, i) for t, i in good if i is not None and i <= 60]
        enabled_timers = [t for t, _ in good]
        if good:
            interval = min(i for _, i in good)
            names = ", ".join(f"{t.get('TriggerName')} ({cron_of(t)!r})" for t, _ in good)
            out.append(Finding("timer", True, f"enabled timer fires at least every {interval} s: {names}"))
        else:
            seen = ", ".join(f"{t.get('TriggerName')} ({cron_of(t)!r}, {'enabled' if int(t.get('Enable') or 0) == 1 else 'disabled'})"
                             for t in timers) or "none"
            out.append(Finding("timer", False, f"no enabled timer trigger fires at least every minute; timers: {seen}",
                               setup_hint + " (creates an enabled timer, cron '0 */1 * * * * *')"))
    timer_for_numbers = interval or 60
    timeout = int((fn or {}).get("Timeout") or 0)

    # 3. visibility timeout
    if q is None:
        out.append(Finding("visibility_timeout", False, f"no queue {queue_name or '(CLB_UNBIND_QUEUE unset)'}", setup_hint))
    else:
        vt = int(q.get("VisibilityTimeout") or 0)
        need = visibility_floor(timeout)
        ok = fn is not None and vt >= need
        out.append(Finding("visibility_timeout", ok,
                           f"VisibilityTimeout {vt} s {'>=' if ok else '<'} function timeout {timeout} s + {VISIBILITY_MARGIN} s",
                           "" if ok else f"set the queue's VisibilityTimeout to at least {need} s (ModifyCmqQueueAttribute), "
                                         f"or {setup_hint}"))

    # 4. dead-letter policy
    retention = int((q or {}).get("MsgRetentionSeconds") or 0)
    if q is None:
        out.append(Finding("dead_letter_policy", False, f"no queue {queue_name or '(CLB_UNBIND_QUEUE unset)'}", setup_hint))
    else:
        dlp = q.get("DeadLetterPolicy") or {}
        target = dlp.get("DeadLetterQueue") or ""
        count = dlp.get("MaxReceiveCount")
        cycle = receive_cycle(int(q.get("VisibilityTimeout") or 0), timer_for_numbers)
        most = max(1, min(1000, retention // cycle)) if cycle else 1
        problems = []
        if not target:
            problems.append("the queue has no dead-letter policy: a message that keeps crashing runs is retried until it expires")
        else:
            if dlp.get("Policy") != 0:
                problems.append(f"Policy {dlp.get('Policy')} (expected 0, by receive count)")
            if current.queue(cloud, target) is None:
                problems.append(f"dead-letter queue {target} does not exist")
            if not isinstance(count, int) or not 1 <= count <= most:
                problems.append(f"MaxReceiveCount {count} outside 1–{most} ({most} receipts {cycle} s apart fit in the "
                                f"{retention} s retention; more would let a poison message expire instead of moving)")
        ok = not problems
        out.append(Finding("dead_letter_policy", ok,
                           f"Policy 0, MaxReceiveCount {count} (1–{most}) to {target} (exists)" if ok else "; ".join(problems),
                           "" if ok else f"{setup_hint} (sets DeadLetterQueueName, Policy 0 and MaxReceiveCount)"))

    # 5-6. hooks that notify this queue
    all_hooks = current.hooks(cloud) if queue_name else []
    ours = [h for h in all_hooks if current.notifies(h, queue_name)]
    base = settings.retry_base_seconds if settings else 10.0
    floor = heartbeat_floor(timeout, timer_for_numbers, int((q or {}).get("VisibilityTimeout") or 0), base) if q else None
    if q is None:
        out.append(Finding("retention", False, f"no queue {queue_name or '(CLB_UNBIND_QUEUE unset)'}", setup_hint))
    else:
        longest = max((int(h.get("HeartbeatTimeout") or 0) for h in ours), default=0)
        ok = retention >= longest
        detail = (f"MsgRetentionSeconds {retention} s {'>=' if ok else '<'} the longest heartbeat of the "
                  f"{len(ours)} hook(s) notifying {queue_name} ({longest} s)")
        out.append(Finding("retention", ok, detail, "" if ok else
                           f"raise the queue's MsgRetentionSeconds to at least {longest} s (at most 43200), or {setup_hint}"))

    def good_hook(h: Json) -> bool:
        return h.get("LifecycleTransition") == "INSTANCE_TERMINATING" and floor is not None and \
            int(h.get("HeartbeatTimeout") or 0) >= floor

    bad = [h for h in ours if not good_hook(h)]
    if q is None or fn is None:
        out.append(Finding("hooks", False, "no function or no queue to hold the hooks to", setup_hint))
    elif bad:
        detail = "; ".join(f"{h.get('LifecycleHookId')} of {h.get('AutoScalingGroupId')}: {h.get('LifecycleTransition')}, "
                           f"heartbeat {h.get('HeartbeatTimeout')} s" for h in bad)
        out.append(Finding("hooks", False, f"{detail} (each hook notifying {queue_name} must be INSTANCE_TERMINATING with a "
                                           f"heartbeat of at least {floor} s: one timer interval, one run and one retry)",
                           f"{setup_hint}, or ModifyLifecycleHook HeartbeatTimeout={floor}; a launching hook must "
                           f"notify another queue"))
    else:
        out.append(Finding("hooks", True, f"{len(ours)} hook(s) notify {queue_name}, each INSTANCE_TERMINATING with a "
                                          f"heartbeat of at least {floor} s; removals that reach the function: "
                                          f"{removals(ours)}"))

    # 7. groups
    wanted = sorted(set(groups) | (set(settings.groups) if settings else set()))
    if not wanted:
        out.append(Finding("groups", False, "no scaling group on the command line nor in CLB_UNBIND_GROUPS: nothing "
                                            "reconciles, and nothing says which groups should notify the queue",
                           setup_hint))
    else:
        existing = current.existing_groups(cloud, wanted)
        problems = []
        for g in wanted:
            if g not in existing:
                problems.append(f"{g} does not exist")
            elif not any(h.get("AutoScalingGroupId") == g and good_hook(h) for h in ours):
                problems.append(f"{g} has no INSTANCE_TERMINATING hook notifying {queue_name or '(no queue)'} "
                                f"with a heartbeat of at least {floor} s")
        missing_env = sorted(set(groups) - (set(settings.groups) if settings else set()))
        if missing_env and fn is not None:
            problems.append(f"{', '.join(missing_env)} not in the function's CLB_UNBIND_GROUPS")
        ok = not problems
        out.append(Finding("groups", ok, f"{', '.join(wanted)}: each exists and has the hook" if ok else "; ".join(problems),
                           "" if ok else f"run `make setup GROUPS=\"{' '.join(g for g in wanted if g in existing)}\"`; "
                                         f"drop a group that no longer exists from CLB_UNBIND_GROUPS"))

    # 8. the run role
    role_name = (fn or {}).get("Role") or ""
    if fn is None or not role_name:
        out.append(Finding("run_role", False, "the function has no run role: its calls carry no credentials", setup_hint))
    else:
        role = current.role(cloud, role_name)
        if role is None:
            out.append(Finding("run_role", False, f"role {role_name} does not exist", setup_hint))
        else:
            docs = [(current.policy(cloud, p["PolicyId"]) or {}).get("PolicyDocument")
                    for p in current.attached_policies(cloud, role_name)]
            docs = [d for d in docs if d]
            values = {"region": cloud.region, "queue": queue_name or "(CLB_UNBIND_QUEUE unset)",
                      "dead_letter_queue": env.get("CLB_UNBIND_DEAD_LETTER_QUEUE", "") or "(unset)"}
            lacking = permissions.missing(docs, values)
            extra = permissions.broader(docs, values)
            problems = []
            if not trusts_scf(role.get("PolicyDocument")):
                problems.append(f"role {role_name} is not trusted by {SCF_PRINCIPAL}: SCF cannot give the function its credentials")
            if lacking:
                problems.append(f"not allowed: {', '.join(lacking)}")
            if extra:
                problems.append(f"allowed beyond what the function needs (docs/permissions.md): {', '.join(extra)}")
            ok = not problems
            out.append(Finding("run_role", ok,
                               f"role {role_name} is trusted by {SCF_PRINCIPAL} and allows exactly the "
                               f"{len(permissions.GRANTS)} actions of docs/permissions.md, each on its own resources"
                               if ok else "; ".join(problems),
                               "" if ok else f"{setup_hint} (the role then holds exactly the policy of docs/permissions.md; "
                                             f"detach any other policy from {role_name})"))

    # 9. dead letters
    names = [n for n in dict.fromkeys([((q or {}).get("DeadLetterPolicy") or {}).get("DeadLetterQueue") or "",
                                        env.get("CLB_UNBIND_DEAD_LETTER_QUEUE", "")]) if n]
    empty, waiting, missing_queues = [], [], []
    for name in names:
        dlq = current.queue(cloud, name)
        if dlq is None:
            missing_queues.append(name)
            continue
        count = sum(int(dlq.get(k) or 0) for k in ("ActiveMsgNum", "InactiveMsgNum", "DelayMsgNum"))
        if count:
            waiting.append(f"{count} message(s) wait in {name}; {_message_age(dlq, now)}")
        else:
            empty.append(name)
    if not names or missing_queues:
        detail = f"dead-letter queue {', '.join(missing_queues)} does not exist" if missing_queues else "no dead-letter queue configured"
        out.append(Finding("dead_letters", False, "; ".join([detail] + waiting), setup_hint))
    elif waiting:
        out.append(Finding("dead_letters", False, "; ".join(waiting),
                           "`make deadletters` lists them, each with its reason; fix the cause, then `make redrive ALL=1` "
                           "(DRY_RUN=1 first) re-queues them for the timer and deletes each once re-queued; "
                           "`python -m deploy deadletters purge --id MSG_ID` drops one that needs no redrive"))
    else:
        out.append(Finding("dead_letters", True, f"{', '.join(empty)} {'is' if len(empty) == 1 else 'are'} empty"))
    # 10-14. deployments that hold the invariants above and still do harm or nothing
    if fn is None:
        out += [Finding(name, False, f"no function {function}", setup_hint) for name in dangers.NAMES]
    else:
        retry = env.get("CLB_UNBIND_RETRY_QUEUE", "") or queue_name
        out += [dangers.live_mode(env),
                dangers.retry_queue(cloud, env, queue_name if enabled_timers else None),
                dangers.message_size(cloud, [retry, env.get("CLB_UNBIND_DEAD_LETTER_QUEUE", "")]),
                dangers.timer_code(cloud, fn, namespace, enabled_timers),
                dangers.envelope_secret(env)]
    out += watching.findings(cloud, fn, watch or watching.Watch(function, namespace))
    # 21-22. the watched groups' members and load balancers, as the function sees them (deploy/group_reads.py)
    if fn is None:
        out += [Finding(name, False, f"no function {function}: its allow-list and drain are unknown", setup_hint)
                for name in GROUP_NAMES]
    else:
        reading = group_reads.read(cloud, env, wanted)
        heartbeats = {str(h.get("AutoScalingGroupId")): int(h.get("HeartbeatTimeout") or 0) for h in ours if good_hook(h)}
        out += [member_kinds.finding(reading), listener_deadline.finding(reading, heartbeats)]
    return out
